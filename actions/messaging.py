"""Sending composed messages from actions, each named by the content it came from.

The name rides along as an extra key of the Rasa SDK message (``MESSAGE_NAME``). Rasa
keeps keys it does not know in the ``BotUttered`` event's metadata (as it keeps
``utter_action`` for responses) and hands them to output channels as keyword arguments
that every channel ignores, so what a patient receives is unchanged on every channel;
tests and the stored conversation can tell which message was sent without its wording.
The emergency reply, written in the Rasa server (bot/rasa/nlg.py), carries its name the same way; every
message also carries the language it was composed in (``MESSAGE_LANGUAGE``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from rasa_sdk.executor import CollectingDispatcher

from bot import content
from bot.consent.steps import Reply
from bot.content import languages
from bot.content.messages import MESSAGE_LANGUAGE, MESSAGE_NAME


def send(dispatcher: CollectingDispatcher, name: str, text: str, buttons: Sequence[dict[str, str]] = ()) -> None:
    """Send ``text`` with ``buttons``, recording ``name`` with it."""
    dispatcher.utter_message(
        text=text, buttons=list(buttons), **{MESSAGE_NAME: name, MESSAGE_LANGUAGE: languages.current()}
    )


def say(
    dispatcher: CollectingDispatcher, name: str, buttons: Sequence[dict[str, str]] | None = None, **values: Any
) -> None:
    """Send message ``name`` of ``content/messages.yml``; ``buttons`` replace the message's own when given."""
    composed = content.message(name, **values)
    send(dispatcher, name, composed.text, composed.buttons if buttons is None else buttons)


def send_replies(dispatcher: CollectingDispatcher, replies: Iterable[Reply]) -> None:
    """Send what a consent step composed, in order."""
    for reply in replies:
        send(dispatcher, reply.name, reply.text, reply.buttons)
