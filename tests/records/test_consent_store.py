"""Consent records on SQLite and PostgreSQL: append-only, hash-chained, tampering named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot import cli
from bot.records import consent_store, db, printable

PAYLOAD = {
    "candidacy": [{"id": "blood_thinners", "question": "Do you take a blood thinner?", "answer": "yes",
                   "said": "yes, warfarin", "flagged": True, "flag_note": "takes a blood thinner"}],
    "teachback": [{"id": "wears_off", "summary": "that the effect may wear off",
                   "answers": ["it's forever", "it fades"], "attempts": 2, "result": "understood"}],
    "decision": "go_ahead",
    "topics_asked": ["ask_duration"],
    "supersedes": None,
}


def add(url: str, conversation: str = "conv-1", decision: str = "go_ahead") -> consent_store.Record:
    return consent_store.append(conversation, "rest", decision, {**PAYLOAD, "decision": decision}, "v1",
                                patient_ref="MRN-1", url=url)


def test_records_chain_and_verify(database_url: str) -> None:
    first, second, third = add(database_url), add(database_url, "conv-2"), add(database_url, "conv-1", "decline")
    assert first.prev_hash == consent_store.GENESIS
    assert second.prev_hash == first.record_hash and third.prev_hash == second.record_hash
    report = consent_store.verify(database_url)
    assert report.ok and report.checked == 3 and report.head_hash == third.record_hash
    assert consent_store.latest("conv-1", database_url).decision == "decline"  # a change of mind is a new record
    assert [r.decision for r in consent_store.records(database_url, "conv-1")] == ["go_ahead", "decline"]


def test_a_changed_row_is_named(database_url: str) -> None:
    add(database_url), add(database_url), add(database_url)
    with db.engine(database_url).begin() as connection:
        connection.execute(sa.update(consent_store.RECORDS).where(consent_store.RECORDS.c.id == 2)
                           .values(decision="decline"))
    report = consent_store.verify(database_url)
    assert not report.ok and report.broken_id == 2 and "changed" in report.reason and report.checked == 1


def test_a_deleted_row_is_named(database_url: str) -> None:
    add(database_url), add(database_url), add(database_url)
    with db.engine(database_url).begin() as connection:
        connection.execute(sa.delete(consent_store.RECORDS).where(consent_store.RECORDS.c.id == 2))
    report = consent_store.verify(database_url)
    assert not report.ok and report.broken_id == 3 and "deleted" in report.reason


def test_a_changed_payload_is_named(database_url: str) -> None:
    add(database_url)
    tampered = json.dumps({**PAYLOAD, "topics_asked": []})
    with db.engine(database_url).begin() as connection:
        connection.execute(sa.update(consent_store.RECORDS).values(payload=tampered))
    assert consent_store.verify(database_url).broken_id == 1


def test_the_chain_cannot_fork(database_url: str) -> None:
    """A second record claiming the same predecessor is refused by the database."""
    first = add(database_url)
    add(database_url)
    with pytest.raises(sa.exc.IntegrityError), db.engine(database_url).begin() as connection:
        connection.execute(consent_store.RECORDS.insert().values(
            created_at="x", conversation_id="c", channel="rest", patient_ref=None, content_version="v",
            decision="go_ahead", payload="{}", prev_hash=first.record_hash, record_hash="f" * 64))


def test_unknown_decision_is_refused(sqlite_url: str) -> None:
    with pytest.raises(ValueError):
        consent_store.append("c", "rest", "maybe", {}, "v1", url=sqlite_url)


def test_commands_list_export_and_verify(sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    record = add(sqlite_url)
    assert cli.main(["consent", "list"]) == 0
    assert f"#{record.id}" in capsys.readouterr().out
    out_json, out_html = tmp_path / "r.json", tmp_path / "r.html"
    assert cli.main(["consent", "export", str(record.id), "--json", str(out_json), "--html", str(out_html)]) == 0
    exported = json.loads(out_json.read_text())
    assert exported["record_hash"] == record.record_hash and exported["candidacy"][0]["flagged"] is True
    page = out_html.read_text()
    assert "Wants to go ahead" in page and "takes a blood thinner" in page and "not the signed consent" in page
    assert cli.main(["consent", "verify"]) == 0
    with db.engine(sqlite_url).begin() as connection:
        connection.execute(sa.update(consent_store.RECORDS).values(channel="sms"))
    assert cli.main(["consent", "verify"]) == 1
    assert "BROKEN at record #1" in capsys.readouterr().out


def test_summary_escapes_patient_text() -> None:
    record = consent_store.Record(1, "t", "c", "rest", None, "v", "go_ahead",
                                  {**PAYLOAD, "topics_asked": ["<script>x</script>"]}, "p", "h")
    assert "<script>" not in printable.record_page(record)


def test_concurrent_decisions_are_all_stored_in_one_chain(database_url: str) -> None:
    """The action server appends from worker threads; decisions arriving together must all land."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=15) as pool:
        stored = list(pool.map(lambda n: add(database_url, f"conv-{n}"), range(60)))
    assert len({record.id for record in stored}) == 60
    report = consent_store.verify(database_url)
    assert report.ok and report.checked == 60
