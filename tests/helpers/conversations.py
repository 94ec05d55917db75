"""Plain helpers for conversations with the real assistant over REST: ids, replies, the tracker's events."""

from __future__ import annotations

import json
import uuid
from typing import Any

import sqlalchemy as sa

from bot.content.messages import MESSAGE_NAME
from devtools.launch import Running


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
