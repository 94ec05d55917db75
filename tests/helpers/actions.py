"""What an action sent, read from the Rasa SDK dispatcher."""

from __future__ import annotations

from typing import Any


def texts(dispatcher: Any) -> list[str]:
    """The texts an action sent."""
    return [message.get("text") or "" for message in dispatcher.messages]
