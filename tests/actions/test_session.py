"""Session start: the clinic's facts into slots, and an offer to resume paused consent steps (actions/session.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from actions import session
from bot import content
from tests.helpers.actions import run, sent


def test_session_start_sets_clinic_facts_and_offers_to_resume(dispatcher: Any, make_tracker: Callable) -> None:
    events = run(session.ActionSessionStart(), dispatcher, make_tracker(slots={"consent_stage": "understanding"}))
    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    assert slots["clinic_phone"] == content.clinic().phone and slots["consent_stage"] == "understanding"
    assert sent(dispatcher) == ["welcome_back"]
    assert [b["payload"] for b in dispatcher.messages[0]["buttons"]] == ["/resume", "/pause"]


def test_a_session_without_paused_steps_starts_quietly(dispatcher: Any, make_tracker: Callable) -> None:
    events = run(session.ActionSessionStart(), dispatcher, make_tracker(slots={"consent_stage": "decided"}))
    assert sent(dispatcher) == [] and events[0]["event"] == "session_started"
