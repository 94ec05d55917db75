"""The words a message asks with: the sentences that end in a question mark, else the last one."""

from __future__ import annotations

import pytest

from bot.language.text import asked_words


def asked(message: str) -> str:
    words = message.split()
    return " ".join(words[i] for i in asked_words(words))


@pytest.mark.parametrize(
    ("message", "words"),
    [
        ("he is sorted for life after one shot . how long off work ?", "how long off work ?"),
        ("is it safe ? my wife worries . does it hurt ?", "is it safe ? does it hurt ?"),
        ("how long does it take", "how long does it take"),
        ("my son has CP . tell me about the medicine", "tell me about the medicine"),
        ("will it last forever?? asking for mum", "will it last forever??"),
        ("¿ duele la inyección ? gracias", "¿ duele la inyección ?"),
        ("ok ... so what happens on the day", "so what happens on the day"),
    ],
)
def test_the_asking_sentences_are_read_apart_from_the_story(message: str, words: str) -> None:
    assert asked(message) == words


def test_nothing_to_ask_with_when_there_are_no_words() -> None:
    assert asked_words([]) == []
