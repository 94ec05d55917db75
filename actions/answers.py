"""Answering topic questions, the menu, and messages the assistant did not understand."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.messaging import say
from bot import content, conversation

FALLBACK_INTENT = "nlu_fallback"
REPHRASE_TOPICS = 3


class ActionOfferMoreTopics(Action):
    """After a topic's answer (a rule sends ``utter_<intent>``): related topics and the consent steps as buttons."""

    def name(self) -> str:
        return "action_offer_more_topics"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        topics = content.topics()
        intent = tracker.get_intent_of_latest_message(skip_fallback_intent=False)
        say(
            dispatcher,
            "more_topics",
            buttons=topics.buttons_after(intent) if topics.is_topic(intent) else topics.menu_buttons(),
        )
        return []


class ActionShowMenu(Action):
    """Shows what the assistant can answer, as buttons."""

    def name(self) -> str:
        return "action_show_menu"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        say(dispatcher, "menu", buttons=content.topics().menu_buttons())
        return []


class ActionHandleLowConfidence(Action):
    """Two-stage fallback: first ask to rephrase with the closest topics, then the menu and a person."""

    def name(self) -> str:
        return "action_handle_low_confidence"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        topics = content.topics()
        if conversation.last_action_before_user(tracker.events) == self.name():
            say(dispatcher, "fallback_menu", buttons=[*topics.menu_buttons(), topics.person_button])
            return []
        ranking = tracker.latest_message.get("intent_ranking") or []
        closest = conversation.likely_intents(ranking, topics.is_topic, REPHRASE_TOPICS)
        say(dispatcher, "ask_rephrase", buttons=[topics.button(intent) for intent in closest] + [topics.menu_button])
        return []
