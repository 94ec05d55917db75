"""Plain helpers for conversations with the real assistant over REST: ids, replies, the tracker's events."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import sqlalchemy as sa

from bot.content.messages import MESSAGE_NAME
from devtools.launch import Running

# Answers the teach-back judge takes as understood, one per point in content order.
RIGHT_TEACHBACK = [
    "it blocks pain signals from the nerve",
    "soreness where the needle went in",
    "an infection",
    "no, it can wear off",
    "no, it is not a cure",
]
# Clear answers to every candidacy question, in content order.
CANDIDACY_ANSWERS = [
    "Pain",
    "back pain",
    "7",
    "physical therapy",
    "A little",
    "No",
    "No",
    "No",
    "Does not apply",
    "No",
    "no",
]


def new_sender() -> str:
    return f"patient-{uuid.uuid4().hex[:12]}"


def joined(messages: list[dict[str, Any]]) -> str:
    return " ".join(message.get("text") or "" for message in messages).lower()


def tracker_events(assistant: Running, sender: str) -> list[dict[str, Any]]:
    """The conversation's events as the tracker store keeps them (launch's SQLite tracker store)."""
    engine = sa.create_engine(f"sqlite:///{assistant.workdir / 'tracker.db'}")
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text("SELECT data FROM events WHERE sender_id = :sender ORDER BY id"), {"sender": sender}
            )
            return [json.loads(row[0]) for row in rows]
    finally:
        engine.dispose()


def sent_names(assistant: Running, sender: str) -> list[str]:
    """The content name of every message the assistant sent in the conversation, oldest first."""
    bots = [event for event in tracker_events(assistant, sender) if event["event"] == "bot"]
    return [str(event["metadata"].get(MESSAGE_NAME) or event["metadata"].get("utter_action")) for event in bots]


def decided(running: Running) -> str:
    """A new conversation through every step to a "go ahead" decision; its sender id."""
    sender = new_sender()
    running.say(sender, "I consent")
    for answer in CANDIDACY_ANSWERS + RIGHT_TEACHBACK:
        running.say(sender, answer)
    running.say(sender, "Go ahead")
    return sender


def own_copy_link(running: Running, sender: str) -> str:
    """The link the assistant sent last for the patient's own copy of their record."""
    bots = [event for event in tracker_events(running, sender) if event["event"] == "bot"]
    texts = [str(event["text"]) for event in bots if event["metadata"].get(MESSAGE_NAME) == "own_copy"]
    assert texts, "no own_copy message was sent"
    found = re.search(r"https?://\S+", texts[-1])
    assert found is not None, texts[-1]
    return found.group(0)
