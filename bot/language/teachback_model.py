"""The teach-back judge's learned layer: per understanding point, is a free-text answer right?

The concept rules of ``content/teachback.yml`` scored 62-92% on answers written by people
who never saw them: they cannot tell "it blocks the signals" from "it blocks my spine from
moving", or a right answer from one that is right and then adds a wrong claim. This layer
learns each point from answers labelled right or wrong by independent writers
(``data/teachback/train/``: plain, partial, negated and informal right answers;
misconceptions, negated, wrong-meaning, partly wrong and off-the-point wrong ones).
A point the clinic adds in the content alone, with no training answers, is judged by its
concepts until answers for it are written (``bot.language.teachback``).
Nothing here imports Rasa.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from bot.content.files import load_yaml
from bot.language import classifier
from bot.settings import PROJECT_ROOT

TRAIN_DIR = PROJECT_ROOT / "data" / "teachback" / "train"
MODEL_FILE = PROJECT_ROOT / "build" / "teachback" / "classifier.joblib"
LANGUAGES_KEY = "languages"  # the meta entry: the languages of the answers the heads learned from
RIGHT_AT = 0.5  # the probability from which an answer is right; by-fold figures are printed when training


@dataclass(frozen=True)
class LabelledAnswer:
    """One writer's answer to a point, labelled right or wrong, with its kind (for reports)."""

    point: str
    text: str
    right: bool
    kind: str = ""
    language: str = "en"  # the file's `language` (Spanish answers: es)


def read_answers(paths: Iterable[Path]) -> list[LabelledAnswer]:
    """Answers from writers' files: ``point`` and ``answers: [{text, label: right|wrong, kind}]``
    (an answer may name its own ``point`` in a file that covers several)."""
    answers = []
    for path in paths:
        data = load_yaml(path)
        for item in data["answers"]:
            label = str(item["label"])
            if label not in ("right", "wrong"):
                raise ValueError(f"{path}: label must be right or wrong, not {label!r}")
            point = str(item.get("point") or data["point"])
            language = str(data.get("language") or "en")
            answers.append(
                LabelledAnswer(point, str(item["text"]), label == "right", str(item.get("kind") or ""), language)
            )
    return answers


def training_files(train_dir: Path = TRAIN_DIR) -> list[Path]:
    """Every file the trained judge depends on: the writers' answers and the code that learns from them."""
    return [*sorted(train_dir.glob("*.yml")), Path(__file__), Path(classifier.__file__)]


class TeachbackModel:
    """One classifier per point (features and a logistic regression), trained on that point's answers."""

    def __init__(self, heads: dict[str, Any], meta: dict[str, Any] | None = None) -> None:
        self.heads = heads
        self.meta = meta or {}

    def knows(self, point_id: str, language: str = "en") -> bool:
        """Whether a head was trained for the point on answers in ``language``: a Spanish answer is never
        judged by heads that learned English alone (they judged 0-30% of right Spanish answers right)."""
        return point_id in self.heads and language in self.meta.get(LANGUAGES_KEY, ("en",))

    def probability(self, point_id: str, text: str) -> float:
        """The probability that ``text`` is a right answer for ``point_id`` (a point it was trained on)."""
        return float(self.heads[point_id].predict_proba([text])[0][1])

    def understood(self, point_id: str, text: str) -> bool:
        return self.probability(point_id, text) >= RIGHT_AT


def _fit(answers: Sequence[LabelledAnswer]) -> Any:
    from sklearn.pipeline import make_pipeline

    return make_pipeline(classifier.make_features(classifier.CLAIM_NEGATIONS), classifier.logistic()).fit(
        [a.text for a in answers], [a.right for a in answers]
    )


def by_point(answers: Iterable[LabelledAnswer]) -> dict[str, list[LabelledAnswer]]:
    grouped: dict[str, list[LabelledAnswer]] = {}
    for answer in answers:
        grouped.setdefault(answer.point, []).append(answer)
    return grouped


def train(answers: Sequence[LabelledAnswer], meta: dict[str, Any] | None = None) -> TeachbackModel:
    """One head per point on its answers in every language; the languages learned are kept with the model."""
    learned = {LANGUAGES_KEY: sorted({answer.language for answer in answers})}
    return TeachbackModel(
        {point: _fit(items) for point, items in by_point(answers).items()}, {**(meta or {}), **learned}
    )


def cross_validated(answers: Sequence[LabelledAnswer], folds: int = 5) -> dict[str, tuple[float, float]]:
    """Per point, the share of right and of wrong answers judged so by a model that did not see them."""
    from sklearn.model_selection import StratifiedKFold

    figures = {}
    for point, items in by_point(answers).items():
        labels = [a.right for a in items]
        judged = [False] * len(items)
        for train_index, test_index in StratifiedKFold(folds, shuffle=True, random_state=7).split(labels, labels):
            head = _fit([items[i] for i in train_index])
            scores = head.predict_proba([items[i].text for i in test_index])[:, 1]
            for i, score in zip(test_index, scores, strict=True):
                judged[i] = bool(score >= RIGHT_AT)
        right = [j for j, a in zip(judged, items, strict=True) if a.right]
        wrong = [not j for j, a in zip(judged, items, strict=True) if not a.right]
        figures[point] = (sum(right) / max(len(right), 1), sum(wrong) / max(len(wrong), 1))
    return figures


def save(model: TeachbackModel, path: Path = MODEL_FILE) -> Path:
    return classifier.save({"heads": model.heads}, model.meta, path)


@lru_cache(maxsize=2)
def load(path: Path = MODEL_FILE) -> TeachbackModel:
    """The trained judge (built by ``python -m bot teachback train``; ``make model`` does it)."""
    stored = classifier.load(path, "python -m bot teachback train")
    return TeachbackModel(stored["heads"], stored["meta"])


def is_current(path: Path = MODEL_FILE, train_dir: Path = TRAIN_DIR) -> bool:
    return classifier.is_current(path, training_files(train_dir))
