"""Tamper-evident consent records: append-only, each row chained to the one before by a hash.

A record holds what the care team relies on at the visit: candidacy answers with
flags, each teach-back point with the patient's answers, the decision, the
topics asked about (the typed ``bot.consent.record.ConsentPayload``, stored as its
canonical JSON) and the version of the content shown. Changing or deleting a
row breaks the chain; ``verify`` names the first broken record. A change of
mind is a new record, never an edit. Only the decisions of ``content/consent.yml``
are stored.

The chain alone cannot see its newest rows deleted, the table emptied, or a row
rewritten with every later hash recomputed. So each record also carries an HMAC of
its chain hash under ``CONSENT_RECORD_KEY``, a key that is never in the database
(a recomputed chain fails it), and every append checkpoints the head outside the
database (``bot.records.checkpoint``: an append-only file, and a mail to the care team
when configured; deleted or emptied rows are missing there). Records written before
the HMAC column have none; they are covered by the first signed record after them,
whose chain hash includes theirs.

    python -m bot consent list | show 3 | export 3 --html out.html | verify [--checkpoint FILE ...]
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import json
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bot import content, settings
from bot.consent.record import ConsentPayload
from bot.records import checkpoint, db

logger = logging.getLogger(__name__)

GENESIS = "0" * 64
_SQLITE_APPENDS = threading.Lock()

KEY_ENV = "CONSENT_RECORD_KEY"
DEVELOPMENT_KEY = "development-only-consent-record-key-never-in-production"
_HMAC_CONTEXT = b"rhizotomy consent record v1\n"  # this key signs nothing else
_warned_development_key = False

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
    # HMAC-SHA256 of record_hash under CONSENT_RECORD_KEY; NULL on records written before it existed
    # (db.engine() adds the column to older databases).
    sa.Column("record_hmac", sa.String(64), nullable=True),
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
    record_hmac: str | None = None  # None: written before records were signed

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
            "record_hmac": self.record_hmac,
        }


def canonical(value: Any) -> str:
    """The one JSON text of a value that every machine hashes alike."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def record_hash(fields: dict[str, Any]) -> str:
    """SHA-256 over the stored fields (payload as stored text) and the previous hash."""
    return hashlib.sha256(canonical({key: fields[key] for key in _HASHED}).encode("utf-8")).hexdigest()


def record_key() -> bytes:
    """``CONSENT_RECORD_KEY``; a development stand-in outside production (``SettingsError`` in production).

    Never stored in the database: whoever can write the database cannot sign a record.
    """
    global _warned_development_key
    key = settings.secret(KEY_ENV, DEVELOPMENT_KEY) or DEVELOPMENT_KEY
    if key == DEVELOPMENT_KEY and not _warned_development_key:
        _warned_development_key = True
        logger.warning("%s is not set: consent records are signed and checked with the development key", KEY_ENV)
    return key.encode("utf-8")


def record_hmac(chain_hash: str, key: bytes) -> str:
    """HMAC-SHA256 of a record's chain hash, which covers its content and every record before it."""
    return hmac.new(key, _HMAC_CONTEXT + chain_hash.encode("ascii"), hashlib.sha256).hexdigest()


def append(
    conversation_id: str,
    channel: str,
    payload: ConsentPayload,
    content_version: str,
    patient_ref: str | None = None,
    url: str | None = None,
    attempts: int = 5,
) -> Record:
    """Add a record of ``payload``'s decision at the head of the chain (retrying if another server appended first).

    The record is signed, and once committed its checkpoint is written (``bot.records.checkpoint``);
    a checkpoint that cannot be written is logged as an error, the record stays.
    """
    if content.consent_content().decision(payload.decision) is None:
        raise ValueError(f"unknown decision '{payload.decision}'")
    key = record_key()
    engine = db.engine(url)
    # SQLite has no row locks: one append at a time per process (the action server appends from
    # threads), and a retry when another process held the file. PostgreSQL uses an advisory lock.
    serial = _SQLITE_APPENDS if engine.dialect.name == "sqlite" else contextlib.nullcontext()
    for attempt in range(attempts):
        try:
            with serial:
                with engine.begin() as connection:
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
                    fields["record_hmac"] = record_hmac(fields["record_hash"], key)
                    new_id = connection.execute(RECORDS.insert().values(**fields)).inserted_primary_key[0]
                    record = _record({**fields, "id": new_id})
                # Committed, so a line is written only for a stored record; on SQLite still inside
                # the per-process lock, so its lines are in chain order (order is not relied on).
                _checkpoint(engine.url, record)
            return record
        except (sa.exc.IntegrityError, sa.exc.OperationalError):
            if attempt == attempts - 1:
                raise
            time.sleep(0.05 * (attempt + 1))
    raise RuntimeError("unreachable")


def _checkpoint(url: sa.engine.URL, record: Record) -> None:
    """Write the new head outside the database (file, then the care team's mail if configured)."""
    assert record.record_hmac is not None
    line = checkpoint.Checkpoint(
        record.id, record.record_hash, record.record_hmac, checkpoint.now(), checkpoint.database_tag(url)
    )
    path = checkpoint.default_file(url)
    try:
        checkpoint.write(path, line)
    except OSError as error:
        logger.error(
            "consent record #%s stored, but its checkpoint could not be written to %s: %s", record.id, path, error
        )
    checkpoint.notify(line)


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
    """Result of a chain check: every problem found, each named (``problems``), and what was compared.

    ``broken_id`` and ``reason`` are the first problem's record and words; ``checked`` counts the
    records whose chain and HMAC hold before the first broken one.
    """

    checked: int
    head_hash: str
    broken_id: int | None = None
    reason: str = ""
    head_id: int | None = None
    checkpoint_id: int | None = None  # the newest record the checkpoint lines know
    unsigned: int = 0  # records written before records were signed (covered by the first signed one after them)
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        """One line when the chain is whole; else one line per problem, most telling first."""
        if self.problems:
            return "\n".join(self.problems)
        count = f"{self.checked} record{'s' if self.checked != 1 else ''}"
        if self.head_id is None:
            line = f"chain ok: {count}"
        elif self.checkpoint_id == self.head_id:
            line = f"chain ok: {count}, head #{self.head_id} matches checkpoint #{self.checkpoint_id}"
        elif self.checkpoint_id is not None:
            line = (
                f"chain ok: {count}, head #{self.head_id}; checkpoint has #{self.checkpoint_id} "
                "(newer records were appended by another server, or their checkpoint was not written)"
            )
        else:
            line = f"chain ok: {count}, head #{self.head_id}"
        return "\n".join([line, *self.notes])


@dataclass
class _Check:
    """What verify found so far."""

    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    first_id: int | None = None

    def problem(self, text: str, record_id: int | None = None) -> None:
        self.problems.append(text)
        if self.first_id is None and record_id is not None:
            self.first_id = record_id


def verify(url: str | None = None, checkpoints: Sequence[Path] | None = None, key: bytes | None = None) -> ChainReport:
    """Check the chain, each record's HMAC and the checkpoint lines; name what is wrong.

    In order: each record must follow the one before it (a deleted or inserted row), hash
    to its stored hash (a changed row) and carry a valid HMAC (a chain recomputed by
    someone without the key). Then the checkpoint lines (``checkpoints``, default the file
    this machine writes): rows after the newest line are allowed (another server appended
    them), but a checkpointed record that is gone or different is not.
    """
    engine = db.engine(url)
    key = record_key() if key is None else key
    paths = list(checkpoints) if checkpoints else [checkpoint.default_file(engine.url)]
    with engine.connect() as connection:
        rows = [dict(row) for row in connection.execute(sa.select(RECORDS).order_by(RECORDS.c.id)).mappings()]
    found = _Check()
    checked, unsigned, head_hash = _walk(rows, key, found)
    reading = checkpoint.read(paths, checkpoint.database_tag(engine.url))
    checkpoint_id = _compare(
        rows, reading, key, paths, found, signed=any(row["record_hmac"] is not None for row in rows)
    )
    if unsigned and not found.problems:
        covered = next((row["id"] for row in rows if row["record_hmac"] is not None), None)
        found.notes.append(
            f"{unsigned} record{'s were' if unsigned != 1 else ' was'} written before records were signed"
            + (f"; record #{covered}'s HMAC covers them" if covered else "; the next record will cover them")
        )
    return ChainReport(
        checked=checked,
        head_hash=head_hash,
        broken_id=found.first_id,
        reason=found.problems[0] if found.problems else "",
        head_id=rows[-1]["id"] if rows else None,
        checkpoint_id=checkpoint_id,
        unsigned=unsigned,
        problems=tuple(found.problems),
        notes=tuple(found.notes),
    )


def _walk(rows: list[dict[str, Any]], key: bytes, found: _Check) -> tuple[int, int, str]:
    """Follow the chain to its first broken record; (records intact, unsigned among them, last intact hash)."""
    expected_prev, checked, unsigned, signed_seen = GENESIS, 0, 0, False
    for fields in rows:
        number = fields["id"]
        if fields["prev_hash"] != expected_prev:
            found.problem(
                f"BROKEN: record {number} does not follow the record before it (a record was deleted or inserted)",
                number,
            )
            break
        if record_hash(fields) != fields["record_hash"]:
            found.problem(f"BROKEN: record {number}: its content was changed after it was written", number)
            break
        stored = fields["record_hmac"]
        if stored is None:
            if signed_seen:
                found.problem(f"FORGED: record {number} has no HMAC, but records before it have one", number)
                break
            unsigned += 1
        elif not _same(stored, record_hmac(fields["record_hash"], key)):
            hint = "" if signed_seen else f" (or {KEY_ENV} is not the key it was written with)"
            found.problem(f"FORGED: record {number} fails its HMAC{hint}", number)
            break
        else:
            signed_seen = True
        expected_prev = fields["record_hash"]
        checked += 1
    return checked, unsigned, expected_prev


def _compare(
    rows: list[dict[str, Any]],
    reading: checkpoint.Reading,
    key: bytes,
    paths: list[Path],
    found: _Check,
    signed: bool,
) -> int | None:
    """Compare the rows with the checkpoint lines; the newest checkpointed record id (None: no lines)."""
    for path, number in reading.unreadable:
        found.problem(f"CHECKPOINT UNREADABLE: line {number} of {path} is not a checkpoint line")
    lines: dict[int, checkpoint.Checkpoint] = {}
    for path, line in reading.lines:
        if not _same(line.record_hmac, record_hmac(line.record_hash, key)):
            found.problem(f"CHECKPOINT FORGED: the line of record {line.record_id} in {path} fails its HMAC")
            continue
        known = lines.setdefault(line.record_id, line)
        if known.record_hash != line.record_hash:
            found.problem(f"CHECKPOINT CONFLICT: record {line.record_id} has two different checkpoint lines")
    if not lines:
        if signed:  # signed records were checkpointed when written: their lines must be somewhere
            where = ", ".join(str(path) for path in paths)
            found.problem(
                f"NO CHECKPOINT: {len(rows)} records, but no checkpoint line for this database in {where} "
                "(deleted newest records could not be seen; pass every server's file with --checkpoint)"
            )
        return None
    newest = max(lines)
    if not rows:
        found.problem(f"EMPTY: no records, checkpoint has {newest}", newest)
        return newest
    head_id = rows[-1]["id"]
    if newest > head_id:
        found.problem(f"TRUNCATED: rows after id {head_id} missing, checkpoint has {newest}", head_id + 1)
    by_id = {row["id"]: row for row in rows}
    missing = [number for number in sorted(lines) if number <= head_id and number not in by_id]
    if missing:
        found.problem(f"MISSING: {_ids(missing)} in the checkpoint but not in the database", missing[0])
    changed = [
        number
        for number in sorted(lines)
        if number in by_id
        and (
            by_id[number]["record_hash"] != lines[number].record_hash
            or by_id[number]["record_hmac"] != lines[number].record_hmac
        )
    ]
    if changed:
        found.problem(
            f"REWRITTEN: {_ids(changed)} differ{'s' if len(changed) == 1 else ''} from the checkpoint", changed[0]
        )
    return newest


def _same(stored: str, expected: str) -> bool:
    """Constant-time comparison that a stored value of any characters cannot crash."""
    return hmac.compare_digest(stored.encode("utf-8"), expected.encode("utf-8"))


def _ids(numbers: list[int]) -> str:
    """``record 12`` or ``records 12, 13 and 5 more``: a problem line stays one line."""
    if len(numbers) == 1:
        return f"record {numbers[0]}"
    shown = ", ".join(str(n) for n in numbers[:3])
    return f"records {shown}" + (f" and {len(numbers) - 3} more" if len(numbers) > 3 else "")
