"""The teach-back judge: does a free-text answer show the point was understood?

A point with training answers (``data/teachback/train/``) is judged by its learned layer
(``bot.language.teachback_model``), which measured far better on answers by people who never
saw the project than the concepts did. A point the clinic adds in ``content/teachback.yml``
alone is judged by its concepts (lemma-based phrases with negation, see
``bot.language.matching``) until answers for it are written. A whole answer the clinic lists
as right on its own (``short_right``: "no" to "will it last forever?") is right either way.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from bot.content import languages
from bot.content.consent import consent_content
from bot.content.teachback import SIDES, TEACHBACK_FILE, Point, teachback_content_in, teachback_points
from bot.language import teachback_model
from bot.language.matching import PhraseMatcher
from bot.language.text import normalise

OPEN_ATTEMPTS = 2  # open asks ("in your own words") before the choices, or before the point goes to the visit


class TeachBackJudge:
    """Judges answers for every point of a teach-back content mapping."""

    def __init__(self, vocab: Any, points: tuple[Point, ...]) -> None:
        self.points = list(points)
        phrases: dict[str, list[str]] = {}
        # (point id, side) -> labels with the polarity each must have to count
        self._concepts: dict[tuple[str, str], list[tuple[str, bool]]] = {}
        self._answers_only: set[str] = set()  # labels that judge answers but read no belief in a question
        for point in self.points:
            for side in SIDES:
                for number, concept in enumerate(getattr(point, side)):
                    label = f"{point.id}:{side}:{number}"
                    phrases[label] = list(concept.phrases)
                    self._concepts.setdefault((point.id, side), []).append((label, concept.negated))
                    if concept.answers_only:
                        self._answers_only.add(label)
        self._short_right = {point.id: frozenset(normalise(answer) for answer in point.short_right) for point in points}
        self._matcher = PhraseMatcher(vocab, phrases, denied_after=True)

    @classmethod
    def from_file(cls, vocab: Any, path: Path = TEACHBACK_FILE) -> TeachBackJudge:
        return cls(vocab, teachback_points(path))

    def short_right(self, point_id: str) -> frozenset[str]:
        """Whole answers (normalised) the clinic lists as right on their own for the point."""
        return self._short_right.get(point_id, frozenset())

    def judge(self, point_id: str, doc: Any) -> bool:
        """Whether the answer in ``doc`` shows the point was understood, by the concepts alone."""
        if normalise(doc.text) in self._short_right[point_id]:
            return True
        hits = self._matcher.hits(doc)
        return self._found(point_id, "right", hits) and not self._found(point_id, "wrong", hits)

    def contradicts(self, point_id: str, doc: Any) -> bool:
        """Whether the answer says one of the point's wrong ideas ("it won't wear off", "it's permanent")."""
        return self._found(point_id, "wrong", self._matcher.hits(doc))

    def wrong_ideas(self, doc: Any) -> list[str]:
        """The points one of whose wrong ideas ``doc`` says, in content order."""
        hits = [hit for hit in self._matcher.hits(doc) if hit.label not in self._answers_only]
        return [point.id for point in self.points if self._found(point.id, "wrong", hits)]

    def _found(self, point_id: str, side: str, hits: Any) -> bool:
        wanted = self._concepts.get((point_id, side), [])
        return any(hit.label == label and hit.negated == negated for hit in hits for label, negated in wanted)


@lru_cache(maxsize=1)
def _pipeline() -> Any:
    from bot.language import pipeline as nlp

    pipeline = nlp.load()
    teachback_model.load()  # loaded with the pipeline, so the first patient at the check does not wait for it
    return pipeline


@lru_cache(maxsize=len(languages.LANGUAGES))
def _judge_in(language: str) -> TeachBackJudge:
    return TeachBackJudge(_pipeline().vocab, teachback_content_in(language).points)


def default_judge() -> tuple[Any, TeachBackJudge]:
    """The project's pipeline and a judge of the points in the language being composed in (actions, commands
    and tests): a Spanish answer is held against the Spanish concepts (content/es/teachback.yml)."""
    return _pipeline(), _judge_in(languages.current())


DONT_KNOW_WORDS = 5  # an answer this short with "I don't know" in it says just that


def says_dont_know(text: str) -> bool:
    """A short "I don't know" ("idk", "no idea really"): never an understood point, whatever else it resembles."""
    said = normalise(text)
    words = consent_content().dont_know_words
    return len(said.split()) <= DONT_KNOW_WORDS and any(f" {normalise(w)} " in f" {said} " for w in words)


def wrong_ideas(text: str) -> list[str]:
    """The points whose wrong idea a message says ("so the pain is gone for good?"), so an answer can correct it.

    The concepts alone: they read a belief stated or presumed, and their negation check leaves
    "I know it's not a cure" alone.
    """
    pipeline, judge = default_judge()
    return judge.wrong_ideas(pipeline(text))


def judge_text(point_id: str, text: str) -> bool:
    """Judge a plain-text answer for ``point_id``: by the learned layer if it knows the point, else by the concepts.

    A wrong idea the concepts find vetoes the learned layer: on the training answers (by folds)
    that caught 0.2-2.3 points more wrong answers for 0-1.2 fewer right ones, and passing a
    misunderstanding is worse than explaining a point once more.
    """
    pipeline, judge = default_judge()
    learned = teachback_model.load()
    if says_dont_know(text):
        return False
    doc = pipeline(text)
    if normalise(text) in judge.short_right(point_id) or not learned.knows(point_id, languages.current()):
        return judge.judge(point_id, doc)
    return learned.understood(point_id, text) and not judge.contradicts(point_id, doc)
