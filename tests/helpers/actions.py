"""Running actions as the action server does, and what they sent, read from the Rasa SDK dispatcher."""

from __future__ import annotations

import asyncio
from typing import Any

from actions.messaging import MESSAGE_NAME

DOMAIN: dict[str, Any] = {}


def run(action: Any, dispatcher: Any, tracker: Any) -> list[dict[str, Any]]:
    """Run an action; the events it returns."""
    return asyncio.run(action.run(dispatcher, tracker, DOMAIN))


def validate(validator: Any, slot: str, dispatcher: Any, tracker: Any) -> dict[str, Any]:
    """Validate the latest message's text as ``slot``, as a form does; the slots the validator returns."""
    method = getattr(validator, f"validate_{slot}")
    return asyncio.run(method(tracker.latest_message["text"], dispatcher, tracker, DOMAIN))


def sent(dispatcher: Any) -> list[str]:
    """Which messages an action sent, by name: a composed message's content name, or a domain response's name.

    Tests assert these, not the clinic's wording, which the clinic may edit.
    """
    return [message.get(MESSAGE_NAME) or message.get("response") or "" for message in dispatcher.messages]


def texts(dispatcher: Any) -> list[str]:
    """The texts an action sent (for what code writes into them, such as the progress "(1 of 11)")."""
    return [message.get("text") or "" for message in dispatcher.messages]
