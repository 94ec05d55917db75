"""The learned layer of the safety net: a text classifier that generalises past the written rules.

The rules (``bot.language.red_flags``) are reviewable and deterministic but only know the
phrases written down; measured on messages by people who never saw them they caught under
half of the emergencies. This layer learns from a large, varied labelled set
(``data/safety/train/``: emergencies per category in first person, caregivers' words, texting
style and Spanish, and look-alikes: negations, past events, fears, risk questions, dosing
questions, ordinary chat) and gives each message a probability of being an emergency now.

Character n-grams carry typos, texting and Spanish; word n-grams carry phrases. A logistic
regression over categories plus ``none`` keeps it small and fast (well under a millisecond a
message) and its probabilities usable for a safety-biased decision: ``EMERGENCY`` at or above
``emergency_at``, ``POSSIBLE`` (ask, with conditional advice) at or above ``possible_at``.
Nothing here imports Rasa; the NLU component loads the trained file.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from bot.content.files import load_yaml
from bot.content.red_flags import RED_FLAGS_FILE
from bot.language import classifier, matching, red_flags, teachback_model
from bot.language.classifier import data_digest, logistic, make_features, mark_negation

__all__ = ["data_digest", "make_features", "mark_negation"]  # mark_negation: trained files refer to it here
from bot.settings import PROJECT_ROOT

TRAIN_DIR = PROJECT_ROOT / "data" / "safety" / "train"
MODEL_FILE = PROJECT_ROOT / "build" / "safety" / "classifier.joblib"
NONE = "none"
SELF_HARM = "self_harm"
EMERGENCY = "emergency"
POSSIBLE = "possible"
# Chosen on the training set by cross-validation (never on the held-out or fresh sets): see ``choose_thresholds``.
DEFAULT_EMERGENCY_AT = 0.5
DEFAULT_POSSIBLE_AT = 0.25


@dataclass(frozen=True)
class Example:
    """One labelled message: ``category`` is an emergency category or ``none``."""

    text: str
    category: str
    lang: str = "en"
    kind: str = ""  # for look-alikes: negation, past, fear, ... (reports only)
    source: str = ""


@dataclass(frozen=True)
class Judgement:
    """What the layer thinks of a message: the probability of an emergency now, and of which kind."""

    emergency: float
    category: str
    self_harm: float
    verdict: str | None  # EMERGENCY, POSSIBLE or None
    doubts_rules: bool = False  # lower than on 99% of the real emergencies the rules caught in training (choose_doubt)


def read_examples(paths: Iterable[Path]) -> list[Example]:
    """Labelled messages from the writers' files (``messages`` with text, label, category, lang, self_harm)."""
    examples = []
    for path in sorted(paths):
        data = load_yaml(path) or {}
        for item in data.get("messages") or []:
            emergency = item["label"] == "emergency"
            category = str(item["category"]) if emergency else NONE
            if emergency and item.get("self_harm"):
                category = SELF_HARM
            examples.append(
                Example(
                    str(item["text"]),
                    category,
                    str(item.get("lang") or "en"),
                    "" if emergency else str(item["category"]),
                    str(data.get("writer") or path.stem),
                )
            )
    return examples


NLU_DIR = PROJECT_ROOT / "data" / "nlu"
TEACHBACK_ANSWERS_DIR = teachback_model.TRAIN_DIR
# Ordinary messages, not written as look-alikes: the false-alarm budgets are spent on the look-alikes alone.
ASSISTANT_SOURCES = frozenset(
    [
        *(path.relative_to(NLU_DIR).as_posix() for path in NLU_DIR.rglob("*.yml")),
        *(path.name for path in TEACHBACK_ANSWERS_DIR.glob("*.yml")),
    ]
)
EMERGENCY_INTENT = "emergency"
# Intents of turns the assistant runs itself (a reminder's "/EXTERNAL_recheck", read by its "/" prefix,
# never by a classifier): their one example is a payload, not something a patient writes.
EXTERNAL_PREFIX = "EXTERNAL_"


def assistant_examples(nlu_dir: Path = NLU_DIR) -> list[Example]:
    """The assistant's own training messages of every intent but ``emergency``, as non-emergencies.

    What patients ordinarily say ("i want to go ahead", "goodbye", "how long is it") must
    never read as an emergency; the writers' look-alikes alone do not cover it.
    """

    examples = []
    for path in sorted(nlu_dir.rglob("*.yml")):  # data/nlu/es/ holds the Spanish examples
        language = "es" if path.parent.name == "es" else "en"
        for block in (load_yaml(path) or {}).get("nlu") or []:
            intent = str(block.get("intent") or "")
            if not intent or intent == EMERGENCY_INTENT or intent.startswith(EXTERNAL_PREFIX):
                continue
            for line in str(block.get("examples") or "").splitlines():
                text = (
                    re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", line.strip()[2:]) if line.strip().startswith("- ") else ""
                )
                if text:
                    examples.append(Example(text, NONE, language, intent, path.relative_to(nlu_dir).as_posix()))
    return examples


def teachback_examples(answers_dir: Path = TEACHBACK_ANSWERS_DIR) -> list[Example]:
    """The teach-back judge's training answers, right and wrong, as non-emergencies.

    Patients explaining the risks they were told about ("if the spot gets red and hot, or a
    fever") are answering a question, not reporting an emergency; before these were learned,
    one answer in eight of the held-out teach-back sets was given emergency advice.
    """
    paths = sorted(answers_dir.glob("*.yml"))
    return [
        Example(answer.text, NONE, answer.language, "teachback", path.name)
        for path in paths
        for answer in teachback_model.read_answers([path])
    ]


def training_files(
    train_dir: Path = TRAIN_DIR, nlu_dir: Path = NLU_DIR, answers_dir: Path = TEACHBACK_ANSWERS_DIR
) -> list[Path]:
    """Every file the trained layer depends on: the writers' labelled sets, the assistant's NLU data and
    teach-back answers, the red-flag rules and the code that reads them (the layer doubts them only below
    what they caught in training), and this module (its features and how it chooses thresholds)."""
    code = [Path(__file__), Path(classifier.__file__), Path(red_flags.__file__), Path(matching.__file__)]
    ordinary = sorted(nlu_dir.rglob("*.yml")) + sorted(answers_dir.glob("*.yml"))
    return sorted(train_dir.glob("*.yml")) + ordinary + [RED_FLAGS_FILE, *code]


def training_examples(train_dir: Path = TRAIN_DIR, nlu_dir: Path = NLU_DIR) -> list[Example]:
    return read_examples(sorted(train_dir.glob("*.yml"))) + assistant_examples(nlu_dir) + teachback_examples()


class SafetyModel:
    """Shared features and three heads: emergency or not, which category, self-harm or not.

    The emergency head is binary and unweighted, so a message with little in it (``y``, ``ok``)
    falls back to how rare emergencies are, not to the sum of twenty category priors.
    """

    def __init__(
        self,
        features: Any,
        emergency: Any,
        category: Any,
        self_harm: Any,
        emergency_at: float = DEFAULT_EMERGENCY_AT,
        possible_at: float = DEFAULT_POSSIBLE_AT,
        meta: dict[str, Any] | None = None,
        doubt_below: float = 0.0,
    ) -> None:
        self.features = features
        self.emergency = emergency
        self.category = category
        self.self_harm = self_harm
        self.emergency_at = emergency_at
        self.possible_at = possible_at
        self.doubt_below = doubt_below
        self.meta = meta or {}
        # The three heads as one weight matrix per vectorizer (columns: emergency, self-harm, categories)
        # and each vectorizer's own analyzer, vocabulary and idf, so a message costs a few dictionary
        # look-ups and one small product instead of scikit-learn's checks, sparse stacking and three
        # predictions (1.3 ms a message on the hot path). The numbers are the same: TF-IDF with
        # sublinear tf and l2 norm as fitted, then each head's decision function
        # (tests/language/test_safety_model.py compares them with scikit-learn's).
        import numpy as np

        weights = np.hstack([emergency.coef_.T, self_harm.coef_.T, category.coef_.T])
        self._bias = np.concatenate([emergency.intercept_, self_harm.intercept_, category.intercept_])
        self._categories = category.classes_
        self._vectorizers = []
        offset = 0
        for _, vectorizer in features.transformer_list:
            size = len(vectorizer.vocabulary_)
            self._vectorizers.append(
                (vectorizer.build_analyzer(), vectorizer.vocabulary_, vectorizer.idf_, weights[offset : offset + size])
            )
            offset += size

    def _decisions(self, texts: Sequence[str]) -> Any:
        """Each head's decision function per text (rows: texts; columns: emergency, self-harm, categories)."""
        import numpy as np

        rows = []
        for text in texts:
            total = self._bias.copy()
            for analyze, vocabulary, idf, weights in self._vectorizers:
                counts = Counter(index for gram in analyze(text) if (index := vocabulary.get(gram)) is not None)
                if not counts:
                    continue
                indices = np.fromiter(counts.keys(), dtype=np.intp, count=len(counts))
                values = (1.0 + np.log(np.fromiter(counts.values(), dtype=float, count=len(counts)))) * idf[indices]
                values /= np.sqrt(values @ values)
                total += values @ weights[indices]
            rows.append(total)
        return np.vstack(rows) if rows else np.empty((0, len(self._bias)))

    def scores(self, texts: Sequence[str]) -> list[float]:
        """The probability of an emergency now, per text."""
        from scipy.special import expit

        return [float(p) for p in expit(self._decisions(texts)[:, 0])]

    def judge_many(self, texts: Sequence[str]) -> list[Judgement]:
        from scipy.special import expit

        decisions = self._decisions(texts)
        emergency = expit(decisions[:, 0])
        self_harm = expit(decisions[:, 1])
        categories = self._categories[decisions[:, 2:].argmax(axis=1)]
        judgements = []
        for score, harm, category in zip(emergency, self_harm, categories, strict=True):
            verdict = EMERGENCY if score >= self.emergency_at else POSSIBLE if score >= self.possible_at else None
            judgements.append(
                Judgement(float(score), str(category), float(harm), verdict, bool(score < self.doubt_below))
            )
        return judgements

    def judge(self, text: str) -> Judgement:
        return self.judge_many([text])[0]


def train(
    examples: Sequence[Example],
    emergency_at: float = DEFAULT_EMERGENCY_AT,
    possible_at: float = DEFAULT_POSSIBLE_AT,
    meta: dict[str, Any] | None = None,
    doubt_below: float = 0.0,
) -> SafetyModel:
    features = make_features()
    matrix = features.fit_transform([e.text for e in examples])
    is_emergency = [e.category != NONE for e in examples]
    emergency = logistic().fit(matrix, is_emergency)
    rows = [i for i, flag in enumerate(is_emergency) if flag]
    category = logistic(class_weight="balanced").fit(matrix[rows], [examples[i].category for i in rows])
    self_harm = logistic().fit(matrix, [e.category == SELF_HARM for e in examples])
    return SafetyModel(features, emergency, category, self_harm, emergency_at, possible_at, meta, doubt_below)


def with_thresholds(
    model: SafetyModel, emergency_at: float, possible_at: float, doubt_below: float, meta: dict[str, Any]
) -> SafetyModel:
    """The same trained heads with the thresholds chosen on the cross-validated scores."""
    return SafetyModel(
        model.features, model.emergency, model.category, model.self_harm, emergency_at, possible_at, meta, doubt_below
    )


def save(model: SafetyModel, path: Path = MODEL_FILE) -> Path:
    heads = {"features": model.features, "emergency": model.emergency, "category": model.category}
    thresholds = {
        "emergency_at": model.emergency_at,
        "possible_at": model.possible_at,
        "doubt_below": model.doubt_below,
    }
    return classifier.save({**heads, "self_harm": model.self_harm, **thresholds}, model.meta, path)


@lru_cache(maxsize=2)
def load(path: Path = MODEL_FILE) -> SafetyModel:
    """The trained layer (built by ``python -m bot safety train``; ``make model`` does it)."""
    stored = classifier.load(path, "python -m bot safety train")
    return SafetyModel(
        stored["features"],
        stored["emergency"],
        stored["category"],
        stored["self_harm"],
        stored["emergency_at"],
        stored["possible_at"],
        stored["meta"],
        stored.get("doubt_below", 0.0),
    )


def is_current(path: Path = MODEL_FILE, train_dir: Path = TRAIN_DIR) -> bool:
    return classifier.is_current(path, training_files(train_dir))


def _fold_scores(examples: Sequence[Example], train_index: Sequence[int], test_index: Sequence[int]) -> list[float]:
    model = train([examples[i] for i in train_index])
    return model.scores([examples[i].text for i in test_index])


def cross_validated(examples: Sequence[Example], folds: int = 5) -> list[float]:
    """Each example's emergency probability from a model that did not see it (stratified folds)."""
    return _fit(examples, folds, final=False)[1]


def train_cross_validated(examples: Sequence[Example], folds: int = 5) -> tuple[SafetyModel, list[float]]:
    """The layer trained on every example, and each example's cross-validated score (to choose its thresholds).

    The final fit does not need the scores, so it trains beside the folds: five folds and it fill two
    cores in three rounds, where after the folds it took a fourth. Set the thresholds with ``with_thresholds``.
    """
    model, scores = _fit(examples, folds, final=True)
    assert model is not None
    return model, scores


def _fit(examples: Sequence[Example], folds: int, final: bool) -> tuple[SafetyModel | None, list[float]]:
    """The folds (and with ``final`` the model on every example) at once, one per core (joblib's processes).

    One after another they were 10 of ``make test``'s minutes on a fresh CI machine. Each fit is
    seeded, so neither the scores nor the model depend on the order.
    """
    from joblib import Parallel, delayed
    from sklearn.model_selection import StratifiedKFold

    labels = [e.category for e in examples]
    splits = list(StratifiedKFold(n_splits=folds, shuffle=True, random_state=7).split(labels, labels))
    jobs = [delayed(_fold_scores)(examples, train_index, test_index) for train_index, test_index in splits]
    if final:
        jobs.append(delayed(train)(examples))
    done = Parallel(n_jobs=min(len(jobs), os.cpu_count() or 1))(jobs)
    scores = [0.0] * len(examples)
    for (_, test_index), fold_scores in zip(splits, done[:folds], strict=True):
        for i, score in zip(test_index, fold_scores, strict=True):
            scores[i] = score
    return (done[folds] if final else None), scores


def choose_doubt(
    examples: Sequence[Example], scores: Sequence[float], caught: Sequence[bool], keep: float = 0.99
) -> float:
    """The score below which the learned layer doubts a red-flag rule's hit (likely a false alarm of the rules).

    Chosen on the training set only: the cross-validated score above which ``keep`` of the real
    emergencies that the rules caught lie (``caught``: whether the rules flagged each example).
    A doubted hit still gets the conditional advice ("if this is happening now and it is severe,
    call 911"), so the few true hits below it are advised, not missed; the rules' false alarms on
    fears, hypotheticals and idioms, which the layer scores lowest, are not told to call 911.
    """
    hits = sorted(s for s, e, flagged in zip(scores, examples, caught, strict=True) if flagged and e.category != NONE)
    return round(hits[int((1 - keep) * len(hits))], 4) if hits else 0.0


def choose_thresholds(
    examples: Sequence[Example],
    scores: Sequence[float],
    emergency_false_alarms: float = 0.03,
    possible_false_alarms: float = 0.10,
) -> tuple[float, float]:
    """Thresholds from cross-validated scores on the training set only (never on an evaluation set).

    The budgets are spent on the writers' look-alikes only (negations, past events, fears, risk
    questions...), the hard cases; the assistant's ordinary messages would make any threshold look safe.
    ``emergency_at``: the lowest threshold at which at most ``emergency_false_alarms`` of the
    look-alikes would be told to call 911; ``possible_at``: the lowest at which at most
    ``possible_false_alarms`` of them would get any advice (911 or conditional).
    """
    negatives = sorted(
        (s for s, e in zip(scores, examples, strict=True) if e.category == NONE and e.source not in ASSISTANT_SOURCES),
        reverse=True,
    )

    def threshold(budget: float) -> float:
        allowed = int(budget * len(negatives))
        return negatives[allowed] + 1e-4 if allowed < len(negatives) else 0.0

    emergency_at = min(max(threshold(emergency_false_alarms), 0.2), 0.95)
    possible_at = min(max(threshold(possible_false_alarms), 0.1), emergency_at)
    return round(emergency_at, 4), round(possible_at, 4)
