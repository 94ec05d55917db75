"""Emergency red-flag detection: rules, not the intent classifier, decide what is an emergency.

The categories, phrases and "not now" cues live in ``content/red_flags.yml``.
A hit counts when it is not negated and, unless its category is marked
``always``, no "not now" cue (a question about risks, a past event, someone
else) stands before it in the same sentence. A Spanish message is judged by the file's own
``spanish`` rules (``assess(doc, "es")``): the English phrases would match cognates and miss the
Spanish negations and past tenses around them. Used inside Rasa by
``bot.rasa.nlu_component.RedFlagDetector`` and alone by tests and the evaluation command.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from bot.content.languages import SPANISH
from bot.content.red_flags import RED_FLAGS_FILE, SPANISH_RULES, red_flag_rules
from bot.language.matching import DASHES, Hit, PhraseMatcher

SENTENCE_ENDS = frozenset({".", "!", "?", "\n"})
SELF_HARM = "self_harm"
_BEFORE = "not_now:before"
_ANYWHERE = "not_now:anywhere"


@dataclass(frozen=True)
class RedFlag:
    """A red flag found in a message: its category and the words that raised it."""

    category: str
    text: str


def _ends_sentence(doc: Any, position: int) -> bool:
    """A sentence end, or a dash standing alone between words: "is it normal for - no wait, he's convulsing"
    takes the question back, so the question ("is it ...") does not explain away what follows it.
    A hyphen inside a word ("self-harm") is not one."""
    token = doc[position]
    if token.text in SENTENCE_ENDS:
        return True
    return token.text in DASHES and (position == 0 or bool(doc[position - 1].whitespace_)) and bool(token.whitespace_)


def _sentence_start(doc: Any, index: int) -> int:
    for position in range(index - 1, -1, -1):
        if _ends_sentence(doc, position) or "\n" in doc[position].text_with_ws:
            return position + 1
    return 0


def _sentence_end(doc: Any, index: int) -> int:
    for position in range(index, len(doc)):
        if _ends_sentence(doc, position):
            return position + 1
    return len(doc)


# "I'm not worried, but I can't rouse him": what comes after "but" is not the worry or the question before it
CONTRASTS = frozenset({"but", "however", "though"})
_NEGATIONS = frozenset({"n't", "not"})


def _contrast_between(doc: Any, start: int, end: int) -> bool:
    return any(doc[i].lower_ in CONTRASTS for i in range(start, end))


def _asks(doc: Any, start: int, end: int) -> bool:
    """Whether a sentence that opens with a question word asks: "Don't want to be a nuisance, but the wife's
    gasping" and "Couldn't feel my legs" drop their subject, and a negative question ends with "?"."""
    negative = start + 1 < end and doc[start + 1].lower_ in _NEGATIONS
    return not negative or doc[end - 1].text == "?"


class RedFlagDetector:
    """Finds red flags in spaCy docs built by the project's pipeline."""

    def __init__(self, vocab: Any, rules: dict[str, Any]) -> None:
        categories = rules.get("categories") or {}
        if not categories:
            raise ValueError("red flags: no categories")
        self._categories = list(categories)
        self._always = {name for name, entry in categories.items() if entry.get("always")}
        self._past_only = {name for name, entry in categories.items() if entry.get("past_only")}
        phrases: dict[str, list[str]] = {}
        # category -> combinations -> labels of the groups that must all be found
        self._combinations: dict[str, list[list[str]]] = {}
        for name, entry in categories.items():
            phrases[name] = list(entry.get("phrases") or [])
            for number, combination in enumerate(entry.get("all_of") or []):
                labels = []
                for part, group in enumerate(combination):
                    label = f"{name}#{number}.{part}"
                    phrases[label] = list(group)
                    labels.append(label)
                self._combinations.setdefault(name, []).append(labels)
        not_now = rules.get("not_now") or {}
        phrases[_BEFORE] = list(not_now.get("before") or [])
        phrases[_ANYWHERE] = list(not_now.get("anywhere") or [])
        self._openers = frozenset(str(word).lower() for word in not_now.get("question_openers") or [])
        self._first_person = frozenset(str(word).lower() for word in not_now.get("first_person") or [])
        self._matcher = PhraseMatcher(vocab, phrases)
        spanish = rules.get(SPANISH_RULES)
        self._spanish = RedFlagDetector(vocab, spanish) if spanish else None

    @classmethod
    def from_file(cls, vocab: Any, path: Path = RED_FLAGS_FILE) -> RedFlagDetector:
        return cls(vocab, red_flag_rules(path))

    def detect(self, doc: Any) -> list[RedFlag]:
        """Red flags present now in ``doc`` (the English rules), one per category."""
        return self.assess(doc)[0]

    def assess(self, doc: Any, language: str = "") -> tuple[list[RedFlag], bool]:
        """Red flags present now, and whether a red-flag phrase was seen but dismissed.

        ``language`` Spanish takes the Spanish rules (none: no flags); any other keeps the English ones.

        Dismissed means negated ("no chest pain") or explained away ("my dad had
        chest pain last year"): the rules have an opinion, and it is "not now".
        """
        if language == SPANISH:
            return self._spanish.assess(doc) if self._spanish else ([], False)
        hits = self._matcher.hits(doc)
        cues = [hit for hit in hits if hit.label in (_BEFORE, _ANYWHERE)]
        live: dict[str, list[Hit]] = {}
        dismissed = False
        for hit in hits:
            if hit.label in (_BEFORE, _ANYWHERE):
                continue
            category = hit.label.split("#")[0]
            if hit.negated or (
                category not in self._always and self._explained_away(doc, hit, cues, category in self._past_only)
            ):
                dismissed = dismissed or "#" not in hit.label
                continue
            live.setdefault(hit.label, []).append(hit)
        found: list[RedFlag] = []
        for category in self._categories:
            if category in live:
                found.append(RedFlag(category, live[category][0].text))
                continue
            for labels in self._combinations.get(category, []):
                if all(label in live for label in labels):
                    found.append(RedFlag(category, " + ".join(live[label][0].text for label in labels)))
                    break
        return found, dismissed and not found

    def _explained_away(self, doc: Any, hit: Hit, cues: Iterable[Hit], past_only: bool = False) -> bool:
        """Whether the sentence of ``hit`` makes it a question, a story or a past event (only that: ``past_only``)."""
        start = _sentence_start(doc, hit.start)
        end = _sentence_end(doc, hit.end)
        for cue in cues:
            if cue.label == _ANYWHERE and start <= cue.start < end:
                return True
            if past_only:
                continue
            if (
                cue.label == _BEFORE
                and start <= cue.start < hit.start
                and not _contrast_between(doc, cue.start, hit.start)
            ):
                return True
        if not past_only and doc[start].lower_ in self._openers and _asks(doc, start, end):
            return not any(doc[i].lower_ in self._first_person for i in range(start, hit.start))
        return False


@lru_cache(maxsize=1)
def default_detector() -> tuple[Any, RedFlagDetector]:
    """The project's pipeline and a detector on its vocab, for use outside Rasa."""
    from bot.language import pipeline as nlp

    pipeline = nlp.load()
    return pipeline, RedFlagDetector.from_file(pipeline.vocab)


def detect_text(text: str) -> list[RedFlag]:
    """Red flags in a plain message (commands and tests; Rasa reuses its own doc)."""
    pipeline, detector = default_detector()
    return detector.detect(pipeline(text))
