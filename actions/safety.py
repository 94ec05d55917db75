"""The safety net: emergencies, a real person, and questions about the patient's own medicines."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.messaging import say
from bot import content, conversation
from bot.records import flags

logger = logging.getLogger(__name__)


# Pauses before each new try of an emergency flag that could not be written (the database may
# be restarting): three tries within about a second, the reply having been sent already.
EMERGENCY_RETRY_SECONDS = (0.2, 0.6)


async def add_flag(
    tracker: Tracker, kind: str, message: str, detail: str = "", retry_after: Sequence[float] = ()
) -> int | None:
    """Write a flag for the care team off the event loop, trying again after each pause in ``retry_after``.

    None (and an error log) when every try failed: the patient's reply must not depend on the database.
    The client address a channel put in the message's metadata lets a flood count on one flag.
    """
    channel = tracker.get_latest_input_channel() or "unknown"
    address = (tracker.latest_message.get("metadata") or {}).get(flags.CLIENT_ADDRESS_KEY)
    client_address = str(address) if address else None
    for pause in (*retry_after, None):
        try:
            return await asyncio.to_thread(
                flags.add, tracker.sender_id, channel, kind, message, detail, client_address=client_address
            )
        except Exception:
            if pause is None:
                logger.exception("could not write a %s flag for conversation %s", kind, tracker.sender_id)
                return None
            logger.warning("could not write a %s flag for conversation %s; trying again", kind, tracker.sender_id)
            await asyncio.sleep(pause)
    return None


class ActionRecordEmergency(Action):
    """Records an emergency for the care team; the patient was already answered by ``utter_emergency``.

    The reply comes from the Rasa server itself (bot/rasa/nlg.py) so it never waits for this
    action server; this action only writes the flag and says so when it is written.
    """

    def name(self) -> str:
        return "action_record_emergency"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        categories = [str(value) for value in tracker.get_latest_entity_values("red_flag")]
        detail = ", ".join(categories) or "emergency intent (classifier)"
        if "possible" in tracker.get_latest_entity_values("safety_verdict"):
            detail = f"possible emergency (unsure): {detail}"
        text = tracker.latest_message.get("text") or ""
        if await add_flag(tracker, "emergency", text, detail, retry_after=EMERGENCY_RETRY_SECONDS) is not None:
            say(dispatcher, "emergency_logged")
        return []


async def request_callback(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    """Flag a callback for the care team and say honestly when staff will see it."""
    now = dt.datetime.now(dt.timezone.utc)
    written = await add_flag(tracker, "callback", tracker.latest_message.get("text") or "") is not None
    name, values = flags.callback_message(written, content.clinic(), now)
    say(dispatcher, name, None, **values)


class ActionRequestCallback(Action):
    """Gives the clinic's phone and hours, and asks the care team to call back, honest about when."""

    def name(self) -> str:
        return "action_request_callback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        await request_callback(dispatcher, tracker)
        return []


class ActionAnswerMedicationQuestion(Action):
    """Never advises on the patient's own medicines: points to the prescriber and offers a flag."""

    def name(self) -> str:
        return "action_answer_medication_question"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        say(dispatcher, "medication_question")
        say(dispatcher, "offer_flag_medication")
        return []


class ActionFlagMedicationQuestion(Action):
    """Passes the patient's medicine question on to the care team, when they said yes."""

    def name(self) -> str:
        return "action_flag_medication_question"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        question = conversation.latest_user_text(tracker.events, "medication_question") or ""
        if await add_flag(tracker, "medication", question) is None:
            say(dispatcher, "callback_failed")
        else:
            say(dispatcher, "medication_flagged")
        return []
