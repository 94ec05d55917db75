"""The project's own database: one SQLAlchemy engine per URL, one MetaData for all tables.

Every store (flag log, consent records, SMS state) declares its tables on
``METADATA`` and calls ``engine()``; the same code runs on the default SQLite
file and on PostgreSQL through ``DATABASE_URL``.

Schema changes are additive only: a column a table gained since a database was created
(nullable, or with a server default) is added by ``engine()`` on first use, so existing
SQLite files and PostgreSQL databases keep working without a migration tool.
"""

from __future__ import annotations

import datetime as dt
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


def connect(url: str) -> sa.engine.Engine:
    """The shared engine for ``url`` without creating the project's tables (another program's database: Rasa's)."""
    return _engine(url)


def as_stored(moment: dt.datetime) -> dt.datetime:
    """A time as the project stores it: naive UTC, so SQLite and PostgreSQL compare it the same way.

    A naive input is taken as UTC already.
    """
    return moment if moment.tzinfo is None else moment.astimezone(dt.timezone.utc).replace(tzinfo=None)


def as_utc(value: dt.datetime | None) -> dt.datetime | None:
    """A stored time in UTC: SQLite keeps no zone, and every time the project stores is UTC."""
    return value.replace(tzinfo=dt.timezone.utc) if value is not None and value.tzinfo is None else value


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
                _add_missing_columns(created, missing)
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


def _add_missing_columns(engine_: sa.engine.Engine, tables: list[sa.Table], attempts: int = 3) -> None:
    """Add columns declared since the table was created (idempotent; another process adding one is not an error).

    Only additive changes are made: a new column must be nullable or have a server default,
    so the rows already there stay valid. Anything else needs a hand-written migration.
    """
    for attempt in range(attempts):
        inspector = sa.inspect(engine_)
        pending = []
        for table in tables:
            present = {column["name"] for column in inspector.get_columns(table.name)}
            pending += [(table, column) for column in table.columns if column.name not in present]
        if not pending:
            return
        try:
            with engine_.begin() as connection:
                for table, column in pending:
                    connection.execute(sa.text(_add_column_sql(engine_.dialect, table, column)))
        except (sa.exc.OperationalError, sa.exc.ProgrammingError):
            if attempt == attempts - 1:
                raise  # still missing after retries: the next check names the column


def _add_column_sql(dialect: sa.engine.Dialect, table: sa.Table, column: sa.Column) -> str:
    """``ALTER TABLE ... ADD COLUMN`` for one declared column, in the database's own words."""
    if not column.nullable and column.server_default is None:
        raise RuntimeError(
            f"{table.name}.{column.name} is missing and cannot be added automatically "
            "(a new column must be nullable or have a server default)"
        )
    quote = dialect.identifier_preparer.quote
    sql = f"ALTER TABLE {quote(table.name)} ADD COLUMN {quote(column.name)} {column.type.compile(dialect=dialect)}"
    if column.server_default is not None:
        default = column.server_default.arg  # type: ignore[attr-defined]
        sql += f" DEFAULT {default.text if isinstance(default, sa.sql.elements.TextClause) else repr(str(default))}"
    if not column.nullable:
        sql += " NOT NULL"
    return sql
