"""The safety net's labelled sets: big enough to mean something, and never copied into training."""

from __future__ import annotations

from bot.content.files import load_yaml
from bot.language import safety_model
from bot.settings import PROJECT_ROOT
from devtools.evaluation import near_copies

SETS = PROJECT_ROOT / "tests" / "data" / "safety"


def examples(folder: str) -> list[safety_model.Example]:
    return safety_model.read_examples(sorted((SETS / folder).glob("*.yml")))


def spanish_ordinary() -> list[str]:
    """The Spanish questions by independent writers, which also measure the safety net's false alarms in Spanish."""
    folder = PROJECT_ROOT / "tests" / "data" / "nlu" / "es" / "heldout"
    return [str(item["text"]) for path in sorted(folder.glob("*.yml")) for item in load_yaml(path)["messages"]]


def test_the_held_out_set_is_as_large_and_varied_as_issue_13_asks() -> None:
    held = examples("heldout")
    emergencies = [e for e in held if e.category != safety_model.NONE]
    assert len(emergencies) >= 400 and len(held) - len(emergencies) >= 400
    assert len({e.category for e in emergencies}) >= 20
    assert sum(e.lang == "es" for e in emergencies) >= 40
    assert len({e.source for e in held}) >= 5, "several independent writers"


def test_the_fresh_set_has_at_least_100_messages() -> None:
    assert len(examples("fresh")) >= 100


def test_the_spanish_ordinary_set_is_as_large_as_issue_18_asks() -> None:
    assert len(spanish_ordinary()) >= 300


def test_no_training_message_copies_a_held_out_or_fresh_one() -> None:
    """Writers converge on short phrases ("cant breathe"); a copy in training would flatter the figures."""
    training = [e.text for e in safety_model.read_examples(sorted(safety_model.TRAIN_DIR.glob("*.yml")))]
    evaluation = [e.text for e in examples("heldout") + examples("fresh")] + spanish_ordinary()
    copies = near_copies(training, evaluation)
    assert copies == [], f"{len(copies)} training messages copy evaluation ones, e.g. {copies[:3]}"
