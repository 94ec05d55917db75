"""The languages a patient can be answered in, and which one the text being composed is in.

English is the clinic's own content (``content/*.yml``, ``domain.yml``); each other language is a
folder beside it with the same file names (``content/es/messages.yml``), written by the clinic's
translator with the same keys, placeholders and button payloads (checked by
``bot.content.messages.check_translation``), so a
patient gets every text in their language or the server does not start.

The language of the text being composed is a context variable, as gettext's locale is in
Django or Babel: the action server sets it for each call from the conversation's slots
(``bot.rasa.action_server``), and the loaders (``bot.content.message`` and the others) read it,
so code that composes a message does not pass a language through every function. Nothing
here imports Rasa.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ENGLISH = "en"
SPANISH = "es"
LANGUAGES = (ENGLISH, SPANISH)
# The slots a conversation keeps its language in (domain.yml): the patient's choice (a button, the
# widget page's or the invitation's `lang`, "español" / "English"), and the language of their
# latest message the detector was sure of. A choice wins; with neither, English.
CHOSEN_SLOT = "language"
DETECTED_SLOT = "detected_language"
SLOTS = (CHOSEN_SLOT, DETECTED_SLOT)
# The key of a message's metadata by which a page or an invitation asks for a language ("es"); read when a
# session starts (actions/session.py) and made the conversation's choice.
METADATA_KEY = "lang"

_current: contextvars.ContextVar[str] = contextvars.ContextVar("language", default=ENGLISH)


def supported(value: Any) -> str | None:
    """``value`` as a language code the assistant answers in (``"ES"`` and ``"es-MX"`` read ``"es"``); else None."""
    code = str(value or "").strip().lower().replace("_", "-").split("-")[0]
    return code if code in LANGUAGES else None


def of_slots(slots: Mapping[str, Any]) -> str:
    """The language to answer a conversation in, from its slots: the choice, else the detected one, else English."""
    return supported(slots.get(CHOSEN_SLOT)) or supported(slots.get(DETECTED_SLOT)) or ENGLISH


def current() -> str:
    """The language of the text being composed (English unless ``use`` said otherwise)."""
    return _current.get()


@contextmanager
def use(language: str) -> Iterator[None]:
    """Compose in ``language`` inside the ``with`` block (an unsupported code composes in English)."""
    token = _current.set(supported(language) or ENGLISH)
    try:
        yield
    finally:
        _current.reset(token)


def set_for_this_task(language: str) -> None:
    """Compose in ``language`` for the rest of the current task (one action server request)."""
    _current.set(supported(language) or ENGLISH)


def path_in(path: Path, language: str) -> Path:
    """The translation of content file ``path`` (``content/messages.yml`` → ``content/es/messages.yml``)."""
    if language == ENGLISH:
        return path
    return path.parent / language / path.name
