"""Re-check records on SQLite and PostgreSQL: appended, read by their consent record, signed, changes named."""

from __future__ import annotations

import dataclasses

import pytest
import sqlalchemy as sa

from bot import cli
from bot.consent.record import ConsentPayload, RecheckAnswer
from bot.records import consent_store, db, recheck_store

PAYLOAD = ConsentPayload((), (), "go_ahead", (), None)
ANSWERS = (
    RecheckAnswer("what_it_does", "In your own words, what does the injection do?", "blocks the nerve", True),
    RecheckAnswer("wears_off", "In your own words: will the effect last forever?", "yes forever", False),
)


def consent(url: str, conversation: str = "conv-1") -> consent_store.Record:
    return consent_store.append(conversation, "sms", PAYLOAD, "v1", patient_ref="MRN-1", url=url)


def test_append_links_the_consent_record_and_reads_back(database_url: str) -> None:
    record = consent(database_url)
    other = consent(database_url, "conv-2")
    stored = recheck_store.append(record, "reminder:inv1", "conv-1", ANSWERS, "MRN-1", "invited_number", database_url)
    recheck_store.append(other, "reminder:inv2", "conv-2", ANSWERS[:1], url=database_url)
    (found,) = recheck_store.for_record(record.id, database_url)
    assert found == stored
    assert (found.consent_record_id, found.consent_record_hash) == (record.id, record.record_hash)
    assert found.answers == ANSWERS and found.missed == 1 and found.patient_ref == "MRN-1"
    assert recheck_store.is_intact(found)
    assert recheck_store.for_record(999, database_url) == []
    report = recheck_store.verify(database_url)
    assert report.ok and report.checked == 2


def test_a_changed_answer_fails_verify(database_url: str) -> None:
    stored = recheck_store.append(consent(database_url), "reminder:inv1", "conv-1", ANSWERS, url=database_url)
    changed = consent_store.canonical(
        [dataclasses.replace(ANSWERS[1], understood=True).to_json(), ANSWERS[0].to_json()]
    )
    with db.engine(database_url).begin() as connection:
        connection.execute(
            sa.update(recheck_store.RECHECKS)
            .where(recheck_store.RECHECKS.c.id == stored.id)
            .values(answers=changed, missed=0)
        )
    (found,) = recheck_store.for_record(stored.consent_record_id, database_url)
    assert not recheck_store.is_intact(found)
    report = recheck_store.verify(database_url)
    assert not report.ok and report.problems[0].startswith(f"FORGED: re-check {stored.id}")


def test_the_verify_command_names_a_changed_recheck(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    stored = recheck_store.append(consent(sqlite_url), "reminder:inv1", "conv-1", ANSWERS, url=sqlite_url)
    assert cli.main(["consent", "verify"]) == 0
    with db.engine(sqlite_url).begin() as connection:
        connection.execute(sa.update(recheck_store.RECHECKS).values(missed=0))
    assert cli.main(["consent", "verify"]) == 1
    out = capsys.readouterr().out
    assert "re-checks: 1 checked, 1 problem(s)" in out and f"FORGED: re-check {stored.id}" in out


def test_a_row_moved_to_another_consent_record_fails_verify(database_url: str) -> None:
    first, second = consent(database_url), consent(database_url, "conv-2")
    stored = recheck_store.append(first, "reminder:inv1", "conv-1", ANSWERS, url=database_url)
    with db.engine(database_url).begin() as connection:
        connection.execute(
            sa.update(recheck_store.RECHECKS)
            .where(recheck_store.RECHECKS.c.id == stored.id)
            .values(consent_record_id=second.id, consent_record_hash=second.record_hash)
        )
    assert not recheck_store.verify(database_url).ok


def test_signed_with_another_key_fails(database_url: str) -> None:
    stored = recheck_store.append(consent(database_url), "reminder:inv1", "conv-1", ANSWERS, url=database_url)
    assert recheck_store.is_intact(stored) and not recheck_store.is_intact(stored, key=b"another key")
    assert not recheck_store.verify(database_url, key=b"another key").ok
