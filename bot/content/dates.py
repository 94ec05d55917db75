"""How a day or a time is said to a patient, in the language being composed in.

Day and month names and the shape of a time in Spanish come from CLDR through Babel, so no table of names is
kept here and the machine's locale never matters. English keeps the clinic's short style ("8am", "Mon 8am").
"""

from __future__ import annotations

import datetime as dt

from babel.dates import format_date, format_time, get_day_names

from bot.content import languages

# How each language says a day in a sentence ("on {date}", "el {date}"), in CLDR's patterns.
_SPOKEN_DATE = {languages.ENGLISH: "EEEE, MMMM d", languages.SPANISH: "EEEE d 'de' MMMM"}
# CLDR keeps "a. m." together with no-break spaces; an SMS (some carriers mangle them) and a screen reader
# read plain ones as well.
_PLAIN_SPACES = str.maketrans({"\u202f": " ", "\u00a0": " "})


def _language(language: str | None) -> str:
    return languages.supported(language) or languages.current()


def clock(value: dt.time, language: str | None = None) -> str:
    """A time as a patient reads it: 8am, 4:30pm; 8 a. m., 4:30 p. m."""
    code = _language(language)
    if code == languages.ENGLISH:
        hour = value.hour % 12 or 12
        suffix = "am" if value.hour < 12 else "pm"
        return f"{hour}{suffix}" if value.minute == 0 else f"{hour}:{value.minute:02d}{suffix}"
    spoken = str(format_time(value, "h a" if value.minute == 0 else "h:mm a", locale=code))
    return spoken.translate(_PLAIN_SPACES)


def time_range(start: dt.time, end: dt.time) -> str:
    """Opening hours of one day, short in every language: 8am-5pm (US Spanish reads it too).

    The hours sit inside the emergency replies, which must fit one SMS bubble; "8 a. m. a 5 p. m." does not.
    """
    return f"{clock(start, languages.ENGLISH)}-{clock(end, languages.ENGLISH)}"


def day_abbreviation(weekday: int, language: str | None = None) -> str:
    """Monday (0) to Sunday (6) in short: Mon, lun."""
    code = _language(language)
    return str(get_day_names("abbreviated", locale=code)[weekday])


def spoken_date(day: dt.date, language: str | None = None) -> str:
    """A date as a person says it: "Tuesday, March 10", "martes 10 de marzo"."""
    code = _language(language)
    return str(format_date(day, _SPOKEN_DATE[code], locale=code))


def spoken_opening(when: dt.datetime, language: str | None = None) -> str:
    """When staff come in, as the end of a sentence: "Monday at 8am", "el lunes a las 8 a. m."."""
    code = _language(language)
    time = clock(when.time(), code)
    if code == languages.ENGLISH:
        return f"{when:%A} at {time}"
    day = format_date(when.date(), "EEEE", locale=code)
    return f"el {day} a la {time}" if when.hour % 12 == 1 else f"el {day} a las {time}"
