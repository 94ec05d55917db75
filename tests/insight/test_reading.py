"""Conversations read whole from the tracker store in one pass, even when their events are interleaved."""

from __future__ import annotations

import json

import sqlalchemy as sa

from bot.insight.reading import conversations_since
from bot.records import milestones as ms
from bot.records.tracker_events import EVENTS
from tests.helpers.tracker import Script, drop_events_table, write_events

START = 1_790_000_000.0


def interleaved(url: str, scripts: dict[str, Script]) -> None:
    """Store the conversations as patients talking at once do: rows in time order, not one after another."""
    drop_events_table(url)
    write_events(url, "creates-the-table", Script(START).events)
    rows = [
        {
            "sender_id": conversation_id,
            "type_name": event["event"],
            "timestamp": event["timestamp"],
            "intent_name": None,
            "action_name": None,
            "data": json.dumps(event),
        }
        for conversation_id, script in scripts.items()
        for event in script.events
    ]
    engine = sa.create_engine(url, future=True)
    try:
        with engine.begin() as connection:
            connection.execute(EVENTS.delete())
            connection.execute(EVENTS.insert(), sorted(rows, key=lambda row: row["timestamp"]))
    finally:
        engine.dispose()


def test_each_conversation_whole_and_only_those_active_since(database_url: str) -> None:
    scripts = {
        "a": Script(START, gap=7).topic("how long?", "ask_duration").topic("is it safe?", "ask_safety"),
        "b": Script(START + 3, gap=5).start_consent().answer("Pain", "pain", how="button"),
        "quiet": Script(START - 5000).topic("what is it?", "ask_what_is"),
    }
    interleaved(database_url, scripts)
    found = {steps.conversation_id: steps for steps in conversations_since(START - 1, database_url)}
    assert sorted(found) == ["a", "b"]
    for conversation_id, steps in found.items():
        events = scripts[conversation_id].events
        assert (steps.first_at, steps.last_at) == (events[0]["timestamp"], events[-1]["timestamp"])
        assert steps.milestones == tuple(ms.milestones(events))
    assert [m.topic for m in found["a"].milestones if m.kind == ms.TOPIC_ASKED] == ["ask_duration", "ask_safety"]
    assert [m.question_id for m in found["b"].milestones if m.kind == ms.CANDIDACY_ANSWER] == ["purpose"]
    assert len(list(conversations_since(START - 10_000, database_url))) == 3


def test_nothing_before_rasa_creates_its_table(database_url: str) -> None:
    drop_events_table(database_url)
    assert list(conversations_since(0.0, database_url)) == []
