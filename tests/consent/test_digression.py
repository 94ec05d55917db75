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
        ("greet", 0.9, "hi?"),  # a question, but nothing to answer mid-step
        (None, 0.9, "what?"),
    ],
)
def test_an_answer_or_an_unsure_guess_is_left_to_the_step(intent: str | None, confidence: float, text: str) -> None:
    assert digression.digression(intent, confidence, text, TOPICS) is None
