"""The care team's flag log: what needs a human (emergencies, callbacks, medicine questions, candidacy answers).

Rows are only ever added. Resolving a flag adds a row with status ``resolved``
that points to it, so the log shows who closed what and when. ``callback_message``
picks what a patient who asked for a callback is told about when staff will see it.

    python -m bot flags list                 # open flags, oldest first
    python -m bot flags list --all           # every row
    python -m bot flags resolve 12 --by "RN Lee" --note "called back"
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from bot.content.clinic import Clinic, clock
from bot.records import db

KINDS = ("emergency", "callback", "medication", "candidacy", "teachback", "decision")
OPEN = "open"
RESOLVED = "resolved"

FLAGS = sa.Table(
    "care_flags",
    db.METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("conversation_id", sa.String(255), nullable=False, index=True),
    sa.Column("channel", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("detail", sa.Text, nullable=False, default=""),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("resolves_id", sa.Integer, sa.ForeignKey("care_flags.id"), nullable=True),
    sa.Column("actor", sa.String(255), nullable=False, default="assistant"),
)


@dataclass(frozen=True)
class Flag:
    """One row of the flag log."""

    id: int
    created_at: dt.datetime
    conversation_id: str
    channel: str
    kind: str
    message: str
    detail: str
    status: str
    resolves_id: int | None
    actor: str


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def add(conversation_id: str, channel: str, kind: str, message: str, detail: str = "", url: str | None = None) -> int:
    """Append an open flag and return its id."""
    if kind not in KINDS:
        raise ValueError(f"unknown flag kind '{kind}' (one of {', '.join(KINDS)})")
    with db.engine(url).begin() as connection:
        result = connection.execute(
            FLAGS.insert().values(
                created_at=now(),
                conversation_id=conversation_id,
                channel=channel or "unknown",
                kind=kind,
                message=message,
                detail=detail,
                status=OPEN,
                resolves_id=None,
                actor="assistant",
            )
        )
        return int(result.inserted_primary_key[0])


def resolve(flag_id: int, actor: str, note: str = "", url: str | None = None) -> int:
    """Append a row that resolves ``flag_id``; the open row itself is never changed."""
    with db.engine(url).begin() as connection:
        original = connection.execute(sa.select(FLAGS).where(FLAGS.c.id == flag_id)).mappings().first()
        if original is None or original["status"] != OPEN:
            raise LookupError(f"flag {flag_id} is not an open flag")
        done = connection.execute(sa.select(FLAGS.c.id).where(FLAGS.c.resolves_id == flag_id)).first()
        if done is not None:
            raise LookupError(f"flag {flag_id} is already resolved (by row {done[0]})")
        result = connection.execute(
            FLAGS.insert().values(
                created_at=now(),
                conversation_id=original["conversation_id"],
                channel=original["channel"],
                kind=original["kind"],
                message=note,
                detail="",
                status=RESOLVED,
                resolves_id=flag_id,
                actor=actor,
            )
        )
        return int(result.inserted_primary_key[0])


def _row(mapping: sa.engine.RowMapping) -> Flag:
    created = mapping["created_at"]
    if created.tzinfo is None:  # SQLite keeps no zone; every time stored is UTC
        created = created.replace(tzinfo=dt.timezone.utc)
    return Flag(**{**dict(mapping), "created_at": created})


def all_rows(url: str | None = None, conversation_id: str | None = None) -> list[Flag]:
    """Every row, oldest first (optionally of one conversation)."""
    query = sa.select(FLAGS).order_by(FLAGS.c.id)
    if conversation_id is not None:
        query = query.where(FLAGS.c.conversation_id == conversation_id)
    with db.engine(url).connect() as connection:
        return [_row(m) for m in connection.execute(query).mappings()]


def open_flags(url: str | None = None, kind: str | None = None) -> list[Flag]:
    """Open flags that no later row resolves, oldest first."""
    resolved = sa.select(FLAGS.c.resolves_id).where(FLAGS.c.resolves_id.is_not(None))
    query = sa.select(FLAGS).where(FLAGS.c.status == OPEN, FLAGS.c.id.not_in(resolved)).order_by(FLAGS.c.id)
    if kind:
        query = query.where(FLAGS.c.kind == kind)
    with db.engine(url).connect() as connection:
        return [_row(m) for m in connection.execute(query).mappings()]


def callback_message(written: bool, clinic: Clinic, now: dt.datetime) -> tuple[str, dict[str, str]]:
    """The message (``content/messages.yml``) and its values that tell a patient honestly when staff see a callback.

    ``written`` is whether the callback flag was stored; if not, the patient is given the phone number instead.
    """
    if not written:
        return "callback_failed", {}
    if clinic.is_open(now):
        return "callback_open", {}
    opening = clinic.next_opening(now)
    return "callback_closed", {"next_opening": f"{opening:%A} at {clock(opening.time())}"}
