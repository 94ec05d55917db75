"""Consent records on SQLite and PostgreSQL: append-only, hash-chained, signed, checkpointed, tampering named."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from bot import cli, settings
from bot.consent.record import CandidacyAnswer, ConsentPayload, TeachbackResult
from bot.records import checkpoint, consent_store, db, printable
from tests.helpers.records import STORED_PAYLOAD

PAYLOAD = ConsentPayload(
    candidacy=(
        CandidacyAnswer(
            "blood_thinners", "Do you take a blood thinner?", "yes", "yes, warfarin", True, "takes a blood thinner"
        ),
    ),
    teachback=(
        TeachbackResult("wears_off", "that the effect may wear off", ("it's forever", "it fades"), 2, "understood"),
    ),
    decision="go_ahead",
    topics_asked=("ask_duration",),
    supersedes=None,
)


def add(url: str, conversation: str = "conv-1", decision: str = "go_ahead") -> consent_store.Record:
    return consent_store.append(
        conversation, "rest", dataclasses.replace(PAYLOAD, decision=decision), "v1", patient_ref="MRN-1", url=url
    )


def test_records_chain_and_verify(database_url: str) -> None:
    first, second, third = add(database_url), add(database_url, "conv-2"), add(database_url, "conv-1", "decline")
    assert first.prev_hash == consent_store.GENESIS
    assert second.prev_hash == first.record_hash and third.prev_hash == second.record_hash
    report = consent_store.verify(database_url)
    assert report.ok and report.checked == 3 and report.head_hash == third.record_hash
    assert report.summary() == f"chain ok: 3 records, head #{third.id} matches checkpoint #{third.id}"
    key = consent_store.DEVELOPMENT_KEY.encode()
    assert third.record_hmac == consent_store.record_hmac(third.record_hash, key)
    assert consent_store.get(third.id, database_url).record_hmac == third.record_hmac
    newest = consent_store.latest("conv-1", database_url)
    assert newest is not None and newest.decision == "decline"  # a change of mind is a new record
    assert [r.decision for r in consent_store.records(database_url, "conv-1")] == ["go_ahead", "decline"]


def test_a_changed_row_is_named(database_url: str) -> None:
    add(database_url), add(database_url), add(database_url)
    with db.engine(database_url).begin() as connection:
        connection.execute(
            sa.update(consent_store.RECORDS).where(consent_store.RECORDS.c.id == 2).values(decision="decline")
        )
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
    tampered = json.dumps({**PAYLOAD.to_json(), "topics_asked": []})
    with db.engine(database_url).begin() as connection:
        connection.execute(sa.update(consent_store.RECORDS).values(payload=tampered))
    assert consent_store.verify(database_url).broken_id == 1


def test_the_chain_cannot_fork(database_url: str) -> None:
    """A second record claiming the same predecessor is refused by the database."""
    first = add(database_url)
    add(database_url)
    with pytest.raises(sa.exc.IntegrityError), db.engine(database_url).begin() as connection:
        connection.execute(
            consent_store.RECORDS.insert().values(
                created_at="x",
                conversation_id="c",
                channel="rest",
                patient_ref=None,
                content_version="v",
                decision="go_ahead",
                payload="{}",
                prev_hash=first.record_hash,
                record_hash="f" * 64,
            )
        )


def test_a_decision_the_content_does_not_have_is_refused(sqlite_url: str) -> None:
    with pytest.raises(ValueError, match="unknown decision 'maybe'"):
        consent_store.append("c", "rest", dataclasses.replace(PAYLOAD, decision="maybe"), "v1", url=sqlite_url)
    assert consent_store.records(sqlite_url) == []


# A row exactly as the code before the typed record appended it: its payload a literal dict of that
# shape in canonical JSON, and the hash that code computed for it (golden values; they must not change).
OLD_PAYLOAD = STORED_PAYLOAD
OLD_ROW = {
    "created_at": "2026-11-30T09:15:00.000000+00:00",
    "conversation_id": "conv-old",
    "channel": "rest",
    "patient_ref": "MRN-1",
    "content_version": "v0",
    "decision": "talk_to_doctor",
    "payload": '{"candidacy":[{"answer":"yes","flag_note":"takes a blood thinner","flagged":true,'
    '"id":"blood_thinners","question":"Do you take a blood thinner?","said":"yes, warfarin"},'
    '{"answer":"MS","flag_note":"","flagged":false,"id":"condition","question":"What condition is it for?",'
    '"said":"MS"}],"decision":"talk_to_doctor","supersedes":7,"teachback":[{"answers":["it\'s forever",'
    '"it fades"],"attempts":2,"id":"wears_off","result":"understood","summary":"that the effect may wear '
    'off"},{"answers":["it cures it","no idea"],"attempts":2,"id":"not_a_cure","result":"review",'
    '"summary":"that it is not a cure"}],"topics_asked":["ask_duration","ask_cure"]}',
    "prev_hash": consent_store.GENESIS,
    "record_hash": "cc4039a53481a24950f5711085f72d526a305d4ff945ce93d2c10efbcf7c515a",
}


def test_records_written_before_the_typed_record_load_verify_and_chain_on(database_url: str) -> None:
    assert OLD_ROW["payload"] == consent_store.canonical(OLD_PAYLOAD)
    assert consent_store.record_hash(OLD_ROW) == OLD_ROW["record_hash"]
    with db.engine(database_url).begin() as connection:
        connection.execute(consent_store.RECORDS.insert().values(**OLD_ROW))
    [old] = consent_store.records(database_url)
    assert old.payload.to_json() == OLD_PAYLOAD and old.payload.supersedes == 7
    assert old.payload.candidacy[0].flag_note == "takes a blood thinner" and old.payload.teachback[1].result == "review"
    assert old.record_hmac is None, "written before records were signed"
    assert old.as_json() == {
        "id": old.id,
        **{k: v for k, v in OLD_ROW.items() if k != "payload"},
        **OLD_PAYLOAD,
        "record_hmac": None,
    }
    report = consent_store.verify(database_url)
    assert report.ok and report.unsigned == 1 and "the next record will cover them" in report.summary()
    new = consent_store.append("conv-old", "rest", ConsentPayload.from_json(OLD_PAYLOAD), "v1", url=database_url)
    assert new.prev_hash == OLD_ROW["record_hash"]
    stored = json.loads(_stored_payload(database_url, new.id))
    assert stored == OLD_PAYLOAD, "a typed payload is stored as exactly the same JSON"
    report = consent_store.verify(database_url)
    assert report.ok and report.checked == 2 and report.unsigned == 1
    assert f"record #{new.id}'s HMAC covers them" in report.summary()


def _stored_payload(url: str, record_id: int) -> str:
    with db.engine(url).connect() as connection:
        return str(
            connection.execute(
                sa.select(consent_store.RECORDS.c.payload).where(consent_store.RECORDS.c.id == record_id)
            ).scalar_one()
        )


def test_commands_list_export_and_verify(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    record = add(sqlite_url)
    assert cli.main(["consent", "list"]) == 0
    assert f"#{record.id}" in capsys.readouterr().out
    out_json, out_html = tmp_path / "r.json", tmp_path / "r.html"
    assert cli.main(["consent", "export", str(record.id), "--json", str(out_json), "--html", str(out_html)]) == 0
    exported = json.loads(out_json.read_text())
    assert exported["record_hash"] == record.record_hash and exported["candidacy"][0]["flagged"] is True
    page = out_html.read_text()
    assert "Decision: Wants to go ahead" in page and "takes a blood thinner" in page
    assert "not the signed consent" in page
    assert "understood (2 attempts): it&#x27;s forever / it fades" in page
    capsys.readouterr()
    assert cli.main(["consent", "verify"]) == 0
    assert capsys.readouterr().out == (
        f"chain ok: 1 record, head #{record.id} matches checkpoint #{record.id}\nre-checks: 0 checked, 0 problem(s)\n"
    )
    with db.engine(sqlite_url).begin() as connection:
        connection.execute(sa.update(consent_store.RECORDS).values(channel="sms"))
    assert cli.main(["consent", "verify"]) == 1
    assert "BROKEN: record 1: its content was changed" in capsys.readouterr().out


def test_summary_escapes_patient_text() -> None:
    record = consent_store.Record(
        1,
        "t",
        "c",
        "rest",
        None,
        "v",
        "go_ahead",
        dataclasses.replace(PAYLOAD, topics_asked=("<script>x</script>",)),
        "p",
        "h",
    )
    assert "<script>" not in printable.record_page(record)


def test_concurrent_decisions_are_all_stored_in_one_chain(database_url: str) -> None:
    """The action server appends from worker threads; decisions arriving together must all land."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=15) as pool:
        stored = list(pool.map(lambda n: add(database_url, f"conv-{n}"), range(60)))
    assert len({record.id for record in stored}) == 60
    report = consent_store.verify(database_url)
    assert report.ok and report.checked == 60 and report.checkpoint_id == report.head_id


# --- what the chain alone could not see (issue 14, finding 6) ---------------------------------


def _delete(url: str, *where: Any) -> None:
    with db.engine(url).begin() as connection:
        connection.execute(sa.delete(consent_store.RECORDS).where(*where))


def test_deleted_newest_rows_are_named_as_truncation(database_url: str) -> None:
    stored = [add(database_url, f"conv-{n}") for n in range(5)]
    _delete(database_url, consent_store.RECORDS.c.id > stored[2].id)
    report = consent_store.verify(database_url)
    assert not report.ok
    assert report.problems == (f"TRUNCATED: rows after id {stored[2].id} missing, checkpoint has {stored[4].id}",)
    assert report.checked == 3, "what is left is itself intact"


def test_an_emptied_table_is_named(database_url: str) -> None:
    stored = [add(database_url, f"conv-{n}") for n in range(3)]
    _delete(database_url)
    report = consent_store.verify(database_url)
    assert report.problems == (f"EMPTY: no records, checkpoint has {stored[-1].id}",)


def _recompute_from(url: str, first_id: int, key: bytes | None, **changes: Any) -> None:
    """What someone with write access to the database does: change a row, recompute every later hash (and HMAC
    with the key they have, if any)."""
    with db.engine(url).begin() as connection:
        rows = [
            dict(row)
            for row in connection.execute(
                sa.select(consent_store.RECORDS).order_by(consent_store.RECORDS.c.id)
            ).mappings()
        ]
        prev = consent_store.GENESIS
        for row in rows:
            if row["id"] >= first_id:
                row.update(changes if row["id"] == first_id else {})
                row["prev_hash"] = prev
                row["record_hash"] = consent_store.record_hash(row)
                row["record_hmac"] = consent_store.record_hmac(row["record_hash"], key) if key else None
            prev = row["record_hash"]
        connection.execute(sa.delete(consent_store.RECORDS))  # unique hashes: rewrite the table whole
        connection.execute(consent_store.RECORDS.insert(), rows)


def test_a_rewritten_row_with_every_later_hash_recomputed_is_named(database_url: str) -> None:
    stored = [add(database_url, f"conv-{n}") for n in range(4)]
    _recompute_from(database_url, stored[1].id, b"a key guessed by whoever wrote the database", decision="decline")
    report = consent_store.verify(database_url)
    assert report.problems[0] == f"FORGED: record {stored[1].id} fails its HMAC"
    assert report.broken_id == stored[1].id and report.checked == 1
    assert f"REWRITTEN: records {stored[1].id}, {stored[2].id}, {stored[3].id} differ from the checkpoint" in (
        report.problems
    )


def test_a_recomputed_chain_without_hmacs_is_named(database_url: str) -> None:
    """Dropping the HMACs of the rewritten rows does not make them look like records from before signing."""
    stored = [add(database_url, f"conv-{n}") for n in range(3)]
    _recompute_from(database_url, stored[1].id, None, decision="decline")
    report = consent_store.verify(database_url)
    assert report.problems[0] == f"FORGED: record {stored[1].id} has no HMAC, but records before it have one"


def test_a_wholly_unsigned_rewrite_is_caught_by_the_checkpoint(database_url: str) -> None:
    """Every HMAC dropped and the whole chain recomputed: it looks written before signing, but the checkpoint knows."""
    stored = [add(database_url, f"conv-{n}") for n in range(2)]
    _recompute_from(database_url, stored[0].id, None, decision="decline")
    report = consent_store.verify(database_url)
    assert report.problems == (f"REWRITTEN: records {stored[0].id}, {stored[1].id} differ from the checkpoint",)


@pytest.mark.parametrize("forge", ["another key", "not hex at all: é"])
def test_a_forged_hmac_is_named(database_url: str, forge: str) -> None:
    stored = [add(database_url, f"conv-{n}") for n in range(3)]
    if forge == "another key":
        forged = consent_store.record_hmac(stored[1].record_hash, b"not the clinic's key")
    else:
        forged = forge
    with db.engine(database_url).begin() as connection:
        connection.execute(
            sa.update(consent_store.RECORDS)
            .where(consent_store.RECORDS.c.id == stored[1].id)
            .values(record_hmac=forged)
        )
    report = consent_store.verify(database_url)
    assert report.problems[0] == f"FORGED: record {stored[1].id} fails its HMAC"
    assert f"REWRITTEN: record {stored[1].id} differs from the checkpoint" in report.problems


def test_the_wrong_key_says_so(sqlite_url: str) -> None:
    add(sqlite_url)
    report = consent_store.verify(sqlite_url, key=b"another key altogether, 32+ characters")
    assert (
        report.problems[0]
        == "FORGED: record 1 fails its HMAC (or CONSENT_RECORD_KEY is not the key it was written with)"
    )


def test_production_needs_the_record_key(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_ENV", "production")
    with pytest.raises(settings.SettingsError, match="CONSENT_RECORD_KEY"):
        add(sqlite_url)
    monkeypatch.setenv("CONSENT_RECORD_KEY", consent_store.DEVELOPMENT_KEY)
    with pytest.raises(settings.SettingsError, match="CONSENT_RECORD_KEY"):
        add(sqlite_url)
    assert consent_store.records(sqlite_url) == []
    key = "k" * 48
    monkeypatch.setenv("CONSENT_RECORD_KEY", key)
    record = add(sqlite_url)
    assert record.record_hmac == consent_store.record_hmac(record.record_hash, key.encode())
    assert consent_store.verify(sqlite_url).ok


def test_each_append_writes_one_checkpoint_line(database_url: str, own_checkpoint_file: Path) -> None:
    stored = [add(database_url, f"conv-{n}") for n in range(3)]
    lines = own_checkpoint_file.read_text().splitlines()
    assert len(lines) == 3
    tag = checkpoint.database_tag(database_url)
    for record, line in zip(stored, lines, strict=True):
        number, chain_hash, mac, at, database = line.split("\t")
        assert (int(number), chain_hash, mac, database) == (record.id, record.record_hash, record.record_hmac, tag)
        assert dt.datetime.fromisoformat(at).tzinfo is not None


def test_a_missing_checkpoint_is_a_problem(database_url: str, own_checkpoint_file: Path) -> None:
    add(database_url)
    own_checkpoint_file.unlink()
    report = consent_store.verify(database_url)
    assert not report.ok and report.problems[0].startswith("NO CHECKPOINT: 1 records, but no checkpoint line")


def test_each_servers_file_vouches_for_its_own_appends(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two action servers, each with its own file: the newest row, appended by B, deleted; A's file alone cannot
    see it (the verify says so plainly: the head is newer than its checkpoint), both files together can."""
    server_a, server_b = tmp_path / "a.log", tmp_path / "b.log"
    monkeypatch.setenv("CONSENT_CHECKPOINT_FILE", str(server_a))
    first = add(database_url, "conv-a")
    monkeypatch.setenv("CONSENT_CHECKPOINT_FILE", str(server_b))
    second, third = add(database_url, "conv-b1"), add(database_url, "conv-b2")
    _delete(database_url, consent_store.RECORDS.c.id == third.id)
    only_a = consent_store.verify(database_url, checkpoints=[server_a])
    assert only_a.ok and f"head #{second.id}; checkpoint has #{first.id}" in only_a.summary()
    both = consent_store.verify(database_url, checkpoints=[server_a, server_b])
    assert both.problems == (f"TRUNCATED: rows after id {second.id} missing, checkpoint has {third.id}",)


def test_verify_command_names_truncation_and_exits_non_zero(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], own_checkpoint_file: Path
) -> None:
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    stored = [add(sqlite_url, f"conv-{n}") for n in range(3)]
    _delete(sqlite_url, consent_store.RECORDS.c.id == stored[-1].id)
    capsys.readouterr()
    assert cli.main(["consent", "verify"]) == 1
    out = capsys.readouterr().out
    assert out.startswith(f"TRUNCATED: rows after id {stored[1].id} missing, checkpoint has {stored[2].id}\n")
    elsewhere = own_checkpoint_file.rename(own_checkpoint_file.with_name("copied-from-server-b.log"))
    assert cli.main(["consent", "verify"]) == 1
    assert "NO CHECKPOINT" in capsys.readouterr().out
    assert cli.main(["consent", "verify", "--checkpoint", str(elsewhere)]) == 1
    assert "TRUNCATED" in capsys.readouterr().out


def test_verify_command_without_a_production_key(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setenv("ASSISTANT_ENV", "production")
    assert cli.main(["consent", "verify"]) == 2
    assert "CONSENT_RECORD_KEY is not set" in capsys.readouterr().err
