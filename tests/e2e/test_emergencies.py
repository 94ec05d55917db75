"""The safety net over REST, ahead of every step: topics, each consent step, payloads, languages.

A message is an emergency whatever the step is waiting for: an answer to a candidacy question,
a teach-back explanation, a decision. "Won't stop" in a symptom never pauses the steps; a typed
button payload never skips the check; Spanish gets the Spanish reply.
"""

from __future__ import annotations

import pytest

from bot.content.messages import EMERGENCY_MESSAGES
from devtools.launch import Running
from tests.helpers.conversations import new_sender, sent_names

pytestmark = pytest.mark.e2e

CANDIDACY_ANSWERS = ["Pain", "back pain after a spinal cord injury", "7", "physical therapy", "A little"]
ALL_CANDIDACY_ANSWERS = [*CANDIDACY_ANSWERS, "No", "No", "No", "Does not apply", "No", "no"]
TEACHBACK_ANSWERS = [
    "it blocks pain signals from the nerve",
    "soreness where the needle went in",
    "an infection",
    "no, it can wear off",
    "no, it is not a cure",
]
# Where a conversation stands before the emergency: what the patient said to get there.
STEPS = {
    "topics": ["how long does it take"],
    "candidacy": ["start my consent", *CANDIDACY_ANSWERS],
    "understanding": ["start my consent", *ALL_CANDIDACY_ANSWERS],
    "decision": ["start my consent", *ALL_CANDIDACY_ANSWERS, *TEACHBACK_ANSWERS],
}
WONT_STOP = [
    "i take warfarin and the cut on my leg is bleeding and it won't stop",
    "wait, my husband is shaking all over and can't stop, he isn't answering me",
]
PAUSED = "utter_consent_paused"


def turn(assistant: Running, sender: str, message: str) -> list[str]:
    """The names of the messages the assistant sent in answer to ``message``."""
    before = len(sent_names(assistant, sender))
    assistant.say(sender, message)
    return sent_names(assistant, sender)[before:]


def at_step(assistant: Running, step: str) -> str:
    sender = new_sender()
    for message in STEPS[step]:
        assistant.say(sender, message)
    return sender


@pytest.mark.parametrize("message", WONT_STOP)
@pytest.mark.parametrize("step", list(STEPS))
def test_wont_stop_is_an_emergency_at_every_step_never_a_pause(assistant: Running, step: str, message: str) -> None:
    names = turn(assistant, at_step(assistant, step), message)
    assert names[0] in EMERGENCY_MESSAGES, names
    assert PAUSED not in names


@pytest.mark.parametrize(
    ("step", "message", "reply"),
    [
        ("candidacy", "no blood thinners. also my chest is crushing and my left arm is numb", "emergency"),
        ("understanding", "doesnt matter, ive been saving up my pills to take them all at once", "emergency_self_harm"),
        ("decision", "my toddler just drank bleach from under the sink", "emergency_poisoning"),
        # A Spanish message makes the conversation Spanish: the emergency reply of content/es/messages.yml.
        ("candidacy", "mi esposo se desmayó y no responde", "emergency"),
    ],
)
def test_each_step_answers_the_emergency_named_for_it(assistant: Running, step: str, message: str, reply: str) -> None:
    assert turn(assistant, at_step(assistant, step), message)[0] == reply


@pytest.mark.parametrize(
    "message", ["/ask_duration I can't breathe", '/affirm{"consent_decision": "go_ahead"} my chest hurts so bad']
)
def test_a_typed_payload_does_not_skip_the_safety_net(assistant: Running, message: str) -> None:
    names = turn(assistant, at_step(assistant, "candidacy"), message)
    assert names[0] in EMERGENCY_MESSAGES, names


def test_a_button_payload_alone_is_still_a_button(assistant: Running) -> None:
    sender = at_step(assistant, "topics")
    assert not set(turn(assistant, sender, "/ask_duration")) & set(EMERGENCY_MESSAGES)


def test_stop_alone_still_pauses_the_steps(assistant: Running) -> None:
    assert PAUSED in turn(assistant, at_step(assistant, "candidacy"), "stop")
