"""Where things are and what the environment says: paths, the database URL, speed-up switches.

Secrets and deployment choices come from environment variables, read here; clinic facts
and every text a patient can read come from ``content/`` (``bot.content``).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CONTENT_DIR = PROJECT_ROOT / "content"
VAR_DIR = PROJECT_ROOT / "var"


class SettingsError(ValueError):
    """An environment setting that cannot be used; the message names the variable."""


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


def tracker_store_url() -> str | None:
    """``TRACKER_STORE_URL``: where the console reads conversations, if not endpoints.yml's tracker store."""
    return os.environ.get("TRACKER_STORE_URL") or None


def speedups_off() -> frozenset[str]:
    """Speed-ups named in ``SPEEDUPS_OFF`` (comma-separated) stay off (bot/rasa/speedups/, bot/rasa/heap.py).

    For measuring what each one is worth (bench/variants/without-*), or ruling one out.
    """
    return frozenset(name.strip() for name in os.environ.get("SPEEDUPS_OFF", "").split(",") if name.strip())


def max_concurrent_messages() -> int:
    """``MAX_CONCURRENT_MESSAGES``: messages one Rasa server works on at a time (0: no limit; default 4)."""
    raw = os.environ.get("MAX_CONCURRENT_MESSAGES", "4").strip()
    if not raw.isdigit():
        raise SettingsError(f"MAX_CONCURRENT_MESSAGES must be a whole number, 0 for no limit, not {raw!r}")
    return int(raw)


ACTION_SERVER_TIMEOUT_ENV = "ACTION_SERVER_TIMEOUT"
MAX_ACTION_SERVER_TIMEOUT = 10.0


def action_server_timeout() -> float:
    """``ACTION_SERVER_TIMEOUT``: seconds the Rasa server waits for one call to the action server (default 3).

    Rasa's own wait is 300 s; a patient must hear back within 5 s and Twilio gives up after 15 s,
    so a hung action server is given up on after this (bot/rasa/resilience.py).
    """
    raw = os.environ.get(ACTION_SERVER_TIMEOUT_ENV, "3").strip()
    try:
        seconds = float(raw)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds <= MAX_ACTION_SERVER_TIMEOUT:
        raise SettingsError(
            f"{ACTION_SERVER_TIMEOUT_ENV} must be a number of seconds above 0 and at most "
            f"{MAX_ACTION_SERVER_TIMEOUT:g}, not {raw!r}"
        )
    return seconds


def max_request_bytes() -> int:
    """``MAX_REQUEST_BYTES``: the largest request body the Rasa server reads (default 64 KB).

    Larger bodies get 413 before anything parses them (bot/rasa/body_limit.py), so one huge
    message can neither stall other patients nor land whole in the log.
    """
    raw = os.environ.get("MAX_REQUEST_BYTES", str(DEFAULT_MAX_REQUEST_BYTES)).strip()
    if not raw.isdigit() or int(raw) < 1024:
        raise SettingsError(f"MAX_REQUEST_BYTES must be a whole number of bytes, at least 1024, not {raw!r}")
    return int(raw)


DEFAULT_MAX_REQUEST_BYTES = 64 * 1024

# --- production mode -------------------------------------------------------------------------

ENVIRONMENT_ENV = "ASSISTANT_ENV"
PRODUCTION = "production"
MIN_SECRET_CHARS = 32


def is_production(env: Mapping[str, str] | None = None) -> bool:
    """``ASSISTANT_ENV=production``: every secret must be set, and none may be a development stand-in."""
    return (os.environ if env is None else env).get(ENVIRONMENT_ENV, "").strip().lower() == PRODUCTION


# Words of the stand-ins in deploy/env.example and the development defaults: a value containing one
# was copied, not generated.
_PLACEHOLDER_WORDS = ("change-me", "changeme", "insecure")


def _is_placeholder(value: str) -> bool:
    lowered = value.lower()
    return any(word in lowered for word in _PLACEHOLDER_WORDS)


def secret(name: str, development_value: str | None = None, env: Mapping[str, str] | None = None) -> str | None:
    """The secret in environment variable ``name``; in development, ``development_value`` when unset.

    In production mode a missing secret, the development value or one shorter than
    ``MIN_SECRET_CHARS`` stops the server at start (``SettingsError`` names the variable), so
    nobody goes live on a stand-in. Callers log loudly when they run on the development value.
    """
    raw = ((os.environ if env is None else env).get(name) or "").strip()
    if is_production(env):
        if not raw:
            raise SettingsError(
                f"{name} is not set; {ENVIRONMENT_ENV}={PRODUCTION} needs every secret (docs/security.md)"
            )
        if raw == development_value or len(raw) < MIN_SECRET_CHARS or _is_placeholder(raw):
            raise SettingsError(
                f"{name} is a development value, a placeholder or shorter than {MIN_SECRET_CHARS} characters; "
                f"{ENVIRONMENT_ENV}={PRODUCTION} needs a real secret (docs/security.md)"
            )
        return raw
    return raw or development_value


# --- consent records and the flag log ---------------------------------------------------------


def consent_checkpoint_file() -> Path | None:
    """``CONSENT_CHECKPOINT_FILE``: the append-only file of consent chain heads (bot/records/checkpoint.py).

    None when unset: the default then follows the database (next to an SQLite file, else ``var/``).
    """
    raw = os.environ.get("CONSENT_CHECKPOINT_FILE", "").strip()
    return Path(raw) if raw else None


def consent_checkpoint_mail() -> tuple[str, str] | None:
    """``CONSENT_CHECKPOINT_MAIL_TO`` (the care team's address) and ``CONSENT_CHECKPOINT_SMTP`` (host:port, default
    localhost:25, a relay that takes mail from this machine): each consent append is also mailed there. None: no mail.
    """
    to = os.environ.get("CONSENT_CHECKPOINT_MAIL_TO", "").strip()
    if not to:
        return None
    return to, os.environ.get("CONSENT_CHECKPOINT_SMTP", "").strip() or "localhost:25"


def flag_repeat_window_seconds() -> float:
    """``FLAG_REPEAT_WINDOW_SECONDS`` (default 600): a repeated emergency within it counts on the open flag."""
    raw = os.environ.get("FLAG_REPEAT_WINDOW_SECONDS", "600").strip()
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value < 0:
        raise SettingsError(f"FLAG_REPEAT_WINDOW_SECONDS must be a number of seconds, 0 to never merge, not {raw!r}")
    return value


PUBLIC_URL_ENV = "PUBLIC_BASE_URL"
COPY_LINK_HOURS_ENV = "PATIENT_COPY_HOURS"
MAX_COPY_LINK_HOURS = 24 * 30


def public_base_url(env: Mapping[str, str] | None = None) -> str:
    """``PUBLIC_BASE_URL``: where patients reach the Rasa server, for links sent to them (default the local one).

    In production mode it must be an https address: the link to a patient's copy carries their record.
    """
    env = os.environ if env is None else env
    url = (env.get(PUBLIC_URL_ENV) or "http://localhost:5005").strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise SettingsError(f"{PUBLIC_URL_ENV} must start with https:// (or http:// on this machine), not {url!r}")
    if is_production(env) and not url.startswith("https://"):
        raise SettingsError(f"{PUBLIC_URL_ENV} must be an https:// address in production, not {url!r}")
    return url


def copy_link_hours(env: Mapping[str, str] | None = None) -> int:
    """``PATIENT_COPY_HOURS``: how long the link to a patient's own copy of their record works (default 72)."""
    env = os.environ if env is None else env
    raw = (env.get(COPY_LINK_HOURS_ENV) or "72").strip()
    if not raw.isdigit() or not 0 < int(raw) <= MAX_COPY_LINK_HOURS:
        raise SettingsError(f"{COPY_LINK_HOURS_ENV} must be whole hours from 1 to {MAX_COPY_LINK_HOURS}, not {raw!r}")
    return int(raw)


# --- the care-team console (bot/console/) -------------------------------------------------------

CONSOLE_URL_ENV = "CONSOLE_PUBLIC_URL"
CONSOLE_SECRET_ENV = "CONSOLE_SECRET_KEY"
DEFAULT_CONSOLE_PORT = 5080


def console_public_url(env: Mapping[str, str] | None = None) -> str:
    """``CONSOLE_PUBLIC_URL``: where staff reach the console, for links in on-call notices (default the local one).

    In production mode it must be an https address: the console serves patient data.
    """
    env = os.environ if env is None else env
    url = (env.get(CONSOLE_URL_ENV) or f"http://localhost:{DEFAULT_CONSOLE_PORT}").strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise SettingsError(f"{CONSOLE_URL_ENV} must start with https:// (or http:// on this machine), not {url!r}")
    if is_production(env) and not url.startswith("https://"):
        raise SettingsError(f"{CONSOLE_URL_ENV} must be an https:// address in production, not {url!r}")
    return url


def _whole_number(name: str, default: int, low: int, high: int, env: Mapping[str, str] | None = None) -> int:
    """A whole-number setting within [low, high]; ``SettingsError`` names the variable otherwise."""
    raw = ((os.environ if env is None else env).get(name) or str(default)).strip()
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise SettingsError(f"{name} must be a whole number from {low} to {high}, not {raw!r}")
    return int(raw)


def console_idle_minutes(env: Mapping[str, str] | None = None) -> int:
    """``CONSOLE_IDLE_MINUTES`` (default 15): a staff session unused this long is signed out."""
    return _whole_number("CONSOLE_IDLE_MINUTES", 15, 1, 12 * 60, env)


def console_lockout(env: Mapping[str, str] | None = None) -> tuple[int, int]:
    """``CONSOLE_MAX_FAILURES`` (5) wrong passwords in a row lock an account for ``CONSOLE_LOCK_MINUTES`` (15)."""
    return _whole_number("CONSOLE_MAX_FAILURES", 5, 1, 100, env), _whole_number(
        "CONSOLE_LOCK_MINUTES", 15, 1, 24 * 60, env
    )


# --- invitations (bot/invitations/) --------------------------------------------------------------

INVITE_LINK_DAYS_ENV = "INVITE_LINK_DAYS"
INVITE_REQUIRE_DOB_ENV = "INVITE_REQUIRE_DOB"
_TRUE_WORDS = ("1", "true", "yes", "on")
_FALSE_WORDS = ("", "0", "false", "no", "off")


def _on_off(name: str, default: bool, env: Mapping[str, str] | None = None) -> bool:
    """A switch: 1/true/yes/on or 0/false/no/off; unset means ``default``, anything else is a clear error."""
    raw = ((os.environ if env is None else env).get(name) or "").strip().lower()
    if not raw:
        return default
    if raw not in _TRUE_WORDS + _FALSE_WORDS:
        raise SettingsError(f"{name} must be 1 or 0 (on or off), not {raw!r}")
    return raw in _TRUE_WORDS


def invite_link_days(env: Mapping[str, str] | None = None) -> int:
    """``INVITE_LINK_DAYS`` (default 14): how long an invitation link works (never past the day after the procedure)."""
    return _whole_number(INVITE_LINK_DAYS_ENV, 14, 1, 90, env)


def invite_require_dob(env: Mapping[str, str] | None = None) -> bool:
    """``INVITE_REQUIRE_DOB`` (default off): every invitation needs the patient's date of birth before the chat opens.

    The link alone proves only that someone can read the patient's texts; the date of birth is a
    second thing a forwarded link or a lock-screen preview does not give away.
    """
    return _on_off(INVITE_REQUIRE_DOB_ENV, False, env)


def invite_browser_hours(env: Mapping[str, str] | None = None) -> int:
    """``INVITE_BROWSER_HOURS`` (default 12): how long a browser that passed the date of birth stays let in."""
    return _whole_number("INVITE_BROWSER_HOURS", 12, 1, 24 * 7, env)


def invite_dob_attempts(env: Mapping[str, str] | None = None) -> int:
    """``INVITE_DOB_ATTEMPTS`` (default 5): wrong dates of birth that lock an invitation until staff re-invite."""
    return _whole_number("INVITE_DOB_ATTEMPTS", 5, 1, 20, env)


# --- messages the assistant starts itself (bot/outreach/) ----------------------------------------

OUTREACH_ENABLED_ENV = "OUTREACH_ENABLED"
PATIENT_COPY_SMS_ENV = "PATIENT_COPY_SMS"


def outreach_enabled(env: Mapping[str, str] | None = None) -> bool:
    """``OUTREACH_ENABLED`` (default on): this server sends due reminders and copies (the SMS channel's scheduler).

    Off on a server that must never text first; any number of servers may have it on (each message is claimed once).
    """
    return _on_off(OUTREACH_ENABLED_ENV, True, env)


def reminder_days_before(env: Mapping[str, str] | None = None) -> int:
    """``REMINDER_DAYS_BEFORE`` (default 2): the re-check reminder goes this many days before the procedure; 0: none."""
    return _whole_number("REMINDER_DAYS_BEFORE", 2, 0, 14, env)


def reminder_local_time(env: Mapping[str, str] | None = None) -> dt.time:
    """``REMINDER_LOCAL_TIME`` (default 10:00, clinic time): moved into the clinic's opening hours that day."""
    raw = ((os.environ if env is None else env).get("REMINDER_LOCAL_TIME") or "10:00").strip()
    try:
        value = dt.time.fromisoformat(raw)
    except ValueError:
        value = None
    if value is None or len(raw) != len("10:00"):
        raise SettingsError(f"REMINDER_LOCAL_TIME must be a time like 10:00 (24-hour clock), not {raw!r}")
    return value


def outreach_check_seconds(env: Mapping[str, str] | None = None) -> int:
    """``OUTREACH_CHECK_SECONDS`` (default 60): how often a server looks for reminders and copies that are due."""
    return _whole_number("OUTREACH_CHECK_SECONDS", 60, 5, 3600, env)


def patient_copy_sms(env: Mapping[str, str] | None = None) -> bool:
    """``PATIENT_COPY_SMS`` (off (default) | on): an invited patient who decided on the web also gets the copy link
    by text. Off by default: a text is one of the three a week the exemption allows, and the web page showed the link.
    """
    raw = ((os.environ if env is None else env).get(PATIENT_COPY_SMS_ENV) or "off").strip().lower()
    if raw not in ("off", "on"):
        raise SettingsError(f"{PATIENT_COPY_SMS_ENV} must be off or on, not {raw!r}")
    return raw == "on"
