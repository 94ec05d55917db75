"""The reminder's re-check as the action server runs it (actions/recheck.py); its rules alone: tests/consent."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from actions import recheck as recheck_actions
from actions import session
from bot import content
from bot.consent import recheck
from bot.consent.record import REVIEW, ConsentPayload, TeachbackResult
from bot.invitations import IDENTITY_KEY, IDENTITY_NUMBER, PATIENT_ID_KEY
from bot.outreach import KIND_REMINDER, PROCEDURE_DATE_KEY, REMINDER_KEY
from bot.outreach import store as outreach
from bot.records import consent_store, flags, recheck_store
from tests.helpers.actions import run, sent, validate

CONVERSATION = "sms-conv-1"
POINTS = content.teachback_points()
DATE = "2026-12-24"


@pytest.fixture
def live_reminder(sqlite_url: str) -> str:
    """A reminder of CONVERSATION claimed for sending, as the outreach runner leaves it during the turn."""
    reminder = outreach.reminder_id("inv1")
    now = dt.datetime.now(dt.timezone.utc)
    assert outreach.create(reminder, KIND_REMINDER, CONVERSATION, "inv1", now, url=sqlite_url)
    assert [row.outreach_id for row in outreach.claim_due("test:1", now, sqlite_url)] == [reminder]
    return reminder


def decided(decision: str = "go_ahead", missed: str | None = None) -> consent_store.Record:
    results = (TeachbackResult(missed, missed, ("no",), 3, REVIEW),) if missed else ()
    return consent_store.append(
        CONVERSATION, "sms", ConsentPayload((), results, decision, (), None), "v1", patient_ref="MRN-9"
    )


def reminder_turn(make_tracker: Callable, reminder: str, **extra: Any) -> Any:
    tracker = make_tracker("/EXTERNAL_recheck", "EXTERNAL_recheck", 1.0, sender_id=CONVERSATION, channel="sms")
    tracker.latest_message["metadata"] = {
        REMINDER_KEY: reminder,
        PROCEDURE_DATE_KEY: DATE,
        PATIENT_ID_KEY: "MRN-9",
        IDENTITY_KEY: IDENTITY_NUMBER,
        **extra,
    }
    return tracker


def started_state(events: list[dict[str, Any]]) -> dict[str, Any]:
    return next(e["value"] for e in events if e["event"] == "slot" and e["name"] == "recheck")


def answer_turn(make_tracker: Callable, text: str, state: dict[str, Any], intent: str = "out_of_scope") -> Any:
    return make_tracker(
        text, intent, 0.3, slots={"recheck": state}, active_loop="recheck_form", sender_id=CONVERSATION, channel="sms"
    )


def test_without_a_live_reminder_the_turn_is_a_message_not_understood(
    dispatcher: Any, make_tracker: Callable, live_reminder: str
) -> None:
    decided()
    typed = make_tracker("/EXTERNAL_recheck", "EXTERNAL_recheck", 1.0, sender_id=CONVERSATION)
    assert run(recheck_actions.ActionStartRecheck(), dispatcher, typed) == [
        {"event": "followup", "timestamp": None, "name": "action_listen"}
    ]
    assert sent(dispatcher) == ["ask_rephrase"]
    for forged in ("reminder:nobody", ""):
        dispatcher.messages.clear()
        events = run(recheck_actions.ActionStartRecheck(), dispatcher, reminder_turn(make_tracker, forged))
        assert sent(dispatcher) == ["ask_rephrase"] and not any(e["event"] == "slot" for e in events)
    other = make_tracker("/EXTERNAL_recheck", "EXTERNAL_recheck", 1.0, sender_id="another-conversation")
    other.latest_message["metadata"] = {REMINDER_KEY: live_reminder}
    dispatcher.messages.clear()
    run(recheck_actions.ActionStartRecheck(), dispatcher, other)
    assert sent(dispatcher) == ["ask_rephrase"], "a reminder of another conversation starts nothing"


def test_start_reminds_then_the_form_asks_the_missed_point_first(
    dispatcher: Any, make_tracker: Callable, live_reminder: str
) -> None:
    record = decided(missed=POINTS[3].id)
    events = run(recheck_actions.ActionStartRecheck(), dispatcher, reminder_turn(make_tracker, live_reminder))
    state = recheck.RecheckState.from_json(started_state(events))
    assert state.points == (POINTS[3].id, POINTS[0].id) and state.record_id == record.id
    assert (state.patient_ref, state.identity, state.date) == ("MRN-9", IDENTITY_NUMBER, DATE)
    run(recheck_actions.ActionAskRecheckFormRecheckAnswer(), dispatcher, answer_turn(make_tracker, "", state.to_json()))
    assert sent(dispatcher) == ["recheck_reminder", f"recheck:{POINTS[3].id}:question"]
    assert not any(message["buttons"] for message in dispatcher.messages)


@pytest.mark.parametrize(("decision", "expected"), [(None, "recheck_no_record"), ("decline", "recheck_declined")])
def test_no_record_or_a_decline_reminds_without_questions(
    dispatcher: Any, make_tracker: Callable, live_reminder: str, decision: str | None, expected: str
) -> None:
    if decision:
        decided(decision)
    events = run(recheck_actions.ActionStartRecheck(), dispatcher, reminder_turn(make_tracker, live_reminder))
    assert sent(dispatcher) == [expected]
    assert events == [{"event": "followup", "timestamp": None, "name": "action_listen"}]


def test_a_miss_is_explained_again_flagged_and_the_record_is_linked(
    dispatcher: Any, make_tracker: Callable, live_reminder: str
) -> None:
    record = decided()
    events = run(recheck_actions.ActionStartRecheck(), dispatcher, reminder_turn(make_tracker, live_reminder))
    state = started_state(events)
    dispatcher.messages.clear()
    first = validate(
        recheck_actions.ValidateRecheckForm(),
        "recheck_answer",
        dispatcher,
        answer_turn(make_tracker, "it blocks the pain signals from the nerve", state),
    )
    assert first["recheck_answer"] is None and sent(dispatcher) == ["recheck_right"]
    dispatcher.messages.clear()
    second = validate(
        recheck_actions.ValidateRecheckForm(),
        "recheck_answer",
        dispatcher,
        answer_turn(make_tracker, "no idea", first["recheck"]),
    )
    assert second["recheck_answer"] == "done" and sent(dispatcher) == [f"teachback:{POINTS[1].id}:again"]
    (flag,) = flags.open_flags()
    assert flag.kind == "teachback" and POINTS[1].summary in flag.message and "no idea" not in flag.message
    dispatcher.messages.clear()
    closed = run(
        recheck_actions.ActionRecordRecheck(), dispatcher, answer_turn(make_tracker, "no idea", second["recheck"])
    )
    assert sent(dispatcher) == ["recheck_thanks_missed"]
    assert {"event": "slot", "timestamp": None, "name": "recheck", "value": None} in closed
    (stored,) = recheck_store.for_record(record.id)
    assert (stored.consent_record_id, stored.consent_record_hash) == (record.id, record.record_hash)
    assert [(a.point, a.answer, a.understood) for a in stored.answers] == [
        (POINTS[0].id, "it blocks the pain signals from the nerve", True),
        (POINTS[1].id, "no idea", False),
    ]
    assert stored.reminder == live_reminder and stored.missed == 1 and stored.patient_ref == "MRN-9"
    assert recheck_store.verify().ok


def test_a_question_in_the_middle_is_answered_and_the_point_stays(
    dispatcher: Any, make_tracker: Callable, live_reminder: str
) -> None:
    decided()
    state = started_state(
        run(recheck_actions.ActionStartRecheck(), dispatcher, reminder_turn(make_tracker, live_reminder))
    )
    dispatcher.messages.clear()
    tracker = make_tracker(
        "how long does it take?", "ask_duration", 0.95, slots={"recheck": state}, active_loop="recheck_form"
    )
    result = validate(recheck_actions.ValidateRecheckForm(), "recheck_answer", dispatcher, tracker)
    assert result == {"recheck_answer": None} and sent(dispatcher) == ["utter_ask_duration"]


def test_a_pause_keeps_the_answer_and_flags_the_rest(
    dispatcher: Any, make_tracker: Callable, live_reminder: str
) -> None:
    record = decided()
    state = started_state(
        run(recheck_actions.ActionStartRecheck(), dispatcher, reminder_turn(make_tracker, live_reminder))
    )
    half = recheck.RecheckState.from_json(state)
    half, _ = recheck.answer(half, content.teachback_content(), "it blocks nerve signals", True)
    dispatcher.messages.clear()
    run(recheck_actions.ActionRecordRecheck(), dispatcher, answer_turn(make_tracker, "later", half.to_json(), "pause"))
    assert sent(dispatcher) == ["recheck_stopped"]
    (stored,) = recheck_store.for_record(record.id)
    assert [a.answer for a in stored.answers] == ["it blocks nerve signals", ""] and stored.missed == 1
    assert [flag.detail for flag in flags.open_flags()] == [f"point {POINTS[1].id}"]


# --- the session around it (actions/session.py) ------------------------------------------------


def test_a_session_started_by_the_reminder_does_not_say_welcome_back(dispatcher: Any, make_tracker: Callable) -> None:
    tracker = make_tracker(
        slots={"consent_stage": "understanding", "session_started_metadata": {REMINDER_KEY: "reminder:inv1"}}
    )
    events = run(session.ActionSessionStart(), dispatcher, tracker)
    assert sent(dispatcher) == []
    assert "session_started_metadata" not in [e.get("name") for e in events], "never carried into a later session"


def test_an_answer_the_next_morning_still_lands_in_the_re_check(dispatcher: Any, make_tracker: Callable) -> None:
    waiting = make_tracker(slots={"consent_stage": "decided", "recheck": {"reminder": "x"}}, active_loop="recheck_form")
    events = run(session.ActionSessionStart(), dispatcher, waiting)
    assert sent(dispatcher) == []
    tail = events[events.index({"event": "session_started", "timestamp": None}) :]
    assert {"event": "active_loop", "timestamp": None, "name": "recheck_form"} in tail
    assert {"event": "slot", "timestamp": None, "name": "requested_slot", "value": "recheck_answer"} in tail
    assert {"event": "slot", "timestamp": None, "name": "recheck", "value": {"reminder": "x"}} in tail
    assert tail[-1]["name"] == "action_listen"
    paused = run(session.ActionSessionStart(), dispatcher, make_tracker(slots={"recheck": {"reminder": "x"}}))
    assert not any(e["event"] == "active_loop" for e in paused), "a re-check ended by a pause is not reopened"
