"""The typed consent record: its JSON is exactly the JSON the store has always hashed."""

from __future__ import annotations

import json

import pytest

from bot.consent.record import CandidacyAnswer, ConsentPayload, TeachbackResult
from bot.records.consent_store import canonical
from tests.helpers.records import STORED_PAYLOAD

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
