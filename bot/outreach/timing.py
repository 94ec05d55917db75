"""When the assistant may text first: the reminder's time, the quiet hours, the local day.

The patient's local time is taken as the clinic's time zone (``content/clinic.yml``): the
invitation knows no address, and patients of one clinic live around it. A patient in
another zone may get a text up to their zone's difference outside 8 a.m.-9 p.m.; the
clinic can narrow the hours below if its patients spread over zones.
"""

from __future__ import annotations

import datetime as dt

from bot.content.clinic import Clinic

# 47 CFR 64.1200(c)(1): no call or text before 8 a.m. or after 9 p.m. the called party's local time.
QUIET_ENDS = dt.time(8, 0)  # the first minute a text may go out
QUIET_STARTS = dt.time(21, 0)  # the first minute none may
# A reminder goes out at least this long before the clinic closes, so a patient who answers can still call.
BEFORE_CLOSING = dt.timedelta(hours=1)
# How far back a reminder looks for an open day before the planned one (a week covers any opening hours).
MAX_STEPS_BACK = 7


def local_day(now: dt.datetime, clinic: Clinic) -> dt.date:
    """The calendar day at ``now`` in the clinic's time zone (the day the limits count)."""
    return now.astimezone(clinic.timezone).date()


def allowed(now: dt.datetime, clinic: Clinic) -> bool:
    """Whether a text the assistant starts may go out at ``now``: 8:00 <= local time < 21:00."""
    local = now.astimezone(clinic.timezone).time()
    return QUIET_ENDS <= local < QUIET_STARTS


def day_start(day: dt.date, clinic: Clinic) -> dt.datetime:
    """The first allowed moment of a local day (aware, clinic zone)."""
    return dt.datetime.combine(day, QUIET_ENDS, tzinfo=clinic.timezone)


def next_allowed(now: dt.datetime, clinic: Clinic) -> dt.datetime:
    """``now`` when a text may go out, else the next 8:00 local."""
    if allowed(now, clinic):
        return now
    local = now.astimezone(clinic.timezone)
    day = local.date() if local.time() < QUIET_ENDS else local.date() + dt.timedelta(days=1)
    return day_start(day, clinic)


def next_day_start(now: dt.datetime, clinic: Clinic) -> dt.datetime:
    """8:00 local on the day after ``now``: where a message held by the daily or weekly limit goes."""
    return day_start(local_day(now, clinic) + dt.timedelta(days=1), clinic)


def reminder_due(
    procedure_date: dt.date,
    clinic: Clinic,
    days_before: int = 2,
    local_time: dt.time = dt.time(10, 0),
) -> dt.datetime | None:
    """When the re-check reminder of a procedure is due (aware), or None when it has no day to go on.

    ``days_before`` days before the procedure at ``local_time`` clinic time, moved into that
    day's opening hours (within the quiet hours, and ``BEFORE_CLOSING`` before closing) so a
    patient with a question can call; a closed day steps back a day. Never on or after the
    procedure day: ``days_before`` 0 means no reminder.
    """
    if days_before < 1:
        return None
    day = procedure_date - dt.timedelta(days=days_before)
    for _ in range(MAX_STEPS_BACK):
        window = _window(day, clinic)
        if window is not None:
            start, end = window
            return dt.datetime.combine(day, min(max(local_time, start), end), tzinfo=clinic.timezone)
        day -= dt.timedelta(days=1)
    return None


def _window(day: dt.date, clinic: Clinic) -> tuple[dt.time, dt.time] | None:
    """The earliest and latest reminder times of a day: open, not quiet, an hour before closing; None if closed."""
    span = clinic.hours.get(day.weekday())
    if span is None:
        return None
    start = max(span[0], QUIET_ENDS)
    stop = min(span[1], QUIET_STARTS)
    if start >= stop:
        return None  # open only in the quiet hours
    latest = dt.datetime.combine(day, stop) - BEFORE_CLOSING
    # Open less than an hour inside the allowed hours: the opening minute.
    end = latest.time() if latest.date() == day and latest.time() >= start else start
    return start, end
