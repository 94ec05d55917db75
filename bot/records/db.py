"""The project's own database: one SQLAlchemy engine per URL, one MetaData for all tables.

Every store (flag log, consent records, SMS state) declares its tables on
``METADATA`` and calls ``engine()``; the same code runs on the default SQLite
file and on PostgreSQL through ``DATABASE_URL``.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import Any

import sqlalchemy as sa

from bot import settings

METADATA = sa.MetaData()


def sqlite_pragmas(dbapi_connection: Any, _record: Any, synchronous: str | None = None) -> None:
    """WAL lets the Rasa server and the action server write the same file without 'database is locked'.

    ``synchronous`` (SQLite's own setting) is left at SQLite's default (FULL) unless given.
    """
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    if synchronous:
        cursor.execute(f"PRAGMA synchronous={synchronous}")
    cursor.close()


@lru_cache(maxsize=8)
def _engine(url: str) -> sa.engine.Engine:
    created = sa.create_engine(url, future=True, pool_pre_ping=True)
    if created.dialect.name == "sqlite":
        sa.event.listen(created, "connect", sqlite_pragmas)
    return created


_CREATED: set[tuple[str, str]] = set()
_CREATING = threading.Lock()


def engine(url: str | None = None) -> sa.engine.Engine:
    """The engine for ``url`` (default: ``settings.database_url()``).

    Tables declared on ``METADATA`` are created if missing, once per engine and
    table, so a store imported late still finds its table and the hot path
    makes no schema round trips.
    """
    url = url or settings.database_url()
    created = _engine(url)
    if any((url, t.name) not in _CREATED for t in METADATA.sorted_tables):
        with _CREATING:  # threads of one process (actions run DB work in threads)
            missing = [t for t in METADATA.sorted_tables if (url, t.name) not in _CREATED]
            if missing:
                _create(created, missing)
                _CREATED.update((url, t.name) for t in missing)
    return created


def _create(engine_: sa.engine.Engine, tables: list[sa.Table], attempts: int = 3) -> None:
    """Create missing tables; another process creating them at the same moment is not an error."""
    for attempt in range(attempts):
        try:
            METADATA.create_all(engine_, tables=tables, checkfirst=True)
            return
        except (sa.exc.OperationalError, sa.exc.ProgrammingError, sa.exc.IntegrityError):
            existing = set(sa.inspect(engine_).get_table_names())
            if all(table.name in existing for table in tables):
                return
            if attempt == attempts - 1:
                raise
