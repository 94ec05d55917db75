"""The clinic's facts (``content/clinic.yml``): name, phone, opening hours, emergency numbers, own
instructions, web origins."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from bot.content.dates import day_abbreviation, time_range
from bot.content.files import ContentError, clinic_file, load_yaml

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# What a phone number a patient dials may hold besides its digits.
PHONE_SEPARATORS = frozenset(" +-().")
# The longest instruction a clinic may write: with its lead-in ("<clinic>'s own instructions:") it fits one bubble.
MAX_INSTRUCTION = 240
# Numbers a clinic may leave out: the United States' own.
DEFAULT_NUMBERS = {"emergency_number": "911", "crisis_line": "988", "poison_control": "1-800-222-1222"}


def _parse_time(value: str, where: str) -> dt.time:
    try:
        return dt.time.fromisoformat(value)
    except (TypeError, ValueError) as error:
        raise ContentError(f"{where}: '{value}' is not a time like 08:30") from error


@dataclass(frozen=True)
class Clinic:
    """What the assistant says about the clinic: name, phone, hours."""

    name: str
    phone: str
    timezone: ZoneInfo
    hours: dict[int, tuple[dt.time, dt.time]]
    emergency_number: str = DEFAULT_NUMBERS["emergency_number"]
    crisis_line: str = DEFAULT_NUMBERS["crisis_line"]
    poison_control: str = DEFAULT_NUMBERS["poison_control"]
    allowed_origins: tuple[str, ...] = field(default_factory=tuple)
    # The clinic's own instructions by name (what the information sheet does not cover); only those written.
    instructions: dict[str, str] = field(default_factory=dict)

    def is_open(self, now: dt.datetime) -> bool:
        """Whether staff are at work at ``now`` (an aware datetime)."""
        local = now.astimezone(self.timezone)
        span = self.hours.get(local.weekday())
        return span is not None and span[0] <= local.time() < span[1]

    def next_opening(self, now: dt.datetime) -> dt.datetime:
        """The next moment staff come in, so replies can say when a request is seen."""
        local = now.astimezone(self.timezone)
        for days_ahead in range(8):
            day = local.date() + dt.timedelta(days=days_ahead)
            span = self.hours.get(day.weekday())
            if span is None:
                continue
            opening = dt.datetime.combine(day, span[0], tzinfo=self.timezone)
            if opening > local:
                return opening
        raise ContentError("clinic hours: no opening day in the week")

    def hours_text(self, language: str = "en") -> str:
        """Opening hours in short plain words: 'Mon-Thu 8am-5pm, Fri 8am-4pm', 'lun-jue 8am-5pm, ...'."""
        groups: list[tuple[list[int], tuple[dt.time, dt.time]]] = []
        for day in sorted(self.hours):
            span = self.hours[day]
            if groups and groups[-1][1] == span and groups[-1][0][-1] == day - 1:
                groups[-1][0].append(day)
            else:
                groups.append(([day], span))
        parts = []
        for days, (start, end) in groups:
            first, last = day_abbreviation(days[0], language), day_abbreviation(days[-1], language)
            label = first if first == last else f"{first}-{last}"
            parts.append(f"{label} {time_range(start, end)}")
        return ", ".join(parts)


def _phone_number(raw: dict[str, Any], key: str, source: str) -> str:
    """The number under ``key`` (the country's default when left out), refused unless a patient can dial it."""
    value = raw[key] if key in raw else DEFAULT_NUMBERS.get(key)
    text = "" if value is None else str(value).strip()
    digits = sum(character.isdigit() for character in text)
    if digits < 3 or any(not character.isdigit() and character not in PHONE_SEPARATORS for character in text):
        raise ContentError(
            f"{source}: '{key}': '{text}' is not a phone number (digits, with spaces and + - ( ) . between them)"
        )
    return text


def parse_clinic(raw: dict[str, Any], source: str = "clinic settings") -> Clinic:
    """Check a clinic settings mapping and turn it into a ``Clinic``."""
    if not isinstance(raw, dict):
        raise ContentError(f"{source}: expected a mapping of settings")
    for key in ("clinic_name", "phone", "timezone", "hours"):
        if not raw.get(key):
            raise ContentError(f"{source}: '{key}' is missing")
    try:
        zone = ZoneInfo(str(raw["timezone"]))
    except Exception as error:  # zoneinfo raises several types for a bad key
        raise ContentError(f"{source}: unknown timezone '{raw['timezone']}'") from error
    hours: dict[int, tuple[dt.time, dt.time]] = {}
    for day, span in dict(raw["hours"]).items():
        if str(day).lower() not in WEEKDAYS:
            raise ContentError(f"{source}: hours: '{day}' is not a weekday name")
        if not isinstance(span, list) or len(span) != 2:
            raise ContentError(f"{source}: hours: {day} needs [opening, closing]")
        start = _parse_time(span[0], f"{source}: hours: {day}")
        end = _parse_time(span[1], f"{source}: hours: {day}")
        if end <= start:
            raise ContentError(f"{source}: hours: {day} closes before it opens")
        hours[WEEKDAYS.index(str(day).lower())] = (start, end)
    return Clinic(
        name=str(raw["clinic_name"]),
        phone=_phone_number(raw, "phone", source),
        timezone=zone,
        hours=hours,
        emergency_number=_phone_number(raw, "emergency_number", source),
        crisis_line=_phone_number(raw, "crisis_line", source),
        poison_control=_phone_number(raw, "poison_control", source),
        allowed_origins=tuple(str(origin) for origin in raw.get("allowed_origins", [])),
        instructions=_instructions(raw.get("instructions"), source),
    )


def _instructions(raw: Any, source: str) -> dict[str, str]:
    """The instructions the clinic wrote (empty ones left out), refused when not short plain texts."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ContentError(f"{source}: 'instructions' must map a name to a text")
    written = {}
    for name, text in raw.items():
        if text is not None and not isinstance(text, str):
            raise ContentError(f"{source}: instructions: '{name}' must be a text")
        text = (text or "").strip()
        if len(text) > MAX_INSTRUCTION:
            raise ContentError(f"{source}: instructions: '{name}' is longer than {MAX_INSTRUCTION} characters")
        if text:
            written[str(name)] = text
    return written


@lru_cache(maxsize=1)
def clinic() -> Clinic:
    """The clinic of this deployment, read once per process."""
    path = clinic_file()
    return parse_clinic(load_yaml(path), str(path))
