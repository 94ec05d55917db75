"""What the learned layers share (the safety net's, the teach-back judge's): text features, a classifier, a data digest.

Character n-grams carry typos, texting and Spanish; word n-grams with negations marked carry
phrases and what is denied. A logistic regression over them is small, fast (well under a
millisecond a message) and gives probabilities a decision can be biased on.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any


def data_digest(paths: Sequence[Path]) -> str:
    """Hash of the training files: the trained file is rebuilt when they change."""
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


# Words that negate what follows ("no chest pain", "not having any trouble breathing"), English and
# Spanish. "can't", "won't" are left out on purpose: "can't breathe" is the emergency itself.
NEGATIONS = frozenset(
    [
        "no",
        "not",
        "never",
        "dont",
        "don't",
        "didnt",
        "didn't",
        "isnt",
        "isn't",
        "hasnt",
        "hasn't",
        "havent",
        "haven't",
        "doesnt",
        "doesn't",
        "wasnt",
        "wasn't",
        "arent",
        "aren't",
        "nothing",
        "none",
        "zero",
        "nope",
        "without",
        "nunca",
        "ni",
        "tampoco",
        "nada",
    ]
)
# The teach-back judge reads claims, not symptoms: there "it won't wear off" and "it can't be undone"
# deny what follows (held-out teach-back answers: 0.4-1.7 points better on nine of the ten point-sides,
# 0.4 worse on right answers about the rare problem).
CLAIM_NEGATIONS = NEGATIONS | frozenset(
    [
        "won't",
        "wont",
        "can't",
        "cant",
        "cannot",
        "couldn't",
        "couldnt",
        "wouldn't",
        "wouldnt",
        "shouldn't",
        "shouldnt",
        "aren't",
        "ain't",
        "aint",
    ]
)
NEGATION_SCOPE = 4  # words after a negation that it covers, unless a clause ends first
_CLAUSE_ENDS = frozenset({".", ",", ";", "!", "?", "but", "pero"})
_TOKENS = re.compile(r"\w+(?:'\w+)?|[.,;!?]")


def mark_negation(text: str, negations: frozenset[str] = NEGATIONS) -> str:
    """The text lower-cased, accents folded, with each word in a negation's scope written ``neg_<word>``.

    A bag of words cannot tell "no chest pain" from "chest pain"; marked, "neg_chest neg_pain"
    are other words, learned from the look-alikes that deny symptoms (by-writer cross-validation:
    recall at 3% false alarms 0.675 -> 0.707).
    """
    from sklearn.feature_extraction.text import strip_accents_unicode

    words, scope = [], 0
    for token in _TOKENS.findall(strip_accents_unicode(text.lower())):
        if token in _CLAUSE_ENDS:
            scope = 0
        elif token in negations:
            scope = NEGATION_SCOPE
        elif scope:
            token, scope = f"neg_{token}", scope - 1
        words.append(token)
    return " ".join(words)


def make_features(negations: frozenset[str] = NEGATIONS) -> Any:
    """Character (2-5, within words) and word (1-2) TF-IDF features, accents folded (Spanish typed without them).

    The words are read with the ``negations`` marked (``mark_negation``).
    """
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    common = {"sublinear_tf": True, "strip_accents": "unicode", "lowercase": True}
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, **common)
    words = TfidfVectorizer(
        analyzer="word",
        ngram_range=(1, 2),
        min_df=1,
        token_pattern=r"(?u)\b\w+\b",
        # Lower-cases and folds accents itself. With the default negations the function itself, not a
        # partial: the safety net's trained files refer to `mark_negation` by name (bot/language/safety_model.py).
        preprocessor=mark_negation if negations is NEGATIONS else partial(mark_negation, negations=negations),
        sublinear_tf=True,
    )
    return FeatureUnion([("chars", chars), ("words", words)])


def logistic(**options: Any) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=8.0, max_iter=2000, random_state=7, **options)


def save(stored: dict[str, Any], meta: dict[str, Any], path: Path) -> Path:
    """Write a trained layer (``stored`` with its ``meta``), and the meta beside it as JSON for ``is_current``."""
    import joblib

    path.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump({**stored, "meta": meta}, path)
    path.with_suffix(".json").write_text(json.dumps(meta, indent=2, sort_keys=True))
    return path


def load(path: Path, command: str) -> dict[str, Any]:
    """A trained layer as saved; a clear error naming the ``command`` that builds it when it is missing."""
    import joblib

    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run `make model` ({command})")
    return dict(joblib.load(path))  # our own build output, never a downloaded file


def is_current(path: Path, files: Sequence[Path]) -> bool:
    """Whether the trained file at ``path`` was built from exactly these ``files``."""
    meta = path.with_suffix(".json")
    if not path.exists() or not meta.exists():
        return False
    return bool(json.loads(meta.read_text()).get("data_sha256") == data_digest(files))
