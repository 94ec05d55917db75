"""Answering topics, the menu, and messages the assistant did not understand (actions/answers.py)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest

from actions import answers
from bot import content
from tests.helpers.actions import run, sent


def test_more_topics_offers_related_topics_and_the_consent_steps(dispatcher: Any, make_tracker: Callable) -> None:
    run(answers.ActionFollowUpAnswer(), dispatcher, make_tracker("how long", "ask_duration"))
    assert sent(dispatcher) == ["more_topics"]
    payloads = [b["payload"] for b in dispatcher.messages[0]["buttons"]]
    assert payloads == ["/ask_procedure_steps", "/ask_recovery", "/start_consent"]


def test_a_question_the_sheet_does_not_answer_is_sent_to_the_clinic(dispatcher: Any, make_tracker: Callable) -> None:
    run(answers.ActionFollowUpAnswer(), dispatcher, make_tracker("can i eat before", "ask_fasting"))
    assert sent(dispatcher) == ["ask_the_clinic", "more_topics"]
    assert content.clinic().phone in dispatcher.messages[0]["text"]


def test_the_clinics_own_instruction_follows_when_it_wrote_one(
    dispatcher: Any, make_tracker: Callable, monkeypatch: pytest.MonkeyPatch
) -> None:
    written = dataclasses.replace(content.clinic(), instructions={"fasting": "Eat lightly up to 2 hours before."})
    monkeypatch.setattr(content, "clinic", lambda: written)
    run(answers.ActionFollowUpAnswer(), dispatcher, make_tracker("can i eat before", "ask_fasting"))
    assert sent(dispatcher) == ["clinic_instruction", "more_topics"]
    assert "Eat lightly up to 2 hours before." in dispatcher.messages[0]["text"]


@pytest.mark.parametrize(
    ("text", "intent", "expected"),
    [
        ("so after this the pain is gone for good? how long does it take", "ask_duration", ["wears_off"]),
        ("great, this will cure my spasms, how long does it take", "ask_duration", ["not_a_cure"]),
        ("one shot and it lasts forever right, what's in it", "ask_medicines", ["wears_off"]),
        ("will it cure me for good", "ask_cure", []),  # the answer to that topic says it
        ("i know it's not a cure, how long does it take", "ask_duration", []),
        ("how long does it take", "ask_duration", []),
        ("since there's zero risk, how long will my mum be in there", "ask_duration", ["rare_complication"]),
        ("it's totally safe so what do they inject", "ask_medicines", ["rare_complication"]),
        ("theres no side effects at all right, how long is it", "ask_duration", ["rare_complication"]),
        ("is it risk free?", "ask_safety", []),  # the answer to that topic names the rare problems
        ("she had no side effects last time, how long is it", "ask_duration", []),  # a past event, not a belief
        ("no idea how long it takes, do you know", "ask_duration", []),  # a "no" says nothing about risk
    ],
)
def test_a_mistaken_belief_in_the_question_is_corrected_after_the_answer(
    dispatcher: Any, make_tracker: Callable, text: str, intent: str, expected: list[str]
) -> None:
    run(answers.ActionFollowUpAnswer(), dispatcher, make_tracker(text, intent))
    assert sent(dispatcher) == [f"teachback:{point}:again" for point in expected] + ["more_topics"]


def test_the_menu_lists_the_topics(dispatcher: Any, make_tracker: Callable) -> None:
    run(answers.ActionShowMenu(), dispatcher, make_tracker("menu", "show_menu"))
    topics = content.topics()
    assert sent(dispatcher) == ["menu"]
    assert dispatcher.messages[0]["buttons"] == [*topics.menu_buttons(), topics.language_button]


def test_low_confidence_first_asks_to_rephrase_with_the_closest_topics(dispatcher: Any, make_tracker: Callable) -> None:
    ranking = [
        {"name": "nlu_fallback", "confidence": 0.4},
        {"name": "greet", "confidence": 0.3},
        {"name": "ask_repeat", "confidence": 0.2},
        {"name": "ask_cure", "confidence": 0.1},
        {"name": "ask_duration", "confidence": 0.05},
        {"name": "ask_safety", "confidence": 0.01},
    ]
    run(answers.ActionHandleLowConfidence(), dispatcher, make_tracker("it wears?", "nlu_fallback", ranking=ranking))
    assert sent(dispatcher) == ["ask_rephrase"]
    assert [b["payload"] for b in dispatcher.messages[0]["buttons"]] == [
        "/ask_repeat",
        "/ask_cure",
        "/ask_duration",
        "/show_menu",
    ]


def test_low_confidence_twice_offers_the_menu_and_a_person(dispatcher: Any, make_tracker: Callable) -> None:
    earlier = [
        {"event": "user", "text": "blah", "parse_data": {"intent": {"name": "nlu_fallback"}}},
        {"event": "action", "name": "action_handle_low_confidence"},
        {"event": "action", "name": "action_listen"},
    ]
    run(answers.ActionHandleLowConfidence(), dispatcher, make_tracker("blah blah", "nlu_fallback", events=earlier))
    assert sent(dispatcher) == ["fallback_menu"]
    assert "/request_human" in [b["payload"] for b in dispatcher.messages[0]["buttons"]]


def _unsure_emergency(asked: str | None) -> list[dict[str, Any]]:
    found = [
        {"entity": "safety_verdict", "value": "possible"},
        {"entity": "safety_reply", "value": "emergency_possible"},
    ]
    return found + ([{"entity": "asked_topic", "value": asked}] if asked else [])


def test_a_topic_asked_with_an_unsure_emergency_is_answered_after_the_advice(
    dispatcher: Any, make_tracker: Callable
) -> None:
    tracker = make_tracker(
        "it's risk free right? how long does it take", "emergency", 1.0, entities=_unsure_emergency("ask_duration")
    )
    run(answers.ActionAnswerTopicAfterAdvice(), dispatcher, tracker)
    # the bridge, the topic's answer (a domain response), the correction of "risk free", the related topics
    expected = ["topic_after_advice", "utter_ask_duration", "teachback:rare_complication:again", "more_topics"]
    assert sent(dispatcher) == expected


@pytest.mark.parametrize("asked", [None, "pause", "not_an_intent"])
def test_without_a_topic_named_by_the_safety_net_nothing_follows_the_advice(
    dispatcher: Any, make_tracker: Callable, asked: str | None
) -> None:
    run(
        answers.ActionAnswerTopicAfterAdvice(),
        dispatcher,
        make_tracker("how safe is it", "emergency", 1.0, entities=_unsure_emergency(asked)),
    )
    assert sent(dispatcher) == []
