"""Every records test checkpoints to its own file, with the development key and no mail."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def own_checkpoint_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """PostgreSQL tests share one database URL, so the file (not the database tag) keeps them apart."""
    path = tmp_path / "checkpoints" / "consent-checkpoints.log"
    monkeypatch.setenv("CONSENT_CHECKPOINT_FILE", str(path))
    for name in ("CONSENT_RECORD_KEY", "CONSENT_CHECKPOINT_MAIL_TO", "ASSISTANT_ENV", "FLAG_REPEAT_WINDOW_SECONDS"):
        monkeypatch.delenv(name, raising=False)
    return path
