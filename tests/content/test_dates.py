"""Days and times as a patient reads them, in each language, whatever the machine's locale."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.content import languages
from bot.content.dates import clock, day_abbreviation, spoken_date, spoken_opening, time_range


def test_the_spoken_date_does_not_depend_on_the_locale() -> None:
    assert spoken_date(dt.date(2026, 3, 10)) == "Tuesday, March 10"
    assert spoken_date(dt.date(2026, 3, 10), languages.SPANISH) == "martes 10 de marzo"


def test_the_language_composed_in_is_the_default() -> None:
    with languages.use(languages.SPANISH):
        assert spoken_date(dt.date(2026, 3, 10)) == "martes 10 de marzo"
        assert clock(dt.time(8)) == "8 a. m."


@pytest.mark.parametrize(
    ("time", "english", "spanish"),
    [(dt.time(8), "8am", "8 a. m."), (dt.time(16, 30), "4:30pm", "4:30 p. m."), (dt.time(12), "12pm", "12 p. m.")],
)
def test_a_time_in_each_language_with_plain_spaces(time: dt.time, english: str, spanish: str) -> None:
    assert clock(time, languages.ENGLISH) == english
    assert clock(time, languages.SPANISH) == spanish


def test_opening_hours_of_a_day_and_short_day_names() -> None:
    with languages.use(languages.SPANISH):
        assert time_range(dt.time(8), dt.time(17)) == "8am-5pm"  # short enough for an emergency reply
    assert [day_abbreviation(day, languages.ENGLISH) for day in (0, 6)] == ["Mon", "Sun"]
    assert [day_abbreviation(day, languages.SPANISH) for day in (0, 2, 5)] == ["lun", "mié", "sáb"]


def test_when_staff_come_in_as_the_end_of_a_sentence() -> None:
    monday_eight = dt.datetime(2026, 12, 7, 8, 0)
    assert spoken_opening(monday_eight, languages.ENGLISH) == "Monday at 8am"
    assert spoken_opening(monday_eight, languages.SPANISH) == "el lunes a las 8 a. m."
    assert spoken_opening(dt.datetime(2026, 12, 7, 13, 30), languages.SPANISH) == "el lunes a la 1:30 p. m."
