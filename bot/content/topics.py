"""The topics the assistant answers (``content/topics.yml``): button titles, related topics, the menu,
which answers the clinic's own instructions complete, and which mistaken beliefs are corrected after an answer."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from bot.content import languages
from bot.content.clinic import Clinic
from bot.content.files import DOMAIN_FILE, ContentError, load_yaml
from bot.content.messages import check_translation
from bot.settings import CONTENT_DIR

TOPICS_FILE = CONTENT_DIR / "topics.yml"
LANGUAGE_PAYLOAD = "/change_language"
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
    language_button: Button  # the other language, offered with the menu: `/change_language{"language": ...}`
    # topic -> the name of the clinic instruction that completes its answer (content/clinic.yml)
    instructions: dict[str, str] = field(default_factory=dict)
    # teach-back point -> topics after whose answer its wrong ideas are not corrected (the answer says it)
    corrections: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def is_topic(self, intent: str | None) -> bool:
        return intent in self.titles

    def button(self, intent: str) -> Button:
        return {"title": self.titles[intent], "payload": f"/{intent}"}

    def buttons_after(self, intent: str) -> list[Button]:
        """The light offer after an answer: related topics and starting the consent steps."""
        return [self.button(other) for other in self.related.get(intent, ())] + [self.start_button]

    def menu_buttons(self) -> list[Button]:
        return [self.button(intent) for intent in self.menu] + [self.start_button]

    def corrections_after(self, intent: str, wrong_ideas: Iterable[str]) -> list[str]:
        """The point to correct after the answer to ``intent``: the first (in content order) whose wrong idea
        the question said, unless the topic's own answer corrects it; one correction at most, so a
        question like "gone for good?" (lasting for ever, and a cure) gets one plain reply."""
        said = set(wrong_ideas)
        first = next((point for point in self.corrections if point in said), None)
        return [] if first is None or intent in self.corrections[first] else [first]


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
    for key in ("start_button", "person_button", "menu_button", "language_button"):
        if not (raw.get(key) or {}).get("title") or not (raw.get(key) or {}).get("payload"):
            raise ContentError(f"{source}: '{key}' needs a title and a payload")
    if not str(raw["language_button"]["payload"]).startswith(LANGUAGE_PAYLOAD):
        raise ContentError(f"{source}: 'language_button' must change the language ({LANGUAGE_PAYLOAD}{{...}})")
    corrections = {
        str(point): tuple(str(intent) for intent in (entry or {}).get("except") or [])
        for point, entry in (raw.get("corrections") or {}).items()
    }
    for point, skipped in corrections.items():
        unknown = [intent for intent in skipped if intent not in titles]
        if unknown:
            raise ContentError(f"{source}: correction '{point}' names unknown topics {', '.join(unknown)}")
    return Topics(
        titles=titles,
        related=related,
        menu=tuple(intent for intent, entry in entries.items() if entry.get("menu")),
        start_button=dict(raw["start_button"]),
        person_button=dict(raw["person_button"]),
        menu_button=dict(raw["menu_button"]),
        language_button={
            "title": str(raw["language_button"]["title"]),
            "payload": str(raw["language_button"]["payload"]),
        },
        instructions={
            str(intent): str(entry["instruction"]) for intent, entry in entries.items() if entry.get("instruction")
        },
        corrections=corrections,
    )


@lru_cache(maxsize=1)
def english_topics(path: Path = TOPICS_FILE) -> Topics:
    return parse_topics(load_yaml(path) or {}, str(path))


@lru_cache(maxsize=2 * len(languages.LANGUAGES))
def topics_in(language: str, path: Path = TOPICS_FILE) -> Topics:
    """The topics with their button titles in ``language`` (``content/es/topics.yml``: titles only).

    Which topics there are, what is related and what the menu holds stay the English file's; a
    translation gives a title to each topic and to the three buttons, with the English payloads.
    """
    english = english_topics(path)
    if language == languages.ENGLISH:
        return english
    source = languages.path_in(path, language)
    raw = load_yaml(source) or {}
    titles = {str(intent): str((entry or {}).get("title") or "") for intent, entry in (raw.get("topics") or {}).items()}
    check_translation(english.titles, titles, str(source))
    buttons = {}
    for key in ("start_button", "person_button", "menu_button"):
        button = raw.get(key) or {}
        if not button.get("title") or button.get("payload") != getattr(english, key)["payload"]:
            raise ContentError(f"{source}: '{key}' needs a title and the English payload")
        buttons[key] = {"title": str(button["title"]), "payload": str(button["payload"])}
    language_button = raw.get("language_button") or {}
    if not language_button.get("title") or not str(language_button.get("payload") or "").startswith(LANGUAGE_PAYLOAD):
        raise ContentError(f"{source}: 'language_button' needs a title and a payload that changes the language")
    return dataclasses.replace(
        english,
        language_button={"title": str(language_button["title"]), "payload": str(language_button["payload"])},
        titles=titles,
        start_button=buttons["start_button"],
        person_button=buttons["person_button"],
        menu_button=buttons["menu_button"],
    )


def topics(path: Path = TOPICS_FILE) -> Topics:
    """The topics in the language being composed in."""
    return topics_in(languages.current(), path)


def check_answers(found: Topics, source: Path = TOPICS_FILE, domain: Path = DOMAIN_FILE) -> None:
    """Every topic needs its answer, the response ``utter_<topic>`` in domain.yml, or a patient asking gets none."""
    responses = (load_yaml(domain) or {}).get("responses") or {}
    missing = [f"utter_{intent}" for intent in found.titles if f"utter_{intent}" not in responses]
    if missing:
        raise ContentError(f"{source}: {domain} has no answer for these topics: {', '.join(missing)}")


def check_references(
    found: Topics, facts: Clinic, points: Iterable[str], source: Path = TOPICS_FILE, clinic_source: str = "clinic.yml"
) -> None:
    """The clinic's instructions complete some topic, and each correction names a teach-back point.

    A misspelt instruction name in clinic.yml would otherwise never be said, and the patient
    would be sent to the phone for an answer the clinic wrote.
    """
    used = set(found.instructions.values())
    unused = sorted(set(facts.instructions) - used)
    if unused:
        raise ContentError(f"{clinic_source}: instructions {', '.join(unused)} complete no topic of {source}")
    unknown = sorted(set(found.corrections) - set(points))
    if unknown:
        raise ContentError(f"{source}: corrections name unknown teach-back points {', '.join(unknown)}")
