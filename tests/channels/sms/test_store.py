"""The SMS channel's tables: opt-out history, claimed and answered MessageSids, offered choices.

Runs on a fresh SQLite file, or on PostgreSQL when SMS_TEST_DATABASE_URL is set.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa  # type: ignore[import-untyped]

from bot.channels.sms.store import OPT_EVENTS, SEEN_MESSAGES, Claim, SmsStore, utcnow
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


LEASE = dt.timedelta(seconds=12)


def age_claim(store: SmsStore, sid: str, by: dt.timedelta) -> None:
    """Make a claim as old as a worker that died ``by`` ago would have left it."""
    with store.engine.begin() as conn:
        conn.execute(SEEN_MESSAGES.update().where(SEEN_MESSAGES.c.message_sid == sid).values(claimed_at=utcnow() - by))


def test_a_message_sid_is_claimed_once_and_its_reply_kept(store: SmsStore) -> None:
    sid = "SM" + uuid.uuid4().hex
    first = store.claim_message(sid, new_id(), LEASE)
    assert first.ours and not first.taken_over
    retry = store.claim_message(sid, new_id(), LEASE)
    assert not retry.ours and retry.reply is None, "claimed, not yet answered: the retry waits"
    assert store.save_reply(sid, "<Response/>", first.claimed_at)
    assert store.reply_for(sid) == "<Response/>"
    assert store.claim_message(sid, new_id(), LEASE) == Claim(
        ours=False, claimed_at=first.claimed_at, reply="<Response/>"
    )


def test_a_claim_without_a_reply_is_taken_over_after_its_lease(store: SmsStore) -> None:
    """The worker that claimed the message died before storing a reply: a retry after the lease takes over."""
    sid, conversation = "SM" + uuid.uuid4().hex, new_id()
    dead = store.claim_message(sid, conversation, LEASE)
    age_claim(store, sid, LEASE + dt.timedelta(seconds=1))
    taker = store.claim_message(sid, conversation, LEASE)
    assert taker.ours and taker.taken_over and taker.claimed_at > dead.claimed_at
    assert not store.claim_message(sid, conversation, LEASE).ours, "the new claim has a fresh lease"
    assert not store.save_reply(sid, "<Response>late</Response>", dead.claimed_at), "a taken-over worker stores nothing"
    assert store.save_reply(sid, "<Response>ok</Response>", taker.claimed_at)
    assert not store.save_reply(sid, "<Response>again</Response>", taker.claimed_at), "answered once"
    age_claim(store, sid, LEASE * 10)
    answered = store.claim_message(sid, conversation, LEASE)
    assert not answered.ours and answered.reply == "<Response>ok</Response>", "an answered message is never retaken"


def test_two_retries_of_a_stale_claim_take_it_over_once(store: SmsStore) -> None:
    """Retries that find the same stale claim at the same moment: one UPDATE wins, the others wait."""
    sid, conversation = "SM" + uuid.uuid4().hex, new_id()
    store.claim_message(sid, conversation, LEASE)
    age_claim(store, sid, LEASE * 2)
    retries = 6
    start = threading.Barrier(retries)
    claims: list[Claim] = []

    def retry() -> None:
        start.wait()
        claims.append(store.claim_message(sid, conversation, LEASE))

    threads = [threading.Thread(target=retry) for _ in range(retries)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(claims) == retries
    assert sum(claim.ours for claim in claims) == 1
    assert all(claim.reply is None for claim in claims)


def test_old_message_sids_are_forgotten(store: SmsStore) -> None:
    sid = "SM" + uuid.uuid4().hex
    store.claim_message(sid, new_id())
    age_claim(store, sid, dt.timedelta(days=3))
    assert store.prune() >= 1
    claim = store.claim_message(sid, new_id())
    assert claim.ours and not claim.taken_over


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
