"""Answering topic questions, the menu, and messages the assistant did not understand."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.messaging import say, send
from bot import content, conversation
from bot.language import teachback

FALLBACK_INTENT = "nlu_fallback"
REPHRASE_TOPICS = 3


class ActionFollowUpAnswer(Action):
    """After a topic's answer (a rule sends ``utter_<intent>``): what completes it, then what else to ask.

    Where the information sheet is silent, the clinic's own instruction (or its phone number);
    a mistaken belief the question showed ("so the pain is gone for good?"), corrected in the
    teach-back's plain words; then related topics and the consent steps as buttons.
    """

    def name(self) -> str:
        return "action_follow_up_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        intent = tracker.get_intent_of_latest_message(skip_fallback_intent=False)
        follow_up(dispatcher, intent, tracker.latest_message.get("text") or "")
        return []


def follow_up(dispatcher: CollectingDispatcher, intent: str | None, said: str) -> None:
    """What completes the answer to ``intent`` asked in the words ``said``, then the related topics."""
    topics = content.topics()
    if intent is None or not topics.is_topic(intent):
        say(dispatcher, "more_topics", buttons=topics.menu_buttons())
        return
    if intent in topics.instructions:
        written = content.clinic().instructions.get(topics.instructions[intent])
        if written:
            say(dispatcher, "clinic_instruction", instruction=written)
        else:
            say(dispatcher, "ask_the_clinic")
    for point_id in topics.corrections_after(intent, teachback.wrong_ideas(said)):
        send(dispatcher, f"teachback:{point_id}:again", content.teachback_content().point(point_id).explain_again)
    say(dispatcher, "more_topics", buttons=topics.buttons_after(intent))


class ActionAnswerTopicAfterAdvice(Action):
    """After an unsure emergency's conditional advice, the answer to the topic question asked with it.

    A worried "how risky is this overall?" may get "if this is happening now and severe, call 911"
    from the safety net; the patient still asked about the risks and hears that answer after the
    advice: the safety net names it (the ``asked_topic`` entity, ``bot.language.safety.topic_beside_advice``)
    only when its learned layer alone was unsure, so a red-flag phrase and a sure emergency are answered
    with the advice alone.
    """

    def name(self) -> str:
        return "action_answer_topic_after_advice"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        intent = next(tracker.get_latest_entity_values("asked_topic"), None)
        if not content.topics().is_topic(intent):
            return []
        say(dispatcher, "topic_after_advice")
        dispatcher.utter_message(response=f"utter_{intent}")
        follow_up(dispatcher, intent, tracker.latest_message.get("text") or "")
        return []


class ActionShowMenu(Action):
    """Shows what the assistant can answer, as buttons."""

    def name(self) -> str:
        return "action_show_menu"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        topics = content.topics()
        say(dispatcher, "menu", buttons=[*topics.menu_buttons(), topics.language_button])
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
