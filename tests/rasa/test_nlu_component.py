"""The red-flag component in the NLU pipeline: rules override the classifier, both ways."""

from __future__ import annotations

from typing import Any

import pytest
from rasa.nlu.constants import SPACY_DOCS
from rasa.shared.nlu.training_data.message import Message

from bot.language import pipeline as nlp
from bot.rasa.nlu_component import RedFlagDetector


def parsed(text: str, intent: str, confidence: float) -> Message:
    message = Message(data={"text": text})
    message.set(SPACY_DOCS["text"], nlp.load()(text))
    message.set("intent", {"name": intent, "confidence": confidence})
    message.set("intent_ranking", [{"name": intent, "confidence": confidence}])
    return message


def run(message: Message) -> dict[str, Any]:
    component = RedFlagDetector({**RedFlagDetector.get_default_config()})
    component.process([message])
    return message.as_dict()


def test_a_rule_hit_overrides_the_classifier() -> None:
    result = run(parsed("I can't breathe", "ask_side_effects", 0.9))
    assert result["intent"] == {"name": "emergency", "confidence": 1.0}
    assert result["intent_ranking"][0]["name"] == "emergency"
    assert [(e["entity"], e["value"]) for e in result["entities"]] == [
        ("red_flag", "breathing"),
        ("safety_verdict", "emergency"),
    ]


def test_the_learned_layer_catches_what_no_rule_names() -> None:
    """No rule names this; the learned layer (trained on data/safety/train/) does."""
    result = run(parsed("my grandson got into my purse and ate a bunch of my heart pills", "ask_medicines", 0.7))
    assert result["intent"]["name"] == "emergency"
    entities = {e["entity"]: e["value"] for e in result["entities"]}
    assert entities["safety_verdict"] == "emergency" and "red_flag" in entities


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
