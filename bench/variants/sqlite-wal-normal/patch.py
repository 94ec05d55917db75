"""Variant: WAL and synchronous=NORMAL for every SQLite connection SQLAlchemy opens in the servers.

Applies to Rasa's SQL tracker store (and the project's tables, which bot/db.py
already puts in WAL mode). Trade-off: commits no longer wait for the disk; after
a power cut the last transactions may be missing, the file stays consistent.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine


@sa.event.listens_for(Engine, "connect")
def _pragmas(dbapi_connection: Any, _record: Any) -> None:
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()
