"""A consent record as FHIR R4 (4.0.1) JSON, for a clinic's EHR: a Consent and the QuestionnaireResponse it rests on.

The export is a ``collection`` Bundle of two resources, built with the ``fhir.resources`` models
so a structural mistake (a missing required element, two ``value[x]`` in one answer, an empty
string, a malformed dateTime) fails when the bundle is built, never in the clinic's EHR:

- ``Consent``: where the patient stands on the procedure (``status``, see ``CONSENT_STATUS``),
  who (``patient``), when (``dateTime`` = the record's ``created_at``), the content version the
  patient was shown (``policy``), and ``sourceReference`` to the answers it rests on.
- ``QuestionnaireResponse``: every candidacy answer, every teach-back point, the decision, the
  topics asked, the pauses and how the patient was identified, as recorded. How the answers are laid out is in
  ``questionnaire_response``'s docstring.

Both carry the record's id (``urn:rhizotomy-consent:record``) and its chain hash
(``urn:rhizotomy-consent:record-hash``), so an exported file can be matched to its row and
checked against ``python -m bot consent verify``. The output is the same for the same record
(resource ids are derived from the record hash; there is no export timestamp), so two exports
of one record can be compared byte for byte. The record is *not* the signed consent: that is
signed with the physician at the visit, which is why no decision maps to ``active``.

What R4 has no element for is left out rather than squeezed in with extensions: the id of the
record a change of mind supersedes (the newer record's own status says where the patient stands),
and the HMAC (it proves nothing to anyone without the clinic's key; ``verify`` checks it).
"""

from __future__ import annotations

import html
import json
import uuid
from typing import Any

from fhir.resources.bundle import Bundle
from fhir.resources.consent import Consent
from fhir.resources.questionnaireresponse import QuestionnaireResponse

from bot import content
from bot.consent.record import REVIEW, UNDERSTOOD, CandidacyAnswer, TeachbackResult
from bot.records.consent_store import Record
from bot.records.printable import (
    HOW_GIVEN,
    TEACHBACK_HOW,
    VERIFIED_BY,
    answer_title,
    decision_title,
    patient_line,
    summary_line,
    topic_title,
    verified_by,
)

NAMESPACE = "urn:rhizotomy-consent"
RECORD_SYSTEM = f"{NAMESPACE}:record"
RECORD_HASH_SYSTEM = f"{NAMESPACE}:record-hash"
CONVERSATION_SYSTEM = f"{NAMESPACE}:conversation"
# The clinic's patient reference as a channel verified it: the subject of the portal's signed patient
# token (docs/widget.md), or the reference staff gave an invitation (bot/invitations), which is meant to
# be the same reference. A clinic whose portal uses its MRN may map this system to its own. How it was
# verified is in the Reference's display and the answers' "identity" item (IDENTITY_SYSTEM).
PATIENT_SYSTEM = f"{NAMESPACE}:patient-portal"
IDENTITY_SYSTEM = f"{NAMESPACE}:identity"
QUESTIONNAIRE_URL = f"{NAMESPACE}:questionnaire"  # versioned as url|content version (a canonical)
CONTENT_POLICY = f"{NAMESPACE}:content"  # the information sheet and questions of one content version
DECISION_SYSTEM = f"{NAMESPACE}:decision"
HOW_GIVEN_SYSTEM = f"{NAMESPACE}:how-given"
TEACHBACK_RESULT_SYSTEM = f"{NAMESPACE}:teachback-result"
TEACHBACK_HOW_SYSTEM = f"{NAMESPACE}:teachback-how"
TOPIC_SYSTEM = f"{NAMESPACE}:topic"

# Consent.status (ConsentState, a modifier element: every reader must honour it) for each decision
# of content/consent.yml. The record is the patient's pre-consent, not the signed consent, so none
# is "active" ("to be followed and enforced"): a chat must never read as consent to a procedure.
CONSENT_STATUS = {
    # The patient agreed; the physician has not signed with them yet: "proposed but not yet agreed
    # to by all parties", which is exactly what the visit completes.
    "go_ahead": "proposed",
    # The patient said no: the consent proposed to them was rejected by a party to it.
    "decline": "rejected",
    # The patient has not decided and wants the doctor first: "not yet intended to be acted upon".
    "talk_to_doctor": "draft",
}
# A decision the content has dropped since the record was written: nothing a system may act upon.
UNKNOWN_DECISION_STATUS = "draft"
CONSENT_STATES = ("draft", "proposed", "active", "rejected", "inactive", "entered-in-error")

PROCEDURE = "Rhizotomy injection"
# Care-team wording of answer values that are not choices of the question: bot.consent.candidacy's
# DONT_KNOW (always allowed) and UNCLEAR (even asking back gave no clear answer). Spelled out here, as
# importing that module loads the language pipeline; tests/records/test_fhir.py checks they match.
NOT_A_CHOICE = {"dont_know": "Not sure", "unclear": "Not clear after asking back"}
TEACHBACK_RESULT_TITLE = {UNDERSTOOD: "understood", REVIEW: "to go over at the visit"}
NOT_FINISHED = "not_finished"  # a point still being asked when the patient decided


def consent_bundle(record: Record) -> dict[str, Any]:
    """The record as a validated FHIR R4 Bundle, as JSON-ready data (dates as text)."""
    bundle = _bundle(record)
    data: dict[str, Any] = json.loads(bundle.json())
    return data


def consent_bundle_json(record: Record) -> str:
    """The record as FHIR R4 JSON text (UTF-8 safe, indented for a person to read)."""
    return json.dumps(consent_bundle(record), indent=2, ensure_ascii=False)


def consent_status(decision: str) -> str:
    """The Consent.status a decision exports as (``CONSENT_STATUS``; "draft" for a dropped decision)."""
    return CONSENT_STATUS.get(decision, UNKNOWN_DECISION_STATUS)


def questionnaire_canonical(content_version: str) -> str:
    """The canonical URL of the questions a record's patient was asked: ``url|version``, version = content version."""
    return f"{QUESTIONNAIRE_URL}|{content_version}"


def _bundle(record: Record) -> Bundle:
    consent_id, answers_id, bundle_id = (_resource_id(record, kind) for kind in ("consent", "answers", "bundle"))
    answers = QuestionnaireResponse.parse_obj(questionnaire_response(record, answers_id))
    consent = Consent.parse_obj(_consent(record, consent_id, answers_id))
    return Bundle.parse_obj(
        {
            "id": bundle_id,
            "identifier": _record_identifier(record),
            "type": "collection",
            "entry": [
                {"fullUrl": f"urn:uuid:{consent_id}", "resource": consent},
                {"fullUrl": f"urn:uuid:{answers_id}", "resource": answers},
            ],
        }
    )


def _resource_id(record: Record, kind: str) -> str:
    """A UUID fixed by the record's chain hash, so re-exporting a record gives the same resources."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{RECORD_HASH_SYSTEM}:{record.record_hash}/{kind}"))


def _record_identifier(record: Record) -> dict[str, Any]:
    return {"use": "official", "system": RECORD_SYSTEM, "value": str(record.id)}


def _hash_identifier(record: Record) -> dict[str, Any]:
    return {"use": "secondary", "system": RECORD_HASH_SYSTEM, "value": record.record_hash}


def patient_reference(record: Record) -> dict[str, Any]:
    """The patient by the verified reference, its display saying how it was verified; otherwise a display that
    says nobody proved who was chatting.

    A treatment consent needs a patient (R4 invariant ppc-5), and a made-up identifier would
    be worse than none: without a verified reference the Reference carries only its type and
    a display saying so, and the conversation stays in the QuestionnaireResponse's encounter.
    """
    reference: dict[str, Any] = {"type": "Patient", "display": patient_line(record)}
    if record.patient_ref:
        reference["identifier"] = {"system": PATIENT_SYSTEM, "value": record.patient_ref}
    return reference


def _narrative(text: str) -> dict[str, Any]:
    return {"status": "generated", "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{html.escape(text)}</div>'}


def _consent(record: Record, consent_id: str, answers_id: str) -> dict[str, Any]:
    """The Consent: the decision as a status over one provision (permit the procedure, for treatment).

    The provision always states what was put to the patient (permit the procedure, purpose
    treatment); ``status`` says where the patient stands on it. Verification is ``false``:
    no person has confirmed this with the patient yet; that happens at the visit.
    """
    patient = patient_reference(record)
    return {
        "id": consent_id,
        "text": _narrative(
            f"Pre-consent record #{record.id}, prepared by the clinic's automated assistant; not the signed "
            f"consent. Patient: {patient_line(record)}. {summary_line(record)}"
        ),
        "identifier": [_record_identifier(record), _hash_identifier(record)],
        "status": consent_status(record.decision),
        "scope": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/consentscope",
                    "code": "treatment",
                    "display": "Treatment",
                }
            ]
        },
        "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0", "display": "Consent Document"}]}],
        "patient": patient,
        "dateTime": record.created_at,
        "performer": [patient],
        "organization": [{"type": "Organization", "display": content.clinic().name}],
        "sourceReference": {"reference": f"urn:uuid:{answers_id}", "type": "QuestionnaireResponse"},
        "policy": [{"uri": f"{CONTENT_POLICY}:{record.content_version}"}],
        "verification": [{"verified": False}],
        "provision": {
            "type": "permit",
            "purpose": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/v3-ActReason",
                    "code": "TREAT",
                    "display": "treatment",
                }
            ],
            "code": [{"text": PROCEDURE}],
        },
    }


def questionnaire_response(record: Record, resource_id: str | None = None) -> dict[str, Any]:
    """The record's answers as a QuestionnaireResponse (plain data; ``consent_bundle`` validates it).

    Items, in the order asked: a group ``candidacy`` with one item per question (linkId = the
    question id, text = the question as asked); a group ``teachback`` with one item per point
    (linkId ``teachback.<point id>``, text = the point); ``decision``; ``topics`` and ``pauses``
    when there are any; ``identity``, how the patient was identified (``IDENTITY_SYSTEM``). Each
    answer is the value as read: ``valueCoding`` for a choice or yes/no (display as the patient saw
    the button), ``valueInteger`` for a number on a scale, ``valueString`` for a free-text answer.

    The patient's own words sit in items nested under that answer (``answer.item``, R4's place
    for questions that belong to an answer), never as a second answer: a second answer would
    claim the patient gave two answers to a one-answer question, and an extension would be
    invisible to a reader that does not know it. Nested under each candidacy answer:
    ``<id>.said`` (the words), ``<id>.how`` (typed, tapped or confirmed after asking back),
    ``<id>.review`` (flagged for the care team) and ``<id>.review-note`` (why). Under each
    teach-back result: ``.how`` (own words, chosen, missed), ``.attempts`` and ``.said`` (every
    answer the patient gave, in order).
    """
    patient = patient_reference(record)
    data = record.payload
    items: list[dict[str, Any]] = [
        {
            "linkId": "candidacy",
            "text": "Candidacy questions",
            "item": [_candidacy_item(answer) for answer in data.candidacy],
        },
        {
            "linkId": "teachback",
            "text": "Understanding check (teach-back)",
            "item": [_teachback_item(result) for result in data.teachback],
        },
        {
            "linkId": "decision",
            "text": "The patient's decision",
            "answer": [_coding_answer(DECISION_SYSTEM, record.decision, decision_title(record.decision))],
        },
    ]
    if data.topics_asked:
        topics = [_coding_answer(TOPIC_SYSTEM, intent, topic_title(intent)) for intent in data.topics_asked]
        items.append({"linkId": "topics", "text": "Topics the patient asked about", "answer": topics})
    if data.pauses:
        pauses = [{"valueString": f"{pause.kind} at the {pause.step} step, {pause.at}"} for pause in data.pauses]
        items.append({"linkId": "pauses", "text": "Pauses and resumes", "answer": pauses})
    items.append({"linkId": "identity", "text": "How the patient was identified", "answer": [_identity(record)]})
    items = [item for item in items if item.get("item") or item.get("answer")]  # a group needs an item
    response: dict[str, Any] = {
        "text": _narrative(f"The answers of pre-consent record #{record.id}. {summary_line(record)}"),
        "identifier": _record_identifier(record),
        "questionnaire": questionnaire_canonical(record.content_version),
        "status": "completed",
        "subject": patient,
        "encounter": _conversation_reference(record),
        "authored": record.created_at,
        "author": {"type": "Device", "display": "The clinic's automated consent assistant"},
        "source": patient,
        "item": items,
    }
    return {"id": resource_id, **response} if resource_id else response


def _identity(record: Record) -> dict[str, Any]:
    """How the channel proved who was chatting: a coding for a known way, the plain words otherwise (none, or a
    record from before the way was kept)."""
    identity = record.payload.identity
    if record.patient_ref and identity in VERIFIED_BY:
        return _coding_answer(IDENTITY_SYSTEM, identity, VERIFIED_BY[identity])
    return {"valueString": verified_by(record)}


def _conversation_reference(record: Record) -> dict[str, Any]:
    """The chat the answers were given in, by the conversation id the console and the flag log use."""
    reference: dict[str, Any] = {
        "type": "Encounter",
        "display": f"Conversation with the clinic's automated assistant ({record.channel})",
    }
    if record.conversation_id.strip():
        reference["identifier"] = {"system": CONVERSATION_SYSTEM, "value": record.conversation_id}
    return reference


def _coding_answer(system: str, code: str, display: str) -> dict[str, Any]:
    return {"valueCoding": {"system": system, "code": code, "display": display}}


def _nested(link_id: str, text: str, answers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One nested item, or none when there is nothing to say (FHIR has no empty answers)."""
    return [{"linkId": link_id, "text": text, "answer": answers}] if answers else []


def _children(nested: list[dict[str, Any]]) -> dict[str, Any]:
    """``{"item": nested}``, or nothing: FHIR has no empty arrays."""
    return {"item": nested} if nested else {}


def _words(*said: str) -> list[dict[str, Any]]:
    return [{"valueString": words} for words in said if words.strip()]


def _candidacy_value(item: CandidacyAnswer) -> dict[str, Any]:
    """The answer as read, typed by the question (as the content has it now; the record's own text otherwise)."""
    question = content.consent_content().by_id.get(item.id)
    if question is not None and question.type == "scale" and item.answer.strip().isdigit():
        return {"valueInteger": int(item.answer)}
    shown = answer_title(item)
    if (question is not None and question.type in ("choice", "yes_no")) or item.answer in NOT_A_CHOICE:
        display = NOT_A_CHOICE.get(item.answer, shown) if shown == item.answer else shown
        return _coding_answer(f"{NAMESPACE}:answer:{item.id}", item.answer, display)
    return {"valueString": shown if shown.strip() else "(no answer)"}


def _candidacy_item(item: CandidacyAnswer) -> dict[str, Any]:
    nested = [
        *_nested(f"{item.id}.said", "In the patient's own words", _words(item.said)),
        *_nested(
            f"{item.id}.how",
            "How the answer was given",
            [_coding_answer(HOW_GIVEN_SYSTEM, item.how, HOW_GIVEN.get(item.how, item.how))] if item.how else [],
        ),
        *_nested(f"{item.id}.review", "For the care team to review", [{"valueBoolean": item.flagged}]),
        *_nested(f"{item.id}.review-note", "Why", _words(item.flag_note) if item.flagged else []),
    ]
    return {"linkId": item.id, "text": item.question, "answer": [{**_candidacy_value(item), **_children(nested)}]}


def _teachback_item(item: TeachbackResult) -> dict[str, Any]:
    code = item.result or NOT_FINISHED
    title = TEACHBACK_RESULT_TITLE.get(code, "not finished before the decision" if code == NOT_FINISHED else code)
    nested = [
        *_nested(
            f"teachback.{item.id}.how",
            "How it was given",
            [_coding_answer(TEACHBACK_HOW_SYSTEM, item.how, TEACHBACK_HOW.get(item.how, item.how))] if item.how else [],
        ),
        *_nested(f"teachback.{item.id}.attempts", "Attempts", [{"valueInteger": item.attempts}]),
        *_nested(f"teachback.{item.id}.said", "The patient's answers, in order", _words(*item.answers)),
    ]
    answer = {**_coding_answer(TEACHBACK_RESULT_SYSTEM, code, title), **_children(nested)}
    return {"linkId": f"teachback.{item.id}", "text": item.summary, "answer": [answer]}
