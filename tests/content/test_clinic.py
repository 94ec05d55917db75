"""Clinic settings: parsed, checked, and turned into what a patient is told."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.content import ContentError
from bot.content.clinic import clinic, parse_clinic
from bot.content.dates import clock

RAW = {
    "clinic_name": "Test Clinic",
    "phone": "555-0100",
    "timezone": "America/New_York",
    "hours": {"monday": ["08:00", "17:00"], "tuesday": ["08:00", "17:00"], "friday": ["09:30", "12:00"]},
}
UTC = dt.timezone.utc


def test_the_shipped_settings_file_is_valid() -> None:
    assert clinic().name and clinic().phone and clinic().hours


def test_hours_read_as_short_plain_text() -> None:
    assert parse_clinic(RAW).hours_text() == "Mon-Tue 8am-5pm, Fri 9:30am-12pm"
    assert parse_clinic(RAW).hours_text("es") == "lun-mar 8am-5pm, vie 9:30am-12pm"


def test_numbers_left_out_are_the_united_states_own() -> None:
    clinic_ = parse_clinic(RAW)
    assert (clinic_.emergency_number, clinic_.crisis_line, clinic_.poison_control) == ("911", "988", "1-800-222-1222")
    abroad = parse_clinic({**RAW, "emergency_number": 112, "poison_control": "+44 (0)20 7188 0600"})
    assert (abroad.emergency_number, abroad.poison_control) == ("112", "+44 (0)20 7188 0600")


def test_open_and_next_opening_use_the_clinic_time_zone() -> None:
    clinic_ = parse_clinic(RAW)
    monday_noon_new_york = dt.datetime(2026, 11, 23, 17, 0, tzinfo=UTC)
    assert clinic_.is_open(monday_noon_new_york)
    tuesday_night = dt.datetime(2026, 11, 25, 3, 0, tzinfo=UTC)  # Tuesday 10pm in New York
    assert not clinic_.is_open(tuesday_night)
    opening = clinic_.next_opening(tuesday_night)
    assert (opening.strftime("%A"), clock(opening.time())) == ("Friday", "9:30am")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"phone": ""}, "'phone' is missing"),
        ({"timezone": "Mars/Olympus"}, "unknown timezone"),
        ({"hours": {"funday": ["08:00", "17:00"]}}, "not a weekday"),
        ({"hours": {"monday": ["17:00", "08:00"]}}, "closes before it opens"),
        ({"hours": {"monday": ["eight", "17:00"]}}, "not a time"),
        ({"phone": "call us"}, "'phone': 'call us' is not a phone number"),
        ({"emergency_number": None}, "'emergency_number': '' is not a phone number"),
        ({"crisis_line": "98"}, "'crisis_line': '98' is not a phone number"),
        ({"poison_control": "1-800-POISON"}, "'poison_control': '1-800-POISON' is not a phone number"),
    ],
)
def test_bad_settings_say_what_is_wrong(change: dict, message: str) -> None:
    with pytest.raises(ContentError, match=message):
        parse_clinic({**RAW, **change}, "clinic.yml")


def test_only_the_instructions_a_clinic_wrote_are_kept() -> None:
    facts = parse_clinic({**RAW, "instructions": {"fasting": "  Eat lightly.  ", "driving": "", "companion": None}})
    assert facts.instructions == {"fasting": "Eat lightly."}
    assert parse_clinic(RAW).instructions == {}
