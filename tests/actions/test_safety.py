"""The safety net: emergencies, a real person, the patient's own medicines (actions/safety.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from actions import safety
from bot import content
from bot.records import flags
from tests.helpers.actions import run, sent


def test_an_emergency_is_recorded_for_the_care_team_and_the_patient_told(
    dispatcher: Any, make_tracker: Callable
) -> None:
    """The reply itself came before, from the Rasa server (bot/rasa/nlg.py): this action only records."""
    tracker = make_tracker("I can't breathe", "emergency", entities=[{"entity": "red_flag", "value": "breathing"}])
    run(safety.ActionRecordEmergency(), dispatcher, tracker)
    assert sent(dispatcher) == ["emergency_logged"]
    [flag] = flags.open_flags()
    assert (flag.kind, flag.message, flag.detail, flag.conversation_id) == (
        "emergency",
        "I can't breathe",
        "breathing",
        "test-patient",
    )


def test_a_possible_emergency_is_flagged_as_unsure(dispatcher: Any, make_tracker: Callable) -> None:
    entities = [{"entity": "red_flag", "value": "bleeding"}, {"entity": "safety_verdict", "value": "possible"}]
    run(safety.ActionRecordEmergency(), dispatcher, make_tracker("still oozing a bit", "emergency", entities=entities))
    assert sent(dispatcher) == ["emergency_logged"]
    assert flags.open_flags()[0].detail == "possible emergency (unsure): bleeding"


def test_an_emergency_the_classifier_alone_saw_is_flagged_as_such(dispatcher: Any, make_tracker: Callable) -> None:
    run(safety.ActionRecordEmergency(), dispatcher, make_tracker("chest pain", "emergency"))
    assert sent(dispatcher) == ["emergency_logged"]
    assert flags.open_flags()[0].detail == "emergency intent (classifier)"


@pytest.fixture
def failing_writes(monkeypatch: pytest.MonkeyPatch) -> Callable[[int], list[str]]:
    """Make the next ``n`` flag writes fail (no pauses between tries); the list of tries made."""
    monkeypatch.setattr(safety, "EMERGENCY_RETRY_SECONDS", (0.0, 0.0))
    write = flags.add
    tries: list[str] = []

    def arrange(failures: int) -> list[str]:
        def flaky(*args: Any, **kwargs: Any) -> int:
            tries.append(args[2])
            if len(tries) <= failures:
                raise OSError("database restarting")
            return write(*args, **kwargs)

        monkeypatch.setattr(flags, "add", flaky)
        return tries

    return arrange


def test_a_failed_emergency_write_is_tried_again(
    dispatcher: Any, make_tracker: Callable, failing_writes: Callable[[int], list[str]]
) -> None:
    tries = failing_writes(2)
    run(safety.ActionRecordEmergency(), dispatcher, make_tracker("chest pain", "emergency"))
    assert tries == ["emergency"] * 3
    assert sent(dispatcher) == ["emergency_logged"]
    assert [flag.kind for flag in flags.open_flags()] == ["emergency"]


def test_an_emergency_that_cannot_be_written_says_nothing_more(
    dispatcher: Any, make_tracker: Callable, failing_writes: Callable[[int], list[str]]
) -> None:
    tries = failing_writes(99)
    run(safety.ActionRecordEmergency(), dispatcher, make_tracker("chest pain", "emergency"))
    assert len(tries) == 1 + len(safety.EMERGENCY_RETRY_SECONDS)
    assert sent(dispatcher) == []


def test_other_flags_are_tried_once(
    dispatcher: Any, make_tracker: Callable, failing_writes: Callable[[int], list[str]]
) -> None:
    tries = failing_writes(1)
    run(safety.ActionRequestCallback(), dispatcher, make_tracker("can I talk to a nurse", "request_human"))
    assert tries == ["callback"]
    assert sent(dispatcher) == ["callback_failed"]


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


def test_a_flood_of_emergencies_from_one_source_is_one_flag_with_a_count(
    dispatcher: Any, make_tracker: Callable
) -> None:
    """30 emergency messages at once from one conversation and address: each answered, one flag counted 30."""
    entities = [{"entity": "red_flag", "value": "breathing"}]
    for _ in range(30):
        tracker = make_tracker("I can't breathe", "emergency", entities=entities, sender_id="anonymous-1")
        tracker.latest_message["metadata"] = {flags.CLIENT_ADDRESS_KEY: "203.0.113.9"}
        run(safety.ActionRecordEmergency(), dispatcher, tracker)
    assert sent(dispatcher) == ["emergency_logged"] * 30
    [flag] = flags.all_rows()
    assert (flag.kind, flag.count, flag.conversation_id) == ("emergency", 30, "anonymous-1")
    assert flag.source == flags.source_digest("203.0.113.9")
    other = make_tracker("I can't breathe", "emergency", entities=entities, sender_id="anonymous-1")
    other.latest_message["metadata"] = {flags.CLIENT_ADDRESS_KEY: "198.51.100.7"}
    run(safety.ActionRecordEmergency(), dispatcher, other)
    assert [f.count for f in flags.open_flags()] == [30, 1], "another address is another source"
