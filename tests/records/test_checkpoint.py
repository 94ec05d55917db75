"""The consent chain's checkpoints outside the database: the file's lines, its default place, the care team's mail."""

from __future__ import annotations

import dataclasses
import multiprocessing
import smtplib
import threading
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from bot.records import checkpoint, consent_store
from tests.records.test_consent_store import add

LINE = checkpoint.Checkpoint(7, "a" * 64, "b" * 64, "2026-11-30T09:15:00.000000+00:00", "0123456789abcdef")


def test_a_line_reads_back_as_written(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "checkpoints.log"
    checkpoint.write(path, LINE)
    checkpoint.write(path, dataclasses.replace(LINE, record_id=8))
    assert path.read_text() == LINE.line() + dataclasses.replace(LINE, record_id=8).line()
    reading = checkpoint.read([path, tmp_path / "no-such-file.log"], LINE.database)
    assert [line for _, line in reading.lines] == [LINE, dataclasses.replace(LINE, record_id=8)]
    assert checkpoint.read([path], "another database").lines == ()


def test_a_line_torn_by_a_crash_does_not_swallow_the_next(tmp_path: Path) -> None:
    path = tmp_path / "checkpoints.log"
    path.write_text(LINE.line()[:20])  # the machine stopped mid-write
    checkpoint.write(path, LINE)
    reading = checkpoint.read([path], LINE.database)
    assert [line for _, line in reading.lines] == [LINE] and reading.unreadable == ((path, 1),)


def _write_many(path: str, start: int) -> None:
    for number in range(start, start + 50):
        checkpoint.write(Path(path), dataclasses.replace(LINE, record_id=number))


def test_processes_appending_at_once_never_interleave(tmp_path: Path) -> None:
    """Several action servers on one machine share the file."""
    path = tmp_path / "checkpoints.log"
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_write_many, args=(str(path), start)) for start in (0, 100, 200, 300)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    reading = checkpoint.read([path], LINE.database)
    assert reading.unreadable == ()
    assert sorted(line.record_id for _, line in reading.lines) == [n + s for s in (0, 100, 200, 300) for n in range(50)]


def test_the_database_tag_names_the_database_not_the_login() -> None:
    tag = checkpoint.database_tag("postgresql+psycopg2://bot:secret@db.internal:5432/rhizotomy")
    assert tag == checkpoint.database_tag("postgresql://other:changed@db.internal:5432/rhizotomy")
    assert tag != checkpoint.database_tag("postgresql://bot:secret@db.internal:5432/staging")
    assert checkpoint.database_tag("sqlite:///var/a.db") != checkpoint.database_tag("sqlite:///var/b.db")


def test_the_default_file_follows_the_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CONSENT_CHECKPOINT_FILE")
    assert checkpoint.default_file(f"sqlite:///{tmp_path / 'x.db'}") == tmp_path / "consent-checkpoints.log"
    from bot import settings

    assert checkpoint.default_file("postgresql://h/db") == settings.VAR_DIR / "consent-checkpoints.log"
    monkeypatch.setenv("CONSENT_CHECKPOINT_FILE", str(tmp_path / "set.log"))
    assert checkpoint.default_file("postgresql://h/db") == tmp_path / "set.log"


def test_another_databases_lines_in_the_same_file_are_not_compared(tmp_path: Path) -> None:
    """One CONSENT_CHECKPOINT_FILE for two databases (staging and live on one machine)."""
    live, staging = f"sqlite:///{tmp_path / 'live.db'}", f"sqlite:///{tmp_path / 'staging.db'}"
    add(live), add(live), add(staging)
    assert consent_store.verify(live).ok and consent_store.verify(staging).ok


def test_an_edited_checkpoint_line_is_named(sqlite_url: str, own_checkpoint_file: Path) -> None:
    record = add(sqlite_url)
    text = own_checkpoint_file.read_text()
    own_checkpoint_file.write_text(text.replace(record.record_hash, "f" * 64))
    report = consent_store.verify(sqlite_url)
    assert report.problems[0].startswith(f"CHECKPOINT FORGED: the line of record {record.id} in ")


class FakeSMTP:
    """Stands in for smtplib.SMTP: what was sent, and to where."""

    sent: list[tuple[str, int, EmailMessage]] = []
    arrived = threading.Event()
    fail = False

    def __init__(self, host: str, port: int, timeout: float) -> None:
        if self.fail:
            raise OSError("connection refused")
        self.host, self.port = host, port

    def __enter__(self) -> FakeSMTP:
        return self

    def __exit__(self, *exc: Any) -> None:
        pass

    def ehlo(self) -> None:
        pass

    def has_extn(self, name: str) -> bool:
        return False

    def send_message(self, message: EmailMessage) -> None:
        self.sent.append((self.host, self.port, message))
        self.arrived.set()


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch) -> type[FakeSMTP]:
    FakeSMTP.sent, FakeSMTP.arrived, FakeSMTP.fail = [], threading.Event(), False
    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    return FakeSMTP


def test_each_append_is_mailed_to_the_care_team_when_configured(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, smtp: type[FakeSMTP]
) -> None:
    add(sqlite_url)
    assert not smtp.arrived.wait(0.2), "no address set: no mail"
    monkeypatch.setenv("CONSENT_CHECKPOINT_MAIL_TO", "care-team@example-clinic.org")
    monkeypatch.setenv("CONSENT_CHECKPOINT_SMTP", "relay.internal:2525")
    record = add(sqlite_url)
    assert smtp.arrived.wait(5)
    [(host, port, message)] = smtp.sent
    assert (host, port, message["To"]) == ("relay.internal", 2525, "care-team@example-clinic.org")
    assert f"{record.id}\t{record.record_hash}\t{record.record_hmac}\t" in message.get_content()
    assert "MRN-1" not in message.get_content() and "warfarin" not in message.get_content(), "no patient data"


def test_a_mail_relay_that_is_down_leaves_the_record_and_its_line(
    sqlite_url: str,
    monkeypatch: pytest.MonkeyPatch,
    smtp: type[FakeSMTP],
    own_checkpoint_file: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("CONSENT_CHECKPOINT_MAIL_TO", "care-team@example-clinic.org")
    smtp.fail = True
    thread = checkpoint.notify(LINE)
    assert thread is not None
    thread.join(5)
    assert "could not mail the checkpoint of consent record #7: connection refused" in caplog.text
    record = add(sqlite_url)
    assert consent_store.get(record.id, sqlite_url) == record and len(own_checkpoint_file.read_text().splitlines()) == 1
