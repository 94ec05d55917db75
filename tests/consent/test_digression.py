"""A message sent in the middle of a consent step: answered when it asks something, taken as an answer otherwise."""

from __future__ import annotations

import pytest

from bot import content
from bot.consent import digression
from bot.consent.digression import CALLBACK, MEDICATION, RESPOND, Digression

TOPICS = content.topics()


@pytest.mark.parametrize(
    ("intent", "text", "expected"),
    [
        ("ask_duration", "how long does it take?", Digression(RESPOND, "utter_ask_duration")),
        ("bot_challenge", "are you a robot?", Digression(RESPOND, "utter_bot_challenge")),
        ("medication_question", "can I keep taking aspirin?", Digression(MEDICATION)),
        ("insult", "you are useless", Digression(RESPOND, "utter_calm_offer_person")),
        ("frustration", "this is so annoying", Digression(RESPOND, "utter_calm_offer_person")),
        ("request_human", "I want to talk to a person", Digression(CALLBACK)),
    ],
)
def test_what_a_question_mid_step_asks_for(intent: str, text: str, expected: Digression) -> None:
    assert digression.digression(intent, 0.9, text, TOPICS) == expected


@pytest.mark.parametrize(
    ("intent", "confidence", "text"),
    [
        ("ask_duration", 0.9, "multiple sclerosis"),  # an answer, even if the classifier thinks of a topic
        ("ask_duration", 0.5, "how long does it take?"),  # not confident enough
        ("insult", 0.59, "you are useless"),
        ("greet", 0.5, "hi?"),  # not confident enough
        (None, 0.9, "what?"),
    ],
)
def test_an_answer_or_an_unsure_guess_is_left_to_the_step(intent: str | None, confidence: float, text: str) -> None:
    assert digression.digression(intent, confidence, text, TOPICS) is None


@pytest.mark.parametrize(("intent", "text"), [("greet", "hi there"), ("resume", "where were we")])
def test_a_hello_or_where_were_we_in_a_step_is_greeted_and_the_question_asked_again(intent: str, text: str) -> None:
    found = digression.digression(intent, 0.9, text, content.topics())
    assert found == digression.Digression(digression.HELLO)
