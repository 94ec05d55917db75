"""The safety net: emergencies, a real person, the patient's own medicines (actions/safety.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from actions import safety
from bot import content
from bot.records import flags
from tests.helpers.actions import run, sent


def test_emergency_reply_comes_first_then_the_care_team_is_told(dispatcher: Any, make_tracker: Callable) -> None:
    tracker = make_tracker("I can't breathe", "emergency", entities=[{"entity": "red_flag", "value": "breathing"}])
    run(safety.ActionHandleEmergency(), dispatcher, tracker)
    assert sent(dispatcher) == ["emergency", "emergency_logged"]
    [flag] = flags.open_flags()
    assert (flag.kind, flag.message, flag.detail, flag.conversation_id) == (
        "emergency",
        "I can't breathe",
        "breathing",
        "test-patient",
    )


def test_self_harm_gets_the_crisis_line(dispatcher: Any, make_tracker: Callable) -> None:
    tracker = make_tracker(
        "i want to end my life", "emergency", entities=[{"entity": "red_flag", "value": "self_harm"}]
    )
    run(safety.ActionHandleEmergency(), dispatcher, tracker)
    assert sent(dispatcher) == ["emergency_self_harm", "emergency_logged"]


def test_a_possible_emergency_gets_conditional_advice_and_a_flag(dispatcher: Any, make_tracker: Callable) -> None:
    entities = [{"entity": "red_flag", "value": "bleeding"}, {"entity": "safety_verdict", "value": "possible"}]
    run(safety.ActionHandleEmergency(), dispatcher, make_tracker("still oozing a bit", "emergency", entities=entities))
    assert sent(dispatcher) == ["emergency_possible", "emergency_logged"]
    assert flags.open_flags()[0].detail == "possible emergency (unsure): bleeding"


def test_an_emergency_the_classifier_alone_saw_is_flagged_as_such(dispatcher: Any, make_tracker: Callable) -> None:
    run(safety.ActionHandleEmergency(), dispatcher, make_tracker("chest pain", "emergency"))
    assert sent(dispatcher) == ["emergency", "emergency_logged"]
    assert flags.open_flags()[0].detail == "emergency intent (classifier)"


def test_emergency_reply_does_not_wait_for_a_broken_database(
    dispatcher: Any, make_tracker: Callable, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", "sqlite:////nonexistent/dir/x.db")
    run(safety.ActionHandleEmergency(), dispatcher, make_tracker("chest pain", "emergency"))
    assert sent(dispatcher) == ["emergency"]


def test_callback_is_flagged_and_honest_about_when(
    dispatcher: Any, make_tracker: Callable, monkeypatch: pytest.MonkeyPatch
) -> None:
    clinic = content.clinic()
    monkeypatch.setattr(type(clinic), "is_open", lambda self, now: False)
    run(safety.ActionRequestCallback(), dispatcher, make_tracker("can I talk to a nurse", "request_human"))
    assert sent(dispatcher) == ["callback_closed"]
    assert flags.open_flags()[0].kind == "callback"
    monkeypatch.setattr(type(clinic), "is_open", lambda self, now: True)
    dispatcher.messages.clear()
    run(safety.ActionRequestCallback(), dispatcher, make_tracker("human please", "request_human"))
    assert sent(dispatcher) == ["callback_open"]


def test_a_callback_that_cannot_be_flagged_gives_the_phone_number(
    dispatcher: Any, make_tracker: Callable, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", "sqlite:////nonexistent/dir/x.db")
    run(safety.ActionRequestCallback(), dispatcher, make_tracker("can I talk to a nurse", "request_human"))
    assert sent(dispatcher) == ["callback_failed"]


def test_medicine_questions_are_never_advised_and_flagged_on_request(dispatcher: Any, make_tracker: Callable) -> None:
    run(
        safety.ActionAnswerMedicationQuestion(),
        dispatcher,
        make_tracker("should I stop my warfarin before the shot", "medication_question"),
    )
    assert sent(dispatcher) == ["medication_question", "offer_flag_medication"]
    asked = [
        {
            "event": "user",
            "text": "should I stop my warfarin before the shot",
            "parse_data": {"intent": {"name": "medication_question"}},
        }
    ]
    dispatcher.messages.clear()
    run(safety.ActionFlagMedicationQuestion(), dispatcher, make_tracker("yes", "affirm", events=asked))
    assert sent(dispatcher) == ["medication_flagged"]
    assert flags.open_flags()[0].message == "should I stop my warfarin before the shot"
