"""Custom Rasa NLU components: the emergency red-flag detector in the pipeline.

It runs after the intent classifiers and overrides them with the safety net's decision
(``bot.language.safety``): a red-flag rule (``bot.language.red_flags``), or the learned
layer (``bot.language.safety_model``) when no rule matched, makes the message's intent
``emergency`` with a ``red_flag`` entity naming the category and a ``safety_verdict``
entity saying whether it is an emergency or only possibly one (conditional advice), so
the emergency rule fires whatever the classifier thought. Otherwise the classifier's own
``emergency`` counts only when it is confident (``classifier_min_confidence``) and the
rules did not dismiss a red-flag phrase in the message as negated or "not now".
"""

from __future__ import annotations

import hashlib
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.constants import SPACY_DOCS
from rasa.nlu.utils.spacy_utils import SpacyModel
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    EXTRACTOR,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from bot import content
from bot.language import language_id, safety, safety_model
from bot.language.red_flags import RED_FLAGS_FILE
from bot.language.red_flags import RedFlagDetector as Rules

# Loading this component installs nothing else: the speed-ups of Rasa are installed by the one
# entry that serves, `python -m bot serve` (bot/rasa/serve.py), so removing the component from
# config.yml removes no speed-up.

EMERGENCY_INTENT = safety.EMERGENCY_INTENT
FALLBACK_INTENT = DEFAULT_NLU_FALLBACK_INTENT_NAME
RED_FLAG_ENTITY = "red_flag"
VERDICT_ENTITY = "safety_verdict"
REPLY_ENTITY = "safety_reply"  # the content message that answers (bot.language.safety.reply_name)
# The topic question asked beside an unsure verdict, answered after its advice (bot.language.safety.topic_beside_advice)
ASKED_TOPIC_ENTITY = "asked_topic"
CHANGE_LANGUAGE_INTENT = "change_language"
LANGUAGE_ENTITY = "language"  # the language the patient asked for (slot `language`, bot/content/languages.py)
DETECTED_LANGUAGE_ENTITY = "detected_language"  # the language the message is surely in
PAYLOAD = YAMLStoryReader._regex_message_pattern()  # Rasa's own "/intent@0.9{...}" syntax


def typed_words(text: str) -> str:
    """What a patient wrote beside a typed intent payload ("/ask_duration I can't breathe").

    Rasa's RegexMessageHandler would take such a message as the payload's intent and skip
    every check; the safety net judges the words instead. A message without a payload is
    returned as it is, a bare payload ("/affirm") gives "".
    """
    match = PAYLOAD.match(text.strip())
    if not match:
        return text
    _, _, beside = match.group(INTENT_NAME_KEY).strip().partition(" ")
    return " ".join(part for part in (beside.strip(), match.group("rest").strip()) if part)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False, model_from="SpacyNLP")
class RedFlagDetector(GraphComponent, IntentClassifier):
    """Sets the ``emergency`` intent and a ``red_flag`` entity when a red-flag rule matches."""

    @classmethod
    def required_components(cls) -> list[type]:
        return [IntentClassifier]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "rules_file": str(RED_FLAGS_FILE),
            "classifier_min_confidence": 0.8,
            "safety_model_file": str(safety_model.MODEL_FILE),
            # An unsure verdict gets conditional advice ("if this is happening now and severe, call
            # 911; otherwise call the clinic"). Short form answers ("Pain", "left", "warfarin") stay
            # below its threshold since the learned layer trained on answers to every form question.
            "conditional_advice": safety.CONDITIONAL_ADVICE,
        }

    def __init__(self, config: dict[str, Any]) -> None:
        from pathlib import Path

        self._config = config
        self._rules: Rules | None = None
        self._vocab: Any = None
        self._model = safety_model.load(Path(config["safety_model_file"]))

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> RedFlagDetector:
        return cls(config)

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        """Retrain (and so re-test) when the red-flag rules or the learned layer change."""
        digest = hashlib.sha256()
        for path in (
            config.get("rules_file", RED_FLAGS_FILE),
            config.get("safety_model_file", safety_model.MODEL_FILE),
        ):
            with open(path, "rb") as handle:
                digest.update(handle.read())
        return digest.hexdigest()

    def _rules_for(self, vocab: Any) -> Rules:
        if self._rules is None or vocab is not self._vocab:
            from pathlib import Path

            self._rules = Rules.from_file(vocab, Path(self._config["rules_file"]))
            self._vocab = vocab
        return self._rules

    def _doubt_classifier(self, message: Message, dismissed: bool) -> None:
        """A doubtful classifier ``emergency`` becomes the low-confidence fallback (ask to rephrase)."""
        intent = message.get(INTENT) or {}
        if intent.get(INTENT_NAME_KEY) != EMERGENCY_INTENT:
            return
        confidence = float(intent.get(PREDICTED_CONFIDENCE_KEY) or 0.0)
        if dismissed or confidence < self._config["classifier_min_confidence"]:
            message.set(
                INTENT, {INTENT_NAME_KEY: FALLBACK_INTENT, PREDICTED_CONFIDENCE_KEY: confidence}, add_to_output=True
            )

    def process(self, messages: list[Message], model: SpacyModel) -> list[Message]:
        for message in messages:
            doc = message.get(SPACY_DOCS[TEXT])
            if doc is None:
                continue
            text = message.get(TEXT) or ""
            words = typed_words(text)
            if words != text:  # a typed payload: judge the words beside it, never the payload
                if not words:
                    continue
                doc = model.model(words)
            reading = language_id.read(words)
            language = reading.language
            flags, dismissed = safety.rule_flags(self._rules_for(doc.vocab), doc, language)
            check = safety.decide(flags, self._model.judge(words), dismissed, self._config["conditional_advice"])
            if check.verdict is None:
                self._doubt_classifier(message, dismissed)
                self._take_language_request(message, words)
                self._add_language(message, reading.answered, words)
                continue
            if words != text:
                # Without its payload the message is the patient's words, which Rasa's
                # RegexMessageHandler (next in the graph) leaves to this verdict.
                message.set(TEXT, words, add_to_output=True)
            emergency = {INTENT_NAME_KEY: EMERGENCY_INTENT, PREDICTED_CONFIDENCE_KEY: 1.0}
            read = message.get(INTENT_RANKING_KEY) or []
            ranking = [emergency] + [item for item in read if item.get(INTENT_NAME_KEY) != EMERGENCY_INTENT]
            message.set(INTENT, emergency, add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
            self._add_entities(message, self._entities(message, flags, check, language))
            asked = safety.topic_beside_advice(check, ranking, content.topics().is_topic)
            if asked:
                self._add_entities(message, [self._entity(ASKED_TOPIC_ENTITY, asked, 0, len(text))])
            self._add_language(message, reading.answered, words)
        return messages

    def _add_language(self, message: Message, detected: str | None, words: str) -> None:
        """The ``detected_language`` entity when the message is surely in a language the assistant answers in."""
        if detected:
            self._add_entities(message, [self._entity(DETECTED_LANGUAGE_ENTITY, detected, 0, len(words))])

    def _take_language_request(self, message: Message, words: str) -> None:
        """A message that is only a language's name ("Español"), or that the classifier read as a request to
        change language and that names one, becomes ``change_language`` with the ``language`` entity."""
        asked = language_id.only_names_language(words)
        intent = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
        if asked is None and intent == CHANGE_LANGUAGE_INTENT:
            asked = language_id.named_language(words)
        if asked is None:
            return
        chosen = {INTENT_NAME_KEY: CHANGE_LANGUAGE_INTENT, PREDICTED_CONFIDENCE_KEY: 1.0}
        ranking = [chosen] + [
            item
            for item in message.get(INTENT_RANKING_KEY) or []
            if item.get(INTENT_NAME_KEY) != CHANGE_LANGUAGE_INTENT
        ]
        message.set(INTENT, chosen, add_to_output=True)
        message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        self._add_entities(message, [self._entity(LANGUAGE_ENTITY, asked, 0, len(words))])

    @staticmethod
    def _add_entities(message: Message, entities: list[dict[str, Any]]) -> None:
        message.set(ENTITIES, [*(message.get(ENTITIES) or []), *entities], add_to_output=True)

    def _entities(
        self, message: Message, flags: list[Any], check: safety.SafetyCheck, language: str
    ) -> list[dict[str, Any]]:
        """The ``red_flag`` categories (where the rules found them, else the whole text), the verdict and the reply."""
        text = message.get(TEXT) or ""
        found = []
        spans = {flag.category: flag.text.split(" + ")[0] for flag in flags}
        categories = list(check.categories) + ([safety_model.SELF_HARM] if check.self_harm else [])
        for category in dict.fromkeys(categories):
            words = spans.get(category, text)
            start = max(text.find(words), 0)
            found.append(self._entity(RED_FLAG_ENTITY, category, start, start + len(words)))
        found.append(self._entity(VERDICT_ENTITY, str(check.verdict), 0, len(text)))
        reply = safety.reply_name(check, language)
        found.append(self._entity(REPLY_ENTITY, reply, 0, len(text)))
        return found

    def _entity(self, kind: str, value: str, start: int, end: int) -> dict[str, Any]:
        return {
            ENTITY_ATTRIBUTE_TYPE: kind,
            ENTITY_ATTRIBUTE_VALUE: value,
            ENTITY_ATTRIBUTE_START: start,
            ENTITY_ATTRIBUTE_END: end,
            EXTRACTOR: self.__class__.__name__,
        }
