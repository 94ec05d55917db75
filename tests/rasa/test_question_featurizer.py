"""The asking sentences' word counts: a block of sentence features of their own, kept and loaded as Rasa's."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.rasa.question_featurizer import QuestionCountVectorsFeaturizer

CONTEXT = ExecutionContext(GraphSchema({}), node_name="question_featurizer")


def message(text: str, intent: str | None = None) -> Message:
    found = Message(data={TEXT: text, INTENT: intent} if intent else {TEXT: text})
    found.set(TOKENS_NAMES[TEXT], [Token(word, 0, lemma=word) for word in text.split()])
    return found


def config() -> dict[str, object]:
    return {**QuestionCountVectorsFeaturizer.get_default_config(), "min_ngram": 1, "max_ngram": 2}


@pytest.fixture
def storage(tmp_path: Path) -> LocalModelStorage:
    return LocalModelStorage(tmp_path)


def trained(storage: LocalModelStorage) -> QuestionCountVectorsFeaturizer:
    component = QuestionCountVectorsFeaturizer.create(config(), storage, Resource("questions"), CONTEXT)
    component.train(
        TrainingData(
            [
                message("he thinks it lasts for life . how long off work ?", "ask_recovery"),
                message("does it last for life ?", "ask_repeat"),
            ]
        )
    )
    return component


def counted_words(component: QuestionCountVectorsFeaturizer, text: str) -> set[str]:
    [featurized] = component.process([message(text)])
    sequence, sentence = featurized.get_sparse_features(TEXT)
    assert sequence is None, "the asked words are not the message's tokens one for one"
    assert sentence is not None
    vocabulary = {index: word for word, index in component.vectorizers[TEXT].vocabulary_.items()}
    return {vocabulary[index] for index in sentence.features.tocsr().indices}


def test_only_the_asking_sentence_is_counted(storage: LocalModelStorage) -> None:
    component = trained(storage)
    assert counted_words(component, "my wife thinks it lasts for life . how long off work ?") == {
        "how",
        "long",
        "off",
        "work",
        "how long",
        "long off",
        "off work",
    }


def test_intents_are_left_to_the_other_featurizers(storage: LocalModelStorage) -> None:
    component = trained(storage)
    assert set(component.vectorizers) == {TEXT}
    [featurized] = component.process([message("how long ?", "ask_recovery")])
    assert featurized.get_sparse_features(INTENT) == (None, None)


def test_the_vocabulary_is_kept_and_loaded(storage: LocalModelStorage) -> None:
    text = "he thinks it lasts for life . does it last for life ?"
    before = counted_words(trained(storage), text)
    loaded = QuestionCountVectorsFeaturizer.load(config(), storage, Resource("questions"), CONTEXT)
    assert (
        counted_words(loaded, text)
        == before
        == {"does", "it", "last", "for", "life", "does it", "it last", "last for", "for life"}
    )
