"""The safety net's learned layer on small made-up data (the real sets are in make evaluate)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.language import safety_model
from bot.language.safety_model import Example

EMERGENCIES = [
    ("i cant breathe at all", "breathing"),
    ("my chest is crushing and my arm hurts", "cardiac"),
    ("he is not waking up", "unresponsive"),
    ("she swallowed a bottle of pills", "overdose_poisoning"),
    ("i want to end my life tonight", "self_harm"),
    ("i have pills saved up to take all at once", "self_harm"),
    ("blood everywhere and it wont stop", "bleeding"),
    ("my face is drooping and words come out wrong", "stroke_signs"),
]
ORDINARY = [
    "how long does the injection take",
    "can i drive home afterwards",
    "no chest pain and no breathing trouble",
    "i had a seizure as a kid, fine now",
    "what if i faint when i see the needle",
    "is it safe",
    "thanks, bye",
    "yes",
]


def examples() -> list[Example]:
    made = [Example(text, category) for text, category in EMERGENCIES for _ in range(3)]
    return made + [Example(text, safety_model.NONE, kind="ordinary") for text in ORDINARY for _ in range(3)]


@pytest.fixture(scope="module")
def model() -> safety_model.SafetyModel:
    return safety_model.train(examples(), emergency_at=0.5, possible_at=0.3)


def test_it_learns_emergencies_and_ordinary_messages_apart(model: safety_model.SafetyModel) -> None:
    assert model.judge("i cant breathe at all").verdict == safety_model.EMERGENCY
    assert model.judge("how long does the injection take").verdict is None
    assert model.judge("i want to end my life tonight").self_harm > 0.5


@pytest.mark.parametrize("text", ["i cant breathe at all", "Pain", "y", "", "???", "no chest pain, how long is it"])
def test_its_quick_path_gives_scikit_learns_own_numbers(model: safety_model.SafetyModel, text: str) -> None:
    matrix = model.features.transform([text])
    judgement = model.judge(text)
    assert judgement.emergency == pytest.approx(model.emergency.predict_proba(matrix)[0, 1], abs=1e-12)
    assert judgement.self_harm == pytest.approx(model.self_harm.predict_proba(matrix)[0, 1], abs=1e-12)
    assert judgement.category == model.category.predict(matrix)[0]


def test_a_message_with_nothing_in_it_is_not_an_emergency(model: safety_model.SafetyModel) -> None:
    """The binary head falls back to how rare emergencies are, not to the sum of the categories' priors."""
    assert model.judge("y").emergency < 0.5


def test_saved_and_loaded_it_judges_alike(model: safety_model.SafetyModel, tmp_path: Path) -> None:
    path = safety_model.save(model, tmp_path / "classifier.joblib")
    loaded = safety_model.load.__wrapped__(path)
    assert loaded.judge("he is not waking up") == model.judge("he is not waking up")


def test_each_cross_validated_score_comes_from_the_fold_that_held_the_message_out() -> None:
    """The folds train in parallel processes; each message's score is still its own fold's model's."""
    from sklearn.model_selection import StratifiedKFold

    made = examples()
    labels = [e.category for e in made]
    expected = [0.0] * len(made)
    for train_index, test_index in StratifiedKFold(3, shuffle=True, random_state=7).split(labels, labels):
        fold = safety_model.train([made[i] for i in train_index])
        for i, score in zip(test_index, fold.scores([made[i].text for i in test_index]), strict=True):
            expected[i] = score
    assert safety_model.cross_validated(made, folds=3) == pytest.approx(expected)


def test_the_model_trained_beside_the_folds_is_the_one_trained_alone() -> None:
    """``bot safety train`` fits the final model in the folds' processes; it must be the same fit."""
    made = examples()
    trained, scores = safety_model.train_cross_validated(made, folds=3)
    alone = safety_model.train(made)
    texts = [e.text for e in made]
    assert trained.scores(texts) == pytest.approx(alone.scores(texts))
    assert scores == pytest.approx(safety_model.cross_validated(made, folds=3))
    placed = safety_model.with_thresholds(trained, 0.6, 0.3, 0.1, {"examples": len(made)})
    assert (placed.emergency_at, placed.possible_at, placed.doubt_below) == (0.6, 0.3, 0.1)
    assert placed.scores(texts) == pytest.approx(alone.scores(texts))


def test_thresholds_spend_the_false_alarm_budget_on_the_writers_look_alikes_only() -> None:
    hard = [Example(f"hard {i}", safety_model.NONE, source="w") for i in range(100)]
    easy = [Example(f"easy {i}", safety_model.NONE, source="topics.yml") for i in range(1000)]
    positives = [Example(f"sos {i}", "cardiac", source="w") for i in range(10)]
    scores = [i / 200 for i in range(100)] + [0.0] * 1000 + [0.99] * 10
    emergency_at, possible_at = safety_model.choose_thresholds(hard + easy + positives, scores)
    told_911 = sum(score >= emergency_at for score in scores[:100])
    assert told_911 <= 3 and sum(score >= possible_at for score in scores[:100]) <= 10
    assert possible_at <= emergency_at


def test_the_writers_files_read_with_self_harm_as_its_own_category(tmp_path: Path) -> None:
    (tmp_path / "w.yml").write_text(
        "writer: w\nmessages:\n"
        "  - {text: 'kms', label: emergency, category: self_harm, lang: en, self_harm: true}\n"
        "  - {text: 'no fever', label: not_emergency, category: negation, lang: en, self_harm: false}\n"
    )
    read = safety_model.read_examples([tmp_path / "w.yml"])
    assert [(e.category, e.kind, e.source) for e in read] == [("self_harm", "", "w"), ("none", "negation", "w")]


def test_the_assistants_own_messages_are_non_emergencies_without_entity_markup(tmp_path: Path) -> None:
    (tmp_path / "nlu.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: ask_medicines\n  examples: |\n    - is [phenol](MEDICINE) used\n'
        "- intent: emergency\n  examples: |\n    - help me\n"
        "- intent: EXTERNAL_recheck\n  examples: |\n    - /EXTERNAL_recheck\n"  # a reminder's payload: no patient's
    )
    assert [(e.text, e.category) for e in safety_model.assistant_examples(tmp_path)] == [("is phenol used", "none")]


def test_negations_mark_the_words_they_cover_until_the_clause_ends() -> None:
    assert safety_model.mark_negation("No chest pain, but my back hurts") == "no neg_chest neg_pain , but my back hurts"
    assert safety_model.mark_negation("I can't breathe") == "i can't breathe", "the emergency itself is not negated"
    assert (
        safety_model.mark_negation("Mi papá nunca ha tenido convulsiones")
        == "mi papa nunca neg_ha neg_tenido neg_convulsiones"
    )


def test_the_rules_are_doubted_only_below_99_percent_of_the_real_emergencies_they_caught() -> None:
    hits = [Example(str(n), "breathing") for n in range(200)]
    scores = [(n + 1) / 200 for n in range(200)]
    lookalikes = [Example("x", "none"), Example("y", "none")]
    doubt = safety_model.choose_doubt([*hits, *lookalikes], [*scores, 0.001, 0.9], [True] * 202)
    assert doubt == scores[2], "the two lowest-scored true hits (1%) fall below it, get conditional advice"
    assert sum(1 for s in scores if s < doubt) == 2
    assert safety_model.choose_doubt(lookalikes, [0.5, 0.9], [True, True]) == 0.0, "no true hits: never doubt"


def test_it_is_trained_again_when_the_code_that_reads_the_rules_changes() -> None:
    """Its doubt of a rule is chosen by running the rules on its training messages, so their code is an input."""
    names = {path.name for path in safety_model.training_files()}
    assert {"red_flags.yml", "red_flags.py", "matching.py", "safety_model.py"} <= names
