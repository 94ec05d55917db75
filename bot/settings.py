"""Where things are and what the environment says: paths, the database URL, speed-up switches.

Secrets and deployment choices come from environment variables, read here; clinic facts
and every text a patient can read come from ``content/`` (``bot.content``).
"""

from __future__ import annotations

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


# --- production mode -------------------------------------------------------------------------

ENVIRONMENT_ENV = "ASSISTANT_ENV"
PRODUCTION = "production"
MIN_SECRET_CHARS = 32


def is_production(env: Mapping[str, str] | None = None) -> bool:
    """``ASSISTANT_ENV=production``: every secret must be set, and none may be a development stand-in."""
    return (os.environ if env is None else env).get(ENVIRONMENT_ENV, "").strip().lower() == PRODUCTION


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
        if raw == development_value or len(raw) < MIN_SECRET_CHARS:
            raise SettingsError(
                f"{name} is a development value or shorter than {MIN_SECRET_CHARS} characters; "
                f"{ENVIRONMENT_ENV}={PRODUCTION} needs a real secret (docs/security.md)"
            )
        return raw
    return raw or development_value
