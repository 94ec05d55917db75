"""Messages that actions compose, from ``content/messages.yml``, with the clinic's facts filled in."""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from bot.content.clinic import clinic
from bot.content.files import ContentError, load_yaml
from bot.settings import CONTENT_DIR

MESSAGES_FILE = CONTENT_DIR / "messages.yml"


@dataclass(frozen=True)
class Message:
    """A text and its buttons (each a ``{"title", "payload"}`` mapping)."""

    text: str
    buttons: tuple[dict[str, str], ...] = field(default_factory=tuple)


def clinic_values() -> dict[str, str]:
    """The clinic facts every message may use."""
    facts = clinic()
    return {
        "clinic_name": facts.name,
        "clinic_phone": facts.phone,
        "clinic_hours": facts.hours_text(),
        "emergency_number": facts.emergency_number,
        "crisis_line": facts.crisis_line,
    }


def placeholders(text: str) -> set[str]:
    """Names in ``{braces}`` in a message text."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@lru_cache(maxsize=1)
def templates(path: Path = MESSAGES_FILE) -> dict[str, Message]:
    raw = (load_yaml(path) or {}).get("messages") or {}
    if not raw:
        raise ContentError(f"{path}: no messages")
    result = {}
    for name, entry in raw.items():
        if isinstance(entry, str):
            result[str(name)] = Message(entry)
        elif isinstance(entry, dict) and entry.get("text"):
            buttons = tuple({"title": str(b["title"]), "payload": str(b["payload"])}
                            for b in entry.get("buttons") or [])
            result[str(name)] = Message(str(entry["text"]), buttons)
        else:
            raise ContentError(f"{path}: message '{name}' needs a text")
    return result


def message(name: str, **values: Any) -> Message:
    """The message ``name`` with clinic facts and ``values`` filled in."""
    template = templates()[name]
    return Message(template.text.format(**clinic_values(), **values), template.buttons)
