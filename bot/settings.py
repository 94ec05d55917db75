"""Clinic settings and environment: the one place code learns where things are.

Clinic facts come from a YAML file a clinic edits (``content/clinic.yml`` unless
``CLINIC_SETTINGS`` points elsewhere); secrets and deployment choices come from
environment variables. Nothing else in the project hard-codes either.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CONTENT_DIR = PROJECT_ROOT / "content"
VAR_DIR = PROJECT_ROOT / "var"

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class SettingsError(ValueError):
    """A settings file that cannot be used; the message names the file and the field."""


def load_yaml(path: Path) -> Any:
    """Read a YAML content file, naming the file in the error a clinic would see."""
    try:
        with path.open(encoding="utf-8") as handle:
            return yaml.safe_load(handle)
    except FileNotFoundError as error:
        raise SettingsError(f"{path}: file not found") from error
    except yaml.YAMLError as error:
        raise SettingsError(f"{path}: not valid YAML: {error}") from error


def _parse_time(value: str, where: str) -> dt.time:
    try:
        return dt.time.fromisoformat(value)
    except (TypeError, ValueError) as error:
        raise SettingsError(f"{where}: '{value}' is not a time like 08:30") from error


@dataclass(frozen=True)
class Clinic:
    """What the assistant says about the clinic: name, phone, hours."""

    name: str
    phone: str
    timezone: ZoneInfo
    hours: dict[int, tuple[dt.time, dt.time]]
    emergency_number: str = "911"
    crisis_line: str = "988"
    allowed_origins: tuple[str, ...] = field(default_factory=tuple)

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
        raise SettingsError("clinic hours: no opening day in the week")

    def hours_text(self) -> str:
        """Opening hours in short plain words, e.g. 'Mon-Thu 8am-5pm, Fri 8am-4pm'."""
        groups: list[tuple[list[int], tuple[dt.time, dt.time]]] = []
        for day in sorted(self.hours):
            span = self.hours[day]
            if groups and groups[-1][1] == span and groups[-1][0][-1] == day - 1:
                groups[-1][0].append(day)
            else:
                groups.append(([day], span))
        parts = []
        for days, (start, end) in groups:
            first, last = WEEKDAYS[days[0]][:3].title(), WEEKDAYS[days[-1]][:3].title()
            label = first if first == last else f"{first}-{last}"
            parts.append(f"{label} {clock(start)}-{clock(end)}")
        return ", ".join(parts)


def clock(value: dt.time) -> str:
    """A time as a patient reads it: 8am, 4:30pm."""
    hour = value.hour % 12 or 12
    suffix = "am" if value.hour < 12 else "pm"
    return f"{hour}{suffix}" if value.minute == 0 else f"{hour}:{value.minute:02d}{suffix}"


def parse_clinic(raw: dict[str, Any], source: str = "clinic settings") -> Clinic:
    """Check a clinic settings mapping and turn it into a ``Clinic``."""
    if not isinstance(raw, dict):
        raise SettingsError(f"{source}: expected a mapping of settings")
    for key in ("clinic_name", "phone", "timezone", "hours"):
        if not raw.get(key):
            raise SettingsError(f"{source}: '{key}' is missing")
    try:
        zone = ZoneInfo(str(raw["timezone"]))
    except Exception as error:  # zoneinfo raises several types for a bad key
        raise SettingsError(f"{source}: unknown timezone '{raw['timezone']}'") from error
    hours: dict[int, tuple[dt.time, dt.time]] = {}
    for day, span in dict(raw["hours"]).items():
        if str(day).lower() not in WEEKDAYS:
            raise SettingsError(f"{source}: hours: '{day}' is not a weekday name")
        if not isinstance(span, list) or len(span) != 2:
            raise SettingsError(f"{source}: hours: {day} needs [opening, closing]")
        start = _parse_time(span[0], f"{source}: hours: {day}")
        end = _parse_time(span[1], f"{source}: hours: {day}")
        if end <= start:
            raise SettingsError(f"{source}: hours: {day} closes before it opens")
        hours[WEEKDAYS.index(str(day).lower())] = (start, end)
    return Clinic(
        name=str(raw["clinic_name"]),
        phone=str(raw["phone"]),
        timezone=zone,
        hours=hours,
        emergency_number=str(raw.get("emergency_number", "911")),
        crisis_line=str(raw.get("crisis_line", "988")),
        allowed_origins=tuple(str(origin) for origin in raw.get("allowed_origins", [])),
    )


def settings_path() -> Path:
    """The clinic settings file: ``CLINIC_SETTINGS`` or ``content/clinic.yml``."""
    return Path(os.environ.get("CLINIC_SETTINGS", CONTENT_DIR / "clinic.yml"))


@lru_cache(maxsize=1)
def clinic() -> Clinic:
    """The clinic of this deployment, read once per process."""
    path = settings_path()
    return parse_clinic(load_yaml(path), str(path))


def database_url() -> str:
    """SQLAlchemy URL of the project's own tables (flags, consent, SMS state).

    ``DATABASE_URL`` selects PostgreSQL or another server; the default is an
    SQLite file under ``var/`` so one machine needs no set-up.
    """
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    VAR_DIR.mkdir(exist_ok=True)
    return f"sqlite:///{VAR_DIR / 'assistant.db'}"


def speedups_off() -> frozenset[str]:
    """Speed-ups named in ``SPEEDUPS_OFF`` (comma-separated) stay off (bot/rasa_speedups.py, bot/heap.py).

    For measuring what each one is worth (bench/variants/without-*), or ruling one out.
    """
    return frozenset(name.strip() for name in os.environ.get("SPEEDUPS_OFF", "").split(",") if name.strip())


def max_concurrent_messages() -> int:
    """``MAX_CONCURRENT_MESSAGES``: messages one Rasa server works on at a time (0: no limit; default 4)."""
    raw = os.environ.get("MAX_CONCURRENT_MESSAGES", "4").strip()
    if not raw.isdigit():
        raise SettingsError(f"MAX_CONCURRENT_MESSAGES must be a whole number, 0 for no limit, not {raw!r}")
    return int(raw)
