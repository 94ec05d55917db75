"""Facts read from Rasa's event list."""

from __future__ import annotations

from bot import conversation


def user(intent: str, text: str = "") -> dict:
    return {"event": "user", "text": text or intent, "parse_data": {"intent": {"name": intent}}}


def action(name: str) -> dict:
    return {"event": "action", "name": name}


def test_questions_and_answers() -> None:
    assert conversation.looks_like_question("how long is it")
    assert conversation.looks_like_question("MS?")
    assert not conversation.looks_like_question("multiple sclerosis")


def test_topics_asked_in_first_asked_order() -> None:
    events = [user("ask_duration"), user("greet"), user("ask_cure"), user("ask_duration")]
    assert conversation.topics_asked(events, ["ask_duration", "ask_cure"]) == ["ask_duration", "ask_cure"]


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
