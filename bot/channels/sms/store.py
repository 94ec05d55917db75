"""What the SMS channel must remember between webhooks: opt-outs, claimed and answered messages, offered choices.

Tables live on ``bot.records.db.METADATA`` so one database (SQLite by default,
PostgreSQL through ``DATABASE_URL``) holds all of the project's state. Rows
name conversations only by their HMAC id, never by phone number. The methods
are synchronous and short; the channel runs them in a worker thread so the
Sanic event loop never waits on the database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa  # type: ignore[import-untyped]
from sqlalchemy.exc import IntegrityError  # type: ignore[import-untyped]

from bot.channels.sms.text import Choice
from bot.records import db

# Append-only: every STOP and START is kept, the latest row is the current state,
# so the record shows when and how a patient opted out.
OPT_EVENTS = sa.Table(
    "sms_opt_events",
    db.METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("conversation_id", sa.String(64), nullable=False),
    sa.Column("opted_out", sa.Boolean, nullable=False),
    sa.Column("keyword", sa.String(16), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Index("ix_sms_opt_events_conversation", "conversation_id", "id"),
)

# Twilio retries a webhook it got no answer to in time; the MessageSid is the key
# that gives a retry the first delivery's answer instead of a second turn. A row
# without a reply is a claim: a worker is answering the message, and has until
# ``claimed_at`` + the lease to store its reply. A claim older than that belongs to
# a worker that died mid-turn, and a retry takes it over (``SmsStore.claim_message``).
SEEN_MESSAGES = sa.Table(
    "sms_seen_messages",
    db.METADATA,
    sa.Column("message_sid", sa.String(64), primary_key=True),
    sa.Column("conversation_id", sa.String(64), nullable=False),
    # Named received_at in the database (tables made before claims were leases keep working);
    # the start of the current claim, which is also what the retention counts from.
    sa.Column("received_at", sa.DateTime, key="claimed_at", nullable=False, index=True),
    sa.Column("reply", sa.Text, nullable=True),
)

# Append-only: the latest row per conversation is the set of numbered choices
# last shown (an empty list once a reply without buttons followed).
CHOICE_OFFERS = sa.Table(
    "sms_choice_offers",
    db.METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("conversation_id", sa.String(64), nullable=False),
    sa.Column("choices", sa.JSON, nullable=False),
    sa.Column("offered_at", sa.DateTime, nullable=False),
    sa.Index("ix_sms_choice_offers_conversation", "conversation_id", "id"),
)

# How long a MessageSid is remembered; Twilio retries within seconds to minutes.
SEEN_RETENTION = dt.timedelta(days=2)
# How long a claim stands before a retry may take it over; the channel passes its own,
# longer than its reply deadline (``SmsInput.claim_lease``).
DEFAULT_CLAIM_LEASE = dt.timedelta(seconds=12)
_PRUNE_EVERY = dt.timedelta(hours=1)


def utcnow() -> dt.datetime:
    """Naive UTC, so SQLite and PostgreSQL compare timestamps the same way."""
    # timezone.utc, not datetime.UTC: the project runs on Python 3.10.
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


@dataclass(frozen=True)
class Claim:
    """Where a MessageSid stands, as seen by the delivery that asked.

    ``ours``: this delivery must answer it (first seen, or taken over from a worker that
    died); it stores the answer with ``claimed_at`` as proof it still holds the claim.
    Otherwise ``reply`` is the answer already stored, or None while another worker's
    claim (from ``claimed_at``) is still within its lease.
    """

    ours: bool
    claimed_at: dt.datetime
    reply: str | None = None
    taken_over: bool = False


class SmsStore:
    """The SMS channel's tables, bound to one database."""

    def __init__(self, url: str | None = None) -> None:
        """``url`` defaults to the project's database (``settings.database_url()``)."""
        self.url = url  # None: the project's database; the channel reads invitations from the same one
        self.engine: sa.engine.Engine = db.engine(url)
        self._last_prune: dt.datetime | None = None

    # --- opt-outs ---------------------------------------------------------------------

    def is_opted_out(self, conversation_id: str) -> bool:
        """Whether the latest STOP/START of this conversation was a STOP."""
        query = (
            sa.select(OPT_EVENTS.c.opted_out)
            .where(OPT_EVENTS.c.conversation_id == conversation_id)
            .order_by(OPT_EVENTS.c.id.desc())
            .limit(1)
        )
        with self.engine.connect() as conn:
            latest = conn.execute(query).scalar()
        return bool(latest)

    def set_opted_out(self, conversation_id: str, opted_out: bool, keyword: str) -> bool:
        """Record a STOP (True) or START (False); False if that already was the state."""
        with self.engine.begin() as conn:
            current = conn.execute(
                sa.select(OPT_EVENTS.c.opted_out)
                .where(OPT_EVENTS.c.conversation_id == conversation_id)
                .order_by(OPT_EVENTS.c.id.desc())
                .limit(1)
            ).scalar()
            if bool(current) == opted_out:
                return False
            conn.execute(
                OPT_EVENTS.insert().values(
                    conversation_id=conversation_id,
                    opted_out=opted_out,
                    keyword=keyword[:16],
                    created_at=utcnow(),
                )
            )
        return True

    # --- retried webhooks -------------------------------------------------------------

    def claim_message(self, message_sid: str, conversation_id: str, lease: dt.timedelta = DEFAULT_CLAIM_LEASE) -> Claim:
        """Claim a MessageSid for answering, or say why not (answered, or claimed within ``lease``).

        A message counts as handled only once its reply is stored, so a worker that dies
        mid-turn loses nothing: its claim runs out and the next retry takes it over. The
        take-over is one ``UPDATE ... WHERE claimed_at = <the old value>``, so of two
        retries that find the same stale claim exactly one wins (on SQLite and PostgreSQL).
        """
        self._maybe_prune()
        for _ in range(3):  # each pass ends in an answer unless another delivery moved first
            with self.engine.connect() as conn:
                row = conn.execute(
                    sa.select(SEEN_MESSAGES.c.reply, SEEN_MESSAGES.c.claimed_at).where(
                        SEEN_MESSAGES.c.message_sid == message_sid
                    )
                ).first()
            now = utcnow()
            if row is None:
                try:
                    with self.engine.begin() as conn:
                        conn.execute(
                            SEEN_MESSAGES.insert().values(
                                message_sid=message_sid, conversation_id=conversation_id, claimed_at=now
                            )
                        )
                except IntegrityError:
                    continue  # another delivery claimed it a moment ago: look again
                return Claim(ours=True, claimed_at=now)
            if row.reply is not None:
                return Claim(ours=False, claimed_at=row.claimed_at, reply=str(row.reply))
            if now - row.claimed_at < lease:
                return Claim(ours=False, claimed_at=row.claimed_at)
            with self.engine.begin() as conn:
                taken = conn.execute(
                    SEEN_MESSAGES.update()
                    .where(
                        SEEN_MESSAGES.c.message_sid == message_sid,
                        SEEN_MESSAGES.c.reply.is_(None),
                        SEEN_MESSAGES.c.claimed_at == row.claimed_at,
                    )
                    .values(claimed_at=now)
                ).rowcount
            if taken == 1:
                return Claim(ours=True, claimed_at=now, taken_over=True)
            # Another retry took it over (or the answer came) in between: look again.
        return Claim(ours=False, claimed_at=utcnow())

    def save_reply(self, message_sid: str, reply: str, claimed_at: dt.datetime) -> bool:
        """Store the answer, which marks the message handled; False if the claim was lost meanwhile.

        Only the holder of the current claim (``claimed_at`` as ``claim_message`` gave it)
        stores: a worker that outlived its lease and was taken over must not overwrite
        the answer of the one that took over.
        """
        with self.engine.begin() as conn:
            stored = conn.execute(
                SEEN_MESSAGES.update()
                .where(
                    SEEN_MESSAGES.c.message_sid == message_sid,
                    SEEN_MESSAGES.c.reply.is_(None),
                    SEEN_MESSAGES.c.claimed_at == claimed_at,
                )
                .values(reply=reply)
            ).rowcount
        return stored == 1

    def reply_for(self, message_sid: str) -> str | None:
        """The answer given to a message, None while it is still being answered."""
        with self.engine.connect() as conn:
            value = conn.execute(
                sa.select(SEEN_MESSAGES.c.reply).where(SEEN_MESSAGES.c.message_sid == message_sid)
            ).scalar()
        return None if value is None else str(value)

    def prune(self, now: dt.datetime | None = None) -> int:
        """Forget MessageSids older than the retention; returns how many went."""
        cutoff = (now or utcnow()) - SEEN_RETENTION
        with self.engine.begin() as conn:
            result = conn.execute(SEEN_MESSAGES.delete().where(SEEN_MESSAGES.c.claimed_at < cutoff))
        return int(result.rowcount or 0)

    def _maybe_prune(self) -> None:
        now = utcnow()
        if self._last_prune is None or now - self._last_prune > _PRUNE_EVERY:
            self._last_prune = now
            self.prune(now)

    # --- numbered choices -------------------------------------------------------------

    def latest_choices(self, conversation_id: str, max_age: dt.timedelta) -> list[Choice]:
        """The choices last offered to a conversation, if offered within ``max_age``."""
        query = (
            sa.select(CHOICE_OFFERS.c.choices, CHOICE_OFFERS.c.offered_at)
            .where(CHOICE_OFFERS.c.conversation_id == conversation_id)
            .order_by(CHOICE_OFFERS.c.id.desc())
            .limit(1)
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None or row.offered_at < utcnow() - max_age:
            return []
        raw: Any = row.choices or []
        return [Choice.from_json(item) for item in raw]

    def offer_choices(self, conversation_id: str, choices: Sequence[Choice]) -> None:
        """Record the choices just shown; an empty list withdraws earlier ones."""
        with self.engine.begin() as conn:
            conn.execute(
                CHOICE_OFFERS.insert().values(
                    conversation_id=conversation_id,
                    choices=[choice.to_json() for choice in choices],
                    offered_at=utcnow(),
                )
            )
