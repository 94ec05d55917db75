"""Training and held-out NLU data stay honest: enough variety per topic, no held-out copies of training lines."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from bot.settings import PROJECT_ROOT
from devtools.evaluation import near_copies, nlu_examples

DATA = PROJECT_ROOT / "data" / "nlu"
HELD_OUT = Path(__file__).parent / "heldout.yml"


def training() -> list[tuple[str, str]]:
    return [pair for path in sorted(DATA.glob("*.yml")) for pair in nlu_examples(path)]


def test_held_out_set_is_large_enough() -> None:
    held = nlu_examples(HELD_OUT)
    assert len(held) >= 150
    per_intent = Counter(intent for intent, _ in held)
    assert all(per_intent[intent] >= 5 for intent in {i for i, _ in training()} if intent.startswith("ask_"))


def test_no_held_out_message_copies_a_training_line() -> None:
    copies = near_copies([text for _, text in nlu_examples(HELD_OUT)], [text for _, text in training()])
    assert copies == [], f"{len(copies)} held-out messages copy training lines, e.g. {copies[:3]}"


def test_every_topic_has_at_least_25_varied_examples() -> None:
    per_intent = Counter(intent for intent, _ in training())
    topics = [intent for intent in per_intent if intent.startswith("ask_")]
    assert len(topics) == 18
    assert all(per_intent[intent] >= 25 for intent in topics), per_intent


def test_training_examples_are_unique() -> None:
    seen = Counter(text.lower() for _, text in training())
    assert [text for text, count in seen.items() if count > 1] == []
