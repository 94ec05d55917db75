"""The SMS channel's tables: opt-out history, seen MessageSids, offered choices.

Runs on a fresh SQLite file, or on PostgreSQL when SMS_TEST_DATABASE_URL is set.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa  # type: ignore[import-untyped]

from bot.channels.sms.store import OPT_EVENTS, SEEN_MESSAGES, SmsStore, utcnow
from bot.channels.sms.text import Choice


@pytest.fixture
def store(tmp_path: Path) -> SmsStore:
    return SmsStore(os.environ.get("SMS_TEST_DATABASE_URL") or f"sqlite:///{tmp_path / 'sms.db'}")


def new_id() -> str:
    return "sms-" + uuid.uuid4().hex


def test_opt_out_history_is_kept_and_the_latest_counts(store: SmsStore) -> None:
    conversation = new_id()
    assert not store.is_opted_out(conversation)
    assert store.set_opted_out(conversation, True, "stop")
    assert not store.set_opted_out(conversation, True, "quit"), "already out: nothing new"
    assert store.is_opted_out(conversation)
    assert store.set_opted_out(conversation, False, "start")
    assert not store.is_opted_out(conversation)
    with store.engine.connect() as conn:
        rows = conn.execute(
            sa.select(OPT_EVENTS.c.opted_out, OPT_EVENTS.c.keyword)
            .where(OPT_EVENTS.c.conversation_id == conversation)
            .order_by(OPT_EVENTS.c.id)
        ).all()
    assert [tuple(row) for row in rows] == [(True, "stop"), (False, "start")]


def test_a_message_sid_is_claimed_once_and_its_reply_kept(store: SmsStore) -> None:
    sid = "SM" + uuid.uuid4().hex
    assert store.claim_message(sid, new_id())
    assert not store.claim_message(sid, new_id())
    assert store.reply_for(sid) is None
    store.save_reply(sid, "<Response/>")
    assert store.reply_for(sid) == "<Response/>"


def test_old_message_sids_are_forgotten(store: SmsStore) -> None:
    sid = "SM" + uuid.uuid4().hex
    store.claim_message(sid, new_id())
    with store.engine.begin() as conn:
        conn.execute(
            SEEN_MESSAGES.update()
            .where(SEEN_MESSAGES.c.message_sid == sid)
            .values(received_at=utcnow() - dt.timedelta(days=3))
        )
    assert store.prune() >= 1
    assert store.claim_message(sid, new_id())


def test_latest_offer_wins_and_expires(store: SmsStore) -> None:
    conversation = new_id()
    hour = dt.timedelta(hours=1)
    assert store.latest_choices(conversation, hour) == []
    store.offer_choices(conversation, [Choice("Yes", "/affirm"), Choice("No", "/deny")])
    assert store.latest_choices(conversation, hour) == [
        Choice("Yes", "/affirm"),
        Choice("No", "/deny"),
    ]
    assert store.latest_choices(conversation, dt.timedelta(seconds=-1)) == []
    store.offer_choices(conversation, [])
    assert store.latest_choices(conversation, hour) == []
    assert store.latest_choices(new_id(), hour) == []
