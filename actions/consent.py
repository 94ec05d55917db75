"""The pre-consent steps as Rasa forms: candidacy questions, the understanding check, the decision and its record.

Each step is a Rasa form with one free-text slot. What to ask, what an answer means and
what is recorded is plain Python in ``bot.consent.steps``, read from the clinic's content
(``content/consent.yml``, ``content/teachback.yml``); these classes read the tracker, call
it, send what it composed, write the flags it asks for and return the slots. A question
asked in the middle of a step (``bot.consent.digression``) is answered, and the pending
question asked again.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.messaging import say, send_replies
from actions.safety import add_flag, request_callback
from bot import content, settings
from bot.consent import candidacy, digression, steps
from bot.invitations import IDENTITY_KEY, PATIENT_ID_KEY
from bot.language import teachback
from bot.outreach import copies
from bot.records import consent_store, copy_link

logger = logging.getLogger(__name__)

# Load the spaCy pipeline and the teach-back concepts when the action server starts, not when the
# first patient reaches the understanding check (measured: 2.5 s wait for that patient otherwise).
teachback.default_judge()


async def carry_out(dispatcher: CollectingDispatcher, tracker: Tracker, outcome: steps.Outcome) -> None:
    """Send what a step composed, then write the flags it asks for."""
    send_replies(dispatcher, outcome.replies)
    for flag in outcome.flags:
        await add_flag(tracker, flag.kind, flag.message, flag.detail)


async def answer_digression(dispatcher: CollectingDispatcher, tracker: Tracker) -> bool:
    """Answer a question asked in the middle of a step; True when the message was one."""
    intent = tracker.latest_message.get("intent") or {}
    text = tracker.latest_message.get("text") or ""
    found = digression.digression(intent.get("name"), float(intent.get("confidence") or 0.0), text, content.topics())
    if found is None:
        return False
    if found.kind == digression.RESPOND:
        dispatcher.utter_message(response=found.response)
    elif found.kind == digression.SAVED:
        await show_saved(dispatcher, tracker)
    elif found.kind == digression.HELLO:
        say(dispatcher, "hello_again")
    elif found.kind == digression.CALLBACK:
        await request_callback(dispatcher, tracker)
    elif found.kind == digression.MEDICATION:
        say(dispatcher, "medication_question")
        if await add_flag(tracker, "medication", text) is not None:
            say(dispatcher, "medication_flagged_in_step")
    return True


async def show_saved(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    """Tell the patient what is recorded so far: answers, points explained, and the latest decision with a fresh
    link to their own copy."""
    questions = content.consent_content()
    decided = None
    record = None
    if tracker.get_slot("consent_stage") == "decided":
        record = await asyncio.to_thread(consent_store.latest, tracker.sender_id)
        decided = questions.decision(record.decision) if record else None
    summary = steps.saved_summary(
        questions,
        content.teachback_points(),
        tracker.get_slot("candidacy_answers") or {},
        tracker.get_slot("teachback_results") or {},
        decided,
    )
    send_replies(dispatcher, summary)
    if record is not None:
        say_own_copy(dispatcher, record.id)
        await queue_sms_copy(tracker, record.id, requested=True)


def say_own_copy(dispatcher: CollectingDispatcher, record_id: int) -> None:
    """The link to the patient's own copy of record ``record_id``, valid for PATIENT_COPY_HOURS."""
    say(dispatcher, "own_copy", link=copy_link.link(record_id), hours=settings.copy_link_hours())


async def queue_sms_copy(tracker: Tracker, record_id: int, requested: bool) -> None:
    """Also text the copy to an invited patient on the web (PATIENT_COPY_SMS); a failure never fails the turn.

    ``requested``: the patient asked (a reply, sent at once); otherwise it follows a decision (outreach, limited).
    """
    try:
        await asyncio.to_thread(
            copies.queue_copy, tracker.sender_id, record_id, tracker.get_latest_input_channel(), requested
        )
    except Exception:
        logger.exception("could not queue the SMS copy of record %s", record_id)


class ActionShowRecord(Action):
    """Answers "what have you saved?" at any time with a plain summary of the record so far."""

    def name(self) -> str:
        return "action_show_record"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        await show_saved(dispatcher, tracker)
        return []


# --- Step 1: candidacy questions -------------------------------------------------------------


class ActionAskCandidacyFormCandidacyAnswer(Action):
    """Asks the next unanswered candidacy question, with its buttons and progress."""

    def name(self) -> str:
        return "action_ask_candidacy_form_candidacy_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        question = steps.candidacy_question(
            content.consent_content(),
            tracker.get_slot("candidacy_answers") or {},
            tracker.get_slot("candidacy_pending"),
        )
        if question is None:
            return []
        send_replies(dispatcher, [question])
        return [SlotSet("consent_stage", "candidacy")]


class ValidateCandidacyForm(FormValidationAction):
    """Parses each candidacy answer; asks again with a hint when it can't be used; flags what needs a human."""

    def name(self) -> str:
        return "validate_candidacy_form"

    async def validate_candidacy_answer(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        answers = tracker.get_slot("candidacy_answers") or {}
        pending = tracker.get_slot("candidacy_pending")
        step = steps.answer_candidacy(content.consent_content(), answers, str(slot_value or ""), pending)
        if step is None:
            return {"candidacy_answer": steps.DONE}
        if not step.structured and await answer_digression(dispatcher, tracker):
            return {"candidacy_answer": None}
        await carry_out(dispatcher, tracker, step.outcome)
        if not step.accepted:
            return {"candidacy_answer": None, "candidacy_pending": step.pending}
        return {
            "candidacy_answers": step.answers,
            "candidacy_pending": None,
            "candidacy_answer": steps.DONE if step.done else None,
        }


# --- Step 2: the understanding check (teach-back) ------------------------------------------


class ActionAskUnderstandingFormTeachbackAnswer(Action):
    """Asks the next understanding point in an open way; with choices only after two misses."""

    def name(self) -> str:
        return "action_ask_understanding_form_teachback_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        question = steps.teachback_question(content.teachback_content(), tracker.get_slot("teachback_results") or {})
        if question is None:
            return []
        send_replies(dispatcher, [question])
        return [SlotSet("consent_stage", "understanding")]


class ValidateUnderstandingForm(FormValidationAction):
    """Judges each answer in the patient's words; explains again, then offers choices, then marks the point."""

    def name(self) -> str:
        return "validate_understanding_form"

    async def validate_teachback_answer(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        teachback_content = content.teachback_content()
        results = tracker.get_slot("teachback_results") or {}
        point = steps.teachback_point(teachback_content.points, results)
        if point is None:
            return {"teachback_answer": steps.DONE}
        text = str(slot_value or "")
        pressed = steps.pressed_button(teachback_content, point, text)
        understood = not pressed and await asyncio.to_thread(teachback.judge_text, point.id, text)
        if not understood and not pressed and await answer_digression(dispatcher, tracker):
            return {"teachback_answer": None}
        step = steps.judge_teachback(teachback_content, results, point, text, understood)
        await carry_out(dispatcher, tracker, step.outcome)
        return {"teachback_results": step.results, "teachback_answer": steps.DONE if step.done else None}


# --- Step 3: the decision, and its record ----------------------------------------------------


class ActionAskDecisionFormConsentDecision(Action):
    """Summarises what was covered, then offers the decision choices."""

    def name(self) -> str:
        return "action_ask_decision_form_consent_decision"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        send_replies(
            dispatcher,
            steps.decision_question(
                content.consent_content().decisions,
                tracker.get_slot("candidacy_answers") or {},
                tracker.get_slot("teachback_results") or {},
            ),
        )
        return [SlotSet("consent_stage", "decision")]


class ValidateDecisionForm(FormValidationAction):
    """Records only a clear choice; a hedged or fearful one is met with empathy and the choices again."""

    def name(self) -> str:
        return "validate_decision_form"

    async def validate_consent_decision(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        reading = candidacy.read_decision(str(slot_value or ""))
        if reading.value is None and not reading.doubtful and await answer_digression(dispatcher, tracker):
            return {"consent_decision": None}
        if reading.value is None:
            say(dispatcher, "decision_doubtful" if reading.doubtful else "decision_unclear")
            return {"consent_decision": None}
        return {"consent_decision": reading.value}


class ActionRecordConsent(Action):
    """Appends the decision to the tamper-evident record, tells the patient what happens next, and links their copy."""

    def name(self) -> str:
        return "action_record_consent"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        questions = content.consent_content()
        decision = questions.decision(tracker.get_slot("consent_decision"))
        if decision is None:
            say(dispatcher, "decision_unclear")
            return [SlotSet("consent_decision", None)]
        metadata = tracker.latest_message.get("metadata") or {}
        patient_ref = metadata.get(PATIENT_ID_KEY)  # set by channels that identified the patient
        # How they did, kept only beside a reference: a way of proving nobody is no verification.
        identity = str(metadata.get(IDENTITY_KEY) or "") if patient_ref else ""
        try:
            previous = await asyncio.to_thread(consent_store.latest, tracker.sender_id)
            payload = steps.record_payload(
                questions,
                content.teachback_points(),
                tracker.get_slot("candidacy_answers") or {},
                tracker.get_slot("teachback_results") or {},
                decision.value,
                tracker.events,
                content.topics().titles,
                previous.id if previous else None,
            )
            payload = dataclasses.replace(payload, identity=identity)
            record = await asyncio.to_thread(
                consent_store.append,
                tracker.sender_id,
                tracker.get_latest_input_channel() or "unknown",
                payload,
                content.content_version(),
                patient_ref,
            )
        except Exception:
            logger.exception("could not record the consent decision of %s", tracker.sender_id)
            say(dispatcher, "record_failed")
            return [SlotSet("consent_decision", None)]
        await carry_out(dispatcher, tracker, steps.recorded(decision, record.id))
        say_own_copy(dispatcher, record.id)
        await queue_sms_copy(tracker, record.id, requested=False)
        return [SlotSet("consent_stage", "decided"), SlotSet("consent_decision", None)]
