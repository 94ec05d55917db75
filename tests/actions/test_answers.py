"""Answering topics, the menu, and messages the assistant did not understand (actions/answers.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from actions import answers
from bot import content
from tests.helpers.actions import run, sent


def test_more_topics_offers_related_topics_and_the_consent_steps(dispatcher: Any, make_tracker: Callable) -> None:
    run(answers.ActionOfferMoreTopics(), dispatcher, make_tracker("how long", "ask_duration"))
    assert sent(dispatcher) == ["more_topics"]
    payloads = [b["payload"] for b in dispatcher.messages[0]["buttons"]]
    assert payloads == ["/ask_procedure_steps", "/ask_recovery", "/start_consent"]


def test_the_menu_lists_the_topics(dispatcher: Any, make_tracker: Callable) -> None:
    run(answers.ActionShowMenu(), dispatcher, make_tracker("menu", "show_menu"))
    assert sent(dispatcher) == ["menu"] and dispatcher.messages[0]["buttons"] == content.topics().menu_buttons()


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
