"""The teach-back judge: does a free-text answer contain the key idea of a point?

Answers are judged by concepts (lemma-based phrases with negation, see
``bot.matching``), never by exact wording, so "it numbs the nerve so the pain
signals stop" and "blocks pain messages" both pass. Points, concepts, the
simpler re-explanation and the button choices live in ``content/teachback.yml``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from bot.matching import PhraseMatcher
from bot.settings import CONTENT_DIR, load_yaml

TEACHBACK_FILE = CONTENT_DIR / "teachback.yml"
MAX_ATTEMPTS = 2


@dataclass(frozen=True)
class Point:
    """One understanding point: what is asked, how it is explained again, the buttons."""

    id: str
    summary: str
    question: str
    explain_again: str
    choices: tuple[str, ...]
    short_right: frozenset[str]


def _normalise(text: str) -> str:
    return re.sub(r"[^a-z0-9' ]+", "", text.lower()).strip()


class TeachBackJudge:
    """Judges answers for every point of a teach-back content mapping."""

    def __init__(self, vocab: Any, content: dict[str, Any]) -> None:
        self.points: list[Point] = []
        phrases: dict[str, list[str]] = {}
        # (point id, side) -> labels with the polarity each must have to count
        self._concepts: dict[tuple[str, str], list[tuple[str, bool]]] = {}
        for raw in content.get("points") or []:
            point = Point(
                id=str(raw["id"]),
                summary=str(raw["summary"]),
                question=str(raw["question"]),
                explain_again=str(raw["explain_again"]),
                choices=tuple(str(choice) for choice in raw.get("choices") or []),
                short_right=frozenset(_normalise(str(answer)) for answer in raw.get("short_right") or []),
            )
            self.points.append(point)
            for side in ("right", "wrong"):
                for number, concept in enumerate(raw.get(side) or []):
                    label = f"{point.id}:{side}:{number}"
                    phrases[label] = list(concept.get("phrases") or [])
                    self._concepts.setdefault((point.id, side), []).append((label, bool(concept.get("negated"))))
            if not self._concepts.get((point.id, "right")):
                raise ValueError(f"teach-back point '{point.id}' has no right concept")
        if not self.points:
            raise ValueError("teach-back content has no points")
        self._by_id = {point.id: point for point in self.points}
        self._matcher = PhraseMatcher(vocab, phrases)

    @classmethod
    def from_file(cls, vocab: Any, path: Path = TEACHBACK_FILE) -> TeachBackJudge:
        return cls(vocab, load_yaml(path) or {})

    def point(self, point_id: str) -> Point:
        return self._by_id[point_id]

    def judge(self, point_id: str, doc: Any) -> bool:
        """Whether the answer in ``doc`` shows the point was understood."""
        point = self._by_id[point_id]
        if _normalise(doc.text) in point.short_right:
            return True
        hits = self._matcher.hits(doc)

        def found(side: str) -> bool:
            wanted = self._concepts.get((point_id, side), [])
            return any(hit.label == label and hit.negated == negated for hit in hits for label, negated in wanted)

        return found("right") and not found("wrong")


@lru_cache(maxsize=1)
def default_judge() -> tuple[Any, TeachBackJudge]:
    """The project's pipeline and a judge on its vocab (actions, commands and tests)."""
    from bot import nlp

    pipeline = nlp.load()
    return pipeline, TeachBackJudge.from_file(pipeline.vocab)


def judge_text(point_id: str, text: str) -> bool:
    """Judge a plain-text answer for ``point_id``."""
    pipeline, judge = default_judge()
    return judge.judge(point_id, pipeline(text))


def evaluate(path: Path) -> dict[str, dict[str, Any]]:
    """Per point: accuracy on right and wrong labelled answers, and the misjudged ones."""
    data = load_yaml(path)["points"]
    results: dict[str, dict[str, Any]] = {}
    for point_id, sets in data.items():
        missed = [text for text in sets["right"] if not judge_text(point_id, text)]
        passed = [text for text in sets["wrong"] if judge_text(point_id, text)]
        total = len(sets["right"]) + len(sets["wrong"])
        results[point_id] = {
            "right": len(sets["right"]),
            "wrong": len(sets["wrong"]),
            "accuracy": 1 - (len(missed) + len(passed)) / total,
            "right_judged_wrong": missed,
            "wrong_judged_right": passed,
        }
    return results
