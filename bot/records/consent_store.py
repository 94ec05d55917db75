"""Tamper-evident consent records: append-only, each row chained to the one before by a hash.

A record holds what the care team relies on at the visit: candidacy answers with
flags, each teach-back point with the patient's answers, the decision, the
topics asked about (the typed ``bot.consent.record.ConsentPayload``, stored as its
canonical JSON) and the version of the content shown. Changing or deleting a
row breaks the chain; ``verify`` names the first broken record. A change of
mind is a new record, never an edit. Only the decisions of ``content/consent.yml``
are stored.

    python -m bot consent list | show 3 | export 3 --html out.html | verify
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import threading
import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from bot import content
from bot.consent.record import ConsentPayload
from bot.records import db

GENESIS = "0" * 64
_SQLITE_APPENDS = threading.Lock()

RECORDS = sa.Table(
    "consent_records",
    db.METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("created_at", sa.String(40), nullable=False),  # ISO 8601 UTC text: hashed exactly as stored
    sa.Column("conversation_id", sa.String(255), nullable=False, index=True),
    sa.Column("channel", sa.String(64), nullable=False),
    sa.Column("patient_ref", sa.String(255), nullable=True),
    sa.Column("content_version", sa.String(64), nullable=False),
    sa.Column("decision", sa.String(32), nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False, unique=True),  # one successor per record: no forks
    sa.Column("record_hash", sa.String(64), nullable=False, unique=True),
)

_HASHED = (
    "created_at",
    "conversation_id",
    "channel",
    "patient_ref",
    "content_version",
    "decision",
    "payload",
    "prev_hash",
)


@dataclass(frozen=True)
class Record:
    """One stored consent record: the row's fields, its payload read back as typed fields."""

    id: int
    created_at: str
    conversation_id: str
    channel: str
    patient_ref: str | None
    content_version: str
    decision: str
    payload: ConsentPayload
    prev_hash: str
    record_hash: str

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "created_at": self.created_at,
            "conversation_id": self.conversation_id,
            "channel": self.channel,
            "patient_ref": self.patient_ref,
            "content_version": self.content_version,
            "decision": self.decision,
            **self.payload.to_json(),
            "prev_hash": self.prev_hash,
            "record_hash": self.record_hash,
        }


def canonical(value: Any) -> str:
    """The one JSON text of a value that every machine hashes alike."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def record_hash(fields: dict[str, Any]) -> str:
    """SHA-256 over the stored fields (payload as stored text) and the previous hash."""
    return hashlib.sha256(canonical({key: fields[key] for key in _HASHED}).encode("utf-8")).hexdigest()


def append(
    conversation_id: str,
    channel: str,
    payload: ConsentPayload,
    content_version: str,
    patient_ref: str | None = None,
    url: str | None = None,
    attempts: int = 5,
) -> Record:
    """Add a record of ``payload``'s decision at the head of the chain (retrying if another server appended first)."""
    if content.consent_content().decision(payload.decision) is None:
        raise ValueError(f"unknown decision '{payload.decision}'")
    engine = db.engine(url)
    # SQLite has no row locks: one append at a time per process (the action server appends from
    # threads), and a retry when another process held the file. PostgreSQL uses an advisory lock.
    serial = _SQLITE_APPENDS if engine.dialect.name == "sqlite" else contextlib.nullcontext()
    for attempt in range(attempts):
        try:
            with serial, engine.begin() as connection:
                if engine.dialect.name == "postgresql":
                    connection.execute(sa.text("SELECT pg_advisory_xact_lock(7243001)"))
                head = connection.execute(
                    sa.select(RECORDS.c.record_hash).order_by(RECORDS.c.id.desc()).limit(1)
                ).first()
                fields: dict[str, Any] = {
                    "created_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="microseconds"),
                    "conversation_id": conversation_id,
                    "channel": channel or "unknown",
                    "patient_ref": patient_ref,
                    "content_version": content_version,
                    "decision": payload.decision,
                    "payload": canonical(payload.to_json()),
                    "prev_hash": head[0] if head else GENESIS,
                }
                fields["record_hash"] = record_hash(fields)
                new_id = connection.execute(RECORDS.insert().values(**fields)).inserted_primary_key[0]
                return _record({**fields, "id": new_id})
        except (sa.exc.IntegrityError, sa.exc.OperationalError):
            if attempt == attempts - 1:
                raise
            time.sleep(0.05 * (attempt + 1))
    raise RuntimeError("unreachable")


def _record(row: Any) -> Record:
    values = dict(row)
    values["payload"] = ConsentPayload.from_json(json.loads(values["payload"]))
    return Record(**values)


def records(url: str | None = None, conversation_id: str | None = None) -> list[Record]:
    """Records oldest first (optionally of one conversation)."""
    query = sa.select(RECORDS).order_by(RECORDS.c.id)
    if conversation_id is not None:
        query = query.where(RECORDS.c.conversation_id == conversation_id)
    with db.engine(url).connect() as connection:
        return [_record(m) for m in connection.execute(query).mappings()]


def latest(conversation_id: str, url: str | None = None) -> Record | None:
    """The conversation's current decision: its newest record."""
    found = records(url, conversation_id)
    return found[-1] if found else None


def get(record_id: int, url: str | None = None) -> Record:
    with db.engine(url).connect() as connection:
        row = connection.execute(sa.select(RECORDS).where(RECORDS.c.id == record_id)).mappings().first()
    if row is None:
        raise LookupError(f"no consent record #{record_id}")
    return _record(row)


@dataclass(frozen=True)
class ChainReport:
    """Result of a chain check: ``broken_id`` is the first record that fails, if any."""

    checked: int
    head_hash: str
    broken_id: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_id is None


def verify(url: str | None = None) -> ChainReport:
    """Recompute every hash in order; a changed, deleted or inserted row breaks the chain."""
    expected_prev = GENESIS
    checked = 0
    with db.engine(url).connect() as connection:
        for row in connection.execute(sa.select(RECORDS).order_by(RECORDS.c.id)).mappings():
            fields = dict(row)
            if fields["prev_hash"] != expected_prev:
                return ChainReport(
                    checked,
                    expected_prev,
                    fields["id"],
                    "does not follow the record before it (a record was deleted or inserted)",
                )
            if record_hash(fields) != fields["record_hash"]:
                return ChainReport(checked, expected_prev, fields["id"], "its content was changed after it was written")
            expected_prev = fields["record_hash"]
            checked += 1
    return ChainReport(checked, expected_prev)
