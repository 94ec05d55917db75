"""Session start: the clinic's facts into slots, an offer to resume paused consent steps, and a re-check kept open.

A reminder's re-check may be answered the next morning, after the session expired: a new
session would end the form waiting for that answer, so it is opened again. A session the
reminder itself started says nothing of its own: the reminder is the whole first text.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, ActiveLoop, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.messaging import say
from bot import content
from bot.content import languages
from bot.outreach import REMINDER_KEY

IN_PROGRESS = ("candidacy", "understanding", "decision")
RECHECK_FORM = "recheck_form"
RECHECK_ANSWER = "recheck_answer"
# Rasa sets it to the metadata of the message that starts a session, just before this action, and only
# when there is metadata: carried over, a later session started without metadata would read an old one.
STARTED_METADATA = "session_started_metadata"


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
            if value is not None and name not in ("requested_slot", STARTED_METADATA)
        ]
        started_by_reminder = REMINDER_KEY in (tracker.get_slot(STARTED_METADATA) or {})
        recheck_waiting = tracker.active_loop_name == RECHECK_FORM
        if tracker.get_slot("consent_stage") in IN_PROGRESS and not started_by_reminder and not recheck_waiting:
            say(dispatcher, "welcome_back")
        reopened = [ActiveLoop(RECHECK_FORM), SlotSet("requested_slot", RECHECK_ANSWER)] if recheck_waiting else []
        asked = languages.supported((tracker.get_slot(STARTED_METADATA) or {}).get(languages.METADATA_KEY))
        # The page's or the invitation's language starts a conversation; a language the patient chose since wins.
        chosen = tracker.get_slot(languages.CHOSEN_SLOT)
        language = [SlotSet(languages.CHOSEN_SLOT, asked)] if asked and not chosen else []
        return [SessionStarted(), *carried, *clinic_slots(), *language, *reopened, ActionExecuted("action_listen")]


class ActionOfferResume(Action):
    """A greeting while consent steps wait: the offer to continue where the patient left off."""

    def name(self) -> str:
        return "action_offer_resume"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        say(dispatcher, "welcome_back")
        return []
