"""Which language a conversation is answered in, and the composing language of the loaders."""

from __future__ import annotations

import pytest

from bot import content
from bot.content import languages
from bot.content.messages import templates_in


@pytest.mark.parametrize(
    ("slots", "expected"),
    [
        ({}, "en"),
        ({"detected_language": "es"}, "es"),
        ({"language": "en", "detected_language": "es"}, "en"),  # a choice wins over the detector
        ({"language": "es-MX"}, "es"),
        ({"language": "fr", "detected_language": "es"}, "es"),  # a language not answered in is no choice
    ],
)
def test_the_choice_wins_then_the_detected_language_then_english(slots: dict[str, str], expected: str) -> None:
    assert languages.of_slots(slots) == expected


def test_messages_are_composed_in_the_language_in_use_and_english_after() -> None:
    english, spanish = templates_in("en")["menu"].text, templates_in("es")["menu"].text
    assert english != spanish
    with languages.use("es"):
        assert content.message("menu").text == spanish
        assert content.topics().menu_buttons()[0]["payload"] == content.topics_in("en").menu_buttons()[0]["payload"]
    assert content.message("menu").text == english


def test_the_hours_follow_the_language() -> None:
    with languages.use("es"):
        spanish = content.message("ask_the_clinic").text
    assert content.clinic().hours_text("es") in spanish


def test_every_translated_message_keeps_the_english_buttons() -> None:
    for name, message in templates_in("en").items():
        translated = templates_in("es")[name]
        assert [b["payload"] for b in translated.buttons] == [b["payload"] for b in message.buttons], name
