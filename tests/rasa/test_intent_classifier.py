"""The intent classifier on tf-idf weighted features: trained, kept and loaded as Rasa keeps its own."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse
import scipy.sparse.linalg
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.feature_extraction.text import TfidfTransformer

from bot.rasa.intent_classifier import WEIGHTS_FILE, TfIdfLogisticRegressionClassifier, tf_idf

# Four features: 0 and 1 name a topic each; 2 is a word every message has ("the"); 3 a word of preambles.
EXAMPLES = [
    ("ask_duration", [1, 0, 1, 0]),
    ("ask_duration", [2, 0, 1, 0]),
    ("ask_duration", [1, 0, 2, 1]),
    ("ask_cure", [0, 1, 1, 0]),
    ("ask_cure", [0, 2, 1, 1]),
    ("ask_cure", [0, 1, 2, 3]),
]


def message(counts: list[int], intent: str | None = None) -> Message:
    data = {TEXT: "x", "intent": intent} if intent else {TEXT: "x"}
    found = Message(data=data)
    features = scipy.sparse.coo_matrix(np.array([counts], dtype=float))
    found.add_features(Features(features, FEATURE_TYPE_SENTENCE, TEXT, "CountVectorsFeaturizer"))
    return found


@pytest.fixture
def storage(tmp_path: Path) -> LocalModelStorage:
    return LocalModelStorage(tmp_path)


def trained(storage: LocalModelStorage) -> TfIdfLogisticRegressionClassifier:
    config = {**TfIdfLogisticRegressionClassifier.get_default_config(), "C": 100.0}
    component = TfIdfLogisticRegressionClassifier(config, "classifier", storage, Resource("classifier"))
    component.train(TrainingData([message(counts, intent) for intent, counts in EXAMPLES]))
    return component


def load(storage: LocalModelStorage) -> TfIdfLogisticRegressionClassifier:
    context = ExecutionContext(GraphSchema({}), node_name="classifier")
    config = {**TfIdfLogisticRegressionClassifier.get_default_config(), "C": 100.0}
    return TfIdfLogisticRegressionClassifier.load(config, storage, Resource("classifier"), context)


def test_the_penalty_is_the_configured_one(storage: LocalModelStorage) -> None:
    assert trained(storage).clf.get_params()["C"] == 100.0


def test_every_message_is_weighed_to_the_same_length(storage: LocalModelStorage) -> None:
    component = trained(storage)
    weighted = component._create_X([message([1, 0, 1, 0]), message([3, 0, 9, 7])])
    np.testing.assert_allclose(scipy.sparse.linalg.norm(weighted, axis=1), [1.0, 1.0])
    counts = LogisticRegressionClassifier._create_X(component, [message([1, 0, 1, 0])])
    assert counts.toarray().tolist() == [[1.0, 0.0, 1.0, 0.0]], "Rasa's counts are unchanged underneath"


def test_a_word_every_message_has_weighs_less_than_a_topic_word(storage: LocalModelStorage) -> None:
    component = trained(storage)
    assert component.idf is not None
    topic, common = component.idf[0], component.idf[2]
    assert topic > common


@pytest.mark.parametrize("sublinear_tf", [True, False])
def test_the_weighting_is_scikit_learns(sublinear_tf: bool) -> None:
    dense = np.ceil(scipy.sparse.random(40, 300, density=0.05, random_state=3).toarray() * 4)
    dense[5] = 0  # a message with no known word stays all zero
    counts = scipy.sparse.csr_matrix(dense)
    reference = TfidfTransformer(sublinear_tf=sublinear_tf).fit(counts)
    weighted = tf_idf(counts, reference.idf_, sublinear_tf)
    np.testing.assert_allclose(weighted.toarray(), reference.transform(counts).toarray())
    assert counts.max() > 1 and weighted.max() <= 1, "the counts are left as they were"


def test_a_long_preamble_does_not_outweigh_the_topic_word(storage: LocalModelStorage) -> None:
    component = trained(storage)
    [parsed] = component.process([message([1, 0, 6, 6])])
    assert parsed.get("intent")["name"] == "ask_duration"


def test_the_loaded_classifier_gives_the_same_probabilities(storage: LocalModelStorage) -> None:
    component = trained(storage)
    loaded = load(storage)
    probe = [message([1, 0, 1, 0]), message([0, 1, 3, 2]), message([1, 1, 1, 1])]
    expected = component.clf.predict_proba(component._create_X(probe))
    np.testing.assert_allclose(loaded.clf.predict_proba(loaded._create_X(probe)), expected)


def test_a_model_without_its_weights_is_refused(storage: LocalModelStorage) -> None:
    trained(storage)
    with storage.read_from(Resource("classifier")) as folder:
        (folder / WEIGHTS_FILE).unlink()
    with pytest.raises(ValueError, match=WEIGHTS_FILE):
        load(storage)
