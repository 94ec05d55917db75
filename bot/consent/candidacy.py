"""Reading the patient's answers to the candidacy questions and the decision.

This module only reads answers. It never judges eligibility: flagged answers go to the
care team, who decide. A typed answer to a yes/no or choice question is recorded only
when it clearly picks one choice; a hedged, mixed or contradictory answer, or one that
says more than the question asked, is confirmed back with the patient's own words
(``CONFIRM``), and one that picks no choice is asked again (``ASK_AGAIN``). Recording a
value the patient did not give is the one mistake this module must not make, so every
doubt costs the patient one more tap rather than the care team a wrong answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from spacy.lang.en.stop_words import STOP_WORDS as ENGLISH_STOP_WORDS
from spacy.lang.es.stop_words import STOP_WORDS as SPANISH_STOP_WORDS

from bot import content
from bot.content import languages
from bot.content.consent import Option, Question, Reading, consent_content
from bot.conversation import SPANISH_QUESTION_WORDS
from bot.language.text import normalise

DONT_KNOW = "dont_know"
UNCLEAR = "unclear"  # recorded when even the confirmation did not give a clear answer: the care team asks

RECORD = "record"
CONFIRM = "confirm"
ASK_AGAIN = "ask_again"

TYPED = "typed"
BUTTON = "button"  # the message is exactly a button's title, as a tap sends it
CONFIRMED = "confirmed"

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
    # Spanish (accents off, as normalise leaves them)
    "cero": 0,
    "uno": 1,
    "una": 1,
    "dos": 2,
    "tres": 3,
    "cuatro": 4,
    "cinco": 5,
    "seis": 6,
    "siete": 7,
    "ocho": 8,
    "nueve": 9,
    "diez": 10,
}
_CONTRACTION_ENDS = {"t", "m", "s", "re", "ve", "ll", "d"}
_QUESTION_PHRASES = re.compile(r"\b(what is|what's|what does|what do|means what|mean by|what are)\b")
_WH_WORDS = {"what", "why", "how", "which", "who", "whats", "what's", "hows", "how's"} | SPANISH_QUESTION_WORDS
# spaCy's maintained stop-word lists: words an answer may hold without saying more than it answers. A Spanish
# conversation reads both (patients mix in English: "no, just the aspirin").
_STOP_WORDS = {languages.ENGLISH: ENGLISH_STOP_WORDS, languages.SPANISH: ENGLISH_STOP_WORDS | SPANISH_STOP_WORDS}


_SET_OFF = re.compile(r"^\W*\w+\s*[,.;:!\u2013\u2014-]")  # a first word set off by punctuation


def _stop_words() -> frozenset[str] | set[str]:
    return _STOP_WORDS.get(languages.current(), ENGLISH_STOP_WORDS)


@dataclass(frozen=True)
class Answer:
    """How an answer was read.

    ``status`` is ``RECORD`` (``value`` is the answer), ``CONFIRM`` (ask the question again
    with the patient's words quoted before anything is recorded; ``reason`` says why) or
    ``ASK_AGAIN`` (no answer in it; ``hint`` says how to answer). ``extra`` holds the words
    beyond the question's own (a medicine, a condition, a symptom): kept and flagged.
    """

    status: str
    value: str = ""
    flagged: bool = False
    hint: str = ""
    reason: str = ""
    extra: tuple[str, ...] = ()


@lru_cache(maxsize=256)
def normalised(words: tuple[str, ...]) -> tuple[str, ...]:
    """A content file's words as messages are compared: normalised like the patient's text."""
    return tuple(normalise(word) for word in words)


@lru_cache(maxsize=8192)
def _whole(phrase: str) -> re.Pattern[str]:
    """``phrase`` as whole words (compiled once: the content has more phrases than ``re`` caches)."""
    return re.compile(rf"(?<![a-z0-9']){re.escape(phrase)}(?![a-z0-9'])")


def _contains(text: str, phrase: str) -> bool:
    return _whole(phrase).search(text) is not None


def _spans(text: str, phrase: str) -> list[tuple[int, int]]:
    return [m.span() for m in _whole(phrase).finditer(text)]


def options_said(options: tuple[Option, ...], said: str) -> tuple[list[str], list[tuple[int, int]]]:
    """Every option a phrase of which is in ``said`` (normalised), longest phrases first, none inside another.

    "nothing helped" is one "no", not a "no" and a "yes" ("helped"); the spans of the
    phrases taken come back too, so the words around them can be read.
    """
    found = sorted(
        (
            (span, option.value)
            for option in options
            for phrase in normalised(option.words)
            if phrase
            for span in _spans(said, phrase)
        ),
        key=lambda item: item[0][0] - item[0][1],
    )
    taken: list[tuple[int, int]] = []
    values: list[str] = []
    for (start, end), value in found:
        if any(start < t_end and t_start < end for t_start, t_end in taken):
            continue
        taken.append((start, end))
        if value not in values:
            values.append(value)
    return values, taken


def _without_scale(text: str) -> str:
    """``text`` without the scale's own "/10" or "out of ten", which are not the answer."""
    return re.sub(r"(/|\bout of|\bof)\s*(10|ten)\b", " ", text, flags=re.IGNORECASE)


def parse_scale(text: str, minimum: int, maximum: int) -> int | None:
    """A whole number in the text ("7", "about a 7/10", "seven"), or None; out of range is None."""
    raw = _without_scale(text.lower())
    numbers = [int(n) for n in re.findall(r"(?<![\w.])-?\d+(?!\.?\d)(?![a-z])", raw)]
    numbers += [_NUMBER_WORDS[word] for word in normalise(raw).split() if word in _NUMBER_WORDS]
    if len(set(numbers)) != 1:
        return None
    value = numbers[0]
    return value if minimum <= value <= maximum else None


def read_scale(question: Question, text: str, reading: Reading) -> Answer:
    """One whole number in range: recorded, unless a hedge, a contrast or a question mark makes it a guess."""
    number = parse_scale(text, question.minimum, question.maximum)
    if number is None:
        return Answer(ASK_AGAIN, hint=_hint(question))
    said = normalise(_without_scale(text))
    doubt = "?" in text or any(_contains(said, phrase) for phrase in normalised(reading.hedges + reading.contrasts))
    words = " ".join(word for word in said.split() if not word.isdigit() and word not in _NUMBER_WORDS)
    if doubt or extra_words(question, reading, words):  # "appointment's at 9", "lost 10 pounds"
        return Answer(CONFIRM, value=str(number), reason="hedged")
    return _flagged(question, str(number))


def _stem(word: str) -> str:
    return word[:5] if len(word) > 5 else word


@lru_cache(maxsize=64)
def _known_stems(question: Question, reading: Reading) -> frozenset[str]:
    """Words an answer may use without saying more than the question asked: the question's own, and filler."""
    words = normalise(question.text).split() + " ".join(normalised(question.topic_words)).split()
    words += " ".join(normalised(reading.filler)).split()
    return frozenset(_stem(word) for word in words)


def extra_words(question: Question, reading: Reading, unmatched: str) -> tuple[str, ...]:
    """The words of an answer (its chosen phrases blanked) beyond the question's own words, cue phrases and filler."""
    cues = [span for phrase in normalised(reading.hedges + reading.contrasts) for span in _spans(unmatched, phrase)]
    known = _known_stems(question, reading)
    extra = []
    stop_words = _stop_words()
    for word in _blank(unmatched, cues).split():
        parts = word.split("'")
        if word in stop_words or all(part in stop_words or part in _CONTRACTION_ENDS for part in parts if part):
            continue
        if _stem(word) in known:
            continue
        extra.append(word)
    return tuple(extra)


def _is_question(text: str, said: str) -> bool:
    """A question back ("what is a blood thinner", "spasticity means what?"): never an answer.

    Narrower than ``bot.conversation.looks_like_question``: an answer may begin "does not
    apply" or "do not", so only "?", a wh-word first, or a wh-phrase count here.
    """
    words = said.split()
    return "?" in text or (len(words) > 2 and words[0] in _WH_WORDS) or _QUESTION_PHRASES.search(said) is not None


def _covering(options: tuple[Option, ...], values: list[str]) -> list[str]:
    """``values`` as one choice when one of them covers all the others ("both", said with "pain" and "spasms")."""
    for option in options:
        if option.value in values and set(values) <= {option.value, *option.covers}:
            return [option.value]
    return values


def read_choice(question: Question, text: str, reading: Reading) -> Answer:
    """A yes/no or choice answer: recorded when it clearly picks one choice, else confirmed or asked again."""
    said = normalise(text)
    if "?" not in text and any(said == phrase for option in question.options for phrase in normalised(option.words)):
        values, _ = options_said(question.options, said)
        return _flagged(question, values[0])
    values, taken = options_said(question.options, said)
    values = _covering(question.options, values)
    unmatched = _blank(said, taken)
    extra = extra_words(question, reading, unmatched)
    if not values:
        if extra:  # it says something, just not a choice (a medicine's name): quote it and ask
            return Answer(CONFIRM, reason="no_choice", extra=extra)
        return Answer(ASK_AGAIN, hint=_hint(question))
    hedged = _outside(said, reading.hedges, taken)
    contrast = _outside(said, reading.contrasts, taken)
    negated = question.type != "yes_no" and any(_contains(unmatched, w) for w in normalised(reading.negations))
    reason = (
        "mixed"
        if len(values) > 1
        else "question"
        if _is_question(text, said)
        else "hedged"
        if hedged or negated
        else "mixed"
        if contrast
        else ""
    )
    value = values[0]
    if not reason and extra:
        if not _about_the_question(question, reading, said):
            reason = "says_more"  # "yes I got the instructions": a yes, but not to this question
        else:
            reason = _says_more(question, reading, value, extra, leading=_answers_first(question, text, said, taken))
    if reason:
        return Answer(CONFIRM, value=value if len(values) == 1 else "", reason=reason, extra=extra)
    answer = _flagged(question, value)
    return Answer(RECORD, value, flagged=answer.flagged or bool(extra), extra=extra)


def _outside(said: str, phrases: tuple[str, ...], taken: list[tuple[int, int]]) -> bool:
    """Whether one of ``phrases`` is in ``said`` outside the chosen phrases ("not that I know": yes; "not sure": no)."""
    return any(
        not any(t_start <= start and end <= t_end for t_start, t_end in taken)
        for phrase in normalised(phrases)
        for start, end in _spans(said, phrase)
    )


def _about_the_question(question: Question, reading: Reading, said: str) -> bool:
    """Whether ``said`` names what the question asks about (its own words or topic words, not its choices')."""
    own = normalise(question.text).split() + " ".join(normalised(question.topic_words)).split()
    stop_words = _stop_words()
    stems = {_stem(word) for word in own if word not in stop_words}
    return any(_stem(word) in stems for word in said.split() if word not in stop_words)


def _says_more(question: Question, reading: Reading, value: str, extra: tuple[str, ...], leading: bool) -> str:
    """ "says_more" when an answer's other words could change it; "" when they are details of a clear answer.

    Words beside the answer that raises no flag ("no" to a blood thinner) could name the very
    thing asked about, so any is confirmed. Beside any other answer, details are kept when
    the answer comes first ("yes, eliquis 5 mg twice a day") or they are few.
    """
    if question.flag_if and value not in question.flag_if and value != DONT_KNOW:
        return "says_more"
    return "" if leading or len(extra) <= reading.max_extra_words else "says_more"


def _answers_first(question: Question, text: str, said: str, taken: list[tuple[int, int]]) -> bool:
    """Whether the answer is given first and the rest are its details ("yes, eliquis 5 mg"; "pain - mostly my back").

    Only a one-word choice at the start, and for a choice question only one set off by punctuation:
    a choice said as the start of a sentence is no answer given first ("I have my blood test next
    week", "pain clinic called about my appointment"), what follows can be about anything.
    """
    if not taken:
        return False
    start, end = min(taken)
    if start != 0 or len(said[start:end].split()) != 1:
        return False
    return question.type == "yes_no" or _SET_OFF.match(text) is not None


def _blank(said: str, spans: list[tuple[int, int]]) -> str:
    """``said`` with the chosen phrases blanked out, so cue words inside them ("not sure") do not count twice."""
    chars = list(said)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return " ".join("".join(chars).split())


def parse_answer(
    question: Question, text: str, dont_know_words: tuple[str, ...], reading: Reading | None = None
) -> Answer:
    """Read what the patient typed (or the button they pressed) as an answer to ``question``."""
    reading = reading or consent_content().reading
    said = normalise(text)
    if not said:
        return Answer(ASK_AGAIN, hint=_hint(question))
    if question.type == "yes_no":
        return read_choice(question, text, reading)
    if any(_contains(said, phrase) for phrase in normalised(dont_know_words)):
        return Answer(RECORD, value=DONT_KNOW, flagged=True)
    if question.type == "choice":
        return read_choice(question, text, reading)
    if question.type == "scale":
        return read_scale(question, text, reading)
    value = text.strip()
    if said in normalised(question.none_words):
        return Answer(RECORD, value="none")
    return Answer(RECORD, value, flagged="any" in question.flag_if or value in question.flag_if)


def how_given(question: Question, text: str) -> str:
    """``BUTTON`` when the message is exactly one of the question's button titles (what a tap sends), else ``TYPED``."""
    return BUTTON if any(text.strip() == option.title for option in question.options) else TYPED


def _flagged(question: Question, value: str) -> Answer:
    return Answer(RECORD, value=value, flagged=value in question.flag_if or value == DONT_KNOW)


def _hint(question: Question) -> str:
    if question.hint:
        return question.hint
    if question.options:
        titles = [option.title for option in question.options]
        return content.message("choose_one", first=", ".join(titles[:-1]), last=titles[-1]).text
    return content.message("answer_in_words").text


@dataclass(frozen=True)
class DecisionReading:
    """The decision read from what the patient said: ``value`` when it is a clear choice, else None;
    ``doubtful`` when it is hedged, mixed or fearful ("yes I think so, but I'm nervous")."""

    value: str | None
    doubtful: bool = False


def read_decision(text: str) -> DecisionReading:
    """Only a clear choice is a decision; a doubtful one is met with empathy and asked again, never recorded."""
    questions = consent_content()
    if any(text.strip() == decision.title for decision in questions.decisions):
        return DecisionReading(next(d.value for d in questions.decisions if text.strip() == d.title))
    said = normalise(text)
    values, taken = options_said(questions.decisions, said)
    reading = questions.reading
    doubtful = len(values) > 1 or _outside(said, reading.hedges + reading.contrasts + reading.fears, taken)
    if doubtful or not values:
        return DecisionReading(None, doubtful)
    return DecisionReading(values[0])
