"""The reminder's re-check as Rasa actions: start it, judge each answer, record it.

A reminder texted before the procedure runs the turn ``/EXTERNAL_recheck`` with the
reminder's outreach id in its metadata (``bot.outreach``). Only a live reminder of this
conversation starts anything, so a patient typing the payload gets the reply to a message
not understood. What is asked, judged and said is ``bot.consent.recheck``; the answers go
into ``bot.records.recheck_store``, linked to the conversation's newest consent record.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.answers import ActionHandleLowConfidence
from actions.consent import answer_digression, carry_out
from actions.messaging import send_replies
from bot import content
from bot.consent import recheck, steps
from bot.invitations import IDENTITY_KEY, PATIENT_ID_KEY
from bot.language import teachback
from bot.outreach import PROCEDURE_DATE_KEY, REMINDER_KEY
from bot.outreach.store import is_live_reminder
from bot.records import consent_store, recheck_store

logger = logging.getLogger(__name__)

STATE_SLOT = "recheck"
ANSWER_SLOT = "recheck_answer"
FORM = "recheck_form"


def _metadata(tracker: Tracker) -> dict[str, Any]:
    return dict(tracker.latest_message.get("metadata") or {})


class ActionStartRecheck(Action):
    """The reminder: the visit date, then (through ``recheck_form``) the first point asked again.

    Refuses a turn without a live reminder of this conversation as a message not understood. With
    no consent record, or a decision not to go ahead, it reminds without questions.
    """

    def name(self) -> str:
        return "action_start_recheck"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        metadata = _metadata(tracker)
        reminder = str(metadata.get(REMINDER_KEY) or "")
        if not reminder or not await asyncio.to_thread(is_live_reminder, reminder, tracker.sender_id):
            logger.info("a re-check turn without a live reminder was refused (conversation %s)", tracker.sender_id)
            await ActionHandleLowConfidence().run(dispatcher, tracker, domain)
            return [FollowupAction("action_listen")]
        record = await asyncio.to_thread(consent_store.latest, tracker.sender_id)
        iso_date = str(metadata.get(PROCEDURE_DATE_KEY) or "")
        reply, asks = recheck.opening(record.decision if record else None, iso_date)
        send_replies(dispatcher, [reply])
        if record is None or not asks:
            return [FollowupAction("action_listen")]
        teachback_content = content.teachback_content()
        points = recheck.pick_points(record.payload, teachback_content.points)
        state = recheck.RecheckState(
            reminder=reminder,
            date=iso_date,
            record_id=record.id,
            record_hash=record.record_hash,
            points=tuple(point.id for point in points),
            patient_ref=str(metadata.get(PATIENT_ID_KEY) or record.patient_ref or ""),
            identity=str(metadata.get(IDENTITY_KEY) or record.payload.identity or ""),
        )
        # Not the answer slot: a slot event here would reach the form's validation as an empty answer.
        return [SlotSet(STATE_SLOT, state.to_json())]


class ActionAskRecheckFormRecheckAnswer(Action):
    """Asks the pending point again, in an open way (no buttons: the patient's own words are the check)."""

    def name(self) -> str:
        return "action_ask_recheck_form_recheck_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        state = recheck.read_state(tracker.get_slot(STATE_SLOT))
        point_id = state.pending_point() if state else None
        if point_id is not None:
            send_replies(dispatcher, [recheck.question(content.teachback_content().point(point_id))])
        return []


class ValidateRecheckForm(FormValidationAction):
    """Judges each answer as the teach-back does; a question in the middle is answered and the point asked again."""

    def name(self) -> str:
        return "validate_recheck_form"

    async def validate_recheck_answer(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        state = recheck.read_state(tracker.get_slot(STATE_SLOT))
        point_id = state.pending_point() if state else None
        if state is None or point_id is None:
            return {ANSWER_SLOT: steps.DONE}
        text = str(slot_value or "")
        if not text.strip():  # no answer given yet (a slot emptied, not a reply): nothing to judge
            return {ANSWER_SLOT: None}
        understood = await asyncio.to_thread(teachback.judge_text, point_id, text)
        if not understood and await answer_digression(dispatcher, tracker):
            return {ANSWER_SLOT: None}
        after, outcome = recheck.answer(state, content.teachback_content(), text, understood)
        await carry_out(dispatcher, tracker, outcome)
        done = after.pending_point() is None
        return {STATE_SLOT: after.to_json(), ANSWER_SLOT: steps.DONE if done else None}


class ActionRecordRecheck(Action):
    """Stores the re-check beside its consent record and thanks the patient, saying what happens next.

    Also ends a re-check the patient paused: what was answered is kept, the rest flagged for the visit.
    """

    def name(self) -> str:
        return "action_record_recheck"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        state = recheck.read_state(tracker.get_slot(STATE_SLOT))
        if state is None:
            return []
        teachback_content = content.teachback_content()
        answers = recheck.final_answers(state, teachback_content)
        try:
            consent = await asyncio.to_thread(consent_store.get, state.record_id)
            await asyncio.to_thread(
                recheck_store.append,
                consent,
                state.reminder,
                tracker.sender_id,
                answers,
                state.patient_ref or None,
                state.identity,
            )
        except Exception:
            logger.exception("could not store the re-check of consent record #%s", state.record_id)
        await carry_out(dispatcher, tracker, recheck.closing(state, teachback_content))
        return [SlotSet(STATE_SLOT, None), SlotSet(ANSWER_SLOT, None)]
