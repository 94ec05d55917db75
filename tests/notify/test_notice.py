"""What a notice says: kind, id, time on the clinic's clock, open or closed, the console link; nothing else."""

from __future__ import annotations

import datetime as dt
import json

from bot.content.clinic import parse_clinic
from bot.notify.notice import build

CLINIC = parse_clinic(
    {
        "clinic_name": "Clinic",
        "phone": "555-0100",
        "timezone": "America/New_York",
        "hours": {"monday": ["08:00", "17:00"]},
    }
)
MONDAY_NOON_NEW_YORK = dt.datetime(2026, 11, 30, 17, 0, tzinfo=dt.timezone.utc)
SUNDAY = dt.datetime(2026, 11, 29, 17, 0, tzinfo=dt.timezone.utc)


def test_an_emergency_while_the_clinic_is_closed() -> None:
    notice = build(12, "emergency", SUNDAY, "https://console.example", CLINIC)
    assert notice.clinic_open is False and notice.link == "https://console.example/flags/12"
    assert notice.subject() == "EMERGENCY flag #12 is waiting"
    assert notice.text() == (
        "EMERGENCY flag #12 is waiting (came in Sun 29 Nov 12:00 EST, clinic CLOSED now). "
        "Sign in to see it: https://console.example/flags/12"
    )
    assert notice.text().isascii() and len(notice.text()) < 160, "one plain SMS segment"


def test_a_callback_while_open_and_its_json() -> None:
    notice = build(3, "callback", MONDAY_NOON_NEW_YORK, "http://localhost:5080", CLINIC)
    assert notice.clinic_open is True and notice.subject() == "Callback request flag #3 is waiting"
    assert json.loads(notice.body()) == {
        "kind": "callback",
        "flag_id": 3,
        "created_at": "2026-11-30T17:00:00+00:00",
        "clinic_open": True,
        "link": "http://localhost:5080/flags/3",
    }


def test_without_the_clinics_facts_the_hours_are_unknown_and_the_time_utc() -> None:
    naive = dt.datetime(2026, 11, 29, 17, 0)  # as SQLite gives it back: UTC without a zone
    notice = build(5, "emergency", naive, "http://c", None)
    assert notice.clinic_open is None and "17:00 UTC" in notice.text() and "hours unknown" in notice.text()
    assert json.loads(notice.body())["clinic_open"] is None
