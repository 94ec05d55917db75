"""The outreach tables: which messages the assistant will start, where each stands, and what each number got a day.

``outreach`` holds one row per message the assistant starts itself. Its id is fixed by
what it is for ("reminder:<invitation id>", "copy:<record id>"), so inserting it twice
fails and a second reminder can never be planned. A server sends a row only after
claiming it with one conditional UPDATE (``status IN (due, deferred) AND next_try_at <=
now``, exactly one row changed), so of several servers on one database only one sends.
A claim older than ``CLAIM_LEASE`` belongs to a server that died between claiming and
finishing: it may or may not have sent, so the row becomes ``unknown`` and is never sent
again (at most once; staff see it in the list).

``outreach_days`` holds one row per number and local day on which the assistant texted
first; its unique key is the one-message-a-day limit across servers, and counting its
rows over seven days is the three-a-week limit (see ``bot/outreach/__init__.py``).

Times are stored as naive UTC so SQLite and PostgreSQL compare them the same way. Rows
name conversations by the SMS channel's HMAC id only; ``reason`` is a short word of ours,
never patient text. Functions are synchronous and short; async callers use a thread.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from bot.content.clinic import Clinic
from bot.outreach import KIND_INVITATION, KIND_REMINDER, timing
from bot.records import db

DUE = "due"
CLAIMED = "claimed"
SENT = "sent"
DEFERRED = "deferred"
OPTED_OUT = "opted_out"
EXPIRED = "expired"
FAILED = "failed"
UNKNOWN = "unknown"
STATUSES = (DUE, CLAIMED, SENT, DEFERRED, OPTED_OUT, EXPIRED, FAILED, UNKNOWN)
WAITING = (DUE, DEFERRED)  # what a server may claim
FINAL = (SENT, OPTED_OUT, EXPIRED, FAILED, UNKNOWN)

# A server finishes a claimed row within seconds (one Rasa turn and one Twilio request);
# a claim this old was left by a server that died.
CLAIM_LEASE = dt.timedelta(minutes=5)
# How long after it was sent a reminder may still start the re-check (the interface's 14 days).
REMINDER_LIVE = dt.timedelta(days=14)
WEEK_DAYS = 7
WEEK_LIMIT = 3  # the exemption's three messages a week per number
REASON_LENGTH = 120

OUTREACH = sa.Table(
    "outreach",
    db.METADATA,
    sa.Column("outreach_id", sa.String(64), primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("conversation_id", sa.String(64), nullable=False, index=True),
    sa.Column("invitation_id", sa.String(24), nullable=False, index=True),
    sa.Column("record_id", sa.Integer, nullable=True),
    # A copy the patient asked for is a reply, not outreach: quiet hours and the limits do not hold it.
    sa.Column("requested", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("due_at", sa.DateTime, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("claimed_by", sa.String(64), nullable=True),
    sa.Column("claimed_at", sa.DateTime, nullable=True),
    sa.Column("next_try_at", sa.DateTime, nullable=False),
    sa.Column("sent_at", sa.DateTime, nullable=True),
    sa.Column("message_sid", sa.String(64), nullable=True),
    sa.Column("reason", sa.String(REASON_LENGTH), nullable=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Index("ix_outreach_waiting", "status", "next_try_at"),
)

# ``slot`` is "" for the day's one message the assistant chose to send. A staff-sent invitation on a
# day already taken still happened, so it is kept (counted for the week) under its own slot.
OUTREACH_DAYS = sa.Table(
    "outreach_days",
    db.METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("conversation_id", sa.String(64), nullable=False),
    sa.Column("local_day", sa.Date, nullable=False),
    sa.Column("slot", sa.String(64), nullable=False, server_default=""),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("ref", sa.String(64), nullable=False),
    sa.Column("sent_at", sa.DateTime, nullable=False),
    sa.UniqueConstraint("conversation_id", "local_day", "slot", name="uq_outreach_days_day"),
)


@dataclass(frozen=True)
class Outreach:
    """One planned message as the rest of the project sees it (no number, no text)."""

    outreach_id: str
    kind: str
    conversation_id: str
    invitation_id: str
    record_id: int | None
    requested: bool
    due_at: dt.datetime
    status: str
    next_try_at: dt.datetime
    claimed_by: str | None = None
    claimed_at: dt.datetime | None = None
    sent_at: dt.datetime | None = None
    message_sid: str | None = None
    reason: str | None = None
    created_at: dt.datetime | None = None


def reminder_id(invitation_id: str) -> str:
    """The one id a reminder of this invitation can have."""
    return f"{KIND_REMINDER}:{invitation_id}"


def copy_id(record_id: int) -> str:
    """The one id an SMS copy of this consent record can have."""
    return f"copy:{record_id}"


def create(
    outreach_id: str,
    kind: str,
    conversation_id: str,
    invitation_id: str,
    due_at: dt.datetime,
    record_id: int | None = None,
    requested: bool = False,
    now: dt.datetime | None = None,
    url: str | None = None,
) -> bool:
    """Plan a message; False when a row with this id exists already (planned, sent or given up: never twice)."""
    row = {
        "outreach_id": outreach_id,
        "kind": kind,
        "conversation_id": conversation_id,
        "invitation_id": invitation_id,
        "record_id": record_id,
        "requested": requested,
        "due_at": db.as_stored(due_at),
        "status": DUE,
        "next_try_at": db.as_stored(due_at),
        "created_at": db.as_stored(now or utcnow()),
    }
    try:
        with db.engine(url).begin() as connection:
            connection.execute(sa.insert(OUTREACH).values(**row))
    except IntegrityError:
        return False
    return True


def hurry(outreach_id: str, now: dt.datetime | None = None, url: str | None = None) -> bool:
    """Make a waiting message one the patient asked for, due now (a held copy asked for again); False if not waiting."""
    moment = db.as_stored(now or utcnow())
    query = (
        sa.update(OUTREACH)
        .where(OUTREACH.c.outreach_id == outreach_id, OUTREACH.c.status.in_(WAITING))
        .values(requested=True, next_try_at=moment)
    )
    with db.engine(url).begin() as connection:
        return connection.execute(query).rowcount == 1


def expire_stale_claims(
    now: dt.datetime | None = None, url: str | None = None, lease: dt.timedelta = CLAIM_LEASE
) -> int:
    """Mark claims older than ``lease`` ``unknown`` (their server died: sent or not, never again); how many."""
    moment = db.as_stored(now or utcnow())
    query = (
        sa.update(OUTREACH)
        .where(OUTREACH.c.status == CLAIMED, OUTREACH.c.claimed_at < moment - lease)
        .values(status=UNKNOWN, reason="claim lapsed: the server stopped before it finished")
    )
    with db.engine(url).begin() as connection:
        return int(connection.execute(query).rowcount or 0)


def claim_due(worker: str, now: dt.datetime | None = None, url: str | None = None, limit: int = 50) -> list[Outreach]:
    """Claim the rows due at ``now`` for ``worker`` (host:pid); only rows this call claimed are returned.

    Each row is claimed by its own conditional UPDATE: another server that read the same
    row gets rowcount 0 and skips it.
    """
    moment = db.as_stored(now or utcnow())
    waiting = OUTREACH.c.status.in_(WAITING), OUTREACH.c.next_try_at <= moment
    engine = db.engine(url)
    with engine.connect() as connection:
        candidates = list(
            connection.execute(
                sa.select(OUTREACH.c.outreach_id).where(*waiting).order_by(OUTREACH.c.next_try_at).limit(limit)
            ).scalars()
        )
    claimed = []
    for outreach_id in candidates:
        with engine.begin() as connection:
            changed = connection.execute(
                sa.update(OUTREACH)
                .where(OUTREACH.c.outreach_id == outreach_id, *waiting)
                .values(status=CLAIMED, claimed_by=worker[:64], claimed_at=moment)
            ).rowcount
        if changed == 1:
            claimed.append(outreach_id)
    return [row for row in (get(outreach_id, url) for outreach_id in claimed) if row is not None]


def finish(
    outreach: Outreach,
    status: str,
    reason: str | None = None,
    message_sid: str | None = None,
    next_try_at: dt.datetime | None = None,
    now: dt.datetime | None = None,
    url: str | None = None,
) -> bool:
    """Leave a claimed row in ``status``; False when the claim was no longer ours (it lapsed to ``unknown``)."""
    if status not in STATUSES or status == CLAIMED:
        raise ValueError(f"cannot finish a claim as '{status}'")
    moment = db.as_stored(now or utcnow())
    values: dict[str, object] = {"status": status, "reason": (reason or "")[:REASON_LENGTH] or None}
    if status == SENT:
        values.update(sent_at=moment, message_sid=(message_sid or "")[:64] or None)
    if status == DEFERRED:
        if next_try_at is None:
            raise ValueError("a deferred message needs next_try_at")
        values["next_try_at"] = db.as_stored(next_try_at)
    query = (
        sa.update(OUTREACH)
        .where(
            OUTREACH.c.outreach_id == outreach.outreach_id,
            OUTREACH.c.status == CLAIMED,
            OUTREACH.c.claimed_by == (outreach.claimed_by or ""),
            OUTREACH.c.claimed_at == db.as_stored(outreach.claimed_at) if outreach.claimed_at else sa.false(),
        )
        .values(**values)
    )
    with db.engine(url).begin() as connection:
        return connection.execute(query).rowcount == 1


def get(outreach_id: str, url: str | None = None) -> Outreach | None:
    """The row with this id, or None."""
    with db.engine(url).connect() as connection:
        row = connection.execute(sa.select(OUTREACH).where(OUTREACH.c.outreach_id == outreach_id)).first()
    return _outreach(row._mapping) if row else None


def is_live_reminder(outreach_id: str, conversation_id: str, url: str | None = None) -> bool:
    """Whether a turn may start the re-check: a reminder of THIS conversation, being sent or sent within 14 days.

    The re-check actions refuse to start otherwise, so a patient typing the payload starts
    nothing, and neither does a reminder id of another conversation.
    """
    if not outreach_id or not conversation_id:
        return False
    row = get(outreach_id, url)
    if row is None or row.kind != KIND_REMINDER or row.conversation_id != conversation_id:
        return False
    if row.status == CLAIMED:
        return True
    return row.status == SENT and row.sent_at is not None and utcnow() - row.sent_at <= REMINDER_LIVE


def everyone(url: str | None = None, limit: int = 200, status: str | None = None) -> list[Outreach]:
    """The newest ``limit`` rows, newest first, optionally of one status (the CLI and console list them)."""
    query = sa.select(OUTREACH).order_by(OUTREACH.c.created_at.desc(), OUTREACH.c.outreach_id).limit(limit)
    if status is not None:
        query = query.where(OUTREACH.c.status == status)
    with db.engine(url).connect() as connection:
        return [_outreach(row._mapping) for row in connection.execute(query)]


def reminders_of(invitation_ids: list[str], url: str | None = None) -> dict[str, Outreach]:
    """The reminder row of each of these invitations that has one (the console's Reminder column)."""
    if not invitation_ids:
        return {}
    query = sa.select(OUTREACH).where(
        OUTREACH.c.outreach_id.in_([reminder_id(invitation_id) for invitation_id in invitation_ids])
    )
    with db.engine(url).connect() as connection:
        rows = [_outreach(row._mapping) for row in connection.execute(query)]
    return {row.invitation_id: row for row in rows}


# --- the daily and weekly limits -----------------------------------------------------------


def record_initiated(
    conversation_id: str,
    kind: str,
    ref: str,
    now: dt.datetime,
    clinic: Clinic,
    url: str | None = None,
) -> bool:
    """Take today's (clinic time) one message for this number; False when today is taken already.

    The unique key decides between servers. An invitation is staff's doing and is never
    held: on a day already taken it is still recorded (for the weekly count), and False says so.
    """
    day = timing.local_day(now, clinic)
    row = {
        "conversation_id": conversation_id,
        "local_day": day,
        "slot": "",
        "kind": kind,
        "ref": ref[:64],
        "sent_at": db.as_stored(now),
    }
    engine = db.engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.insert(OUTREACH_DAYS).values(**row))
        return True
    except IntegrityError:
        if kind != KIND_INVITATION:
            return False
    try:
        with engine.begin() as connection:
            connection.execute(sa.insert(OUTREACH_DAYS).values(**{**row, "slot": f"{kind}:{ref}"[:64]}))
    except IntegrityError:
        pass  # the same invitation recorded twice: counted once
    return False


def day_taken(conversation_id: str, local_day: dt.date, url: str | None = None) -> bool:
    """Whether the assistant already texted this number first on ``local_day``."""
    return _count(conversation_id, local_day, local_day, url) > 0


def week_count(conversation_id: str, local_day: dt.date, url: str | None = None) -> int:
    """Messages started to this number in the seven local days ending ``local_day`` (three is the limit)."""
    return _count(conversation_id, local_day - dt.timedelta(days=WEEK_DAYS - 1), local_day, url)


def _count(conversation_id: str, first: dt.date, last: dt.date, url: str | None) -> int:
    query = sa.select(sa.func.count()).where(
        OUTREACH_DAYS.c.conversation_id == conversation_id,
        OUTREACH_DAYS.c.local_day >= first,
        OUTREACH_DAYS.c.local_day <= last,
    )
    with db.engine(url).connect() as connection:
        return int(connection.execute(query).scalar_one())


# --- times -------------------------------------------------------------------------------


def utcnow() -> dt.datetime:
    """Now, aware UTC."""
    return dt.datetime.now(dt.timezone.utc)


def _aware(moment: dt.datetime | None) -> dt.datetime | None:
    return db.as_utc(moment)


def _outreach(row: sa.engine.RowMapping) -> Outreach:
    due_at = _aware(row["due_at"])
    next_try_at = _aware(row["next_try_at"])
    assert due_at is not None and next_try_at is not None
    return Outreach(
        outreach_id=row["outreach_id"],
        kind=row["kind"],
        conversation_id=row["conversation_id"],
        invitation_id=row["invitation_id"],
        record_id=row["record_id"],
        requested=bool(row["requested"]),
        due_at=due_at,
        status=row["status"],
        next_try_at=next_try_at,
        claimed_by=row["claimed_by"],
        claimed_at=_aware(row["claimed_at"]),
        sent_at=_aware(row["sent_at"]),
        message_sid=row["message_sid"],
        reason=row["reason"],
        created_at=_aware(row["created_at"]),
    )
