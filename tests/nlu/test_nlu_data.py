"""Training and held-out NLU data stay honest: enough variety per topic, no held-out copies of training lines."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from bot import content
from bot.settings import PROJECT_ROOT
from devtools.evaluation import near_copies, nlu_examples, topic_questions

DATA = PROJECT_ROOT / "data" / "nlu"
HELD_OUT = Path(__file__).parent / "heldout.yml"
# Topic questions by writers who never saw the training data, one style each; fresh: written after the last change.
WRITERS = PROJECT_ROOT / "tests" / "data" / "nlu"
MISCONCEPTIONS = {"none", "not_a_cure", "wears_off", "has_risks"}


def training() -> list[tuple[str, str]]:
    return [pair for path in sorted(DATA.glob("*.yml")) for pair in nlu_examples(path)]


def held_out() -> list[tuple[str, str]]:
    """Every evaluation message: the first held-out set, and the writers' held-out and fresh sets."""
    writers = topic_questions([WRITERS / "heldout", WRITERS / "fresh"])
    return nlu_examples(HELD_OUT) + [(str(item["intent"]), str(item["text"])) for item in writers]


def test_held_out_set_is_large_enough() -> None:
    held = held_out()
    assert len(nlu_examples(HELD_OUT)) >= 150 and len(topic_questions([WRITERS / "heldout"])) >= 200
    per_intent = Counter(intent for intent, _ in held)
    assert all(per_intent[intent] >= 5 for intent in {i for i, _ in training()} if intent.startswith("ask_"))


def test_no_held_out_message_copies_a_training_line() -> None:
    copies = near_copies([text for _, text in held_out()], [text for _, text in training()])
    assert copies == [], f"{len(copies)} held-out messages copy training lines, e.g. {copies[:3]}"


def test_writers_label_only_known_intents_and_beliefs() -> None:
    intents = {intent for intent, _ in training()}
    for item in topic_questions([WRITERS / "heldout", WRITERS / "fresh"]):
        assert item["intent"] in intents and item["misconception"] in MISCONCEPTIONS, item


def test_every_topic_has_at_least_25_varied_examples() -> None:
    per_intent = Counter(intent for intent, _ in training())
    topics = [intent for intent in per_intent if intent.startswith("ask_")]
    assert len(topics) == len(content.topics().titles)
    assert all(per_intent[intent] >= 25 for intent in topics), per_intent


def test_training_examples_are_unique() -> None:
    seen = Counter(text.lower() for _, text in training())
    assert [text for text, count in seen.items() if count > 1] == []


def spanish(folder: str) -> list[tuple[str, str]]:
    return [(str(item["intent"]), str(item["text"])) for item in topic_questions([WRITERS / "es" / folder])]


def test_the_spanish_held_out_set_covers_every_intent_as_issue_18_asks() -> None:
    held = spanish("heldout")
    trained = {intent for path in sorted((DATA / "es").glob("*.yml")) for intent, _ in nlu_examples(path)}
    assert len(held) >= 300
    assert {intent for intent, _ in held} >= trained - {"change_language"}  # asked for after the set was written
    assert len(spanish("fresh")) >= 100


def test_no_spanish_evaluation_message_copies_a_training_line() -> None:
    training_texts = [text for path in sorted(DATA.rglob("*.yml")) for _, text in nlu_examples(path)]
    copies = near_copies([text for _, text in spanish("heldout") + spanish("fresh")], training_texts)
    assert copies == [], f"{len(copies)} Spanish evaluation messages copy training lines, e.g. {copies[:3]}"
