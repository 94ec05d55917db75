"""Sending the clinic's composed messages (content/messages.yml) from actions."""

from __future__ import annotations

from typing import Any

from rasa_sdk.executor import CollectingDispatcher

from bot import content


def say(dispatcher: CollectingDispatcher, name: str, buttons: list[dict[str, str]] | None = None,
        **values: Any) -> None:
    """Send message ``name``; ``buttons`` replace the message's own buttons when given."""
    composed = content.message(name, **values)
    dispatcher.utter_message(text=composed.text, buttons=list(composed.buttons) if buttons is None else buttons)
