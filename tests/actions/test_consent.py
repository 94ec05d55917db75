"""The consent forms as the action server runs them (actions/consent.py); their rules alone: tests/consent."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from actions import consent
from bot import content
from bot.consent import steps
from bot.invitations import IDENTITY_LINK, IDENTITY_NUMBER
from bot.records import consent_store, copy_link, flags
from tests.helpers.actions import run, sent, texts, validate

QUESTIONS = content.consent_content().questions
POINTS = content.teachback_points()
STAGE_SLOT = "consent_stage"


def stage(events: list[dict[str, Any]]) -> Any:
    return next(event["value"] for event in events if event["event"] == "slot" and event["name"] == STAGE_SLOT)


def answered_until(question_id: str) -> dict[str, Any]:
    ids = [q.id for q in QUESTIONS]
    return {qid: {"answer": "x"} for qid in ids[: ids.index(question_id)]}


# --- candidacy questions -------------------------------------------------------------------------


def test_ask_candidacy_shows_progress_and_buttons(dispatcher: Any, make_tracker: Callable) -> None:
    events = run(consent.ActionAskCandidacyFormCandidacyAnswer(), dispatcher, make_tracker())
    assert sent(dispatcher) == [f"candidacy:{QUESTIONS[0].id}"]
    assert texts(dispatcher)[0].startswith(f"(1 of {len(QUESTIONS)}) ") and dispatcher.messages[0]["buttons"]
    assert events == [{"event": "slot", "timestamp": None, "name": "consent_stage", "value": "candidacy"}]


def test_nothing_is_asked_once_every_question_is_answered(dispatcher: Any, make_tracker: Callable) -> None:
    answers = {q.id: {"answer": "x"} for q in QUESTIONS}
    events = run(
        consent.ActionAskCandidacyFormCandidacyAnswer(), dispatcher, make_tracker(slots={"candidacy_answers": answers})
    )
    assert events == [] and sent(dispatcher) == []


def test_invalid_severity_is_asked_again_with_a_hint(dispatcher: Any, make_tracker: Callable) -> None:
    tracker = make_tracker("14", "out_of_scope", slots={"candidacy_answers": answered_until("severity")})
    result = validate(consent.ValidateCandidacyForm(), "candidacy_answer", dispatcher, tracker)
    assert result == {"candidacy_answer": None, "candidacy_pending": None}
    assert sent(dispatcher) == ["candidacy:severity:hint"]


def test_a_mixed_answer_waits_for_confirmation_and_the_question_comes_back_with_the_words(
    dispatcher: Any, make_tracker: Callable
) -> None:
    answers = answered_until("blood_thinners")
    tracker = make_tracker("no but I take aspirin now and then", "deny", slots={"candidacy_answers": answers})
    result = validate(consent.ValidateCandidacyForm(), "candidacy_answer", dispatcher, tracker)
    assert result["candidacy_answer"] is None and "candidacy_answers" not in result
    assert result["candidacy_pending"]["question"] == "blood_thinners"
    asked = make_tracker(slots={"candidacy_answers": answers, "candidacy_pending": result["candidacy_pending"]})
    run(consent.ActionAskCandidacyFormCandidacyAnswer(), dispatcher, asked)
    assert sent(dispatcher) == ["candidacy:blood_thinners:confirm"]


def test_flagged_answer_is_stored_and_written_to_the_flag_log(dispatcher: Any, make_tracker: Callable) -> None:
    tracker = make_tracker("yes, eliquis", "affirm", slots={"candidacy_answers": answered_until("blood_thinners")})
    result = validate(consent.ValidateCandidacyForm(), "candidacy_answer", dispatcher, tracker)
    stored = result["candidacy_answers"]["blood_thinners"]
    assert stored["answer"] == "yes" and stored["flagged"] and result["candidacy_answer"] is None
    assert flags.open_flags()[0].message == "takes a blood thinner: yes, eliquis"
    assert sent(dispatcher) == [], "a flagged answer is never judged to the patient (no eligibility talk)"


def test_topic_question_in_the_questions_is_answered_and_asked_again(dispatcher: Any, make_tracker: Callable) -> None:
    tracker = make_tracker(
        "how long does it take?", "ask_duration", slots={"candidacy_answers": answered_until("treatments_tried")}
    )
    result = validate(consent.ValidateCandidacyForm(), "candidacy_answer", dispatcher, tracker)
    assert result == {"candidacy_answer": None}
    assert sent(dispatcher) == ["utter_ask_duration"]


def test_a_medicine_question_in_the_questions_is_flagged_and_the_step_goes_on(
    dispatcher: Any, make_tracker: Callable
) -> None:
    tracker = make_tracker(
        "can I keep taking my aspirin?",
        "medication_question",
        slots={"candidacy_answers": answered_until("treatments_tried")},
    )
    result = validate(consent.ValidateCandidacyForm(), "candidacy_answer", dispatcher, tracker)
    assert result == {"candidacy_answer": None}
    assert sent(dispatcher) == ["medication_question", "medication_flagged_in_step"]
    assert [(f.kind, f.message) for f in flags.open_flags()] == [("medication", "can I keep taking my aspirin?")]


def test_last_answer_completes_the_questions(dispatcher: Any, make_tracker: Callable) -> None:
    tracker = make_tracker("no", "deny", slots={"candidacy_answers": answered_until("other_health")})
    result = validate(consent.ValidateCandidacyForm(), "candidacy_answer", dispatcher, tracker)
    assert result["candidacy_answer"] == steps.DONE


# --- understanding check -------------------------------------------------------------------------


def test_ask_understanding_shows_progress_and_no_answer_to_tap(dispatcher: Any, make_tracker: Callable) -> None:
    events = run(consent.ActionAskUnderstandingFormTeachbackAnswer(), dispatcher, make_tracker())
    assert sent(dispatcher) == [f"teachback:{POINTS[0].id}:question"]
    assert texts(dispatcher)[0].startswith(f"(1 of {len(POINTS)}) ")
    assert [b["payload"] for b in dispatcher.messages[0]["buttons"]] == list(content.teachback_content().open_buttons)
    assert stage(events) == "understanding"


def test_a_right_answer_passes(dispatcher: Any, make_tracker: Callable) -> None:
    tracker = make_tracker("it blocks the pain signals", "ask_how_it_works")
    result = validate(consent.ValidateUnderstandingForm(), "teachback_answer", dispatcher, tracker)
    entry = result["teachback_results"][POINTS[0].id]
    assert entry["result"] == "understood" and entry["attempts"] == 1 and result["teachback_answer"] is None
    assert sent(dispatcher) == ["teachback_right"]


def test_misses_are_explained_again_then_choices_then_marked_for_the_care_team(
    dispatcher: Any, make_tracker: Callable
) -> None:
    point = POINTS[0]
    result = validate(
        consent.ValidateUnderstandingForm(), "teachback_answer", dispatcher, make_tracker("no idea", "dont_know")
    )
    assert sent(dispatcher) == [f"teachback:{point.id}:again"] and texts(dispatcher) == [point.explain_again]
    assert result["teachback_results"][point.id]["result"] is None
    dispatcher.messages.clear()
    again = make_tracker("I'm not sure", "dont_know", slots={"teachback_results": result["teachback_results"]})
    result = validate(consent.ValidateUnderstandingForm(), "teachback_answer", dispatcher, again)
    assert sent(dispatcher) == ["teachback_try_choices"] and result["teachback_results"][point.id]["result"] is None
    dispatcher.messages.clear()
    wrong = point.choices[0] if point.choices[0] != point.right_choice else point.choices[1]
    last = make_tracker(wrong, "inform", slots={"teachback_results": result["teachback_results"]})
    result = validate(consent.ValidateUnderstandingForm(), "teachback_answer", dispatcher, last)
    entry = result["teachback_results"][point.id]
    assert (entry["result"], entry["how"], entry["attempts"]) == ("review", "missed", 3)
    assert sent(dispatcher) == ["teachback_review"]
    assert flags.open_flags()[0].kind == "teachback"


def test_a_question_during_the_check_is_answered_not_judged(dispatcher: Any, make_tracker: Callable) -> None:
    result = validate(
        consent.ValidateUnderstandingForm(), "teachback_answer", dispatcher, make_tracker("is it safe?", "ask_safety")
    )
    assert result == {"teachback_answer": None} and sent(dispatcher) == ["utter_ask_safety"]


def test_an_upset_patient_is_offered_a_person_and_the_check_waits(dispatcher: Any, make_tracker: Callable) -> None:
    result = validate(
        consent.ValidateUnderstandingForm(),
        "teachback_answer",
        dispatcher,
        make_tracker("this is stupid", "frustration"),
    )
    assert result == {"teachback_answer": None} and sent(dispatcher) == ["utter_calm_offer_person"]


# --- decision and record ---------------------------------------------------------------------------


def test_the_decision_comes_after_a_summary(dispatcher: Any, make_tracker: Callable) -> None:
    slots = {
        "candidacy_answers": {"a": {"flagged": True}, "b": {"flagged": False}},
        "teachback_results": {"p": {"result": "understood"}, "q": {"result": "review"}},
    }
    events = run(consent.ActionAskDecisionFormConsentDecision(), dispatcher, make_tracker(slots=slots))
    assert sent(dispatcher) == ["decision_summary", "ask_decision"]
    assert (
        texts(dispatcher)[0] == content.message("decision_summary", answered=2, flagged=1, understood=1, review=1).text
    )
    assert [b["title"] for b in dispatcher.messages[1]["buttons"]] == [
        d.title for d in content.consent_content().decisions
    ]
    assert stage(events) == "decision"


@pytest.mark.parametrize(
    ("text", "intent", "decision"),
    [
        ("Go ahead", "start_consent", "go_ahead"),
        ("Talk to my doctor first", "request_human", "talk_to_doctor"),
        ("no thanks", "deny", "decline"),
    ],
)
def test_decision_words_and_buttons(
    dispatcher: Any, make_tracker: Callable, text: str, intent: str, decision: str
) -> None:
    result = validate(consent.ValidateDecisionForm(), "consent_decision", dispatcher, make_tracker(text, intent))
    assert result == {"consent_decision": decision}


def test_a_nervous_yes_is_met_with_empathy_and_asked_again(dispatcher: Any, make_tracker: Callable) -> None:
    tracker = make_tracker("yes I think so, but I'm nervous", "affirm")
    result = validate(consent.ValidateDecisionForm(), "consent_decision", dispatcher, tracker)
    assert result == {"consent_decision": None} and sent(dispatcher) == ["decision_doubtful"]


def test_an_unclear_decision_is_asked_again(dispatcher: Any, make_tracker: Callable) -> None:
    result = validate(
        consent.ValidateDecisionForm(), "consent_decision", dispatcher, make_tracker("hmm", "out_of_scope")
    )
    assert result == {"consent_decision": None} and sent(dispatcher) == ["decision_unclear"]


def test_asking_for_a_person_at_the_decision_flags_a_callback(dispatcher: Any, make_tracker: Callable) -> None:
    result = validate(
        consent.ValidateDecisionForm(),
        "consent_decision",
        dispatcher,
        make_tracker("I want to talk to a person", "request_human"),
    )
    assert result == {"consent_decision": None} and sent(dispatcher)[0].startswith("callback_")
    assert flags.open_flags()[0].kind == "callback"


RECORD_SLOTS = {
    "consent_decision": "go_ahead",
    "candidacy_answers": {
        "blood_thinners": {
            "question": "q",
            "answer": "yes",
            "said": "yes",
            "flagged": True,
            "flag_note": "takes a blood thinner",
        }
    },
    "teachback_results": {
        "wears_off": {"summary": "s", "answers": ["it fades"], "attempts": 1, "result": "understood"}
    },
}


def test_recording_appends_a_chained_record_and_a_change_supersedes_it(dispatcher: Any, make_tracker: Callable) -> None:
    asked = [
        {"event": "user", "text": "how long", "parse_data": {"intent": {"name": "ask_duration"}}},
        {"event": "bot", "text": "...", "metadata": {"utter_action": "utter_ask_duration"}},
    ]
    events = run(consent.ActionRecordConsent(), dispatcher, make_tracker("Go ahead", slots=RECORD_SLOTS, events=asked))
    assert {"event": "slot", "timestamp": None, "name": "consent_stage", "value": "decided"} in events
    assert sent(dispatcher) == ["recorded_go_ahead", "own_copy"] and not flags.open_flags()
    first = consent_store.latest("test-patient")
    assert first is not None
    link = dispatcher.messages[-1]["text"].split(copy_link.PATH + "/", 1)[1].split()[0]
    assert copy_link.record_id(link) == first.id
    assert first.decision == "go_ahead" and first.payload.supersedes is None
    assert first.payload.topics_asked == ("ask_duration",) and first.payload.candidacy[0].flagged
    assert first.payload.teachback[0].result == "understood"
    dispatcher.messages.clear()
    run(
        consent.ActionRecordConsent(),
        dispatcher,
        make_tracker("Talk to my doctor first", slots={**RECORD_SLOTS, "consent_decision": "talk_to_doctor"}),
    )
    assert sent(dispatcher) == ["recorded_talk_to_doctor", "own_copy"]
    second = consent_store.latest("test-patient")
    assert second is not None and second.payload.supersedes == first.id and second.decision == "talk_to_doctor"
    assert consent_store.verify().ok
    [flag] = flags.open_flags()
    assert (flag.kind, flag.detail) == ("decision", f"record #{second.id}")


def test_the_record_keeps_the_patient_reference_with_how_the_channel_verified_it(
    dispatcher: Any, make_tracker: Callable
) -> None:
    identified = make_tracker("Go ahead", slots=RECORD_SLOTS, sender_id="sms-identified", channel="sms")
    identified.latest_message["metadata"] = {"patient_id": "MRN-17", "identity": IDENTITY_NUMBER}
    run(consent.ActionRecordConsent(), dispatcher, identified)
    record = consent_store.latest("sms-identified")
    assert record is not None and record.patient_ref == "MRN-17" and record.payload.identity == "invited_number"

    # An identity word with no reference proves nobody: the record says not verified, with no way.
    anonymous = make_tracker("Go ahead", slots=RECORD_SLOTS, sender_id="web-anonymous", channel="socketio")
    anonymous.latest_message["metadata"] = {"identity": IDENTITY_LINK}
    run(consent.ActionRecordConsent(), dispatcher, anonymous)
    record = consent_store.latest("web-anonymous")
    assert record is not None and record.patient_ref is None and record.payload.identity == ""
    assert consent_store.verify().ok


def test_a_decision_the_content_does_not_have_is_not_recorded(dispatcher: Any, make_tracker: Callable) -> None:
    events = run(
        consent.ActionRecordConsent(),
        dispatcher,
        make_tracker("maybe", slots={**RECORD_SLOTS, "consent_decision": "maybe"}),
    )
    assert sent(dispatcher) == ["decision_unclear"] and consent_store.latest("test-patient") is None
    assert events == [{"event": "slot", "timestamp": None, "name": "consent_decision", "value": None}]


def test_a_database_failure_is_told_and_the_decision_asked_again(
    dispatcher: Any, make_tracker: Callable, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", "sqlite:////nonexistent/dir/x.db")
    events = run(consent.ActionRecordConsent(), dispatcher, make_tracker("Go ahead", slots=RECORD_SLOTS))
    assert sent(dispatcher) == ["record_failed"]
    assert events == [{"event": "slot", "timestamp": None, "name": "consent_decision", "value": None}]


# --- the copy by SMS (PATIENT_COPY_SMS, bot/outreach/copies.py) ------------------------------------


def _invited_web_tracker(
    make_tracker: Callable, monkeypatch: pytest.MonkeyPatch, text: str, slots: dict[str, Any]
) -> Any:
    from bot.invitations import store as invitations
    from tests.helpers.invitations import use_invitation_env

    use_invitation_env(monkeypatch, "https://chat.example-clinic.org", "actions-tests-sms-id-secret-0123456789")
    invitation, _ = invitations.create("+15550100177", "MRN-177")
    return make_tracker(text, slots=slots, sender_id=invitation.conversation_id, channel="socketio")


def test_a_web_decision_of_an_invited_patient_queues_the_copy_by_sms_when_on(
    dispatcher: Any, make_tracker: Callable, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.outreach import store as outreach

    monkeypatch.setenv("PATIENT_COPY_SMS", "on")
    tracker = _invited_web_tracker(make_tracker, monkeypatch, "Go ahead", RECORD_SLOTS)
    run(consent.ActionRecordConsent(), dispatcher, tracker)
    assert sent(dispatcher) == ["recorded_go_ahead", "own_copy"]
    record = consent_store.latest(tracker.sender_id)
    assert record is not None
    (row,) = outreach.everyone()
    assert row.outreach_id == outreach.copy_id(record.id) and row.record_id == record.id and not row.requested


def test_asking_what_is_saved_queues_a_requested_copy(
    dispatcher: Any, make_tracker: Callable, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.outreach import store as outreach

    tracker = _invited_web_tracker(make_tracker, monkeypatch, "Go ahead", RECORD_SLOTS)
    run(consent.ActionRecordConsent(), dispatcher, tracker)
    assert outreach.everyone() == []  # off by default
    monkeypatch.setenv("PATIENT_COPY_SMS", "on")
    asked = make_tracker(
        "what have you saved", slots={"consent_stage": "decided"}, sender_id=tracker.sender_id, channel="socketio"
    )
    run(consent.ActionShowRecord(), dispatcher, asked)
    (row,) = outreach.everyone()
    assert row.requested


def test_a_copy_that_cannot_be_queued_never_fails_the_decision(
    dispatcher: Any, make_tracker: Callable, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATIENT_COPY_SMS", "sometimes")  # a setting the queue refuses
    tracker = _invited_web_tracker(make_tracker, monkeypatch, "Go ahead", RECORD_SLOTS)
    events = run(consent.ActionRecordConsent(), dispatcher, tracker)
    assert sent(dispatcher) == ["recorded_go_ahead", "own_copy"]
    assert {"event": "slot", "timestamp": None, "name": "consent_stage", "value": "decided"} in events
