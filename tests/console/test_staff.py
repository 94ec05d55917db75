"""Staff accounts: Argon2id hashes, one-time passwords, lock-out, password rules."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from bot.console import staff
from bot.console.tables import STAFF
from tests.console.conftest import PASSWORD, Console


def test_a_new_account_has_a_one_time_password_hashed_with_argon2id(console: Console) -> None:
    made, one_time = staff.add("RN.Lee ", "nurse", console.url)
    assert made.name == "rn.lee" and made.must_change_password
    with sa.create_engine(console.url).connect() as connection:
        stored = connection.execute(sa.select(STAFF.c.password_hash)).scalar_one()
    assert stored.startswith("$argon2id$") and one_time not in stored
    assert staff.authenticate("rn.lee", one_time, console.url).staff == made


@pytest.mark.parametrize(
    ("name", "role"), [("x", "nurse"), ("has space", "nurse"), ("ok.name", "doctor"), ("Ö", "admin")]
)
def test_bad_names_and_roles_are_refused(console: Console, name: str, role: str) -> None:
    with pytest.raises(staff.StaffError):
        staff.add(name, role, console.url)


def test_names_are_unique(console: Console) -> None:
    staff.add("rn.lee", "nurse", console.url)
    with pytest.raises(staff.StaffError, match="already"):
        staff.add("RN.LEE", "admin", console.url)


def test_password_rules(console: Console) -> None:
    made, one_time = staff.add("rn.lee", "nurse", console.url)
    with pytest.raises(staff.StaffError, match="at least"):
        staff.change_password(made.id, one_time, "short", console.url)
    with pytest.raises(staff.StaffError, match="name"):
        staff.change_password(made.id, one_time, "my name is rn.lee ok", console.url)
    with pytest.raises(staff.StaffError, match="current"):
        staff.change_password(made.id, "not the one-time password", PASSWORD, console.url)
    staff.change_password(made.id, one_time, PASSWORD, console.url)
    assert staff.authenticate("rn.lee", one_time, console.url).staff is None
    signed = staff.authenticate("rn.lee", PASSWORD, console.url).staff
    assert signed is not None and not signed.must_change_password


def test_lock_out_and_its_end(console: Console, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONSOLE_MAX_FAILURES", "3")
    monkeypatch.setenv("CONSOLE_LOCK_MINUTES", "10")
    console.account("rn.lee")
    start = dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.timezone.utc)
    outcomes = [staff.authenticate("rn.lee", "wrong password", console.url, at=start) for _ in range(3)]
    assert [o.locked for o in outcomes] == [False, False, True]
    assert staff.authenticate("rn.lee", PASSWORD, console.url, at=start + dt.timedelta(minutes=9)).locked
    later = staff.authenticate("rn.lee", PASSWORD, console.url, at=start + dt.timedelta(minutes=11))
    assert later.staff is not None and later.staff.locked_until is None


def test_a_success_clears_the_count_of_failures(console: Console, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONSOLE_MAX_FAILURES", "3")
    console.account("rn.lee")
    for _ in range(2):
        staff.authenticate("rn.lee", "wrong password", console.url)
    assert staff.authenticate("rn.lee", PASSWORD, console.url).staff is not None
    for _ in range(2):
        assert not staff.authenticate("rn.lee", "wrong password", console.url).locked


def test_an_unknown_name_is_refused_like_a_wrong_password(console: Console) -> None:
    outcome = staff.authenticate("nobody", PASSWORD, console.url)
    assert outcome.staff is None and not outcome.locked
