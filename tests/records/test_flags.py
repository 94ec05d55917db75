"""The care team's flag log, on SQLite and PostgreSQL: append-only, resolved by a new row."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from bot import cli, settings
from bot.content import languages
from bot.records import db, flags


def test_flags_are_added_listed_and_resolved_by_a_new_row(database_url: str) -> None:
    first = flags.add("conv-1", "rest", "emergency", "I can't breathe", "breathing", url=database_url)
    second = flags.add("conv-2", "sms", "callback", "call me please", url=database_url)
    assert [f.id for f in flags.open_flags(database_url)] == [first, second]
    resolution = flags.resolve(first, "RN Lee", "called 911 with patient", url=database_url)
    assert [f.id for f in flags.open_flags(database_url)] == [second]
    rows = flags.all_rows(database_url)
    assert [(r.id, r.status, r.resolves_id) for r in rows] == [
        (first, "open", None),
        (second, "open", None),
        (resolution, "resolved", first),
    ]
    original = rows[0]
    assert original.created_at.tzinfo is not None and original.message == "I can't breathe"
    assert original.conversation_id == "conv-1" and original.channel == "rest" and original.kind == "emergency"


def test_a_flag_is_resolved_once(database_url: str) -> None:
    flag = flags.add("conv-1", "rest", "medication", "can I stop warfarin", url=database_url)
    flags.resolve(flag, "RN Lee", url=database_url)
    with pytest.raises(LookupError, match="already resolved"):
        flags.resolve(flag, "RN Kim", url=database_url)
    with pytest.raises(LookupError):
        flags.resolve(9999, "RN Kim", url=database_url)


def test_one_flag_and_its_resolution_are_read_by_id(database_url: str) -> None:
    flag = flags.add("conv-1", "sms", "callback", "call me please", url=database_url)
    assert flags.get(flag, database_url) is not None and flags.resolution_of(flag, database_url) is None
    resolution = flags.resolve(flag, "RN Lee", "called back", url=database_url)
    found = flags.resolution_of(flag, database_url)
    assert found is not None and (found.id, found.actor, found.message) == (resolution, "RN Lee", "called back")
    assert flags.get(9999, database_url) is None


def test_open_flags_by_kind(database_url: str) -> None:
    flags.add("c", "rest", "emergency", "a", url=database_url)
    flags.add("c", "rest", "candidacy", "b", url=database_url)
    assert [f.kind for f in flags.open_flags(database_url, kind="candidacy")] == ["candidacy"]


def test_unknown_kind_is_refused(sqlite_url: str) -> None:
    with pytest.raises(ValueError, match="unknown flag kind"):
        flags.add("c", "rest", "gossip", "x", url=sqlite_url)


def test_the_command_prints_open_flags(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    flags.add("conv-9", "sms", "callback", "please call", url=sqlite_url)
    assert cli.main(["flags", "list"]) == 0
    out = capsys.readouterr().out
    assert "[callback] open conversation=conv-9 channel=sms" in out and "please call" in out
    assert cli.main(["flags", "resolve", "1", "--by", "RN Lee"]) == 0
    cli.main(["flags", "list"])
    assert "no flags" in capsys.readouterr().out


def test_the_table_has_no_update_path_in_code() -> None:
    """Append-only by construction: inserts and selects, and one update that only counts a repeat."""
    import inspect

    source = inspect.getsource(flags)
    assert source.count(".update(") == 1 and ".delete(" not in source
    assert ".values(count=FLAGS.c.count + 1, last_at=at)" in source
    assert isinstance(flags.FLAGS, sa.Table) and flags.FLAGS.metadata is db.METADATA


def test_first_writes_from_many_threads_create_the_tables_once(database_url: str) -> None:
    """The action server writes from worker threads; the first writes race to create the tables."""
    from concurrent.futures import ThreadPoolExecutor

    db._CREATED.clear()
    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = list(
            pool.map(lambda n: flags.add(f"conv-{n}", "rest", "callback", "call me", url=database_url), range(16))
        )
    assert sorted(ids) == sorted({*ids}) and len(flags.open_flags(database_url)) == 16


def test_a_callback_is_honest_about_when_staff_see_it() -> None:
    """Monday 8:00-17:00 here: asked on Sunday, the patient hears staff see it Monday at 8am."""
    from bot.content.clinic import parse_clinic

    clinic = parse_clinic(
        {"clinic_name": "Clinic", "phone": "555-0100", "timezone": "UTC", "hours": {"monday": ["08:00", "17:00"]}}
    )
    sunday = dt.datetime(2026, 11, 29, 12, tzinfo=dt.timezone.utc)
    monday_noon = dt.datetime(2026, 11, 30, 12, tzinfo=dt.timezone.utc)
    assert flags.callback_message(True, clinic, sunday) == ("callback_closed", {"next_opening": "Monday at 8am"})
    assert flags.callback_message(True, clinic, monday_noon) == ("callback_open", {})
    assert flags.callback_message(False, clinic, monday_noon) == ("callback_failed", {})
    with languages.use(languages.SPANISH):
        spanish = flags.callback_message(True, clinic, sunday)
    assert spanish == ("callback_closed", {"next_opening": "el lunes a las 8 a. m."})


# --- a flood of emergencies from one source (issue 14, finding 5) -----------------------------

ADDRESS = "203.0.113.9"


def emergency(url: str, conversation: str = "conv-1", detail: str = "breathing", address: str | None = ADDRESS) -> int:
    return flags.add(conversation, "rest", "emergency", "I can't breathe", detail, url=url, client_address=address)


def test_a_flood_of_emergencies_from_one_source_is_one_flag_with_a_count(database_url: str) -> None:
    ids = {emergency(database_url) for _ in range(30)}
    [flag] = flags.all_rows(database_url)
    assert ids == {flag.id} and flag.count == 30 and flag.status == "open"
    assert flag.last_at is not None and flag.last_at >= flag.created_at
    assert flag.source == flags.source_digest(ADDRESS) and ADDRESS not in str(flag), "the address is not kept"


def test_a_flood_arriving_at_once_is_still_one_flag(database_url: str) -> None:
    with ThreadPoolExecutor(max_workers=10) as pool:
        ids = set(pool.map(lambda _: emergency(database_url), range(30)))
    [flag] = flags.open_flags(database_url)
    assert ids == {flag.id} and flag.count == 30


def test_other_conversations_categories_and_addresses_get_their_own_flag(database_url: str) -> None:
    """One patient's emergency is never folded into another's, nor one category into another."""
    first = emergency(database_url)
    others = {
        emergency(database_url, conversation="conv-2"),
        emergency(database_url, detail="self_harm"),
        emergency(database_url, address="198.51.100.7"),
        emergency(database_url, address=None),
    }
    assert first not in others and len(others) == 4
    assert [f.count for f in flags.open_flags(database_url)] == [1, 1, 1, 1, 1]


def test_other_kinds_are_never_counted_together(database_url: str) -> None:
    """Two candidacy or medicine flags of one conversation are two different questions."""
    for text in ("takes a blood thinner: yes", "pregnant: maybe"):
        flags.add("conv-1", "rest", "candidacy", text, url=database_url, client_address=ADDRESS)
    assert [f.message for f in flags.open_flags(database_url)] == ["takes a blood thinner: yes", "pregnant: maybe"]


def test_a_repeat_after_the_window_or_a_resolution_is_a_new_flag(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    start = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.timezone.utc)
    monkeypatch.setattr(flags, "now", lambda: start)
    first = emergency(database_url)
    monkeypatch.setattr(flags, "now", lambda: start + dt.timedelta(seconds=599))
    assert emergency(database_url) == first, "within 10 minutes of the last one"
    monkeypatch.setattr(flags, "now", lambda: start + dt.timedelta(seconds=599 + 599))
    assert emergency(database_url) == first, "the window runs from the newest repeat"
    monkeypatch.setattr(flags, "now", lambda: start + dt.timedelta(seconds=599 + 599 + 601))
    later = emergency(database_url)
    assert later != first
    flags.resolve(later, "RN Lee", "called", url=database_url)
    assert emergency(database_url) not in (first, later), "a resolved flag counts nothing more"


def test_the_window_is_a_setting(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLAG_REPEAT_WINDOW_SECONDS", "0")
    assert emergency(database_url) != emergency(database_url)
    monkeypatch.setenv("FLAG_REPEAT_WINDOW_SECONDS", "soon")
    with pytest.raises(settings.SettingsError, match="FLAG_REPEAT_WINDOW_SECONDS"):
        emergency(database_url)


def test_the_command_shows_the_count(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    for _ in range(30):
        emergency(sqlite_url)
    flags.add("conv-9", "sms", "callback", "please call", url=sqlite_url)
    assert cli.main(["flags", "list"]) == 0
    first, _, _, second, _ = capsys.readouterr().out.splitlines()
    assert "[emergency] open x30 (30 messages, last " in first and " UTC) conversation=conv-1 channel=rest" in first
    assert "[callback] open conversation=conv-9" in second
