"""What the website chat server says by itself (``content/web.yml``): refusals, the error reply, the demo page,
the page of a patient's own-copy link that does not open, and the page of an invitation's link."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from bot.content import languages
from bot.content.files import load_yaml
from bot.content.messages import fill, named_texts, translated
from bot.settings import CONTENT_DIR

WEB_FILE = CONTENT_DIR / "web.yml"
# Each text, and the values the channel fills in besides the clinic facts.
WEB_TEXTS: dict[str, tuple[str, ...]] = {
    "replies.empty": (),
    "replies.too_long": ("count", "limit"),
    "replies.unreadable": (),
    "replies.not_ready": (),
    "replies.token_expired": (),
    "replies.invite_expired": (),
    "replies.too_fast": (),
    "replies.error": (),
    "demo_page.title": (),
    "demo_page.heading": (),
    "demo_page.intro": (),
    "demo_page.how_to_open": ("launcher",),
    "demo_page.call_us": (),
    "demo_page.opening_hours": (),
    "demo_page.emergency": (),
    "demo_page.footer": (),
    "copy_page.title": (),
    "copy_page.expired": (),
    "copy_page.not_found": (),
    "invite_page.title": (),
    "invite_page.heading": (),
    "invite_page.intro": (),
    "invite_page.how_to_open": ("launcher",),
    "invite_page.emergency": (),
    "invite_page.dob_heading": (),
    "invite_page.dob_intro": (),
    "invite_page.dob_label": (),
    "invite_page.dob_hint": (),
    "invite_page.dob_submit": (),
    "invite_page.dob_wrong": ("number",),
    "invite_page.dob_unreadable": (),
    "invite_page.not_found": (),
    "invite_page.expired": (),
    "invite_page.revoked": (),
    "invite_page.locked": (),
}


@lru_cache(maxsize=1)
def web_texts(path: Path = WEB_FILE) -> dict[str, str]:
    """The website chat's texts as written (``section.name``), checked, read once per process."""
    return named_texts(load_yaml(path), str(path), WEB_TEXTS)


def _parse(raw: Any, source: str) -> dict[str, str]:
    return named_texts(raw, source, WEB_TEXTS)


@lru_cache(maxsize=2 * len(languages.LANGUAGES))
def web_texts_in(language: str, path: Path = WEB_FILE) -> dict[str, str]:
    """The texts in ``language`` (``content/es/web.yml`` for Spanish), checked against the English."""
    return translated(web_texts(path), path, language, _parse)


def web_text(name: str, **values: Any) -> str:
    """The text ``name`` (e.g. ``replies.empty``) with the clinic's facts and ``values`` filled in.

    In the language being composed in.
    """
    return fill(web_texts_in(languages.current())[name], **values)
