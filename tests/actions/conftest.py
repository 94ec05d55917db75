"""Every action test writes flags and records to its own SQLite file."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def own_database(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    return sqlite_url
