"""What the website widget shows by itself (``content/widget.yml``), and the file its build takes them from.

The widget needs these words when the chat server cannot be reached, so they are
built into its script: ``scripts/build-widget.sh`` writes them, in every language
(``{"en": {...}, "es": {...}}``), to a JSON file, clinic facts filled in and the
widget's own placeholders (``{count}``) left for it, and esbuild builds that file
into ``widget/dist/widget.js``, which shows the page's language.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from bot.channels.web.protocol import CONNECT_ERRORS
from bot.content import languages
from bot.content.files import load_yaml
from bot.content.messages import fill, named_texts, translated
from bot.settings import CONTENT_DIR, PROJECT_ROOT

WIDGET_FILE = CONTENT_DIR / "widget.yml"
BUNDLE_TEXTS_FILE = PROJECT_ROOT / "build" / "widget" / "texts.json"
_LABELS = (
    "title",
    "subtitle",
    "launcher",
    "start_over",
    "close",
    "conversation",
    "message_box",
    "placeholder",
    "send",
    "keyboard_hint",
    "reply_options",
    "you_said",
    "assistant_said",
    "opens_new_tab",
    "view_image",
    "typing",
)
# Each text, and the values the widget fills in besides the clinic facts.
WIDGET_TEXTS: dict[str, tuple[str, ...]] = {
    **{f"labels.{name}": () for name in _LABELS},
    "notes.started_over": (),
    "notes.conversation_ended": (),
    "notes.type_first": (),
    "notes.counter": ("count", "limit"),
    "notes.too_long": ("count", "limit"),
    "notes.offline": (),
    "start_over.question": (),
    "start_over.yes": (),
    "start_over.no": (),
    "connection.closed": (),
    "connection.lost": (),
    "connection.reconnecting": ("attempt",),
    "connection.unreachable": (),
    **{f"connect_errors.{code}": () for code in CONNECT_ERRORS},
}


@lru_cache(maxsize=1)
def widget_texts(path: Path = WIDGET_FILE) -> dict[str, str]:
    """The widget's texts as written (``section.name``), checked, read once per process."""
    return named_texts(load_yaml(path), str(path), WIDGET_TEXTS)


def _parse(raw: Any, source: str) -> dict[str, str]:
    return named_texts(raw, source, WIDGET_TEXTS)


@lru_cache(maxsize=2 * len(languages.LANGUAGES))
def widget_texts_in(language: str, path: Path = WIDGET_FILE) -> dict[str, str]:
    """The texts in ``language`` (``content/es/widget.yml`` for Spanish), checked against the English."""
    return translated(widget_texts(path), path, language, _parse)


def widget_text(name: str, **values: Any) -> str:
    """The widget's text ``name`` (e.g. ``labels.launcher``) with the clinic's facts and ``values`` filled in.

    In the language being composed in.
    """
    return fill(widget_texts_in(languages.current())[name], **values)


def bundle_texts_in(language: str, path: Path = WIDGET_FILE) -> dict[str, str]:
    """The texts in ``language`` as the widget gets them: clinic facts filled in (the opening hours in
    that language), the widget's own placeholders kept."""
    with languages.use(language):
        return {
            name: fill(text, **{value: f"{{{value}}}" for value in WIDGET_TEXTS[name]})
            for name, text in widget_texts_in(language, path).items()
        }


def bundle_texts(path: Path = WIDGET_FILE) -> dict[str, dict[str, str]]:
    """Every language's texts as the widget gets them, by language code: the page picks one."""
    return {language: bundle_texts_in(language, path) for language in languages.LANGUAGES}


def write_bundle_texts(out: Path = BUNDLE_TEXTS_FILE) -> bool:
    """Write the texts for the widget's build; True if they changed.

    An unchanged file is left alone, so the build script can tell by its time
    whether the bundle must be built again.
    """
    text = json.dumps(bundle_texts(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    if out.is_file() and out.read_text(encoding="utf-8") == text:
        return False
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    return True
