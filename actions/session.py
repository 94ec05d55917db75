"""Session start: the clinic's facts into slots, and an offer to resume paused consent steps."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.messaging import say
from bot import content

IN_PROGRESS = ("candidacy", "understanding", "decision")


def clinic_slots() -> list[dict[str, Any]]:
    """Slots that responses read for the clinic's name, phone, hours and emergency numbers."""
    clinic = content.clinic()
    return [
        SlotSet("clinic_name", clinic.name),
        SlotSet("clinic_phone", clinic.phone),
        SlotSet("clinic_hours", clinic.hours_text()),
        SlotSet("emergency_number", clinic.emergency_number),
        SlotSet("crisis_line", clinic.crisis_line),
    ]


class ActionSessionStart(Action):
    """Starts a session with the clinic's facts, carrying over earlier answers."""

    def name(self) -> str:
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        carried = [
            SlotSet(name, value)
            for name, value in tracker.current_slot_values().items()
            if value is not None and name != "requested_slot"
        ]
        if tracker.get_slot("consent_stage") in IN_PROGRESS:
            say(dispatcher, "welcome_back")
        return [SessionStarted(), *carried, *clinic_slots(), ActionExecuted("action_listen")]


class ActionOfferResume(Action):
    """A greeting while consent steps wait: the offer to continue where the patient left off."""

    def name(self) -> str:
        return "action_offer_resume"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        say(dispatcher, "welcome_back")
        return []
