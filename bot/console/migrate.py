"""Bring the console's tables to the newest migration; safe to run at every start and from several servers."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from bot import settings
from bot.records import db

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "console_alembic_version"


def config(url: str) -> Config:
    """Alembic's configuration for ``url``, built in code: there is no alembic.ini to get out of step."""
    alembic_config = Config()
    alembic_config.set_main_option("script_location", str(MIGRATIONS))
    alembic_config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return alembic_config


def upgrade(url: str | None = None) -> None:
    """Apply every migration the database lacks (none: nothing happens)."""
    url = url or settings.database_url()
    if not is_current(url):
        command.upgrade(config(url), "head")


def is_current(url: str) -> bool:
    """Whether the database is at the newest migration (one query; no lock taken)."""
    head = ScriptDirectory.from_config(config(url)).get_current_head()
    with db.connect(url).connect() as connection:
        current = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE}).get_current_revision()
    return current == head
