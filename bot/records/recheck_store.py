"""Re-checks before the visit: append-only rows, each linked to the consent record it checked and signed.

A re-check (``bot.consent.recheck``) asks key points again after the consent record was
made, so it is a record of its own, never an edit of that one. Each row names the consent
record by id and by its chain hash (the exact record the patient's answers followed) and
carries an HMAC of its canonical fields under ``CONSENT_RECORD_KEY``, made with the consent
store's own helper: whoever can write the database but does not hold the key cannot change
an answer, the link or the result without ``verify`` saying so. Rows are not chained to
each other: a deleted re-check is not detected (the consent chain is unaffected).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from bot.consent.record import RecheckAnswer
from bot.records import consent_store, db

# Part of what is hashed: a re-check's hash can never be taken for a consent record's chain hash.
_ROW_TYPE = "rhizotomy recheck v1"

RECHECKS = sa.Table(
    "recheck_records",
    db.METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("created_at", sa.String(40), nullable=False),  # ISO 8601 UTC text: hashed exactly as stored
    sa.Column("consent_record_id", sa.Integer, nullable=False, index=True),
    sa.Column("consent_record_hash", sa.String(64), nullable=False),
    sa.Column("reminder", sa.String(64), nullable=False),  # the outreach id of the reminder that asked
    sa.Column("conversation_id", sa.String(255), nullable=False),
    sa.Column("patient_ref", sa.String(255), nullable=True),
    sa.Column("identity", sa.String(32), nullable=False),
    sa.Column("answers", sa.Text, nullable=False),  # canonical JSON: [{point, question, answer, understood}]
    sa.Column("missed", sa.Integer, nullable=False),
    sa.Column("record_hmac", sa.String(64), nullable=False),
)

_SIGNED = (
    "created_at",
    "consent_record_id",
    "consent_record_hash",
    "reminder",
    "conversation_id",
    "patient_ref",
    "identity",
    "answers",
    "missed",
)


@dataclass(frozen=True)
class RecheckRecord:
    """One stored re-check, its answers read back as typed fields."""

    id: int
    created_at: str
    consent_record_id: int
    consent_record_hash: str
    reminder: str
    conversation_id: str
    patient_ref: str | None
    identity: str
    answers: tuple[RecheckAnswer, ...]
    missed: int
    record_hmac: str


@dataclass(frozen=True)
class RecheckReport:
    """What ``verify`` found: how many rows were checked and a line for each that fails."""

    checked: int
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems


def row_hash(fields: dict[str, Any]) -> str:
    """SHA-256 of the signed fields as stored (answers as their stored text)."""
    signed = {"type": _ROW_TYPE, **{key: fields[key] for key in _SIGNED}}
    return hashlib.sha256(consent_store.canonical(signed).encode("utf-8")).hexdigest()


def sign(fields: dict[str, Any], key: bytes | None = None) -> str:
    """The row's HMAC: the consent store's helper and key over the row's hash."""
    return consent_store.record_hmac(row_hash(fields), consent_store.record_key() if key is None else key)


def append(
    consent: consent_store.Record,
    reminder: str,
    conversation_id: str,
    answers: Sequence[RecheckAnswer],
    patient_ref: str | None = None,
    identity: str = "",
    url: str | None = None,
) -> RecheckRecord:
    """Store a re-check of ``consent`` (a new row; nothing is ever updated)."""
    fields: dict[str, Any] = {
        "created_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="microseconds"),
        "consent_record_id": consent.id,
        "consent_record_hash": consent.record_hash,
        "reminder": reminder,
        "conversation_id": conversation_id,
        "patient_ref": patient_ref,
        "identity": identity,
        "answers": consent_store.canonical([entry.to_json() for entry in answers]),
        "missed": sum(1 for entry in answers if not entry.understood),
    }
    fields["record_hmac"] = sign(fields)
    with db.engine(url).begin() as connection:
        new_id = connection.execute(RECHECKS.insert().values(**fields)).inserted_primary_key[0]
    return _record({**fields, "id": new_id})


def for_record(consent_record_id: int, url: str | None = None) -> list[RecheckRecord]:
    """The re-checks of one consent record, oldest first."""
    query = sa.select(RECHECKS).where(RECHECKS.c.consent_record_id == consent_record_id).order_by(RECHECKS.c.id)
    with db.engine(url).connect() as connection:
        return [_record(row) for row in connection.execute(query).mappings()]


def is_intact(record: RecheckRecord, key: bytes | None = None) -> bool:
    """Whether the row still carries the HMAC its fields were signed with."""
    fields = {
        **{name: getattr(record, name) for name in _SIGNED if name != "answers"},
        "answers": consent_store.canonical([entry.to_json() for entry in record.answers]),
    }
    return _same(record.record_hmac, sign(fields, key))


def verify(url: str | None = None, key: bytes | None = None) -> RecheckReport:
    """Check every re-check's HMAC, and that the consent record it names is still the one it followed."""
    key = consent_store.record_key() if key is None else key
    engine = db.engine(url)
    with engine.connect() as connection:
        rows = [dict(row) for row in connection.execute(sa.select(RECHECKS).order_by(RECHECKS.c.id)).mappings()]
        linked = dict(
            connection.execute(
                sa.select(consent_store.RECORDS.c.id, consent_store.RECORDS.c.record_hash).where(
                    consent_store.RECORDS.c.id.in_({row["consent_record_id"] for row in rows})
                )
            ).all()
        )
    problems = []
    for row in rows:
        if not _same(row["record_hmac"], sign(row, key)):
            problems.append(f"FORGED: re-check {row['id']} fails its HMAC (changed after it was written)")
        elif linked.get(row["consent_record_id"]) != row["consent_record_hash"]:
            problems.append(
                f"UNLINKED: re-check {row['id']} names consent record {row['consent_record_id']}, "
                "which is missing or not the record it followed"
            )
    return RecheckReport(checked=len(rows), problems=tuple(problems))


def _same(stored: str, expected: str) -> bool:
    """Constant-time comparison that a stored value of any characters cannot crash."""
    return hmac.compare_digest(stored.encode("utf-8"), expected.encode("utf-8"))


def _record(row: Any) -> RecheckRecord:
    values = dict(row)
    values["answers"] = tuple(RecheckAnswer.from_json(item) for item in json.loads(values["answers"]))
    return RecheckRecord(**values)
