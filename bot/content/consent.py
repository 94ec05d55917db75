"""The candidacy questions and the decision choices (``content/consent.yml``), checked.

Questions, their buttons and which answers raise a flag live in the content file;
adding a question there needs no code change. Parsing answers is ``bot.consent.candidacy``.
The decisions are the only values a consent record may hold: the store, the printable
page and the steps read them (and the care team's wording of them) from here.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from bot.content import languages
from bot.content.files import ContentError, load_yaml
from bot.content.messages import templates
from bot.settings import CONTENT_DIR

CONSENT_FILE = CONTENT_DIR / "consent.yml"
QUESTION_TYPES = ("choice", "yes_no", "scale", "text")


@dataclass(frozen=True)
class Option:
    """One choice: the value stored, the button title, and words that pick it when typed (as the clinic wrote them)."""

    value: str
    title: str
    words: tuple[str, ...]
    covers: tuple[str, ...] = ()  # other choices this one includes: "both" covers "pain" and "spasticity"


@dataclass(frozen=True)
class Decision(Option):
    """A decision choice, and what the care team sees of it: its wording on the record and the flag it raises."""

    record_title: str = ""  # required in the content file (checked when loaded)
    flag_note: str = ""  # empty: the decision raises no flag

    @property
    def recorded_message(self) -> str:
        """The message (``content/messages.yml``) that tells the patient this decision was recorded."""
        return f"recorded_{self.value}"


@dataclass(frozen=True)
class Question:
    """One candidacy question as the clinic wrote it."""

    id: str
    text: str
    type: str
    options: tuple[Option, ...] = ()
    minimum: int = 0
    maximum: int = 10
    hint: str = ""
    flag_if: frozenset[str] = frozenset()
    flag_note: str = ""
    none_words: tuple[str, ...] = ()
    topic_words: tuple[str, ...] = ()  # words that only restate the question ("sick" for an infection)


@dataclass(frozen=True)
class Reading:
    """The words that make a typed answer need confirming (``reading`` in ``content/consent.yml``).

    ``hedges`` ("probably", "I think"), ``contrasts`` ("but", "except"), ``negations`` (for
    choice questions, whose choices carry no "no" of their own: "barely helped"), and
    ``filler``: words an answer may add without saying more than the question asked; ``fears``:
    words that make a decision one to meet with empathy and ask again ("yes, but I'm scared").
    An answer with more than ``max_extra_words`` other words is confirmed too.
    """

    hedges: tuple[str, ...] = ()
    contrasts: tuple[str, ...] = ()
    negations: tuple[str, ...] = ()
    filler: tuple[str, ...] = ()
    fears: tuple[str, ...] = ()  # "nervous", "scared": a decision said with them is met with empathy first
    max_extra_words: int = 3


@dataclass(frozen=True)
class ConsentContent:
    """All of ``content/consent.yml``, checked."""

    questions: tuple[Question, ...]
    dont_know_words: tuple[str, ...]
    decisions: tuple[Decision, ...]
    reading: Reading = Reading()
    by_id: dict[str, Question] = field(default_factory=dict)

    def question(self, question_id: str) -> Question:
        return self.by_id[question_id]

    def decision(self, value: str | None) -> Decision | None:
        """The decision stored as ``value``, or None when the content has no such decision."""
        return next((decision for decision in self.decisions if decision.value == value), None)

    def next_question(self, answered: dict[str, Any]) -> Question | None:
        """The first question without an answer, in the clinic's order."""
        return next((q for q in self.questions if q.id not in answered), None)


def _options(raw: Any, where: str) -> tuple[Option, ...]:
    if not isinstance(raw, list) or not raw:
        raise ContentError(f"{where}: needs a list of choices")
    options = []
    for item in raw:
        if not isinstance(item, dict) or "value" not in item or "title" not in item:
            raise ContentError(f"{where}: every choice needs a value and a title")
        words = tuple(str(word) for word in item.get("words") or [])
        covers = tuple(str(value) for value in item.get("covers") or [])
        options.append(Option(str(item["value"]), str(item["title"]), (*words, str(item["title"])), covers))
    values = {option.value for option in options}
    for option in options:
        if not set(option.covers) <= values - {option.value}:
            raise ContentError(f"{where}: '{option.value}' covers a choice that is not another of its choices")
    return tuple(options)


def _decisions(raw: Any, where: str, message_names: Collection[str]) -> tuple[Decision, ...]:
    """The decision choices, each with its record title and its confirmation message."""
    decisions = []
    for option, item in zip(_options(raw, where), raw, strict=True):
        if not item.get("record_title"):
            raise ContentError(f"{where}: decision '{option.value}' needs a record_title (the care team's wording)")
        decision = Decision(
            option.value,
            option.title,
            option.words,
            record_title=str(item["record_title"]),
            flag_note=str(item.get("flag_note") or ""),
        )
        if decision.recorded_message not in message_names:
            raise ContentError(
                f"{where}: decision '{decision.value}' needs the message "
                f"'{decision.recorded_message}' in content/messages.yml"
            )
        decisions.append(decision)
    values = [decision.value for decision in decisions]
    if len(set(values)) != len(values):
        raise ContentError(f"{where}: decision values must be unique")
    return tuple(decisions)


def _reading(raw: Any, where: str) -> Reading:
    if raw is None:
        return Reading()
    if not isinstance(raw, dict):
        raise ContentError(f"{where}: needs hedges, contrasts, negations and filler word lists")
    lists = {}
    for key in ("hedges", "contrasts", "negations", "filler", "fears"):
        words = raw.get(key) or []
        if not isinstance(words, list) or not all(isinstance(word, str) and word.strip() for word in words):
            raise ContentError(f"{where}: '{key}' must be a list of words or phrases")
        lists[key] = tuple(words)
    limit = raw.get("max_extra_words", 3)
    if not isinstance(limit, int) or limit < 0:
        raise ContentError(f"{where}: 'max_extra_words' must be a whole number, 0 or more")
    return Reading(**lists, max_extra_words=limit)


def parse_content(
    raw: dict[str, Any], source: str = str(CONSENT_FILE), message_names: Collection[str] | None = None
) -> ConsentContent:
    """Check the consent content file and build the question list.

    ``message_names`` are the messages a decision may confirm with (default: ``content/messages.yml``'s).
    """
    yes_no = _options(raw.get("yes_no"), f"{source}: yes_no")
    questions = []
    for number, item in enumerate(raw.get("candidacy") or []):
        where = f"{source}: candidacy[{number}]"
        for key in ("id", "text", "type"):
            if not item.get(key):
                raise ContentError(f"{where}: '{key}' is missing")
        kind = str(item["type"])
        if kind not in QUESTION_TYPES:
            raise ContentError(f"{where}: type '{kind}' is not one of {', '.join(QUESTION_TYPES)}")
        options = yes_no if kind == "yes_no" else _options(item.get("choices"), where) if kind == "choice" else ()
        questions.append(
            Question(
                id=str(item["id"]),
                text=str(item["text"]),
                type=kind,
                options=options,
                minimum=int(item.get("min", 0)),
                maximum=int(item.get("max", 10)),
                hint=str(item.get("hint") or ""),
                flag_if=frozenset(str(value) for value in item.get("flag_if") or []),
                flag_note=str(item.get("flag_note") or item["id"]),
                none_words=tuple(str(word) for word in item.get("none_words") or []),
                topic_words=tuple(str(word) for word in item.get("topic_words") or []),
            )
        )
    if not questions:
        raise ContentError(f"{source}: no candidacy questions")
    ids = [q.id for q in questions]
    if len(set(ids)) != len(ids):
        raise ContentError(f"{source}: candidacy question ids must be unique")
    return ConsentContent(
        questions=tuple(questions),
        dont_know_words=tuple(str(word) for word in raw.get("dont_know_words") or []),
        decisions=_decisions(
            raw.get("decisions"), f"{source}: decisions", templates() if message_names is None else message_names
        ),
        reading=_reading(raw.get("reading"), f"{source}: reading"),
        by_id={q.id: q for q in questions},
    )


@lru_cache(maxsize=2 * len(languages.LANGUAGES))
def consent_content_in(language: str, path: Path = CONSENT_FILE) -> ConsentContent:
    """The questions and decisions in ``language`` (``content/es/consent.yml``), checked against the English:
    the same questions in the same order, of the same types, with the same values to record and flag, so a
    record means the same whichever language the patient answered in."""
    english = parse_content(load_yaml(path) or {}, str(path))
    if language == languages.ENGLISH:
        return english
    source = languages.path_in(path, language)
    translated = parse_content(load_yaml(source) or {}, str(source))
    for question, other in itertools.zip_longest(english.questions, translated.questions):
        if question is None or other is None or _shape(question) != _shape(other):
            named = (other or question).id if (other or question) else "?"
            raise ContentError(
                f"{source}: question '{named}' must have the English id, type, values and flags, in order"
            )
    if [d.value for d in english.decisions] != [d.value for d in translated.decisions]:
        raise ContentError(f"{source}: decisions must have the English values, in order")
    return translated


def _shape(question: Question) -> tuple[Any, ...]:
    """What a translation of a question keeps: what is recorded and flagged, not what is read or typed."""
    values = tuple((option.value, option.covers) for option in question.options)
    return question.id, question.type, values, question.minimum, question.maximum, question.flag_if


def consent_content(path: Path = CONSENT_FILE) -> ConsentContent:
    """The consent content in the language being composed in."""
    return consent_content_in(languages.current(), path)
