"""``python -m bot outreach list``: what the assistant plans to text or did, masked, filtered by status."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from bot.outreach import KIND_COPY, KIND_REMINDER, store
from tests.helpers.cli import run_bot

T0 = dt.datetime(2030, 3, 6, 15, 0, tzinfo=dt.timezone.utc)
CONVERSATION = "c0ffee1234567890abcdef"


def test_the_list_masks_conversations_and_filters_by_status(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert store.create("reminder:inv1", KIND_REMINDER, CONVERSATION, "inv1", T0, now=T0, url=url)
    assert store.create("copy:5", KIND_COPY, CONVERSATION, "inv1", T0, record_id=5, now=T0, url=url)
    (claimed,) = store.claim_due("host:1", T0, url, limit=1)
    assert store.finish(
        claimed, store.DEFERRED, "quiet hours (8am-9pm only)", next_try_at=T0 + dt.timedelta(hours=9), url=url
    )
    env = {**os.environ, "DATABASE_URL": url}
    listed = run_bot(env, "outreach", "list")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.count("conversation=c0ffee12…") == 2 and CONVERSATION not in listed.stdout
    assert "deferred (quiet hours (8am-9pm only)) at 2030-03-07 00:00 UTC" in listed.stdout
    only = run_bot(env, "outreach", "list", "--status", "due")
    assert only.returncode == 0 and len(only.stdout.strip().splitlines()) == 1 and " due " in only.stdout
    assert run_bot(env, "outreach", "list", "--status", "nonsense").returncode == 2
