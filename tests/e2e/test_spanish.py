"""The real assistant in Spanish over the REST channel: chosen, detected, switched, and in an emergency.

Wording is the clinic's: each reply is compared with the Spanish content file's text for the message
that was sent (bot.content), never with a sentence written here.
"""

from __future__ import annotations

from typing import Any

import pytest

from bot.content import languages, message
from bot.content.messages import fill
from bot.content.responses import responses_in
from devtools.launch import Running
from tests.helpers.conversations import new_sender, sent_names

pytestmark = pytest.mark.e2e

CHOOSE_SPANISH = '/change_language{"language": "es"}'


def spanish_response(name: str) -> str:
    """The Spanish response ``name`` as sent: its clinic slots filled with the clinic's facts."""
    with languages.use(languages.SPANISH):
        return fill(str(responses_in(languages.SPANISH)[name][0]["text"]))


def in_spanish(name: str, **values: Any) -> str:
    with languages.use(languages.SPANISH):
        return message(name, **values).text


def texts(reply: list[dict[str, Any]]) -> list[str]:
    return [str(part.get("text") or "") for part in reply]


def test_a_spanish_question_is_answered_in_spanish(assistant: Running) -> None:
    sender = new_sender()
    reply = assistant.say(sender, "cuanto tiempo dura el procedimiento de la inyeccion?")
    assert sent_names(assistant, sender)[0] == "utter_ask_duration"
    assert texts(reply)[0] == spanish_response("utter_ask_duration")


def test_the_spanish_button_switches_and_english_switches_back(assistant: Running) -> None:
    sender = new_sender()
    english = assistant.say(sender, "how long does it take")
    assert "less than an hour" in texts(english)[0]
    chosen = assistant.say(sender, CHOOSE_SPANISH)
    assert texts(chosen)[0] == spanish_response("utter_language_changed")
    answered = assistant.say(sender, "what are the side effects")  # English words, Spanish chosen
    assert texts(answered)[0] == spanish_response("utter_ask_side_effects")
    back = assistant.say(sender, "English")
    assert "English" in texts(back)[0]
    assert "less than an hour" in texts(assistant.say(sender, "how long does it take"))[0]


def test_typing_espanol_alone_changes_the_language(assistant: Running) -> None:
    sender = new_sender()
    reply = assistant.say(sender, "Español")
    assert sent_names(assistant, sender) == ["utter_language_changed"]
    assert texts(reply)[0] == spanish_response("utter_language_changed")


def test_the_page_can_ask_for_spanish(assistant: Running) -> None:
    sender = new_sender()
    reply = assistant.say(sender, "hello", metadata={"lang": "es"})
    assert texts(reply)[0] == spanish_response("utter_greet")
    assert in_spanish("menu") in texts(reply)


def test_an_emergency_in_a_spanish_conversation_is_answered_in_spanish(assistant: Running) -> None:
    sender = new_sender()
    assistant.say(sender, CHOOSE_SPANISH)
    reply = assistant.say(sender, "my husband cant breathe")
    assert sent_names(assistant, sender)[-len(reply) :][0] == "emergency"
    assert texts(reply)[0] == in_spanish("emergency")


def test_a_spanish_suicide_message_gets_988_in_spanish(assistant: Running) -> None:
    sender = new_sender()
    reply = assistant.say(sender, "ya no quiero vivir, estoy pensando en tomarme todas las pastillas")
    assert texts(reply)[0] == in_spanish("emergency_self_harm")
