"""The intent classifier: Rasa's logistic regression on tf-idf weighted features.

Rasa's ``LogisticRegressionClassifier`` reads raw counts with a strong penalty (C = 1), so a
long message is judged by how many words it has: a worried preamble ("my husband is so
excited this will finally cure his spasms") outvotes the short question after it ("how long
will he be in there?"). Weighting each feature by how rare it is in the training data (idf),
damping repeats (sublinear tf), scaling every message to the same length (l2) and a weak
penalty let the few words that name a topic decide. Measured on the topic questions of
independent writers (README, "Tests and measured quality").

Everything else (training matrix, ranking, the regression's persistence with skops) is Rasa's.
scikit-learn's ``TfidfTransformer`` fits the weights; they are kept beside the regression as a plain
array (skops does not trust the sparse matrix that scikit-learn keeps them in, and Rasa's loader would
then quietly return an untrained classifier) and applied by ``tf_idf``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.preprocessing import normalize

WEIGHTS_FILE = "idf.npy"


def tf_idf(counts: scipy.sparse.spmatrix, idf: np.ndarray, sublinear_tf: bool) -> scipy.sparse.csr_matrix:
    """What ``TfidfTransformer.transform`` gives (l2 norm), in time that grows with a message's words only.

    scikit-learn multiplies by a diagonal matrix as wide as the vocabulary, which costs a pass over every
    feature for each message (about 2 ms a message once the asking sentences' words joined the features).
    """
    weighted = scipy.sparse.csr_matrix(counts, dtype=np.float64, copy=True)
    if sublinear_tf:
        np.log(weighted.data, out=weighted.data)
        weighted.data += 1
    weighted.data *= idf[weighted.indices]
    return normalize(weighted, norm="l2", copy=False)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class TfIdfLogisticRegressionClassifier(LogisticRegressionClassifier):
    """``LogisticRegressionClassifier`` on tf-idf weighted features, with a configurable penalty ``C``."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Rasa's defaults, plus the penalty (its inverse strength) and the damping of repeats."""
        return {**LogisticRegressionClassifier.get_default_config(), "C": 1.0, "sublinear_tf": True}

    def __init__(self, config: dict[str, Any], name: str, model_storage: ModelStorage, resource: Resource) -> None:
        super().__init__(config, name, model_storage, resource)
        self.clf.set_params(C=float(self.config["C"]))
        self.idf: np.ndarray | None = None  # fitted by ``train`` or read by ``load``

    def _create_X(self, messages: list[Message]) -> scipy.sparse.csr_matrix:
        counts = super()._create_X(messages)
        return counts if self.idf is None else tf_idf(counts, self.idf, bool(self.config["sublinear_tf"]))

    def train(self, training_data: TrainingData) -> Resource:
        """Fit the weights on the training counts, then the regression on the weighted features."""
        self.idf = None
        counts, intents = self._create_training_matrix(training_data)
        if counts.shape[0] == 0:
            return super().train(training_data)  # Rasa's message, nothing trained
        self.idf = TfidfTransformer().fit(counts).idf_
        self.clf.fit(tf_idf(counts, self.idf, bool(self.config["sublinear_tf"])), intents)
        self.persist()
        return self._resource

    def persist(self) -> None:
        """The regression as Rasa keeps it, and the weights beside it."""
        super().persist()
        if self.idf is not None:
            with self._model_storage.write_to(self._resource) as model_dir:
                np.save(model_dir / WEIGHTS_FILE, self.idf)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> TfIdfLogisticRegressionClassifier:
        """Rasa's loader, then the weights; a trained regression without its weights is refused."""
        component: TfIdfLogisticRegressionClassifier = super().load(
            config, model_storage, resource, execution_context, **kwargs
        )
        if not hasattr(component.clf, "coef_"):
            return component  # nothing was trained (Rasa logged why)
        with model_storage.read_from(resource) as model_dir:
            path = model_dir / WEIGHTS_FILE
            if not path.exists():
                raise ValueError(f"the intent classifier's weights ({WEIGHTS_FILE}) are missing: retrain the model")
            component.idf = np.load(path, allow_pickle=False)
        return component
