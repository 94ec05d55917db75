"""The safety net's one decision (bot/language/safety.py) on made-up verdicts of its two layers."""

from __future__ import annotations

import dataclasses

import pytest

from bot.language import safety
from bot.language.red_flags import SELF_HARM, RedFlag, default_detector
from bot.language.safety_model import Judgement


@pytest.mark.parametrize(
    ("flags", "judgement", "expected"),
    [
        ([RedFlag("breathing", "cant breathe")], None, (safety.EMERGENCY, ("breathing",), False, "rules")),
        ([RedFlag("self_harm", "kill myself")], None, (safety.EMERGENCY, ("self_harm",), True, "rules")),
        ([], Judgement(0.9, "seizure", 0.01, safety.EMERGENCY), (safety.EMERGENCY, ("seizure",), False, "model")),
        ([], Judgement(0.5, "bleeding", 0.01, safety.POSSIBLE), (safety.POSSIBLE, ("bleeding",), False, "model")),
        ([], Judgement(0.5, "self_harm", 0.6, safety.POSSIBLE), (safety.EMERGENCY, ("self_harm",), True, "model")),
        ([], Judgement(0.1, "cardiac", 0.01, None), (None, (), False, "")),
    ],
)
def test_the_decision_puts_rules_first_and_leans_towards_safety(
    flags: list[RedFlag], judgement: Judgement | None, expected: tuple[object, ...]
) -> None:
    check = safety.decide(flags, judgement)
    assert (check.verdict, check.categories, check.self_harm, check.source) == expected


@pytest.mark.parametrize(
    ("judgement", "expected"),
    [
        (Judgement(0.5, "cardiac", 0.01, safety.POSSIBLE), None),  # "my husband had chest pain last year"
        (Judgement(0.9, "cardiac", 0.01, safety.EMERGENCY), safety.EMERGENCY),
    ],
)
def test_a_phrase_the_rules_explained_away_needs_a_sure_learned_layer(
    judgement: Judgement, expected: str | None
) -> None:
    assert safety.decide([], judgement, dismissed=True).verdict == expected


def test_a_rule_the_learned_layer_doubts_gets_conditional_advice_never_silence() -> None:
    """ "can you overdose on the numbing medicine?": a rule's phrase, a look-alike the layer knows."""
    flag = [RedFlag("overdose_poisoning", "overdose")]
    doubting = Judgement(0.01, "overdose_poisoning", 0.02, None, doubts_rules=True)
    assert safety.decide(flag, doubting).verdict == safety.POSSIBLE
    assert safety.decide(flag, doubting, conditional_advice=False).verdict == safety.EMERGENCY
    assert safety.decide(flag, Judgement(0.2, "overdose_poisoning", 0.02, None)).verdict == safety.EMERGENCY


def test_signs_of_self_harm_are_never_doubted() -> None:
    check = safety.decide([RedFlag("self_harm", "end it")], Judgement(0.01, "self_harm", 0.4, None, True))
    assert (check.verdict, check.self_harm) == (safety.EMERGENCY, True)


def test_the_self_harm_head_alone_offers_the_crisis_line_conditionally() -> None:
    """ "feel useless, can't even mow the lawn": below even unsure as an emergency, fairly sure of self-harm."""
    check = safety.decide([], Judgement(0.2, "overdose_poisoning", 0.7, None))
    assert (check.verdict, check.self_harm, check.categories) == (safety.POSSIBLE, False, ("self_harm",))
    assert check.offers_crisis_line and safety.reply_name(check) == safety.REPLY_POSSIBLE_SELF_HARM


def test_the_self_harm_head_offers_the_crisis_line_itself_beside_an_unsure_emergency() -> None:
    check = safety.decide([], Judgement(0.4, "overdose_poisoning", 0.7, safety.POSSIBLE))
    assert (check.verdict, check.self_harm) == (safety.EMERGENCY, True)


def test_without_conditional_advice_the_self_harm_head_alone_is_the_crisis_line() -> None:
    check = safety.decide([], Judgement(0.2, "overdose_poisoning", 0.7, None), conditional_advice=False)
    assert (check.verdict, check.self_harm) == (safety.EMERGENCY, True)


def test_an_unsure_self_harm_category_is_not_the_crisis_line() -> None:
    """On an unsure verdict the category head names self-harm for fears it has no kind for."""
    check = safety.decide([], Judgement(0.5, "self_harm", 0.05, safety.POSSIBLE))
    assert (check.verdict, check.self_harm) == (safety.POSSIBLE, False)


def test_without_conditional_advice_an_unsure_verdict_says_nothing() -> None:
    assert (
        safety.decide([], Judgement(0.5, "bleeding", 0.01, safety.POSSIBLE), conditional_advice=False).verdict is None
    )


@pytest.mark.parametrize(
    ("check", "language", "reply"),
    [
        (safety.SafetyCheck(safety.EMERGENCY, ("breathing",), False, "rules"), "en", "emergency"),
        (safety.SafetyCheck(safety.EMERGENCY, ("overdose_poisoning",), True, "rules"), "en", "emergency_self_harm"),
        (safety.SafetyCheck(safety.EMERGENCY, ("overdose_poisoning",), False, "model"), "en", "emergency_poisoning"),
        (safety.SafetyCheck(safety.POSSIBLE, ("overdose_poisoning",), False, "model"), "en", "emergency_possible"),
        (safety.SafetyCheck(safety.POSSIBLE, ("bleeding",), False, "model"), "es", "emergency_possible_es"),
        (safety.SafetyCheck(safety.POSSIBLE, ("self_harm",), False, "model"), "en", "emergency_possible_self_harm"),
        (safety.SafetyCheck(safety.POSSIBLE, ("self_harm",), False, "model"), "es", "emergency_possible_self_harm_es"),
        (safety.SafetyCheck(safety.EMERGENCY, ("breathing",), False, "model"), "fr", "emergency"),
    ],
)
def test_the_reply_puts_the_crisis_line_first_then_conditional_advice_then_poison_control(
    check: safety.SafetyCheck, language: str, reply: str
) -> None:
    assert safety.reply_name(check, language) == reply


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        ("prefiero estar muerto", True),
        ("ya no quiero vivir", True),
        ("me voy a matar", True),
        ("no quiero morir, tengo miedo de la aguja", False),  # negated
        ("intenté suicidarme hace años, ya estoy bien", False),  # a past event
        ("hace tres años quise quitarme la vida, ahora estoy en tratamiento y bien", False),  # a number of years ago
        ("quiero seguir con la inyección", False),
        ("no quiero seguir con esto, prefiero hablar con el doctor", False),
        ("ya me quiero ir de este mundo", True),  # wanting to leave this world
        ("si me tomo todo el frasco, ¿me muero?", True),  # a whole bottle and dying
        ("¿cuántas pastillas de ibuprofeno puedo tomar al día?", False),  # an honest dosing question
    ],
)
def test_spanish_messages_meet_the_spanish_self_harm_rules(text: str, flagged: bool) -> None:
    pipeline, detector = default_detector()
    flags, _ = safety.rule_flags(detector, pipeline(text), "es")
    assert [flag.category for flag in flags] == (["self_harm"] if flagged else [])


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("mi abuela no reacciona, ayuda", "unresponsive"),
        ("mi esposo no responde, esta tirado en el piso", "unresponsive"),
        ("se cayo de la escalera y se le ve el hueso", "injury"),
        ("la clinica no responde mis mensajes", None),  # not a person
        ("mi marido duerme desde anoche y no lo hemos podido despertar", "unresponsive"),
        ("no puedo despertarla, respira muy despacio", "unresponsive"),
        ("no pude despertar a tiempo para llamar, perdon", None),  # the writer's own waking
        ("me rompi el brazo hace años, se me ve la cicatriz", None),
    ],
)
def test_spanish_messages_meet_the_spanish_rules_of_other_emergencies(text: str, category: str | None) -> None:
    pipeline, detector = default_detector()
    flags, _ = safety.rule_flags(detector, pipeline(text), "es")
    assert [flag.category for flag in flags] == ([category] if category else [])


def test_the_english_rules_judge_no_spanish_message() -> None:
    """ "Mi papá nunca ha tenido convulsiones": a cognate, and a negation the rules cannot read."""
    pipeline, detector = default_detector()
    doc = pipeline("mi papa nunca ha tenido convulsiones")
    assert safety.rule_flags(detector, doc, "es") == ([], False)
    assert safety.rule_flags(detector, pipeline("my dad is having convulsions"), "zh")[0], "other languages keep them"


def _ranked(*names: str) -> list[dict[str, object]]:
    return [{"name": name, "confidence": 1.0 - i / 10} for i, name in enumerate(names)]


UNSURE = safety.SafetyCheck(safety.POSSIBLE, ("bleeding",), False, safety.MODEL)


@pytest.mark.parametrize(
    ("check", "ranking", "answered"),
    [
        (UNSURE, _ranked("emergency", "ask_safety", "ask_cure"), "ask_safety"),
        # the classifier's own emergency is not the question; the next reading is
        (UNSURE, _ranked("emergency", "emergency", "ask_recovery"), "ask_recovery"),
        # the classifier was unsure (the fallback classifier put nlu_fallback next): nothing to answer
        (UNSURE, _ranked("emergency", "nlu_fallback", "ask_safety"), None),
        (UNSURE, _ranked("emergency", "pause"), None),  # not a topic question
        # a red-flag phrase the rules found, though doubted: the advice alone
        (dataclasses.replace(UNSURE, source=safety.RULES), _ranked("emergency", "ask_side_effects"), None),
        (dataclasses.replace(UNSURE, verdict=safety.EMERGENCY), _ranked("emergency", "ask_safety"), None),
        # the conditional crisis line is unsure too; the crisis line itself is a sure emergency, with nothing else
        (dataclasses.replace(UNSURE, categories=(SELF_HARM,)), _ranked("emergency", "ask_cure"), "ask_cure"),
        (
            safety.SafetyCheck(safety.EMERGENCY, (SELF_HARM,), True, safety.MODEL),
            _ranked("emergency", "ask_cure"),
            None,
        ),
    ],
)
def test_a_topic_asked_beside_the_learned_layers_conditional_advice_is_answered_after_it(
    check: safety.SafetyCheck, ranking: list[dict[str, object]], answered: str | None
) -> None:
    topics = {"ask_safety", "ask_cure", "ask_side_effects", "ask_recovery"}
    assert safety.topic_beside_advice(check, ranking, lambda intent: intent in topics) == answered
