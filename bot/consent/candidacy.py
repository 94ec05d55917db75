"""Reading the patient's answers to the candidacy questions and the decision.

This module only parses answers. It never judges eligibility: flagged answers go
to the care team, who decide.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from bot import content
from bot.content.consent import Option, Question, consent_content
from bot.language.text import normalise

DONT_KNOW = "dont_know"
_NUMBER_WORDS = {
    "zero": 0,
    "none": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
}


@dataclass(frozen=True)
class Answer:
    """A parsed answer: ``valid`` False means ask again with ``hint``."""

    valid: bool
    value: str = ""
    flagged: bool = False
    hint: str = ""


@lru_cache(maxsize=256)
def normalised(words: tuple[str, ...]) -> tuple[str, ...]:
    """A content file's words as messages are compared: normalised like the patient's text."""
    return tuple(normalise(word) for word in words)


def _contains(text: str, phrase: str) -> bool:
    return re.search(rf"(?<![a-z0-9']){re.escape(phrase)}(?![a-z0-9'])", text) is not None


def pick_option(options: tuple[Option, ...], text: str) -> Option | None:
    """The option whose longest word or phrase is in ``text`` (so "not sure" beats "not")."""
    said = normalise(text)
    best: Option | None = None
    best_length = 0
    for option in options:
        for phrase in normalised(option.words):
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
    if any(_contains(said, phrase) for phrase in normalised(dont_know_words)):
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
    if said in normalised(question.none_words):
        return Answer(valid=True, value="none")
    return Answer(valid=True, value=value, flagged="any" in question.flag_if or value in question.flag_if)


def _flagged(question: Question, value: str) -> Answer:
    return Answer(valid=True, value=value, flagged=value in question.flag_if or value == DONT_KNOW)


def _hint(question: Question) -> str:
    if question.hint:
        return question.hint
    if question.options:
        titles = [option.title for option in question.options]
        return content.message("choose_one", first=", ".join(titles[:-1]), last=titles[-1]).text
    return content.message("answer_in_words").text


def pick_decision(text: str) -> str | None:
    """The decision value in what the patient said, or None when it is unclear."""
    option = pick_option(consent_content().decisions, text)
    return option.value if option else None
