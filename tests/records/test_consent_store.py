"""Consent records on SQLite and PostgreSQL: append-only, hash-chained, tampering named."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot import cli
from bot.consent.record import CandidacyAnswer, ConsentPayload, TeachbackResult
from bot.records import consent_store, db, printable
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
    assert old.as_json() == {"id": old.id, **{k: v for k, v in OLD_ROW.items() if k != "payload"}, **OLD_PAYLOAD}
    assert consent_store.verify(database_url).ok
    new = consent_store.append("conv-old", "rest", ConsentPayload.from_json(OLD_PAYLOAD), "v1", url=database_url)
    assert new.prev_hash == OLD_ROW["record_hash"]
    stored = json.loads(_stored_payload(database_url, new.id))
    assert stored == OLD_PAYLOAD, "a typed payload is stored as exactly the same JSON"
    report = consent_store.verify(database_url)
    assert report.ok and report.checked == 2


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
    assert cli.main(["consent", "verify"]) == 0
    with db.engine(sqlite_url).begin() as connection:
        connection.execute(sa.update(consent_store.RECORDS).values(channel="sms"))
    assert cli.main(["consent", "verify"]) == 1
    assert "BROKEN at record #1" in capsys.readouterr().out


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


def test_the_page_states_each_decision_in_the_care_teams_words() -> None:
    for value, title in [
        ("decline", "Does not want to go ahead"),
        ("talk_to_doctor", "Wants to talk to the doctor first"),
        ("no_longer_offered", "no_longer_offered"),
    ]:  # a decision the content dropped since
        record = consent_store.Record(1, "t", "c", "rest", None, "v", value, PAYLOAD, "p", "h")
        assert f"Decision: {title}</div>" in printable.record_page(record)


def test_concurrent_decisions_are_all_stored_in_one_chain(database_url: str) -> None:
    """The action server appends from worker threads; decisions arriving together must all land."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=15) as pool:
        stored = list(pool.map(lambda n: add(database_url, f"conv-{n}"), range(60)))
    assert len({record.id for record in stored}) == 60
    report = consent_store.verify(database_url)
    assert report.ok and report.checked == 60
