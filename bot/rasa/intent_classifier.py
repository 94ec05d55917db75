"""The intent classifier: Rasa's logistic regression on tf-idf weighted features.

Rasa's ``LogisticRegressionClassifier`` reads raw counts with a strong penalty (C = 1), so a
long message is judged by how many words it has: a worried preamble ("my husband is so
excited this will finally cure his spasms") outvotes the short question after it ("how long
will he be in there?"). Weighting each feature by how rare it is in the training data (idf),
damping repeats (sublinear tf), scaling every message to the same length (l2) and a weak
penalty let the few words that name a topic decide. Measured on the topic questions of
independent writers (README, "Tests and measured quality").

Everything else (training matrix, ranking, the regression's persistence with skops) is Rasa's.
The weights are kept beside it as a plain array: skops does not trust the sparse matrix that
scikit-learn keeps them in, and Rasa's loader would then quietly return an untrained classifier.
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

WEIGHTS_FILE = "idf.npy"


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
        self.weights: TfidfTransformer | None = None  # fitted by ``train`` or read by ``load``

    def _create_X(self, messages: list[Message]) -> scipy.sparse.csr_matrix:
        counts = super()._create_X(messages)
        return counts if self.weights is None else self.weights.transform(counts)

    def train(self, training_data: TrainingData) -> Resource:
        """Fit the weights on the training counts, then the regression on the weighted features."""
        self.weights = None
        counts, intents = self._create_training_matrix(training_data)
        if counts.shape[0] == 0:
            return super().train(training_data)  # Rasa's message, nothing trained
        self.weights = TfidfTransformer(sublinear_tf=bool(self.config["sublinear_tf"])).fit(counts)
        self.clf.fit(self.weights.transform(counts), intents)
        self.persist()
        return self._resource

    def persist(self) -> None:
        """The regression as Rasa keeps it, and the weights beside it."""
        super().persist()
        if self.weights is not None:
            with self._model_storage.write_to(self._resource) as model_dir:
                np.save(model_dir / WEIGHTS_FILE, self.weights.idf_)

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
            idf = np.load(path, allow_pickle=False)
        weights = TfidfTransformer(sublinear_tf=bool(component.config["sublinear_tf"]))
        weights.idf_ = idf
        weights.n_features_in_ = len(idf)
        component.weights = weights
        return component
