"""Facts read from Rasa's event list."""

from __future__ import annotations

from typing import Any

from bot import conversation


def user(intent: str, text: str = "") -> dict:
    return {"event": "user", "text": text or intent, "parse_data": {"intent": {"name": intent}}}


def action(name: str) -> dict:
    return {"event": "action", "name": name}


def test_questions_and_answers() -> None:
    assert conversation.looks_like_question("how long is it")
    assert conversation.looks_like_question("MS?")
    assert not conversation.looks_like_question("multiple sclerosis")


def answered(response: str) -> dict[str, Any]:
    return {"event": "bot", "text": "...", "metadata": {"utter_action": response}}


def test_topics_asked_are_the_topics_answered_in_first_answered_order() -> None:
    events = [
        user("ask_duration"),
        answered("utter_ask_duration"),
        user("greet"),
        answered("utter_greet"),
        user("ask_cure"),
        answered("utter_ask_cure"),
        user("ask_duration"),
        answered("utter_ask_duration"),
        user("ask_how_it_works"),  # a teach-back answer the classifier took for a topic: never answered as one
        {"event": "bot", "text": "...", "metadata": {"message_name": "teachback:wears_off:question"}},
    ]
    topics = ["ask_duration", "ask_cure", "ask_how_it_works"]
    assert conversation.topics_asked(events, topics) == ["ask_duration", "ask_cure"]


def test_last_action_before_the_latest_user_message() -> None:
    events = [user("x"), action("action_handle_low_confidence"), action("action_listen"), user("y")]
    assert conversation.last_action_before_user(events) == "action_handle_low_confidence"
    assert conversation.last_action_before_user([user("y")]) is None


def test_latest_user_text_of_an_intent() -> None:
    events = [user("medication_question", "can I take advil"), user("affirm", "yes")]
    assert conversation.latest_user_text(events, "medication_question") == "can I take advil"
    assert conversation.latest_user_text(events) == "yes"


def test_likely_intents_keep_the_ranking_order_and_the_limit() -> None:
    ranking = [
        {"name": "nlu_fallback"},
        {"name": "ask_cure"},
        {"name": "greet"},
        {"name": "ask_duration"},
        {"name": "ask_safety"},
        {},
    ]
    wanted = {"ask_cure", "ask_duration", "ask_safety"}.__contains__
    assert conversation.likely_intents(ranking, wanted, 2) == ["ask_cure", "ask_duration"]
    assert conversation.likely_intents([], wanted, 3) == []


def test_a_pause_inside_a_step_and_the_resume_after_it_are_found() -> None:
    events: list[dict[str, Any]] = [
        {"event": "slot", "name": "consent_stage", "value": "understanding"},
        {"event": "active_loop", "name": "understanding_form"},
        {"event": "user", "timestamp": 10.0, "parse_data": {"intent": {"name": "pause"}}},
        {"event": "active_loop", "name": None},
        {"event": "user", "timestamp": 20.0, "parse_data": {"intent": {"name": "greet"}}},
        {"event": "user", "timestamp": 30.0, "parse_data": {"intent": {"name": "resume"}}},
        {"event": "active_loop", "name": "understanding_form"},
    ]
    assert conversation.pauses(events) == [("paused", "understanding", 10.0), ("resumed", "understanding", 30.0)]
    assert conversation.pauses(events[:1] + events[2:3]) == [], "a pause outside a step is no pause of it"
