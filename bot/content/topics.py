"""The topics the assistant answers (``content/topics.yml``): button titles, related topics, the menu."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from bot.content.files import DOMAIN_FILE, ContentError, load_yaml
from bot.settings import CONTENT_DIR

TOPICS_FILE = CONTENT_DIR / "topics.yml"
Button = dict[str, str]


@dataclass(frozen=True)
class Topics:
    """Topic intents, their button titles, what to offer after each, and the menu."""

    titles: dict[str, str]
    related: dict[str, tuple[str, ...]]
    menu: tuple[str, ...]
    start_button: Button
    person_button: Button
    menu_button: Button

    def is_topic(self, intent: str | None) -> bool:
        return intent in self.titles

    def button(self, intent: str) -> Button:
        return {"title": self.titles[intent], "payload": f"/{intent}"}

    def buttons_after(self, intent: str) -> list[Button]:
        """The light offer after an answer: related topics and starting the consent steps."""
        return [self.button(other) for other in self.related.get(intent, ())] + [self.start_button]

    def menu_buttons(self) -> list[Button]:
        return [self.button(intent) for intent in self.menu] + [self.start_button]


def parse_topics(raw: dict[str, Any], source: str = str(TOPICS_FILE)) -> Topics:
    entries = raw.get("topics") or {}
    if not entries:
        raise ContentError(f"{source}: no topics")
    titles = {}
    related = {}
    for intent, entry in entries.items():
        if not entry.get("title"):
            raise ContentError(f"{source}: topic '{intent}' has no title")
        titles[str(intent)] = str(entry["title"])
        related[str(intent)] = tuple(str(other) for other in entry.get("related") or [])
    for intent, others in related.items():
        unknown = [other for other in others if other not in titles]
        if unknown:
            raise ContentError(f"{source}: topic '{intent}' relates to unknown {', '.join(unknown)}")
    for key in ("start_button", "person_button", "menu_button"):
        if not (raw.get(key) or {}).get("title"):
            raise ContentError(f"{source}: '{key}' needs a title and a payload")
    return Topics(
        titles=titles,
        related=related,
        menu=tuple(intent for intent, entry in entries.items() if entry.get("menu")),
        start_button=dict(raw["start_button"]),
        person_button=dict(raw["person_button"]),
        menu_button=dict(raw["menu_button"]),
    )


@lru_cache(maxsize=1)
def topics(path: Path = TOPICS_FILE) -> Topics:
    return parse_topics(load_yaml(path) or {}, str(path))


def check_answers(found: Topics, source: Path = TOPICS_FILE, domain: Path = DOMAIN_FILE) -> None:
    """Every topic needs its answer, the response ``utter_<topic>`` in domain.yml, or a patient asking gets none."""
    responses = (load_yaml(domain) or {}).get("responses") or {}
    missing = [f"utter_{intent}" for intent in found.titles if f"utter_{intent}" not in responses]
    if missing:
        raise ContentError(f"{source}: {domain} has no answer for these topics: {', '.join(missing)}")
