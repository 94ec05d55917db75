"""The near-copy check that keeps evaluation messages out of training: the same verdicts as difflib's, faster."""

from __future__ import annotations

import difflib
import random

from bot.language.text import normalise
from devtools.evaluation import near_copies


def difflib_near_copies(held_out: list[str], training: list[str], ratio: float = 0.85) -> list[tuple[str, str]]:
    """The check as it was: difflib against every training line."""
    train = [normalise(text) for text in training]
    found = []
    for text in held_out:
        normal = normalise(text)
        if normal in train:
            found.append((text, text))
        elif close := difflib.get_close_matches(normal, train, n=1, cutoff=ratio):
            found.append((text, close[0]))
    return found


def test_exact_and_near_copies_are_found_with_the_line_they_copy() -> None:
    training = ["my chest hurts and my left arm is numb", "can i drive home after the injection"]
    held_out = ["My chest hurts and my left arm is numb!", "my chest hurts and my left arm is numbb", "is parking free"]
    assert near_copies(held_out, training) == [
        (held_out[0], held_out[0]),
        (held_out[1], "my chest hurts and my left arm is numb"),
    ]


def test_verdicts_match_difflib_on_edited_lines() -> None:
    """RapidFuzz only proposes candidates; difflib still decides, so edits near the cutoff judge the same."""
    rng = random.Random(5)
    words = [
        "pain",
        "chest",
        "arm",
        "leg",
        "numb",
        "shot",
        "needle",
        "breathe",
        "cant",
        "wont",
        "stop",
        "help",
        "my",
        "his",
        "her",
        "the",
        "after",
        "since",
    ]
    training = [" ".join(rng.choice(words) for _ in range(rng.randint(3, 12))) for _ in range(400)]
    held_out = []
    for line in rng.sample(training, 150):
        cut = rng.randint(0, len(line) - 1)
        held_out.append(line[:cut] + rng.choice(["", "x", "zz", " and", "q w"]) + line[cut + rng.randint(0, 3) :])
    held_out += [" ".join(rng.choice(words) for _ in range(6)) for _ in range(150)]
    found = near_copies(held_out, training)
    assert found == difflib_near_copies(held_out, training)
    assert 0 < len(found) < len(held_out), "the edits straddle the cutoff"
