"""A consent record as FHIR R4: a Bundle the FHIR models accept, that keeps the patient's own words."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any

import pydantic
import pytest
from fhir.resources.bundle import Bundle
from fhir.resources.consent import Consent
from fhir.resources.questionnaireresponse import QuestionnaireResponse

from bot import content
from bot.consent.record import CandidacyAnswer, ConsentPayload, Pause, TeachbackResult
from bot.invitations import IDENTITY_LINK, IDENTITY_LINK_DOB, IDENTITY_NUMBER, IDENTITY_PORTAL
from bot.records import consent_store, fhir
from tests.helpers.records import STORED_PAYLOAD

# A record as the steps write it today: typed, tapped and confirmed answers, flags, every teach-back outcome.
FULL_PAYLOAD = ConsentPayload(
    candidacy=(
        CandidacyAnswer("purpose", "Is the injection mainly for pain, ...?", "pain", "Pain", False, "", "button"),
        CandidacyAnswer("condition", "What condition is it for?", "MS", "MS, since 2015", False, "", "typed"),
        CandidacyAnswer("severity", "On a scale from 0 to 10 ...?", "7", "about a 7 most days", False, "", "typed"),
        CandidacyAnswer(
            "treatments_helped",
            "Did those treatments help?",
            "a_little",
            "not that much / A little",
            False,
            "",
            "confirmed",
        ),
        CandidacyAnswer(
            "blood_thinners",
            "Do you take a blood thinner?",
            "yes",
            "yes, warfarin 5 mg",
            True,
            "takes a blood thinner",
            "typed",
        ),
        CandidacyAnswer(
            "allergies",
            "Are you allergic ...?",
            "dont_know",
            "no idea",
            True,
            "allergy to medicine, anesthetic or contrast",
        ),
        CandidacyAnswer(
            "infection",
            "Do you have an infection?",
            "unclear",
            "kinda / sort of",
            True,
            "current infection: answer not clear",
        ),
        CandidacyAnswer("pregnancy", "Are you pregnant?", "not_applicable", "I'm a man", False, "", "typed"),
        CandidacyAnswer(
            "other_health",
            "Any other health problems?",
            '=HYPERLINK("x") señora\'s asthma',
            '=HYPERLINK("x") señora\'s asthma',
            True,
            "other health problems",
            "typed",
        ),
    ),
    teachback=(
        TeachbackResult(
            "what_it_does", "what the injection does", ("blocks the pain signals",), 1, "understood", "own_words"
        ),
        TeachbackResult(
            "common_side_effect",
            "a common side effect",
            ("no idea", "dunno", "Soreness or numbness for a short time"),
            3,
            "understood",
            "chosen",
        ),
        TeachbackResult(
            "not_a_cure", "that it is not a cure", ("it cures it", "fixes it", "heals"), 3, "review", "missed"
        ),
        TeachbackResult("wears_off", "that the effect may wear off", ("hmm",), 1, None),
    ),
    decision="go_ahead",
    topics_asked=("ask_duration", "ask_cure"),
    supersedes=None,
    pauses=(Pause("paused", "understanding", "2026-12-01T10:00:00+00:00"), Pause("resumed", "understanding", "later")),
)


def store(
    url: str, decision: str = "go_ahead", patient_ref: str | None = "MRN-1", **changes: Any
) -> consent_store.Record:
    """A real stored record (chained, signed) of ``FULL_PAYLOAD`` with ``decision`` and any payload changes."""
    payload = dataclasses.replace(FULL_PAYLOAD, decision=decision, **changes)
    return consent_store.append("conv-1", "web", payload, "content-v42", patient_ref=patient_ref, url=url)


def resources(bundle: dict[str, Any]) -> tuple[Consent, QuestionnaireResponse]:
    """The bundle parsed back by the FHIR models (this is the validation) and its two resources."""
    parsed = Bundle.parse_obj(bundle)
    assert parsed.type == "collection" and len(parsed.entry) == 2
    consent, answers = (entry.resource for entry in parsed.entry)
    assert isinstance(consent, Consent) and isinstance(answers, QuestionnaireResponse)
    return consent, answers


def items_by_link(items: list[Any] | None) -> dict[str, Any]:
    """Every item of a QuestionnaireResponse by linkId, however deep (in groups and under answers)."""
    found: dict[str, Any] = {}
    for item in items or []:
        found[item.linkId] = item
        found.update(items_by_link(item.item))
        for answer in item.answer or []:
            found.update(items_by_link(answer.item))
    return found


def test_every_decision_of_the_content_exports_with_a_status_that_says_where_the_patient_stands(
    database_url: str,
) -> None:
    decisions = [decision.value for decision in content.consent_content().decisions]
    assert set(fhir.CONSENT_STATUS) == set(decisions), "a new decision needs a Consent.status, chosen on purpose"
    expected = {"go_ahead": "proposed", "decline": "rejected", "talk_to_doctor": "draft"}
    for decision in decisions:
        for patient_ref in ("MRN-1", None):
            record = store(database_url, decision, patient_ref)
            consent, answers = resources(fhir.consent_bundle(record))
            assert consent.status == expected[decision] and consent.status in fhir.CONSENT_STATES
            assert consent.status != "active", "the record is not the signed consent"
            assert answers.status == "completed"
            decided = items_by_link(answers.item)["decision"].answer[0].valueCoding
            assert (decided.code, decided.display) == (decision, consent_store_title(decision))
    assert fhir.consent_status("no_longer_offered") == "draft"


def consent_store_title(decision: str) -> str:
    found = content.consent_content().decision(decision)
    assert found is not None
    return found.record_title


def test_the_consent_is_for_treatment_with_the_procedure_and_points_at_its_answers(database_url: str) -> None:
    record = store(database_url)
    bundle = fhir.consent_bundle(record)
    consent, answers = resources(bundle)
    assert [(c.system, c.code) for c in consent.scope.coding] == [
        ("http://terminology.hl7.org/CodeSystem/consentscope", "treatment")
    ]
    assert [(c.system, c.code) for c in consent.category[0].coding] == [("http://loinc.org", "59284-0")]
    assert consent.provision.type == "permit" and consent.provision.code[0].text == "Rhizotomy injection"
    assert consent.provision.purpose[0].code == "TREAT"
    assert consent.policy[0].uri == "urn:rhizotomy-consent:content:content-v42"  # ppc-1: a policy
    assert consent.verification[0].verified is False  # confirmed with the physician at the visit
    assert consent.organization[0].display == content.clinic().name
    answers_url = bundle["entry"][1]["fullUrl"]
    assert consent.sourceReference.reference == answers_url and answers_url == f"urn:uuid:{answers.id}"
    assert answers.questionnaire == "urn:rhizotomy-consent:questionnaire|content-v42"
    stored = dt.datetime.fromisoformat(record.created_at)
    assert consent.dateTime == stored and answers.authored == stored
    assert "not the signed consent" in consent.text.div and "Wants to go ahead;" in consent.text.div


def test_the_bundle_names_the_record_and_its_chain_hash(database_url: str) -> None:
    store(database_url)
    record = store(database_url, "decline")
    bundle = fhir.consent_bundle(record)
    consent, answers = resources(bundle)
    assert bundle["identifier"] == {
        "use": "official",
        "system": "urn:rhizotomy-consent:record",
        "value": str(record.id),
    }
    assert [(i.system, i.value) for i in consent.identifier] == [
        ("urn:rhizotomy-consent:record", str(record.id)),
        ("urn:rhizotomy-consent:record-hash", record.record_hash),
    ]
    assert answers.identifier.value == str(record.id)
    assert answers.encounter.identifier.value == "conv-1" and "(web)" in answers.encounter.display
    report = consent_store.verify(database_url)
    assert report.ok and report.head_hash == consent.identifier[1].value  # the exported hash is the chain's head
    again = fhir.consent_bundle(consent_store.get(record.id, database_url))
    assert again == bundle, "the same record always exports the same bytes"
    other = fhir.consent_bundle(consent_store.get(record.id - 1, database_url))
    assert other["entry"][0]["fullUrl"] != bundle["entry"][0]["fullUrl"]


def test_a_verified_patient_is_referenced_by_the_portal_id_and_an_unverified_one_is_said_to_be(
    database_url: str,
) -> None:
    record = store(database_url, patient_ref="patient-Ø-7", identity=IDENTITY_PORTAL)
    consent, answers = resources(fhir.consent_bundle(record))
    assert consent.patient.identifier.system == "urn:rhizotomy-consent:patient-portal"
    assert consent.patient.identifier.value == "patient-Ø-7"
    assert consent.patient.display == "patient-Ø-7 (verified by: clinic portal sign-in)"
    assert answers.subject == consent.patient == answers.source == consent.performer[0]

    consent, answers = resources(fhir.consent_bundle(store(database_url, patient_ref=None)))
    assert consent.patient.identifier is None and consent.patient.reference is None
    assert consent.patient.type == "Patient"
    assert consent.patient.display == "Not verified: nobody proved who was chatting"
    assert answers.subject.display == consent.patient.display
    assert "Patient: Not verified: nobody proved who was chatting." in consent.text.div


def test_the_answers_say_in_plain_words_how_the_patient_was_identified(database_url: str) -> None:
    for way, words in [
        (IDENTITY_LINK, "invitation link"),
        (IDENTITY_LINK_DOB, "invitation link and date of birth"),
        (IDENTITY_NUMBER, "invited phone number"),
        (IDENTITY_PORTAL, "clinic portal sign-in"),
    ]:
        consent, answers = resources(fhir.consent_bundle(store(database_url, patient_ref="R-1", identity=way)))
        [answer] = items_by_link(answers.item)["identity"].answer
        assert answer.valueCoding.system == "urn:rhizotomy-consent:identity"
        assert (answer.valueCoding.code, answer.valueCoding.display) == (way, words)
        assert consent.patient.display == f"R-1 (verified by: {words})"
        assert f"Patient: R-1 (verified by: {words})." in consent.text.div
    for patient_ref, identity, words in [
        (None, "", "Not verified: nobody proved who was chatting"),
        (None, IDENTITY_NUMBER, "Not verified: nobody proved who was chatting"),
        ("R-1", "", "not recorded (before invitations, only the clinic portal sign-in gave a reference)"),
    ]:
        _, answers = resources(fhir.consent_bundle(store(database_url, patient_ref=patient_ref, identity=identity)))
        [answer] = items_by_link(answers.item)["identity"].answer
        assert answer.valueString == words and answer.valueCoding is None


def test_each_answer_keeps_its_value_as_read_and_the_patients_own_words_beneath_it(database_url: str) -> None:
    _, answers = resources(fhir.consent_bundle(store(database_url)))
    items = items_by_link(answers.item)
    assert [item.linkId for item in items["candidacy"].item] == [a.id for a in FULL_PAYLOAD.candidacy]
    for stored in FULL_PAYLOAD.candidacy:
        item = items[stored.id]
        assert item.text == stored.question and len(item.answer) == 1
        words = items[f"{stored.id}.said"]
        assert [a.valueString for a in words.answer] == [stored.said], "the patient's own words, verbatim"
        assert items[f"{stored.id}.review"].answer[0].valueBoolean is stored.flagged
        if stored.flagged:
            assert items[f"{stored.id}.review-note"].answer[0].valueString == stored.flag_note
        else:
            assert f"{stored.id}.review-note" not in items

    def value(question_id: str) -> Any:
        return items[question_id].answer[0]

    assert (value("purpose").valueCoding.code, value("purpose").valueCoding.display) == ("pain", "Pain")
    assert value("severity").valueInteger == 7
    assert value("condition").valueString == "MS"
    assert value("treatments_helped").valueCoding.display == "A little"  # as the patient saw the button
    assert value("pregnancy").valueCoding.display == "Does not apply"
    assert value("allergies").valueCoding.display == "Not sure"
    assert value("infection").valueCoding.display == "Not clear after asking back"
    assert value("other_health").valueString.startswith("=HYPERLINK")  # FHIR text is data, not a formula
    assert items["treatments_helped.how"].answer[0].valueCoding.display == "confirmed after asking back"
    assert items["purpose.how"].answer[0].valueCoding.display == "tapped"
    assert "allergies.how" not in items  # not known on this answer: left out, not guessed


def test_each_teach_back_point_has_its_result_how_it_was_given_and_every_answer_in_order(database_url: str) -> None:
    _, answers = resources(fhir.consent_bundle(store(database_url)))
    items = items_by_link(answers.item)
    assert [item.linkId for item in items["teachback"].item] == [f"teachback.{p.id}" for p in FULL_PAYLOAD.teachback]
    expected = {
        "what_it_does": ("understood", "in own words"),
        "common_side_effect": ("understood", "chosen from choices"),
        "not_a_cure": ("review", "missed"),
        "wears_off": ("not_finished", None),
    }
    for point in FULL_PAYLOAD.teachback:
        item = items[f"teachback.{point.id}"]
        result, how = expected[point.id]
        assert item.text == point.summary and item.answer[0].valueCoding.code == result
        if how:
            assert items[f"teachback.{point.id}.how"].answer[0].valueCoding.display == how
        else:
            assert f"teachback.{point.id}.how" not in items
        assert items[f"teachback.{point.id}.attempts"].answer[0].valueInteger == point.attempts
        assert [a.valueString for a in items[f"teachback.{point.id}.said"].answer] == list(point.answers)
    assert [a.valueCoding.display for a in items["topics"].answer] == ["How long?", "Is it a cure?"]
    assert items["pauses"].answer[0].valueString == "paused at the understanding step, 2026-12-01T10:00:00+00:00"


def test_a_record_from_before_how_and_pauses_were_kept_still_exports(database_url: str) -> None:
    payload = ConsentPayload.from_json(STORED_PAYLOAD)
    record = consent_store.append("conv-9", "sms", payload, "v1", url=database_url)
    _, answers = resources(fhir.consent_bundle(record))
    items = items_by_link(answers.item)
    assert "pauses" not in items and "blood_thinners.how" not in items
    assert items["blood_thinners.said"].answer[0].valueString == "yes, warfarin"
    assert items["teachback.not_a_cure"].answer[0].valueCoding.display == "to go over at the visit"


def test_empty_words_and_empty_sections_are_left_out_as_fhir_has_no_empty_values(database_url: str) -> None:
    tapped = dataclasses.replace(FULL_PAYLOAD.candidacy[0], said="")
    record = store(database_url, candidacy=(tapped,), teachback=(), topics_asked=(), pauses=())
    bundle = fhir.consent_bundle(record)
    _, answers = resources(bundle)
    items = items_by_link(answers.item)
    assert "teachback" not in items and "topics" not in items and "purpose.said" not in items
    assert "[]" not in json.dumps(bundle) and '""' not in json.dumps(bundle)


def test_the_json_text_is_the_same_bundle_with_unicode_kept(database_url: str) -> None:
    record = store(database_url)
    text = fhir.consent_bundle_json(record)
    assert json.loads(text) == fhir.consent_bundle(record)
    assert "señora's asthma" in text  # not \u00f1 escapes: readable in any UTF-8 viewer
    resources(json.loads(text))


def test_a_record_the_models_refuse_fails_at_export_not_in_the_clinics_ehr() -> None:
    record = consent_store.Record(1, "yesterday", "c", "web", None, "v", "go_ahead", FULL_PAYLOAD, "p", "h")
    with pytest.raises(pydantic.ValidationError, match="invalid datetime"):
        fhir.consent_bundle(record)


def test_the_values_that_are_no_choice_match_the_candidacy_reader() -> None:
    from bot.consent import candidacy  # loads the language pipeline: only here

    assert set(fhir.NOT_A_CHOICE) == {candidacy.DONT_KNOW, candidacy.UNCLEAR}
