"""When a reminder is due and when the assistant may text first (bot/outreach/timing.py)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from bot import content
from bot.content.clinic import Clinic
from bot.outreach import timing

UTC = dt.timezone.utc


def clinic() -> Clinic:
    """The shipped clinic: New York, Mon-Thu 8-17, Fri 8-16, closed at weekends."""
    shipped = content.clinic()
    assert str(shipped.timezone) == "America/New_York" and 5 not in shipped.hours and 6 not in shipped.hours
    return shipped


def local(day: str, clock: str, where: Clinic | None = None) -> dt.datetime:
    zone = (where or clinic()).timezone
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time.fromisoformat(clock), tzinfo=zone)


def test_two_days_before_at_ten_on_a_weekday() -> None:
    assert timing.reminder_due(dt.date(2030, 3, 6), clinic()) == local("2030-03-04", "10:00")  # Wed -> Mon


def test_a_weekend_steps_back_to_the_last_open_day() -> None:
    # Monday's procedure: two days before is Saturday (closed), then Friday.
    assert timing.reminder_due(dt.date(2030, 3, 11), clinic()) == local("2030-03-08", "10:00")


def test_the_time_is_moved_into_that_days_opening_hours() -> None:
    afternoon = dataclasses.replace(clinic(), hours={1: (dt.time(13, 0), dt.time(17, 0))})  # Tuesdays 1-5pm
    tuesday = dt.date(2030, 3, 5)
    procedure = tuesday + dt.timedelta(days=2)
    assert timing.reminder_due(procedure, afternoon) == local("2030-03-05", "13:00", afternoon)
    # An hour before closing at the latest, so a patient who answers can still call.
    late = timing.reminder_due(procedure, afternoon, local_time=dt.time(20, 0))
    assert late == local("2030-03-05", "16:00", afternoon)
    # Opening before 8 a.m. does not let a reminder out before the quiet hours end.
    early = dataclasses.replace(clinic(), hours={1: (dt.time(6, 0), dt.time(17, 0))})
    assert timing.reminder_due(procedure, early, local_time=dt.time(6, 30)) == local("2030-03-05", "08:00", early)


def test_a_clinic_open_one_day_a_week_gets_that_day_and_never_the_procedure_day() -> None:
    mondays = dataclasses.replace(clinic(), hours={0: (dt.time(9, 0), dt.time(17, 0))})
    monday = dt.date(2030, 3, 11)
    assert timing.reminder_due(monday, mondays, days_before=1) == local("2030-03-04", "10:00", mondays)
    due = timing.reminder_due(monday + dt.timedelta(days=1), mondays, days_before=1)
    assert due == local("2030-03-11", "10:00", mondays)
    assert timing.reminder_due(monday, mondays, days_before=0) is None


def test_daylight_saving_time_keeps_the_local_clock() -> None:
    before = timing.reminder_due(dt.date(2030, 3, 12), clinic())  # Fri 8 March, EST
    after = timing.reminder_due(dt.date(2030, 3, 13), clinic())  # Mon 11 March, EDT (DST began 10 March)
    assert before is not None and after is not None
    assert before.astimezone(UTC).hour == 15 and after.astimezone(UTC).hour == 14
    saturday_night = local("2030-03-09", "21:30")
    assert timing.next_allowed(saturday_night, clinic()).astimezone(UTC) == dt.datetime(2030, 3, 10, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("clock", "allowed"),
    [("07:59", False), ("08:00", True), ("12:00", True), ("20:59", True), ("21:00", False), ("23:30", False)],
)
def test_quiet_hours(clock: str, allowed: bool) -> None:
    assert timing.allowed(local("2030-03-06", clock), clinic()) is allowed


def test_next_allowed_moment() -> None:
    noon = local("2030-03-06", "12:00")
    assert timing.next_allowed(noon, clinic()) == noon
    assert timing.next_allowed(local("2030-03-06", "07:00"), clinic()) == local("2030-03-06", "08:00")
    assert timing.next_allowed(local("2030-03-06", "21:00"), clinic()) == local("2030-03-07", "08:00")
    assert timing.next_day_start(noon, clinic()) == local("2030-03-07", "08:00")


def test_the_local_day_is_the_clinics() -> None:
    # 02:00 UTC on the 7th is still the evening of the 6th in New York.
    assert timing.local_day(dt.datetime(2030, 3, 7, 2, tzinfo=UTC), clinic()) == dt.date(2030, 3, 6)
