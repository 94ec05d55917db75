"""A message sent in the middle of a consent step that is not an answer: what it asks for.

The forms answer it and then ask the pending question again. Only a confident intent
counts, and (apart from an upset patient or one asking for a person) only when the
message reads as a question, so "MS" stays an answer while "how long is it?" is answered.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot import conversation
from bot.content.topics import Topics

CONFIDENCE = 0.6
RESPOND = "respond"  # send the domain response ``Digression.response``
CALLBACK = "callback"  # ask the care team to call back (the decision's answers may name a person)
MEDICATION = "medication"  # a question about the patient's own medicine: never advised, flagged
SAVED = "saved"  # "what have you saved?": a summary of the record so far, then the pending question again
HELLO = "hello"  # a hello or a "where were we": the message ``hello_again``, then the pending question again
# Non-topic questions answered in the middle of a step (topics are answered from the sheet).
RESPONSES = {"bot_challenge": "utter_bot_challenge"}
UPSET_INTENTS = ("insult", "frustration")
UPSET_RESPONSE = "utter_calm_offer_person"
HELLO_INTENTS = ("greet", "resume")


@dataclass(frozen=True)
class Digression:
    """What to do instead of taking the message as an answer: RESPOND, CALLBACK, MEDICATION, HELLO or SAVED."""

    kind: str
    response: str = ""  # the domain response, for RESPOND


def digression(intent: str | None, confidence: float, text: str, topics: Topics) -> Digression | None:
    """What a message asks for when it is not an answer to the pending question; None when it is an answer."""
    if confidence < CONFIDENCE:
        return None
    if intent in UPSET_INTENTS:
        return Digression(RESPOND, UPSET_RESPONSE)
    if intent in HELLO_INTENTS:
        return Digression(HELLO)
    if intent == "show_record":
        return Digression(SAVED)
    if intent == "request_human":  # only reaches a step whose answers may name a person (the decision)
        return Digression(CALLBACK)
    if not conversation.looks_like_question(text):
        return None
    if topics.is_topic(intent):
        return Digression(RESPOND, f"utter_{intent}")
    if intent in RESPONSES:
        return Digression(RESPOND, RESPONSES[intent])
    if intent == "medication_question":
        return Digression(MEDICATION)
    return None
