"""The console's migrations build exactly the tables ``bot/console/tables.py`` declares, and run again harmlessly."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from bot.console import migrate
from bot.console.tables import METADATA
from tests.console.conftest import Console


def test_migrations_match_the_declared_tables(console: Console) -> None:
    engine = sa.create_engine(console.url)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), METADATA)
    engine.dispose()
    # Only the tables of others in the same database (the flag log, the records, Rasa's) may differ.
    ours = {table.name for table in METADATA.sorted_tables}
    assert [d for d in differences if _table(d) in ours] == []


def _table(difference: Any) -> str | None:
    """The table an Alembic comparison result is about."""
    first = difference[0] if isinstance(difference, list) else difference  # modify_* results come as lists
    kind, subject = first[0], first[1]
    if kind in ("add_table", "remove_table"):
        return str(subject.name)
    if kind.startswith(("add_column", "remove_column", "modify_")):
        return str(first[2])
    table = getattr(subject, "table", None)
    return str(table.name) if table is not None else None


def test_upgrade_twice_changes_nothing(console: Console) -> None:
    assert migrate.is_current(console.url)
    migrate.upgrade(console.url)
    assert migrate.is_current(console.url)
