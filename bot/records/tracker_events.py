"""Read Rasa's tracker store as stored: the conversations and their events, without a running Rasa server.

The care-team console's transcripts and the clinic's insight figures come from here. The
store is the one ``endpoints.yml`` names (``tracker_store``, ``type: SQL`` or the project's
cached SQL store): Rasa's own ``events`` table, one row per event, its ``data`` the event's
JSON. Reading never writes; Rasa's configuration and URL rules are Rasa's own functions.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml

from bot import settings
from bot.records import db

ENDPOINTS = settings.PROJECT_ROOT / "endpoints.yml"
SQL_STORES = ("sql", "bot.rasa.tracker_store.CachedSQLTrackerStore")

EVENTS = sa.Table(
    "events",
    sa.MetaData(),  # Rasa's table, created by Rasa: never on db.METADATA, never created here
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sender_id", sa.String(255), nullable=False),
    sa.Column("type_name", sa.String(255), nullable=False),
    sa.Column("timestamp", sa.Float),
    sa.Column("intent_name", sa.String(255)),
    sa.Column("action_name", sa.String(255)),
    sa.Column("data", sa.Text),
)


class TrackerStoreError(RuntimeError):
    """The tracker store named in the endpoints file is not one this module can read."""


def tracker_url(endpoints: Path | str | None = None) -> str:
    """SQLAlchemy URL of the tracker store in ``endpoints`` (default: the project's endpoints.yml).

    ``TRACKER_STORE_URL`` overrides it (a read-only database user, say). ``${VAR}`` in the file
    is expanded as Rasa does; a relative SQLite path is taken from the project folder, where
    ``make run`` starts Rasa.
    """
    override = settings.tracker_store_url()
    if override:
        return override
    from rasa.core.tracker_store import SQLTrackerStore

    path = Path(endpoints or ENDPOINTS)
    loaded = yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else None
    config = loaded.get("tracker_store") if isinstance(loaded, dict) else None
    kind = str(config.get("type", "")) if isinstance(config, dict) else "none"
    if not isinstance(config, dict) or kind.lower() not in {store.lower() for store in SQL_STORES}:
        raise TrackerStoreError(f"{path}: tracker_store is {kind or 'not set'}; only an SQL tracker store can be read")
    # Only this section's ${VAR}s are expanded (the file's other sections may name secrets this process lacks).
    options = {key: os.path.expandvars(value) if isinstance(value, str) else value for key, value in config.items()}
    dialect = options.get("dialect", "sqlite")
    database = str(options.get("db", "rasa.db"))
    if dialect == "sqlite" and not Path(database).is_absolute():
        database = str(settings.PROJECT_ROOT / database)
    url = SQLTrackerStore.get_db_url(
        dialect,
        options.get("url"),
        options.get("port"),
        database,
        options.get("username"),
        options.get("password"),
        options.get("login_db"),
        options.get("query"),
    )
    return url if isinstance(url, str) else url.render_as_string(hide_password=False)


@dataclass(frozen=True)
class Conversation:
    """One conversation in the store: its id, first and last event time (Unix seconds), how many events."""

    conversation_id: str
    first_at: float
    last_at: float
    events: int


@dataclass(frozen=True)
class Event:
    """One stored event: the store's row id, the conversation, and Rasa's event dictionary."""

    id: int
    conversation_id: str
    data: dict[str, Any]

    @property
    def type(self) -> str:
        return str(self.data.get("event", ""))

    @property
    def timestamp(self) -> float:
        return float(self.data.get("timestamp") or 0.0)


def _engine(url: str | None) -> sa.engine.Engine:
    return db.connect(url or tracker_url())


def conversations(url: str | None = None, limit: int | None = None) -> list[Conversation]:
    """Conversations, the most recently active first (an empty list when Rasa has not created its table yet)."""
    query = (
        sa.select(
            EVENTS.c.sender_id,
            sa.func.min(EVENTS.c.timestamp),
            sa.func.max(EVENTS.c.timestamp),
            sa.func.count(EVENTS.c.id),
        )
        .group_by(EVENTS.c.sender_id)
        .order_by(sa.func.max(EVENTS.c.timestamp).desc())
    )
    if limit is not None:
        query = query.limit(limit)
    engine = _engine(url)
    if not sa.inspect(engine).has_table(EVENTS.name):
        return []
    with engine.connect() as connection:
        return [
            Conversation(str(sender), float(first or 0.0), float(last or 0.0), int(count))
            for sender, first, last, count in connection.execute(query)
        ]


def events(conversation_id: str, url: str | None = None) -> list[Event]:
    """Every stored event of one conversation, oldest first (all its sessions)."""
    return list(iter_events(url, conversation_id=conversation_id))


def iter_events(
    url: str | None = None, conversation_id: str | None = None, since: float | None = None
) -> Iterator[Event]:
    """Events in store order (optionally of one conversation, or at or after ``since``), read in batches."""
    engine = _engine(url)
    if not sa.inspect(engine).has_table(EVENTS.name):
        return
    query = sa.select(EVENTS.c.id, EVENTS.c.sender_id, EVENTS.c.data).order_by(EVENTS.c.id)
    if conversation_id is not None:
        query = query.where(EVENTS.c.sender_id == conversation_id)
    if since is not None:
        query = query.where(EVENTS.c.timestamp >= since)
    with engine.connect() as connection:
        result = connection.execution_options(stream_results=True).execute(query)
        for row_id, sender, data in result:
            try:
                loaded = json.loads(data or "{}")
            except ValueError:
                continue  # not an event Rasa wrote; skipped, never guessed at
            if isinstance(loaded, dict):
                yield Event(int(row_id), str(sender), loaded)
