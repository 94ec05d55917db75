"""Text normalising shared by every matcher: one function, so all of them see a message alike."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'"})


def normalise(text: str) -> str:
    """Lower case, curly quotes straightened, accents taken off ("sí" is "si", not "s"), punctuation other
    than apostrophes and slashes removed."""
    text = unicodedata.normalize("NFKD", text.lower().translate(_QUOTES))
    text = "".join(char for char in text if not unicodedata.combining(char))
    return " ".join(re.sub(r"[^a-z0-9'/ ]+", " ", text).split())


_SENTENCE_END = re.compile(r"[.!?\u2026]+")


def asked_words(words: Sequence[str]) -> list[int]:
    """The positions of the words in the sentences that ask (end in a question mark), else in the last sentence.

    A worried story often comes before the question, and its words ("one-off injection and he's sorted for
    life") can outvote the question's own ("how long off work?"); the classifier reads these words again
    on their own (bot.rasa.question_featurizer). ``words`` are a tokenizer's words, punctuation included.
    """
    sentences: list[list[int]] = [[]]
    for position, word in enumerate(words):
        sentences[-1].append(position)
        if _SENTENCE_END.fullmatch(word) or word.endswith("?"):
            sentences.append([])
    sentences = [sentence for sentence in sentences if sentence]
    asking = [sentence for sentence in sentences if words[sentence[-1]].endswith("?")]
    return [position for sentence in asking or sentences[-1:] for position in sentence]
