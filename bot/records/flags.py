"""The care team's flag log: what needs a human (emergencies, callbacks, medicine questions, candidacy answers).

Rows are only ever added. Resolving a flag adds a row with status ``resolved``
that points to it, so the log shows who closed what and when. ``callback_message``
picks what a patient who asked for a callback is told about when staff will see it.

One exception keeps a flood readable: the same emergency (kind, category) from the same
conversation and the same client address (where the channel gives one), while its flag
is open and within ``FLAG_REPEAT_WINDOW_SECONDS`` of the last one, adds 1 to that flag's
``count`` and sets its ``last_at`` instead of adding a row. Nothing else of a row ever
changes. A different category, conversation or address, or a resolved flag, gets its own
row: one patient's emergency is never folded into another's.

    python -m bot flags list                 # open flags, oldest first
    python -m bot flags list --all           # every row
    python -m bot flags resolve 12 --by "RN Lee" --note "called back"
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import threading
from dataclasses import dataclass

import sqlalchemy as sa

from bot import notify, settings
from bot.content.clinic import Clinic
from bot.content.dates import spoken_opening
from bot.records import db

KINDS = ("emergency", "callback", "medication", "candidacy", "teachback", "decision")
OPEN = "open"
RESOLVED = "resolved"
# Kinds whose repeats are counted on the open flag. Not the others: two candidacy or medicine
# flags of one conversation are two different questions.
REPEATS_COUNTED = frozenset({"emergency"})
# The key of a user message's metadata where a channel puts the client's address (an IP address).
CLIENT_ADDRESS_KEY = "client_address"
_SQLITE_REPEATS = threading.Lock()

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
    # Added later (db.engine() adds them to older databases): repeats counted on an open flag, the
    # time of the newest one, and a digest of the client's address (never the address itself).
    sa.Column("count", sa.Integer, nullable=False, server_default=sa.text("1")),
    sa.Column("last_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("source", sa.String(32), nullable=True),
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
    count: int = 1  # this flag and the repeats counted on it
    last_at: dt.datetime | None = None  # the newest repeat, if any
    source: str | None = None  # digest of the client address, when the channel gave one


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def source_digest(client_address: str | None) -> str | None:
    """What is kept of a client address: enough to tell one source from another, not the address."""
    if not client_address:
        return None
    return hashlib.sha256(f"flag-source:{client_address}".encode()).hexdigest()[:32]


def add(
    conversation_id: str,
    channel: str,
    kind: str,
    message: str,
    detail: str = "",
    url: str | None = None,
    client_address: str | None = None,
) -> int:
    """Append an open flag and return its id; a repeated emergency counts on its open flag (module docstring)."""
    if kind not in KINDS:
        raise ValueError(f"unknown flag kind '{kind}' (one of {', '.join(KINDS)})")
    engine = db.engine(url)
    source = source_digest(client_address)
    at = now()
    window = settings.flag_repeat_window_seconds() if kind in REPEATS_COUNTED else 0.0
    # One conversation's repeats one at a time, so two at once do not both add a row.
    serial = _SQLITE_REPEATS if window and engine.dialect.name == "sqlite" else contextlib.nullcontext()
    with serial, engine.begin() as connection:
        if window:
            if engine.dialect.name == "postgresql":
                connection.execute(
                    sa.text("SELECT pg_advisory_xact_lock(7243002, hashtext(:conversation))"),
                    {"conversation": conversation_id},
                )
            counted = _count_repeat(connection, conversation_id, kind, detail, source, at, window)
            if counted is not None:
                return counted
        result = connection.execute(
            FLAGS.insert().values(
                created_at=at,
                conversation_id=conversation_id,
                channel=channel or "unknown",
                kind=kind,
                message=message,
                detail=detail,
                status=OPEN,
                resolves_id=None,
                actor="assistant",
                count=1,
                last_at=None,
                source=source,
            )
        )
        flag_id = int(result.inserted_primary_key[0])
    # Committed and new (a counted repeat returned above): the on-call contact hears of it in the background.
    notify.flag_added(flag_id, kind, at)
    return flag_id


def _count_repeat(
    connection: sa.engine.Connection,
    conversation_id: str,
    kind: str,
    detail: str,
    source: str | None,
    at: dt.datetime,
    window: float,
) -> int | None:
    """Add 1 to the open flag this repeats (same kind, detail, conversation, source, within the window); its id."""
    cutoff = at - dt.timedelta(seconds=window)
    resolutions = sa.select(FLAGS.c.resolves_id).where(FLAGS.c.resolves_id.is_not(None))
    candidate = connection.execute(
        sa.select(FLAGS.c.id)
        .where(
            FLAGS.c.status == OPEN,
            FLAGS.c.kind == kind,
            FLAGS.c.conversation_id == conversation_id,
            FLAGS.c.detail == detail,
            FLAGS.c.source.is_(None) if source is None else FLAGS.c.source == source,
            FLAGS.c.id.not_in(resolutions),
            sa.or_(FLAGS.c.last_at >= cutoff, sa.and_(FLAGS.c.last_at.is_(None), FLAGS.c.created_at >= cutoff)),
        )
        .order_by(FLAGS.c.id.desc())
        .limit(1)
    ).scalar()
    if candidate is None:
        return None
    resolution = FLAGS.alias("resolution")
    updated = connection.execute(
        FLAGS.update()
        .where(FLAGS.c.id == candidate, ~sa.exists().where(resolution.c.resolves_id == candidate))
        .values(count=FLAGS.c.count + 1, last_at=at)
    )
    return int(candidate) if updated.rowcount else None


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
    return Flag(
        **{**dict(mapping), "created_at": db.as_utc(mapping["created_at"]), "last_at": db.as_utc(mapping["last_at"])}
    )


def get(flag_id: int, url: str | None = None) -> Flag | None:
    """One row by its id (a flag or a resolution), or None."""
    with db.engine(url).connect() as connection:
        found = connection.execute(sa.select(FLAGS).where(FLAGS.c.id == flag_id)).mappings().first()
    return None if found is None else _row(found)


def resolution_of(flag_id: int, url: str | None = None) -> Flag | None:
    """The row that resolved ``flag_id``, or None while it is open."""
    query = sa.select(FLAGS).where(FLAGS.c.resolves_id == flag_id).order_by(FLAGS.c.id)
    with db.engine(url).connect() as connection:
        found = connection.execute(query).mappings().first()
    return None if found is None else _row(found)


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
    return "callback_closed", {"next_opening": spoken_opening(opening)}
