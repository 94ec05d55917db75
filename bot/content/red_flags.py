"""The emergency red flags (``content/red_flags.yml``), checked for shape when a server starts.

The phrases themselves are compiled and matched by ``bot.language.red_flags``; a
category without phrases or a ``not_now`` cue that is not a list would otherwise
only show as an emergency that is never found.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from bot.content.files import ContentError, load_yaml
from bot.settings import CONTENT_DIR

RED_FLAGS_FILE = CONTENT_DIR / "red_flags.yml"
SPANISH_RULES = "spanish"  # the same shape again, for Spanish messages (bot/language/red_flags.py)
CATEGORY_KEYS = ("phrases", "all_of", "always", "past_only")
NOT_NOW_LISTS = ("before", "anywhere", "question_openers", "first_person")
_ENTITY = re.compile(r"\bENT:([A-Za-z_]+)")


def _phrases(raw: Any, where: str, may_be_empty: bool = False) -> list[str]:
    if not isinstance(raw, list) or not (raw or may_be_empty):
        raise ContentError(f"{where}: needs a list of phrases")
    if not all(isinstance(item, str) and item.strip() for item in raw):
        raise ContentError(f"{where}: every phrase needs words")
    return list(raw)


def parse_red_flags(raw: Any, source: str = str(RED_FLAGS_FILE)) -> dict[str, Any]:
    """Check the file's shape: categories with phrases (or ``all_of`` groups of phrases), ``not_now`` lists."""
    if not isinstance(raw, dict):
        raise ContentError(f"{source}: expected `categories` and `not_now`")
    categories = raw.get("categories")
    if not isinstance(categories, dict) or not categories:
        raise ContentError(f"{source}: 'categories' is missing")
    for name, entry in categories.items():
        where = f"{source}: categories: {name}"
        if not isinstance(entry, dict):
            raise ContentError(f"{where}: needs phrases")
        unknown = [key for key in entry if key not in CATEGORY_KEYS]
        if unknown:
            raise ContentError(f"{where}: unknown key {', '.join(map(str, unknown))}; a category has {CATEGORY_KEYS}")
        if "phrases" not in entry and "all_of" not in entry:
            raise ContentError(f"{where}: needs phrases (or all_of)")
        if "phrases" in entry:
            _phrases(entry["phrases"], f"{where}: phrases")
        combinations = entry.get("all_of", [])
        if not isinstance(combinations, list):
            raise ContentError(f"{where}: all_of needs a list of combinations")
        for number, combination in enumerate(combinations):
            if not isinstance(combination, list) or len(combination) < 2:
                raise ContentError(f"{where}: all_of[{number}] needs two or more groups of phrases")
            for part, group in enumerate(combination):
                _phrases(group, f"{where}: all_of[{number}][{part}]")
        for key in ("always", "past_only"):
            if not isinstance(entry.get(key, False), bool):
                raise ContentError(f"{where}: {key} is true or false")
    not_now = raw.get("not_now")
    if not isinstance(not_now, dict):
        raise ContentError(f"{source}: 'not_now' is missing")
    for key in NOT_NOW_LISTS:
        _phrases(not_now.get(key), f"{source}: not_now: {key}", may_be_empty=True)
    if SPANISH_RULES in raw:
        parse_red_flags(raw[SPANISH_RULES], f"{source}: {SPANISH_RULES}")
    return raw


def phrases(rules: dict[str, Any]) -> Iterator[str]:
    """Every phrase of checked rules: categories, their ``all_of`` groups, the ``not_now`` cues."""
    for entry in rules["categories"].values():
        yield from entry.get("phrases") or []
        for combination in entry.get("all_of") or []:
            for group in combination:
                yield from group
    for key in NOT_NOW_LISTS:
        yield from rules["not_now"][key]
    if SPANISH_RULES in rules:
        yield from phrases(rules[SPANISH_RULES])


def check_entity_labels(rules: dict[str, Any], labels: set[str], source: str = str(RED_FLAGS_FILE)) -> None:
    """Every ``ENT:LABEL`` in a phrase must be a label the entity ruler tags (content/entity_patterns.yml)."""
    unknown = sorted({label for phrase in phrases(rules) for label in _ENTITY.findall(phrase)} - labels)
    if unknown:
        raise ContentError(f"{source}: ENT:{', ENT:'.join(unknown)} is not a label of content/entity_patterns.yml")


@lru_cache(maxsize=1)
def red_flag_rules(path: Path = RED_FLAGS_FILE) -> dict[str, Any]:
    """The red-flag rules, checked, read once per process."""
    return parse_red_flags(load_yaml(path), str(path))
