"""The outreach tables (bot/outreach/store.py) on SQLite and PostgreSQL: fixed ids, claims, leases, the day limits."""

from __future__ import annotations

import datetime as dt
import threading

from bot import content
from bot.outreach import KIND_COPY, KIND_INVITATION, KIND_REMINDER, store

UTC = dt.timezone.utc
T0 = dt.datetime(2030, 3, 6, 15, 0, tzinfo=UTC)  # 10:00 in New York


def plan(url: str, outreach_id: str = "reminder:inv1", kind: str = KIND_REMINDER, conversation: str = "conv1") -> bool:
    return store.create(outreach_id, kind, conversation, "inv1", T0, now=T0, url=url)


def test_a_message_is_planned_once(database_url: str) -> None:
    assert plan(database_url)
    assert not plan(database_url)
    (row,) = store.everyone(database_url)
    assert row.status == store.DUE and row.due_at == T0 and row.next_try_at == T0


def test_only_one_of_many_claimers_gets_a_row(database_url: str) -> None:
    assert plan(database_url)
    got: list[int] = []
    start = threading.Barrier(6)

    def claimer(worker: int) -> None:
        start.wait()
        got.extend(worker for _ in store.claim_due(f"host:{worker}", T0, database_url))

    threads = [threading.Thread(target=claimer, args=(worker,)) for worker in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(got) == 1
    row = store.get("reminder:inv1", database_url)
    assert row is not None and row.status == store.CLAIMED and row.claimed_by == f"host:{got[0]}"


def test_nothing_is_claimed_before_it_is_due(database_url: str) -> None:
    assert plan(database_url)
    assert store.claim_due("host:1", T0 - dt.timedelta(seconds=1), database_url) == []


def test_a_lapsed_claim_becomes_unknown_and_is_never_claimed_again(database_url: str) -> None:
    assert plan(database_url)
    (claimed,) = store.claim_due("host:dead", T0, database_url)
    assert store.expire_stale_claims(T0 + store.CLAIM_LEASE - dt.timedelta(seconds=1), database_url) == 0
    assert store.expire_stale_claims(T0 + store.CLAIM_LEASE + dt.timedelta(seconds=1), database_url) == 1
    later = T0 + dt.timedelta(days=3)
    assert store.claim_due("host:2", later, database_url) == []
    # The dead server coming back cannot finish it either.
    assert not store.finish(claimed, store.SENT, message_sid="SM1", now=later, url=database_url)
    row = store.get("reminder:inv1", database_url)
    assert row is not None and row.status == store.UNKNOWN and row.sent_at is None


def test_a_deferred_row_is_claimed_again_when_its_time_comes(database_url: str) -> None:
    assert plan(database_url)
    (claimed,) = store.claim_due("host:1", T0, database_url)
    tomorrow = T0 + dt.timedelta(days=1)
    assert store.finish(claimed, store.DEFERRED, "a text already went today", next_try_at=tomorrow, url=database_url)
    assert store.claim_due("host:1", tomorrow - dt.timedelta(minutes=1), database_url) == []
    (again,) = store.claim_due("host:2", tomorrow, database_url)
    assert again.reason == "a text already went today"
    assert store.finish(again, store.SENT, message_sid="SM9", now=tomorrow, url=database_url)
    row = store.get("reminder:inv1", database_url)
    assert row is not None and row.status == store.SENT and row.message_sid == "SM9" and row.sent_at == tomorrow


def test_one_message_a_day_and_invitations_are_counted_anyway(database_url: str) -> None:
    clinic = content.clinic()
    assert store.record_initiated("conv1", KIND_REMINDER, "reminder:inv1", T0, clinic, database_url)
    assert not store.record_initiated("conv1", KIND_COPY, "copy:1", T0 + dt.timedelta(hours=2), clinic, database_url)
    assert store.week_count("conv1", dt.date(2030, 3, 6), database_url) == 1
    # Staff sent an invitation the same day: not held, but counted for the week.
    assert not store.record_initiated("conv1", KIND_INVITATION, "inv2", T0, clinic, database_url)
    assert not store.record_initiated("conv1", KIND_INVITATION, "inv2", T0, clinic, database_url)
    assert store.week_count("conv1", dt.date(2030, 3, 6), database_url) == 2
    # Another number has its own day.
    assert store.record_initiated("conv2", KIND_REMINDER, "reminder:inv3", T0, clinic, database_url)


def test_the_week_is_the_seven_local_days_ending_that_day(database_url: str) -> None:
    clinic = content.clinic()
    for days in (0, 3, 6):
        assert store.record_initiated(
            "conv1", KIND_COPY, f"copy:{days}", T0 + dt.timedelta(days=days), clinic, database_url
        )
    assert store.week_count("conv1", dt.date(2030, 3, 12), database_url) == 3
    assert store.week_count("conv1", dt.date(2030, 3, 13), database_url) == 2
    assert store.day_taken("conv1", dt.date(2030, 3, 9), database_url)
    assert not store.day_taken("conv1", dt.date(2030, 3, 10), database_url)


def test_a_reminder_is_live_only_for_its_own_conversation_while_being_sent_or_lately_sent(database_url: str) -> None:
    assert plan(database_url)
    assert not store.is_live_reminder("reminder:inv1", "conv1", database_url)  # planned, not started
    (claimed,) = store.claim_due("host:1", T0, database_url)
    assert store.is_live_reminder("reminder:inv1", "conv1", database_url)
    assert not store.is_live_reminder("reminder:inv1", "conv2", database_url)
    assert not store.is_live_reminder("reminder:nope", "conv1", database_url)
    assert not store.is_live_reminder("", "conv1", database_url)
    now = store.utcnow()
    assert store.finish(claimed, store.SENT, message_sid="SM1", now=now - dt.timedelta(days=13), url=database_url)
    assert store.is_live_reminder("reminder:inv1", "conv1", database_url)
    assert plan(database_url, "reminder:inv2")
    (old,) = store.claim_due("host:1", T0, database_url)
    assert store.finish(old, store.SENT, message_sid="SM2", now=now - dt.timedelta(days=15), url=database_url)
    assert not store.is_live_reminder("reminder:inv2", "conv1", database_url)
    # A copy is never a reminder, whatever its state.
    assert plan(database_url, "copy:7", KIND_COPY)
    store.claim_due("host:1", T0, database_url)
    assert not store.is_live_reminder("copy:7", "conv1", database_url)


def test_a_failed_or_expired_reminder_is_not_live(database_url: str) -> None:
    assert plan(database_url)
    (claimed,) = store.claim_due("host:1", T0, database_url)
    assert store.finish(claimed, store.FAILED, "Twilio answered 400 (error 21211)", url=database_url)
    assert not store.is_live_reminder("reminder:inv1", "conv1", database_url)


def test_the_list_filters_by_status(database_url: str) -> None:
    assert plan(database_url, "reminder:inv1")
    assert plan(database_url, "copy:3", KIND_COPY)
    store.claim_due("host:1", T0, database_url, limit=1)
    assert {row.status for row in store.everyone(database_url)} == {store.DUE, store.CLAIMED}
    assert len(store.everyone(database_url, status=store.DUE)) == 1
    assert store.reminders_of(["inv1", "inv9"], database_url).keys() == {"inv1"}
