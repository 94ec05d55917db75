"""Speed-up ``classifier``: the intent classifier without a copy of its coefficients per message.

``LogisticRegressionClassifier``: scikit-learn multiplies the features by the transposed
coefficients, which scipy copied into a new array (MBs) for every message. The
coefficients are stored column-major once, so the transpose needs no copy. And it asked
each message for its word-level and sentence-level features, each combined from four
featurizers, to use only the sentence-level ones: now only those are combined.

Importing this module changes nothing in Rasa: ``bot.rasa.speedups.install()`` applies ``PATCHES``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

_load_classifier: Callable[..., Any] = LogisticRegressionClassifier.load.__func__  # type: ignore[attr-defined]


def create_x(self: LogisticRegressionClassifier, messages: list[Message]) -> scipy.sparse.csr_matrix:
    """``LogisticRegressionClassifier._create_X``, combining only the sentence features it uses."""
    rows = []
    for message in messages:
        _, sentence = message._filter_sparse_features(TEXT, [])
        sparse = message._combine_features(sentence, [])
        dense = message.get_dense_features(attribute=TEXT)[1]
        rows.append(
            scipy.sparse.hstack(
                [
                    scipy.sparse.csr_matrix(sparse.features if sparse else []),
                    scipy.sparse.csr_matrix(dense.features if dense else []),
                ]
            )
        )
    return scipy.sparse.vstack(rows)


def load_classifier(cls: Any, *args: Any, **kwargs: Any) -> Any:
    """``LogisticRegressionClassifier.load``, with the coefficients column-major (same numbers)."""
    component = _load_classifier(cls, *args, **kwargs)
    classifier = getattr(component, "clf", None)
    if classifier is not None and hasattr(classifier, "coef_"):
        classifier.coef_ = np.asfortranarray(classifier.coef_)
    return component


PATCHES: list[tuple[Any, str, Any]] = [
    (LogisticRegressionClassifier, "load", classmethod(load_classifier)),
    (LogisticRegressionClassifier, "_create_X", create_x),
]
# Every Rasa name the code above relies on. ``clf`` is an instance attribute (assigned in the constructor).
RASA_NAMES: list[tuple[Any, str]] = [
    (LogisticRegressionClassifier, "load"),
    (LogisticRegressionClassifier, "_create_X"),
    (LogisticRegressionClassifier, "clf"),
    (Message, "_filter_sparse_features"),
    (Message, "_combine_features"),
    (Message, "get_dense_features"),
]
