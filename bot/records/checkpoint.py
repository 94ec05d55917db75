"""The consent chain's head, kept outside the database, so ``verify`` can see rows that are gone.

Whoever can write the database can delete its newest consent records, empty the table or
rewrite a row and recompute every later hash; the chain alone still looks whole. So every
append also writes one line to an append-only file on the action server's machine (and,
when configured, mails it to the care team's address):

    record id <TAB> chain hash <TAB> HMAC <TAB> time (UTC) <TAB> database tag

The HMAC is the record's own (``consent_store.record_hmac``), keyed by ``CONSENT_RECORD_KEY``,
so a line cannot be made up without the key. The database tag (a digest of the database's
backend, host, port and name; no user or password) keeps lines of another database that
shares the file out of the comparison.

Several servers: each action server appends the records it wrote to its own machine's file
(several action servers on one machine share it: each line is one ``O_APPEND`` write under
an exclusive ``flock``, then ``fsync``), so a file holds every record its machine appended,
in commit order per process. ``verify`` compares the database with whatever lines it is
given: the local file by default, or every machine's file (``--checkpoint`` repeated).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import logging
import os
import socket
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import sqlalchemy as sa

from bot import settings
from bot.notify.mail import deliver

logger = logging.getLogger(__name__)

FILE_NAME = "consent-checkpoints.log"
MAIL_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class Checkpoint:
    """One appended record as the file (and the care team's mail) keeps it."""

    record_id: int
    record_hash: str
    record_hmac: str
    at: str  # ISO 8601 UTC, when the line was written
    database: str  # database_tag() of the database the record is in

    def line(self) -> str:
        return f"{self.record_id}\t{self.record_hash}\t{self.record_hmac}\t{self.at}\t{self.database}\n"

    @classmethod
    def parse(cls, line: str) -> Checkpoint:
        """One line of the file; ValueError when it is not one."""
        parts = line.rstrip("\n").split("\t")
        if len(parts) != 5 or not parts[0].isdigit() or len(parts[1]) != 64 or len(parts[2]) != 64:
            raise ValueError("not a checkpoint line")
        return cls(int(parts[0]), parts[1], parts[2], parts[3], parts[4])


@dataclass(frozen=True)
class Reading:
    """The lines of one database found in some files, and the lines that could not be read (file, line number)."""

    lines: tuple[tuple[Path, Checkpoint], ...]
    unreadable: tuple[tuple[Path, int], ...]


def database_tag(url: str | sa.engine.URL) -> str:
    """A short digest naming the database (SQLite: its file; others: backend, host, port and name)."""
    parsed = sa.engine.make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        where = (
            str(Path(parsed.database).resolve()) if parsed.database and parsed.database != ":memory:" else ":memory:"
        )
        identity = f"sqlite:{where}"
    else:
        identity = f"{backend}://{parsed.host or ''}:{parsed.port or ''}/{parsed.database or ''}"
    return hashlib.sha256(identity.encode("utf-8")).hexdigest()[:16]


def default_file(url: str | sa.engine.URL) -> Path:
    """``CONSENT_CHECKPOINT_FILE``, or next to an SQLite database's file, or ``var/consent-checkpoints.log``.

    Next to an SQLite file, so a test's or a bench run's database never meets the lines of another.
    """
    configured = settings.consent_checkpoint_file()
    if configured is not None:
        return configured
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        return Path(parsed.database).resolve().parent / FILE_NAME
    return settings.VAR_DIR / FILE_NAME


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="microseconds")


def write(path: Path, checkpoint: Checkpoint) -> None:
    """Append one line and fsync it; processes on one machine never interleave (``O_APPEND`` + ``flock``).

    A line torn by a crash is ended first, so it cannot swallow the next one.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    created = not path.exists()
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o640)  # read: the last byte
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        size = os.fstat(fd).st_size
        data = checkpoint.line().encode("utf-8")
        if size and os.pread(fd, 1, size - 1) != b"\n":
            data = b"\n" + data
        while data:
            data = data[os.write(fd, data) :]
        os.fsync(fd)
    finally:
        os.close(fd)  # releases the lock
    if created:  # the new file's name must survive a crash too
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


def read(paths: Iterable[Path], database: str) -> Reading:
    """Every line of ``database`` in ``paths`` (a missing file has none), and the lines that are not checkpoints."""
    lines: list[tuple[Path, Checkpoint]] = []
    unreadable: list[tuple[Path, int]] = []
    for path in paths:
        if not path.exists():
            continue
        with path.open(encoding="utf-8", errors="replace") as handle:
            for number, text in enumerate(handle, 1):
                if not text.strip():
                    continue
                try:
                    checkpoint = Checkpoint.parse(text)
                except ValueError:
                    unreadable.append((path, number))
                    continue
                if checkpoint.database == database:
                    lines.append((path, checkpoint))
    return Reading(tuple(lines), tuple(unreadable))


# --- the care team's copy ---------------------------------------------------------------------


def mail(checkpoint: Checkpoint, to: str, smtp: str) -> None:
    """Send one checkpoint to ``to`` through the SMTP relay ``smtp`` (host:port); STARTTLS when offered.

    The message holds the line only: ids, hashes, time; no patient data.
    """
    host, _, port = smtp.rpartition(":") if ":" in smtp else (smtp, "", "25")
    message = EmailMessage()
    message["Subject"] = f"Consent record #{checkpoint.record_id} checkpoint"
    message["From"] = f"consent-checkpoint@{socket.getfqdn()}"
    message["To"] = to
    message.set_content(
        "The consent assistant appended a record. Keep this message: `python -m bot consent verify` compares\n"
        "the database with these lines (record id, chain hash, HMAC, time, database tag).\n\n" + checkpoint.line()
    )
    deliver(message, host, int(port), MAIL_TIMEOUT_SECONDS)


def notify(checkpoint: Checkpoint) -> threading.Thread | None:
    """Mail the checkpoint in the background when ``CONSENT_CHECKPOINT_MAIL_TO`` is set (the append never waits)."""
    configured = settings.consent_checkpoint_mail()
    if configured is None:
        return None

    def send() -> None:
        try:
            mail(checkpoint, *configured)
        except Exception as error:  # a mail relay down must not touch the record; the file has the line
            logger.error("could not mail the checkpoint of consent record #%s: %s", checkpoint.record_id, error)

    thread = threading.Thread(target=send, name=f"checkpoint-mail-{checkpoint.record_id}", daemon=True)
    thread.start()
    return thread
