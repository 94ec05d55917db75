"""Candidacy questions and the decision: reading the clinic's content and the patient's answers.

Questions, their buttons and which answers raise a flag live in
``content/consent.yml``; adding a question there needs no code change. This
module only parses answers. It never judges eligibility: flagged answers go to
the care team, who decide.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from bot.settings import CONTENT_DIR, SettingsError, load_yaml

CONSENT_FILE = CONTENT_DIR / "consent.yml"
DONT_KNOW = "dont_know"
QUESTION_TYPES = ("choice", "yes_no", "scale", "text")
_NUMBER_WORDS = {
    "zero": 0, "none": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10,
}


@dataclass(frozen=True)
class Option:
    """One choice: the value stored, the button title, and words that pick it when typed."""

    value: str
    title: str
    words: tuple[str, ...]


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


@dataclass(frozen=True)
class Answer:
    """A parsed answer: ``valid`` False means ask again with ``hint``."""

    valid: bool
    value: str = ""
    flagged: bool = False
    hint: str = ""


@dataclass(frozen=True)
class ConsentContent:
    """All of ``content/consent.yml``, checked."""

    questions: tuple[Question, ...]
    dont_know_words: tuple[str, ...]
    decisions: tuple[Option, ...]
    by_id: dict[str, Question] = field(default_factory=dict)

    def question(self, question_id: str) -> Question:
        return self.by_id[question_id]

    def next_question(self, answered: dict[str, Any]) -> Question | None:
        """The first question without an answer, in the clinic's order."""
        return next((q for q in self.questions if q.id not in answered), None)


def normalise(text: str) -> str:
    """Lower case, curly quotes straightened, punctuation other than apostrophes removed."""
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'")
    return " ".join(re.sub(r"[^a-z0-9'/ ]+", " ", text).split())


def _options(raw: Any, where: str) -> tuple[Option, ...]:
    if not isinstance(raw, list) or not raw:
        raise SettingsError(f"{where}: needs a list of choices")
    options = []
    for item in raw:
        if not isinstance(item, dict) or "value" not in item or "title" not in item:
            raise SettingsError(f"{where}: every choice needs a value and a title")
        words = tuple(normalise(str(word)) for word in item.get("words") or [])
        options.append(Option(str(item["value"]), str(item["title"]), (*words, normalise(str(item["title"])))))
    return tuple(options)


def parse_content(raw: dict[str, Any], source: str = str(CONSENT_FILE)) -> ConsentContent:
    """Check the consent content file and build the question list."""
    yes_no = _options(raw.get("yes_no"), f"{source}: yes_no")
    questions = []
    for number, item in enumerate(raw.get("candidacy") or []):
        where = f"{source}: candidacy[{number}]"
        for key in ("id", "text", "type"):
            if not item.get(key):
                raise SettingsError(f"{where}: '{key}' is missing")
        kind = str(item["type"])
        if kind not in QUESTION_TYPES:
            raise SettingsError(f"{where}: type '{kind}' is not one of {', '.join(QUESTION_TYPES)}")
        options = yes_no if kind == "yes_no" else _options(item.get("choices"), where) if kind == "choice" else ()
        questions.append(Question(
            id=str(item["id"]),
            text=str(item["text"]),
            type=kind,
            options=options,
            minimum=int(item.get("min", 0)),
            maximum=int(item.get("max", 10)),
            hint=str(item.get("hint") or ""),
            flag_if=frozenset(str(value) for value in item.get("flag_if") or []),
            flag_note=str(item.get("flag_note") or item["id"]),
            none_words=tuple(normalise(str(word)) for word in item.get("none_words") or []),
        ))
    if not questions:
        raise SettingsError(f"{source}: no candidacy questions")
    ids = [q.id for q in questions]
    if len(set(ids)) != len(ids):
        raise SettingsError(f"{source}: candidacy question ids must be unique")
    return ConsentContent(
        questions=tuple(questions),
        dont_know_words=tuple(normalise(str(word)) for word in raw.get("dont_know_words") or []),
        decisions=_options(raw.get("decisions"), f"{source}: decisions"),
        by_id={q.id: q for q in questions},
    )


@lru_cache(maxsize=1)
def content(path: Path = CONSENT_FILE) -> ConsentContent:
    return parse_content(load_yaml(path) or {}, str(path))


def _contains(text: str, phrase: str) -> bool:
    return re.search(rf"(?<![a-z0-9']){re.escape(phrase)}(?![a-z0-9'])", text) is not None


def pick_option(options: tuple[Option, ...], text: str) -> Option | None:
    """The option whose longest word or phrase is in ``text`` (so "not sure" beats "not")."""
    said = normalise(text)
    best: Option | None = None
    best_length = 0
    for option in options:
        for phrase in option.words:
            if phrase and len(phrase) > best_length and _contains(said, phrase):
                best, best_length = option, len(phrase)
    return best


def parse_scale(text: str, minimum: int, maximum: int) -> int | None:
    """A whole number in the text ("7", "about a 7/10", "seven"), or None; out of range is None."""
    said = normalise(text)
    raw = text.lower().replace("/10", " ").replace("out of 10", " ")
    numbers = [int(n) for n in re.findall(r"(?<![\d.])-?\d+(?![\d.])", raw)]
    numbers += [_NUMBER_WORDS[word] for word in said.split() if word in _NUMBER_WORDS]
    if len(set(numbers)) != 1:
        return None
    value = numbers[0]
    return value if minimum <= value <= maximum else None


def parse_answer(question: Question, text: str, dont_know_words: tuple[str, ...]) -> Answer:
    """Turn what the patient typed (or the button they pressed) into an answer to ``question``."""
    said = normalise(text)
    if not said:
        return Answer(valid=False, hint=_hint(question))
    if question.type == "yes_no":
        option = pick_option(question.options, text)
        if option is None:
            return Answer(valid=False, hint=_hint(question))
        return _flagged(question, option.value)
    if any(_contains(said, phrase) for phrase in dont_know_words):
        return Answer(valid=True, value=DONT_KNOW, flagged=True)
    if question.type == "choice":
        option = pick_option(question.options, text)
        return _flagged(question, option.value) if option else Answer(valid=False, hint=_hint(question))
    if question.type == "scale":
        number = parse_scale(text, question.minimum, question.maximum)
        if number is None:
            return Answer(valid=False, hint=_hint(question))
        return _flagged(question, str(number))
    value = text.strip()
    if said in question.none_words:
        return Answer(valid=True, value="none")
    return Answer(valid=True, value=value, flagged="any" in question.flag_if or value in question.flag_if)


def _flagged(question: Question, value: str) -> Answer:
    return Answer(valid=True, value=value, flagged=value in question.flag_if or value == DONT_KNOW)


def _hint(question: Question) -> str:
    if question.hint:
        return question.hint
    if question.options:
        titles = [option.title for option in question.options]
        return f"Please choose one: {', '.join(titles[:-1])} or {titles[-1]}."
    return "Please answer in a few words."


def pick_decision(text: str) -> str | None:
    """The decision value in what the patient said, or None when it is unclear."""
    option = pick_option(content().decisions, text)
    return option.value if option else None
