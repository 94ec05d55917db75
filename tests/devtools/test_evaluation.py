"""The near-copy check that keeps evaluation messages out of training: the same verdicts as difflib's, faster."""

from __future__ import annotations

import difflib
import json
import random
from pathlib import Path

import pytest

from bot.language.text import normalise
from devtools.evaluation import near_copies, run_plan


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


def test_a_plan_prints_its_headings_runs_every_gate_and_fails_if_one_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """One process runs the gates of scripts/evaluate.sh: a failed or malformed gate fails the plan, the rest run."""
    report = tmp_path / "intent_report.json"
    report.write_text(json.dumps({"accuracy": 0.96, "macro avg": {"support": 50}, "greet": {"f1-score": 0.9}}))
    gates = [
        "==> first heading",
        f"nlu {report} --min 0.99",
        "no-such-evaluation",
        "    an indented note",
        "# a comment, not printed",
        f"nlu {report} --min 0.95",
    ]
    assert run_plan(gates) is False
    out = capsys.readouterr().out
    assert out.index("==> first heading") < out.index("96.0% on 50") < out.index("an indented note")
    assert out.count("NLU held-out intent accuracy") == 2  # the gate after the failures still ran
    assert "a comment" not in out
    assert run_plan([f"nlu {report} --min 0.95"]) is True
