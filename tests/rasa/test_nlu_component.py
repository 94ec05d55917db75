"""The red-flag component in the NLU pipeline: rules override the classifier, both ways."""

from __future__ import annotations

from typing import Any

import pytest
from rasa.nlu.constants import SPACY_DOCS
from rasa.nlu.utils.spacy_utils import SpacyModel
from rasa.shared.nlu.training_data.message import Message

from bot.language import pipeline as nlp
from bot.rasa.nlu_component import RedFlagDetector, typed_words


def parsed(text: str, intent: str, confidence: float) -> Message:
    message = Message(data={"text": text})
    message.set(SPACY_DOCS["text"], nlp.load()(text))
    message.set("intent", {"name": intent, "confidence": confidence})
    message.set("intent_ranking", [{"name": intent, "confidence": confidence}])
    return message


def run(message: Message) -> dict[str, Any]:
    component = RedFlagDetector({**RedFlagDetector.get_default_config()})
    component.process([message], SpacyModel(nlp.load(), "project"))
    return message.as_dict()


def entities(result: dict[str, Any]) -> dict[str, str]:
    return {e["entity"]: e["value"] for e in result.get("entities") or []}


def test_a_rule_hit_overrides_the_classifier() -> None:
    result = run(parsed("I can't breathe", "ask_side_effects", 0.9))
    assert result["intent"] == {"name": "emergency", "confidence": 1.0}
    assert result["intent_ranking"][0]["name"] == "emergency"
    assert [(e["entity"], e["value"]) for e in result["entities"]] == [
        ("red_flag", "breathing"),
        ("safety_verdict", "emergency"),
        ("safety_reply", "emergency"),
        ("detected_language", "en"),
    ]


def test_a_language_named_alone_is_a_request_to_change_and_an_unsure_word_is_not() -> None:
    asked = run(parsed("Español", "out_of_scope", 0.5))
    assert asked["intent"]["name"] == "change_language" and entities(asked)["language"] == "es"
    in_words = run(parsed("can you write to my mom in spanish", "change_language", 0.7))
    assert entities(in_words)["language"] == "es"
    assert "language" not in entities(run(parsed("my mom speaks spanish", "ask_candidacy", 0.7)))
    assert "detected_language" not in entities(run(parsed("ok", "affirm", 0.9)))


def test_the_learned_layer_catches_what_no_rule_names() -> None:
    """No rule names this; the learned layer (trained on data/safety/train/) does."""
    result = run(parsed("my grandson got into my purse and ate a bunch of my heart pills", "ask_medicines", 0.7))
    assert result["intent"]["name"] == "emergency"
    entities = {e["entity"]: e["value"] for e in result["entities"]}
    assert entities["safety_verdict"] == "emergency" and "red_flag" in entities


@pytest.mark.parametrize("text", ["can I overdose on the numbing medicine?", "needles make me pass out every time"])
def test_a_rule_on_a_look_alike_the_learned_layer_knows_gets_conditional_advice(text: str) -> None:
    """The rules see "overdose" and "pass out"; the learned layer knows a dosing question and a fear."""
    assert entities(run(parsed(text, "ask_medicines", 0.7)))["safety_verdict"] == "possible"


def test_a_fear_typed_as_people_type_it_is_not_an_emergency() -> None:
    """ "scared ill pass out": the rules read "ill" as "I'll" (a fear), and the learned layer agrees."""
    assert "safety_verdict" not in entities(
        run(parsed("im so scared ill pass out at the needle", "ask_medicines", 0.7))
    )


def test_an_ordinary_question_stays_what_the_classifier_said() -> None:
    assert run(parsed("how long does the injection take", "ask_duration", 0.9))["intent"]["name"] == "ask_duration"


@pytest.mark.parametrize(
    ("text", "confidence"),
    [
        ("i'm losing patience here", 0.6),  # unsure classifier
        ("my husband had chest pain last year", 0.95),  # the rules dismissed the phrase: a past event
    ],
)
def test_a_doubtful_classifier_emergency_becomes_the_fallback(text: str, confidence: float) -> None:
    assert run(parsed(text, "emergency", confidence))["intent"]["name"] == "nlu_fallback"


def test_a_confident_classifier_emergency_in_unknown_words_stands() -> None:
    assert run(parsed("something is terribly wrong with me", "emergency", 0.93))["intent"]["name"] == "emergency"


def test_retraining_follows_the_rules_file() -> None:
    config = RedFlagDetector.get_default_config()
    assert RedFlagDetector.fingerprint_addon(config) == RedFlagDetector.fingerprint_addon(config)
    assert len(RedFlagDetector.fingerprint_addon(config) or "") == 64


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("/ask_duration I can't breathe", "I can't breathe"),
        ('/affirm{"x": 1} my chest hurts', "my chest hurts"),
        ("/ask_duration@0.9 help my husband collapsed", "help my husband collapsed"),
        ("/affirm", ""),
        ("my chest hurts", "my chest hurts"),
    ],
)
def test_typed_words_are_what_stands_beside_a_payload(text: str, words: str) -> None:
    assert typed_words(text) == words


@pytest.mark.parametrize(
    "text",
    ["/ask_duration I can't breathe", '/affirm{"x": 1} my chest hurts', "/ask_duration@0.9 my husband collapsed"],
)
def test_a_typed_payload_does_not_skip_the_safety_net(text: str) -> None:
    """Rasa's RegexMessageHandler runs next: the payload is removed so it cannot override the verdict."""
    result = run(parsed(text, "ask_duration", 1.0))
    assert result["intent"]["name"] == "emergency"
    assert not result["text"].startswith("/")


def test_a_bare_payload_is_left_to_rasa() -> None:
    result = run(parsed("/affirm", "affirm", 1.0))
    assert result["intent"]["name"] == "affirm" and result["text"] == "/affirm"


@pytest.mark.parametrize(
    ("text", "reply"),
    [
        ("I want to kill myself", "emergency_self_harm"),
        ("my toddler drank some bleach from under the sink", "emergency_poisoning"),
        ("no puedo respirar", "emergency_es"),
        ("ya no quiero vivir, tengo las pastillas guardadas", "emergency_self_harm_es"),
    ],
)
def test_the_reply_names_the_message_that_answers(text: str, reply: str) -> None:
    assert entities(run(parsed(text, "out_of_scope", 0.5)))["safety_reply"] == reply
