"""The teach-back judge: does a free-text answer contain the key idea of a point?

Answers are judged by concepts (lemma-based phrases with negation, see
``bot.language.matching``), never by exact wording, so "it numbs the nerve so the pain
signals stop" and "blocks pain messages" both pass. Points, concepts, the
simpler re-explanation and the button choices live in ``content/teachback.yml``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from bot.content.teachback import SIDES, TEACHBACK_FILE, Point, teachback_points
from bot.language.matching import PhraseMatcher
from bot.language.text import normalise

MAX_ATTEMPTS = 2


class TeachBackJudge:
    """Judges answers for every point of a teach-back content mapping."""

    def __init__(self, vocab: Any, points: tuple[Point, ...]) -> None:
        self.points = list(points)
        phrases: dict[str, list[str]] = {}
        # (point id, side) -> labels with the polarity each must have to count
        self._concepts: dict[tuple[str, str], list[tuple[str, bool]]] = {}
        for point in self.points:
            for side in SIDES:
                for number, concept in enumerate(getattr(point, side)):
                    label = f"{point.id}:{side}:{number}"
                    phrases[label] = list(concept.phrases)
                    self._concepts.setdefault((point.id, side), []).append((label, concept.negated))
        self._by_id = {point.id: point for point in self.points}
        self._short_right = {point.id: frozenset(normalise(answer) for answer in point.short_right) for point in points}
        self._matcher = PhraseMatcher(vocab, phrases)

    @classmethod
    def from_file(cls, vocab: Any, path: Path = TEACHBACK_FILE) -> TeachBackJudge:
        return cls(vocab, teachback_points(path))

    def point(self, point_id: str) -> Point:
        return self._by_id[point_id]

    def judge(self, point_id: str, doc: Any) -> bool:
        """Whether the answer in ``doc`` shows the point was understood."""
        if normalise(doc.text) in self._short_right[point_id]:
            return True
        hits = self._matcher.hits(doc)

        def found(side: str) -> bool:
            wanted = self._concepts.get((point_id, side), [])
            return any(hit.label == label and hit.negated == negated for hit in hits for label, negated in wanted)

        return found("right") and not found("wrong")


@lru_cache(maxsize=1)
def default_judge() -> tuple[Any, TeachBackJudge]:
    """The project's pipeline and a judge on its vocab (actions, commands and tests)."""
    from bot.language import pipeline as nlp

    pipeline = nlp.load()
    return pipeline, TeachBackJudge(pipeline.vocab, teachback_points())


def judge_text(point_id: str, text: str) -> bool:
    """Judge a plain-text answer for ``point_id``."""
    pipeline, judge = default_judge()
    return judge.judge(point_id, pipeline(text))
