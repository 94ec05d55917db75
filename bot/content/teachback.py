"""The understanding points (``content/teachback.yml``): questions, re-explanations, choices, concepts.

Judging an answer against a point's concepts is ``bot.language.teachback``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from bot.content import languages
from bot.content.files import ContentError, load_yaml
from bot.settings import CONTENT_DIR

TEACHBACK_FILE = CONTENT_DIR / "teachback.yml"
SIDES = ("right", "wrong")


@dataclass(frozen=True)
class Concept:
    """Phrases that carry one idea; ``negated`` ones count only when negated ("not permanent").

    ``answers_only``: a wrong idea in an answer that is no belief in a question ("do I just wait
    and see?" asks; "I'd just wait and see" after naming a rare problem is wrong).
    """

    phrases: tuple[str, ...]
    negated: bool = False
    answers_only: bool = False


@dataclass(frozen=True)
class Point:
    """One understanding point: what is asked, how it is explained again, the buttons, its concepts."""

    id: str
    summary: str
    question: str
    explain_again: str
    choices: tuple[str, ...]  # offered only after two misses; empty: no choices, the point goes to the visit
    short_right: tuple[str, ...]  # whole answers that are right on their own, as the clinic wrote them
    right: tuple[Concept, ...]
    wrong: tuple[Concept, ...] = ()
    choice_question: str = ""
    right_choice: str = ""


@dataclass(frozen=True)
class TeachbackContent:
    """All of ``content/teachback.yml``: the buttons of an open question, and the points in order."""

    open_buttons: tuple[str, ...]
    points: tuple[Point, ...]

    def point(self, point_id: str) -> Point:
        """The point with id ``point_id`` (KeyError when there is none)."""
        for point in self.points:
            if point.id == point_id:
                return point
        raise KeyError(point_id)


def _concepts(raw: Any, where: str) -> tuple[Concept, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(item, dict) and item.get("phrases") for item in raw):
        raise ContentError(f"{where}: needs a list of concepts, each with phrases")
    return tuple(
        Concept(tuple(str(p) for p in item["phrases"]), bool(item.get("negated")), bool(item.get("answers_only")))
        for item in raw
    )


def parse_points(raw: dict[str, Any], source: str = str(TEACHBACK_FILE)) -> tuple[Point, ...]:
    """Check the teach-back content and build its points, in the order they are asked."""
    points = []
    for number, item in enumerate((raw or {}).get("points") or []):
        where = f"{source}: points[{number}]"
        for key in ("id", "summary", "question", "explain_again"):
            if not item.get(key):
                raise ContentError(f"{where}: '{key}' is missing")
        right = _concepts(item.get("right"), f"{where}: right")
        if not right:
            raise ContentError(f"{where}: teach-back point '{item['id']}' has no right concept")
        choices = tuple(str(choice) for choice in item.get("choices") or [])
        right_choice = str(item.get("right_choice") or "")
        if choices and (right_choice not in choices or len(choices) < 2 or not item.get("choice_question")):
            raise ContentError(
                f"{where}: choices need a choice_question, at least two choices and a right_choice that is one of them"
            )
        points.append(
            Point(
                id=str(item["id"]),
                summary=str(item["summary"]),
                question=str(item["question"]),
                explain_again=str(item["explain_again"]),
                choices=choices,
                short_right=tuple(str(answer) for answer in item.get("short_right") or []),
                right=right,
                wrong=_concepts(item.get("wrong"), f"{where}: wrong"),
                choice_question=str(item.get("choice_question") or ""),
                right_choice=right_choice,
            )
        )
    if not points:
        raise ContentError(f"{source}: no teach-back points")
    ids = [point.id for point in points]
    if len(set(ids)) != len(ids):
        raise ContentError(f"{source}: teach-back point ids must be unique")
    return tuple(points)


def parse_content(raw: dict[str, Any], source: str = str(TEACHBACK_FILE)) -> TeachbackContent:
    """The points, and the buttons every open question offers (pressing one is not an answer)."""
    buttons = (raw or {}).get("open_buttons") or []
    if not isinstance(buttons, list) or not all(isinstance(b, str) and b.strip() for b in buttons):
        raise ContentError(f"{source}: open_buttons must be a list of button titles")
    return TeachbackContent(tuple(buttons), parse_points(raw, source))


@lru_cache(maxsize=2 * len(languages.LANGUAGES))
def teachback_content_in(language: str, path: Path = TEACHBACK_FILE) -> TeachbackContent:
    """The points in ``language`` (``content/es/teachback.yml``): the English points, in order, with as many
    choices and the right one at the same place, so the record's point ids and outcomes mean the same."""
    english = parse_content(load_yaml(path) or {}, str(path))
    if language == languages.ENGLISH:
        return english
    source = languages.path_in(path, language)
    translated = parse_content(load_yaml(source) or {}, str(source))
    if [p.id for p in english.points] != [p.id for p in translated.points]:
        raise ContentError(f"{source}: points must have the English ids, in order")
    for point, other in zip(english.points, translated.points, strict=True):
        if _right_place(point) != _right_place(other):
            raise ContentError(
                f"{source}: point '{point.id}' must have as many choices, the right one where English has it"
            )
    if len(english.open_buttons) != len(translated.open_buttons):
        raise ContentError(f"{source}: open_buttons must have as many buttons as the English")
    return translated


def _right_place(point: Point) -> tuple[int, int]:
    return len(point.choices), point.choices.index(point.right_choice) if point.right_choice in point.choices else -1


def teachback_content(path: Path = TEACHBACK_FILE) -> TeachbackContent:
    """The teach-back content in the language being composed in."""
    return teachback_content_in(languages.current(), path)


def teachback_points(path: Path = TEACHBACK_FILE) -> tuple[Point, ...]:
    return teachback_content(path).points
