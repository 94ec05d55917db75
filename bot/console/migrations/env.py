"""Alembic's entry: migrate the console's tables in the database the console is given.

Run by ``bot.console.migrate.upgrade`` (the console does it at start) or ``python -m bot console
migrate``; the URL comes from the caller's Config, never from a file.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from bot.console.tables import METADATA
from bot.records import db

config = context.config
url = config.get_main_option("sqlalchemy.url")
assert url, "bot.console.migrate passes the database URL"

# The project's shared engine: on SQLite it sets WAL and the busy timeout, as every store does.
with db.connect(url).connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=METADATA,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
        version_table="console_alembic_version",  # the database is shared: a name that says whose it is
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":  # two servers starting at once: one migrates, one waits
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(7243010)"))
        context.run_migrations()
