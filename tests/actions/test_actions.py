"""Every custom action and form validator, run as the action server runs them."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from actions import answers, consent, safety, session
from bot import content
from bot.language import teachback
from bot.records import consent_store, flags
from tests.helpers.actions import texts

DOMAIN: dict[str, Any] = {}


@pytest.fixture(autouse=True)
def own_database(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    return sqlite_url


def run(action: Any, dispatcher: Any, tracker: Any) -> list[dict[str, Any]]:
    return asyncio.run(action.run(dispatcher, tracker, DOMAIN))


def validate(validator: Any, slot: str, dispatcher: Any, tracker: Any) -> dict[str, Any]:
    method = getattr(validator, f"validate_{slot}")
    return asyncio.run(method(tracker.latest_message["text"], dispatcher, tracker, DOMAIN))


# --- answers -------------------------------------------------------------------------------


def test_more_topics_offers_related_topics_and_the_consent_steps(dispatcher: Any, make_tracker: Callable) -> None:
    run(answers.ActionOfferMoreTopics(), dispatcher, make_tracker("how long", "ask_duration"))
    payloads = [b["payload"] for b in dispatcher.messages[0]["buttons"]]
    assert payloads == ["/ask_procedure_steps", "/ask_recovery", "/start_consent"]


def test_low_confidence_first_asks_to_rephrase_with_the_closest_topics(dispatcher: Any,
                                                                       make_tracker: Callable) -> None:
    ranking = [{"name": "nlu_fallback", "confidence": 0.4}, {"name": "greet", "confidence": 0.3},
               {"name": "ask_repeat", "confidence": 0.2}, {"name": "ask_cure", "confidence": 0.1},
               {"name": "ask_duration", "confidence": 0.05}, {"name": "ask_safety", "confidence": 0.01}]
    run(answers.ActionHandleLowConfidence(), dispatcher, make_tracker("it wears?", "nlu_fallback", ranking=ranking))
    assert "not sure I understood" in texts(dispatcher)[0]
    assert [b["payload"] for b in dispatcher.messages[0]["buttons"]] == [
        "/ask_repeat", "/ask_cure", "/ask_duration", "/show_menu"]


def test_low_confidence_twice_offers_the_menu_and_a_person(dispatcher: Any, make_tracker: Callable) -> None:
    earlier = [{"event": "user", "text": "blah", "parse_data": {"intent": {"name": "nlu_fallback"}}},
               {"event": "action", "name": "action_handle_low_confidence"},
               {"event": "action", "name": "action_listen"}]
    run(answers.ActionHandleLowConfidence(), dispatcher, make_tracker("blah blah", "nlu_fallback", events=earlier))
    assert "still don't understand" in texts(dispatcher)[0]
    assert "/request_human" in [b["payload"] for b in dispatcher.messages[0]["buttons"]]


# --- safety --------------------------------------------------------------------------------


def test_emergency_reply_comes_first_then_the_care_team_is_told(dispatcher: Any, make_tracker: Callable) -> None:
    tracker = make_tracker("I can't breathe", "emergency",
                           entities=[{"entity": "red_flag", "value": "breathing"}])
    run(safety.ActionHandleEmergency(), dispatcher, tracker)
    said = texts(dispatcher)
    assert "Call 911 now" in said[0] and "emergency room" in said[0]
    assert "told the care team" in said[1]
    [flag] = flags.open_flags()
    assert (flag.kind, flag.message, flag.detail, flag.conversation_id) == (
        "emergency", "I can't breathe", "breathing", "test-patient")


def test_self_harm_gets_the_crisis_line(dispatcher: Any, make_tracker: Callable) -> None:
    tracker = make_tracker("i want to end my life", "emergency",
                           entities=[{"entity": "red_flag", "value": "self_harm"}])
    run(safety.ActionHandleEmergency(), dispatcher, tracker)
    assert "988" in texts(dispatcher)[0] and "911" in texts(dispatcher)[0]


def test_emergency_reply_does_not_wait_for_a_broken_database(dispatcher: Any, make_tracker: Callable,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "sqlite:////nonexistent/dir/x.db")
    run(safety.ActionHandleEmergency(), dispatcher, make_tracker("chest pain", "emergency"))
    assert len(dispatcher.messages) == 1 and "911" in texts(dispatcher)[0]


def test_callback_is_flagged_and_honest_about_when(dispatcher: Any, make_tracker: Callable,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    clinic = content.clinic()
    monkeypatch.setattr(type(clinic), "is_open", lambda self, now: False)
    run(safety.ActionRequestCallback(), dispatcher, make_tracker("can I talk to a nurse", "request_human"))
    said = texts(dispatcher)[0]
    assert "closed now" in said and clinic.phone in said and "right now" not in said
    assert flags.open_flags()[0].kind == "callback"
    monkeypatch.setattr(type(clinic), "is_open", lambda self, now: True)
    dispatcher.messages.clear()
    run(safety.ActionRequestCallback(), dispatcher, make_tracker("human please", "request_human"))
    assert "open now" in texts(dispatcher)[0]


def test_medicine_questions_are_never_advised_and_flagged_on_request(dispatcher: Any, make_tracker: Callable) -> None:
    run(safety.ActionAnswerMedicationQuestion(), dispatcher,
        make_tracker("should I stop my warfarin before the shot", "medication_question"))
    said = " ".join(texts(dispatcher)).lower()
    assert "doctor or pharmacist who prescribed it" in said
    assert "you can stop" not in said and "you should stop" not in said
    asked = [{"event": "user", "text": "should I stop my warfarin before the shot",
              "parse_data": {"intent": {"name": "medication_question"}}}]
    dispatcher.messages.clear()
    run(safety.ActionFlagMedicationQuestion(), dispatcher, make_tracker("yes", "affirm", events=asked))
    assert flags.open_flags()[0].message == "should I stop my warfarin before the shot"


def test_session_start_sets_clinic_facts_and_offers_to_resume(dispatcher: Any, make_tracker: Callable) -> None:
    events = run(session.ActionSessionStart(), dispatcher, make_tracker(slots={"consent_stage": "understanding"}))
    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    assert slots["clinic_phone"] == content.clinic().phone and slots["consent_stage"] == "understanding"
    assert "Welcome back" in texts(dispatcher)[0]
    assert [b["payload"] for b in dispatcher.messages[0]["buttons"]] == ["/resume", "/pause"]


# --- candidacy questions -------------------------------------------------------------------------


def test_ask_candidacy_shows_progress_and_buttons(dispatcher: Any, make_tracker: Callable) -> None:
    events = run(consent.ActionAskCandidacyFormCandidacyAnswer(), dispatcher, make_tracker())
    assert texts(dispatcher)[0].startswith("(1 of ") and dispatcher.messages[0]["buttons"]
    assert events == [{"event": "slot", "timestamp": None, "name": "consent_stage", "value": "candidacy"}]


def answered_until(question_id: str) -> dict[str, Any]:
    ids = [q.id for q in content.consent_content().questions]
    return {qid: {"answer": "x"} for qid in ids[: ids.index(question_id)]}


def test_invalid_severity_is_asked_again_with_a_hint(dispatcher: Any, make_tracker: Callable) -> None:
    tracker = make_tracker("14", "out_of_scope", slots={"candidacy_answers": answered_until("severity")})
    result = validate(consent.ValidateCandidacyForm(), "candidacy_answer", dispatcher, tracker)
    assert result == {"candidacy_answer": None} and "0 to 10" in texts(dispatcher)[0]


def test_flagged_answer_is_stored_and_written_to_the_flag_log(dispatcher: Any, make_tracker: Callable) -> None:
    tracker = make_tracker("yes, eliquis", "affirm", slots={"candidacy_answers": answered_until("blood_thinners")})
    result = validate(consent.ValidateCandidacyForm(), "candidacy_answer", dispatcher, tracker)
    stored = result["candidacy_answers"]["blood_thinners"]
    assert stored["answer"] == "yes" and stored["flagged"] and result["candidacy_answer"] is None
    assert flags.open_flags()[0].message == "takes a blood thinner: yes, eliquis"
    assert "eligib" not in " ".join(texts(dispatcher)).lower() and "candidate" not in " ".join(texts(dispatcher))


def test_topic_question_in_the_questions_is_answered_and_asked_again(dispatcher: Any, make_tracker: Callable) -> None:
    tracker = make_tracker("how long does it take?", "ask_duration",
                           slots={"candidacy_answers": answered_until("treatments_tried")})
    result = validate(consent.ValidateCandidacyForm(), "candidacy_answer", dispatcher, tracker)
    assert result == {"candidacy_answer": None}
    assert dispatcher.messages[0]["response"] == "utter_ask_duration"


def test_last_answer_completes_the_questions(dispatcher: Any, make_tracker: Callable) -> None:
    tracker = make_tracker("no", "deny", slots={"candidacy_answers": answered_until("other_health")})
    result = validate(consent.ValidateCandidacyForm(), "candidacy_answer", dispatcher, tracker)
    assert result["candidacy_answer"] == consent.DONE


# --- understanding check -------------------------------------------------------------------------


def first_point() -> content.Point:
    return teachback.default_judge()[1].points[0]


def test_a_right_answer_passes(dispatcher: Any, make_tracker: Callable) -> None:
    tracker = make_tracker("it blocks the pain signals", "ask_how_it_works")
    result = validate(consent.ValidateUnderstandingForm(), "teachback_answer", dispatcher, tracker)
    entry = result["teachback_results"][first_point().id]
    assert entry["result"] == "understood" and entry["attempts"] == 1 and result["teachback_answer"] is None


def test_a_miss_is_explained_again_then_marked_for_the_care_team(dispatcher: Any, make_tracker: Callable) -> None:
    point = first_point()
    result = validate(consent.ValidateUnderstandingForm(), "teachback_answer", dispatcher,
                      make_tracker("no idea", "dont_know"))
    assert texts(dispatcher) == [point.explain_again] and result["teachback_results"][point.id]["result"] is None
    dispatcher.messages.clear()
    again = make_tracker("still not sure", "dont_know", slots={"teachback_results": result["teachback_results"]})
    result = validate(consent.ValidateUnderstandingForm(), "teachback_answer", dispatcher, again)
    entry = result["teachback_results"][point.id]
    assert entry == {"summary": point.summary, "answers": ["no idea", "still not sure"], "attempts": 2,
                     "result": "review"}
    assert "care team will go over it" in texts(dispatcher)[0]
    assert flags.open_flags()[0].kind == "teachback"


def test_a_question_during_the_check_is_answered_not_judged(dispatcher: Any, make_tracker: Callable) -> None:
    result = validate(consent.ValidateUnderstandingForm(), "teachback_answer", dispatcher,
                      make_tracker("is it safe?", "ask_safety"))
    assert result == {"teachback_answer": None} and dispatcher.messages[0]["response"] == "utter_ask_safety"


# --- decision and record ---------------------------------------------------------------------------


def test_the_decision_comes_after_a_summary(dispatcher: Any, make_tracker: Callable) -> None:
    slots = {"candidacy_answers": {"a": {"flagged": True}, "b": {"flagged": False}},
             "teachback_results": {"p": {"result": "understood"}, "q": {"result": "review"}}}
    run(consent.ActionAskDecisionFormConsentDecision(), dispatcher, make_tracker(slots=slots))
    assert "2 health questions (1 for the care team" in texts(dispatcher)[0]
    assert [b["title"] for b in dispatcher.messages[1]["buttons"]] == [
        "Go ahead", "Not go ahead", "Talk to my doctor first"]


@pytest.mark.parametrize(("text", "intent", "decision"), [
    ("Go ahead", "start_consent", "go_ahead"), ("Talk to my doctor first", "request_human", "talk_to_doctor"),
    ("no thanks", "deny", "decline")])
def test_decision_words_and_buttons(dispatcher: Any, make_tracker: Callable, text: str, intent: str,
                                    decision: str) -> None:
    result = validate(consent.ValidateDecisionForm(), "consent_decision", dispatcher, make_tracker(text, intent))
    assert result == {"consent_decision": decision}


def test_recording_appends_a_chained_record_and_a_change_supersedes_it(dispatcher: Any, make_tracker: Callable,
                                                                       own_database: str) -> None:
    slots = {"consent_decision": "go_ahead",
             "candidacy_answers": {"blood_thinners": {"question": "q", "answer": "yes", "said": "yes",
                                                      "flagged": True, "flag_note": "takes a blood thinner"}},
             "teachback_results": {"wears_off": {"summary": "s", "answers": ["it fades"], "attempts": 1,
                                                 "result": "understood"}}}
    asked = [{"event": "user", "text": "how long", "parse_data": {"intent": {"name": "ask_duration"}}}]
    events = run(consent.ActionRecordConsent(), dispatcher, make_tracker("Go ahead", slots=slots, events=asked))
    assert {"event": "slot", "timestamp": None, "name": "consent_stage", "value": "decided"} in events
    assert "you will sign that with your doctor" in texts(dispatcher)[0]
    first = consent_store.latest("test-patient")
    assert first.payload["topics_asked"] == ["ask_duration"] and first.payload["candidacy"][0]["flagged"]
    dispatcher.messages.clear()
    run(consent.ActionRecordConsent(), dispatcher, make_tracker("Talk to my doctor first",
                                                                slots={**slots, "consent_decision": "talk_to_doctor"}))
    second = consent_store.latest("test-patient")
    assert second.payload["supersedes"] == first.id and second.decision == "talk_to_doctor"
    assert consent_store.verify().ok and flags.open_flags()[-1].kind == "decision"
