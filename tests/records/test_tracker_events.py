"""Reading Rasa's tracker store as stored: where it is (endpoints.yml), the conversations, their events."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import settings
from bot.records import tracker_events
from tests.helpers.tracker import Script, write_events


def test_the_url_comes_from_the_endpoints_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRACKER_STORE_URL", raising=False)
    assert tracker_events.tracker_url() == f"sqlite:///{settings.PROJECT_ROOT / 'var' / 'tracker.db'}"
    deploy = settings.PROJECT_ROOT / "deploy" / "endpoints.yml"
    for name, value in {
        "TRACKER_DB_HOST": "db.clinic.internal",
        "TRACKER_DB_PORT": "5432",
        "TRACKER_DB_NAME": "tracker",
        "TRACKER_DB_USER": "rasa",
        "TRACKER_DB_PASSWORD": "s3cret",
    }.items():
        monkeypatch.setenv(name, value)
    assert tracker_events.tracker_url(deploy) == "postgresql://rasa:s3cret@db.clinic.internal:5432/tracker"
    monkeypatch.setenv("TRACKER_STORE_URL", "postgresql://reader@db/tracker")
    assert tracker_events.tracker_url(deploy) == "postgresql://reader@db/tracker"


def test_a_store_that_cannot_be_read_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRACKER_STORE_URL", raising=False)
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text("tracker_store:\n  type: mongod\n  url: mongodb://localhost:27017\n")
    with pytest.raises(tracker_events.TrackerStoreError, match="mongod"):
        tracker_events.tracker_url(endpoints)


def test_conversations_newest_first_and_their_events_in_order(database_url: str) -> None:
    older = Script(start=1_000_000.0).topic("how long does it take?", "ask_duration")
    newer = Script(start=2_000_000.0).topic("does it hurt?", "ask_pain_during").menu("menu")
    write_events(database_url, "conv-older", older.events)
    write_events(database_url, "conv-newer", newer.events)
    found = [c for c in tracker_events.conversations(database_url) if c.conversation_id.startswith("conv-")]
    assert [c.conversation_id for c in found] == ["conv-newer", "conv-older"]
    assert found[1].events == len(older.events) and found[1].first_at == pytest.approx(1_000_000.0, abs=60)
    events = tracker_events.events("conv-older", database_url)
    assert [e.data["event"] for e in events] == [e["event"] for e in older.events]
    assert [e.id for e in events] == sorted(e.id for e in events)
    assert [e.data.get("text") for e in events if e.type == "user"] == ["how long does it take?"]
    later = list(tracker_events.iter_events(database_url, since=1_500_000.0))
    assert {e.conversation_id for e in later if e.conversation_id.startswith("conv-")} == {"conv-newer"}


def test_a_store_rasa_has_not_created_yet_reads_as_empty(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    assert tracker_events.conversations(url) == []
    assert tracker_events.events("anyone", url) == []
