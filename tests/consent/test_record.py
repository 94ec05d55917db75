"""The typed consent record: its JSON is exactly the JSON the store has always hashed."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.consent.record import CandidacyAnswer, ConsentPayload, TeachbackResult
from bot.invitations import IDENTITY_LINK_DOB, IDENTITY_NUMBER
from bot.records import consent_store, db
from bot.records.consent_store import canonical
from tests.helpers.records import STORED_PAYLOAD
from tests.records.test_consent_store import OLD_ROW

STORED = STORED_PAYLOAD
TYPED = ConsentPayload(
    candidacy=(
        CandidacyAnswer(
            "blood_thinners", "Do you take a blood thinner?", "yes", "yes, warfarin", True, "takes a blood thinner"
        ),
        CandidacyAnswer("condition", "What condition is it for?", "MS", "MS", False, ""),
    ),
    teachback=(
        TeachbackResult("wears_off", "that the effect may wear off", ("it's forever", "it fades"), 2, "understood"),
        TeachbackResult("not_a_cure", "that it is not a cure", ("it cures it", "no idea"), 2, "review"),
    ),
    decision="talk_to_doctor",
    topics_asked=("ask_duration", "ask_cure"),
    supersedes=7,
)


def test_the_typed_payload_writes_the_stored_json_exactly() -> None:
    assert TYPED.to_json() == STORED
    assert canonical(TYPED.to_json()) == canonical(STORED)


def test_a_stored_payload_reads_back_into_the_same_typed_fields() -> None:
    assert ConsentPayload.from_json(json.loads(canonical(STORED))) == TYPED
    first = ConsentPayload.from_json({**STORED, "supersedes": None})
    assert first.supersedes is None and first.to_json() == {**STORED, "supersedes": None}


def test_a_point_still_being_asked_has_no_result() -> None:
    pending = {"id": "p", "summary": "s", "answers": ["a"], "attempts": 1, "result": None}
    assert TeachbackResult.from_json(pending).result is None and TeachbackResult.from_json(pending).to_json() == pending


def test_a_payload_missing_a_field_is_refused() -> None:
    broken = {**STORED, "candidacy": [{"id": "x", "question": "q", "answer": "a"}]}
    with pytest.raises(KeyError):
        ConsentPayload.from_json(broken)


def test_identity_is_left_out_while_empty_so_every_stored_record_hashes_as_before() -> None:
    assert TYPED.identity == "" and "identity" not in TYPED.to_json()
    assert canonical(dataclasses.replace(TYPED, identity="").to_json()) == canonical(STORED)
    old = ConsentPayload.from_json(json.loads(OLD_ROW["payload"]))
    assert old.identity == "" and canonical(old.to_json()) == OLD_ROW["payload"]
    assert consent_store.record_hash(OLD_ROW) == OLD_ROW["record_hash"], "the golden hash of a record before it"


def test_an_identity_is_stored_and_read_back() -> None:
    identified = dataclasses.replace(TYPED, identity=IDENTITY_NUMBER)
    assert identified.to_json() == {**STORED, "identity": "invited_number"}
    assert ConsentPayload.from_json(json.loads(canonical(identified.to_json()))) == identified


def test_records_before_and_after_identity_verify_as_one_chain(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONSENT_CHECKPOINT_FILE", str(tmp_path / "checkpoints.log"))
    monkeypatch.delenv("CONSENT_RECORD_KEY", raising=False)
    monkeypatch.delenv("ASSISTANT_ENV", raising=False)
    with db.engine(database_url).begin() as connection:  # a row exactly as stored before identity was kept
        connection.execute(consent_store.RECORDS.insert().values(**OLD_ROW))
    plain = consent_store.append("conv-1", "rest", TYPED, "v1", url=database_url)
    identified = dataclasses.replace(TYPED, identity=IDENTITY_LINK_DOB)
    new = consent_store.append("conv-1", "web", identified, "v1", patient_ref="MRN-1", url=database_url)
    old, plain, new = consent_store.records(database_url)
    assert old.record_hash == OLD_ROW["record_hash"] and old.payload.identity == ""
    assert plain.payload == TYPED and new.payload.identity == "invitation_link_dob"
    with db.engine(database_url).connect() as connection:
        stored = dict(connection.execute(sa.select(consent_store.RECORDS.c.id, consent_store.RECORDS.c.payload)).all())
    assert stored[plain.id] == canonical(STORED), "a record without identity is stored as it always was"
    assert json.loads(stored[new.id])["identity"] == "invitation_link_dob", "the identity is hashed with the record"
    report = consent_store.verify(database_url)
    assert report.ok and report.checked == 3
