"""The teach-back judge's labelled answers: as many as issue 15 asks, and never copied into training."""

from __future__ import annotations

from bot.language import teachback_model
from bot.settings import PROJECT_ROOT
from devtools.evaluation import near_copies

SETS = PROJECT_ROOT / "tests" / "data" / "teachback"


def answers(folder: str) -> list[teachback_model.LabelledAnswer]:
    return teachback_model.read_answers(sorted((SETS / folder).glob("*.yml")))


def test_the_held_out_set_has_100_right_and_100_wrong_answers_per_point() -> None:
    for point, items in teachback_model.by_point(answers("heldout")).items():
        right = [a for a in items if a.right]
        assert len(right) >= 100 and len(items) - len(right) >= 100, point
        assert {a.kind for a in items if not a.right} >= {"negated", "wrong_meaning", "partial_wrong"}, point
        assert {a.kind for a in right} >= {"partial", "negated_form"}, point


def test_the_fresh_set_has_at_least_100_answers() -> None:
    assert len(answers("fresh")) >= 100


def test_no_training_answer_copies_a_held_out_or_fresh_one() -> None:
    """Short answers converge ("it wears off"); a copy in training would flatter the figures."""
    training = [a.text for a in teachback_model.read_answers(sorted(teachback_model.TRAIN_DIR.glob("*.yml")))]
    evaluation = [a.text for a in answers("heldout") + answers("fresh")]
    copies = near_copies(training, evaluation)
    assert copies == [], f"{len(copies)} training answers copy evaluation ones, e.g. {copies[:3]}"


def test_no_training_answer_copies_a_spanish_evaluation_one() -> None:
    """Spanish answers (tests/data/teachback/es/) by independent writers; the training answers stay away from them."""
    training = [a.text for a in teachback_model.read_answers(sorted(teachback_model.TRAIN_DIR.glob("*.yml")))]
    evaluation = [a.text for a in answers("es/heldout") + answers("es/fresh")]
    assert len(evaluation) >= 300
    assert near_copies(evaluation, training) == []
