"""Sign-in sessions: kept on the server, ended by sign-out and by the idle time-out; CSRF tokens bound to them."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from bot.console import sessions, staff
from bot.console.tables import SESSIONS
from tests.console.conftest import Console

START = dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.timezone.utc)


def _account(console: Console) -> int:
    made, _ = staff.add("rn.lee", "nurse", console.url)
    return made.id


def test_the_database_keeps_only_a_hash_of_the_token(console: Console) -> None:
    token = sessions.start(_account(console), console.url, at=START)
    with sa.create_engine(console.url).connect() as connection:
        stored = connection.execute(sa.select(SESSIONS.c.token_hash)).scalar_one()
    assert token not in stored and len(stored) == 64
    found = sessions.find(token, console.url, at=START)
    assert found is not None and found.staff.name == "rn.lee"
    assert sessions.find("forged-token", console.url, at=START) is None
    assert sessions.find(None, console.url) is None


def test_idle_time_out_ends_the_session_for_good(console: Console, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONSOLE_IDLE_MINUTES", "15")
    token = sessions.start(_account(console), console.url, at=START)
    assert sessions.find(token, console.url, at=START + dt.timedelta(minutes=14)) is not None
    # in use at 14 min: the clock starts again
    assert sessions.find(token, console.url, at=START + dt.timedelta(minutes=28)) is not None
    assert sessions.find(token, console.url, at=START + dt.timedelta(minutes=44)) is None
    assert sessions.find(token, console.url, at=START + dt.timedelta(minutes=45)) is None


def test_a_polling_page_does_not_keep_the_session_alive(console: Console, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONSOLE_IDLE_MINUTES", "15")
    token = sessions.start(_account(console), console.url, at=START)
    for minute in range(1, 15):
        assert sessions.find(token, console.url, at=START + dt.timedelta(minutes=minute), touch=False)
    assert sessions.find(token, console.url, at=START + dt.timedelta(minutes=16), touch=False) is None


def test_sign_out_and_password_change_end_sessions(console: Console) -> None:
    staff_id = _account(console)
    first, second = sessions.start(staff_id, console.url), sessions.start(staff_id, console.url)
    sessions.end(first, console.url)
    assert sessions.find(first, console.url) is None and sessions.find(second, console.url) is not None
    sessions.end_all(staff_id, console.url)
    assert sessions.find(second, console.url) is None


def test_csrf_tokens_belong_to_one_session_and_one_key() -> None:
    key = b"k" * 32
    token = sessions.csrf_token("session-a", key)
    assert sessions.csrf_ok("session-a", token, key)
    assert not sessions.csrf_ok("session-b", token, key)
    assert not sessions.csrf_ok("session-a", token, b"other key" * 4)
    assert not sessions.csrf_ok("session-a", "", key)
