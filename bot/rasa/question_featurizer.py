"""Word counts of the sentence a message asks, beside the counts of the whole message.

A long message is mostly story ("my husband thinks it's a one-off and he'll be sorted for life"), and
the story's words can pull the classifier to the wrong topic when the question itself ("how long will he
need off work?") names another. Counting the asking sentence's words again, as features of their own,
lets the classifier weigh the question apart from the story (README, "Tests and measured quality").

Rasa's ``CountVectorsFeaturizer`` does the counting, the vocabulary and its persistence; this class only
chooses the words (``bot.language.text.asked_words``) and gives sentence features alone: its words are
not the message's tokens one for one, so it has no sequence features to give.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.language.text import asked_words


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class QuestionCountVectorsFeaturizer(CountVectorsFeaturizer):
    """``CountVectorsFeaturizer`` on the words of a message's asking sentences, for the text only."""

    @staticmethod
    def _attributes_for(analyzer: str) -> list[str]:
        return [TEXT]  # intents and responses are counted by the pipeline's other featurizers

    def _get_message_tokens_by_attribute(self, message: Message, attribute: str) -> list[str]:
        words = super()._get_message_tokens_by_attribute(message, attribute)  # lemmas or texts, as configured
        tokens: list[Token] = message.get(TOKENS_NAMES[attribute]) or []
        return [words[i] for i in asked_words([token.text for token in tokens])]

    def _create_features(self, attribute: str, all_tokens: list[list[str]]) -> tuple[list[Any], list[Any]]:
        """Rasa's sentence features (the joined words' counts), without the per-word counts it would throw away."""
        vectorizer = self.vectorizers.get(attribute)
        if not vectorizer:
            return [None], [None]
        sentences: list[Any] = []
        for tokens in all_tokens:
            if not tokens:
                sentences.append(None)  # nothing to count, as Rasa leaves it
                continue
            counts = vectorizer.transform([" ".join(tokens)])
            counts.sort_indices()
            sentences.append(counts.tocoo())
        return [None] * len(all_tokens), sentences
