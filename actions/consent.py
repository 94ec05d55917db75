"""The pre-consent steps: candidacy questions, the understanding check, the decision and its record.

Each step is a Rasa form with one free-text slot; what to ask next is read from
the clinic's content (``content/consent.yml``, ``content/teachback.yml``) and
the answers kept so far, so a clinic adds a question without a code change.
A question asked in the middle of a step is answered, and the pending question
asked again.
"""

from __future__ import annotations

import asyncio
import copy
import logging
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.messaging import say
from actions.safety import add_flag, request_callback
from bot import content, conversation
from bot.consent import candidacy
from bot.language import teachback
from bot.records import consent_store

logger = logging.getLogger(__name__)

DONE = "done"
DIGRESSION_CONFIDENCE = 0.6
# Non-topic questions answered in the middle of a step (topics are answered from the sheet).
DIGRESSION_RESPONSES = {"bot_challenge": "utter_bot_challenge"}
UPSET_INTENTS = ("insult", "frustration")
# Load the spaCy pipeline and the teach-back concepts when the action server starts, not when the
# first patient reaches the understanding check (measured: 2.5 s wait for that patient otherwise).
teachback.default_judge()


def choice_buttons(titles: list[str]) -> list[dict[str, str]]:
    """Buttons whose payload is the title itself: pressing one is the same as typing it."""
    return [{"title": title, "payload": title} for title in titles]


async def answer_digression(dispatcher: CollectingDispatcher, tracker: Tracker) -> bool:
    """Answer a question asked in the middle of a step; True when the message was one."""
    intent = tracker.latest_message.get("intent") or {}
    name = intent.get("name")
    confidence = float(intent.get("confidence") or 0.0)
    text = tracker.latest_message.get("text") or ""
    if confidence < DIGRESSION_CONFIDENCE:
        return False
    if name in UPSET_INTENTS:
        dispatcher.utter_message(response="utter_calm_offer_person")
        return True
    if name == "request_human":  # only reaches a step whose answers may name a person (the decision)
        await request_callback(dispatcher, tracker)
        return True
    if not conversation.looks_like_question(text):
        return False
    if content.topics().is_topic(name):
        dispatcher.utter_message(response=f"utter_{name}")
        return True
    if name in DIGRESSION_RESPONSES:
        dispatcher.utter_message(response=DIGRESSION_RESPONSES[name])
        return True
    if name == "medication_question":
        say(dispatcher, "medication_question")
        if await add_flag(tracker, "medication", text) is not None:
            say(dispatcher, "medication_flagged_in_step")
        return True
    return False


# --- Step 1: candidacy questions -------------------------------------------------------------


class ActionAskCandidacyFormCandidacyAnswer(Action):
    """Asks the next unanswered candidacy question, with its buttons and progress."""

    def name(self) -> str:
        return "action_ask_candidacy_form_candidacy_answer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        questions = content.consent_content()
        answers = tracker.get_slot("candidacy_answers") or {}
        question = questions.next_question(answers)
        if question is None:
            return []
        number = [q.id for q in questions.questions].index(question.id) + 1
        buttons = choice_buttons([option.title for option in question.options])
        dispatcher.utter_message(text=f"({number} of {len(questions.questions)}) {question.text}", buttons=buttons)
        return [SlotSet("consent_stage", "candidacy")]


class ValidateCandidacyForm(FormValidationAction):
    """Parses each candidacy answer; asks again with a hint when it can't be used; flags what needs a human."""

    def name(self) -> str:
        return "validate_candidacy_form"

    async def validate_candidacy_answer(self, slot_value: Any, dispatcher: CollectingDispatcher,
                                        tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        questions = content.consent_content()
        answers = copy.deepcopy(tracker.get_slot("candidacy_answers") or {})
        question = questions.next_question(answers)
        if question is None:
            return {"candidacy_answer": DONE}
        text = str(slot_value or "")
        answer = candidacy.parse_answer(question, text, questions.dont_know_words)
        structured = question.type != "text" and answer.valid
        if not structured and await answer_digression(dispatcher, tracker):
            return {"candidacy_answer": None}
        if not answer.valid:
            dispatcher.utter_message(text=answer.hint)
            return {"candidacy_answer": None}
        answers[question.id] = {
            "question": question.text,
            "answer": answer.value,
            "said": text,
            "flagged": answer.flagged,
            "flag_note": question.flag_note if answer.flagged else "",
        }
        if answer.flagged:
            await add_flag(tracker, "candidacy", f"{question.flag_note}: {text}", question.id)
        finished = questions.next_question(answers) is None
        return {"candidacy_answers": answers, "candidacy_answer": DONE if finished else None}


# --- Step 2: the understanding check (teach-back) ------------------------------------------


def current_point(results: dict[str, Any]) -> content.Point | None:
    """The first point without a result yet."""
    _, judge = teachback.default_judge()
    return next((point for point in judge.points if (results.get(point.id) or {}).get("result") is None), None)


class ActionAskUnderstandingFormTeachbackAnswer(Action):
    """Asks the next understanding point in an open way, with choices for those who prefer buttons."""

    def name(self) -> str:
        return "action_ask_understanding_form_teachback_answer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        results = tracker.get_slot("teachback_results") or {}
        point = current_point(results)
        if point is None:
            return []
        _, judge = teachback.default_judge()
        number = [p.id for p in judge.points].index(point.id) + 1
        dispatcher.utter_message(text=f"({number} of {len(judge.points)}) {point.question}",
                                 buttons=choice_buttons(list(point.choices)))
        return [SlotSet("consent_stage", "understanding")]


class ValidateUnderstandingForm(FormValidationAction):
    """Judges each answer by its key ideas; explains again once; then marks the point for the care team."""

    def name(self) -> str:
        return "validate_understanding_form"

    async def validate_teachback_answer(self, slot_value: Any, dispatcher: CollectingDispatcher,
                                        tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        results = copy.deepcopy(tracker.get_slot("teachback_results") or {})
        point = current_point(results)
        if point is None:
            return {"teachback_answer": DONE}
        text = str(slot_value or "")
        understood = await asyncio.to_thread(teachback.judge_text, point.id, text)
        if not understood and await answer_digression(dispatcher, tracker):
            return {"teachback_answer": None}
        entry = results.setdefault(point.id, {"summary": point.summary, "answers": [], "attempts": 0, "result": None})
        entry["answers"].append(text)
        entry["attempts"] += 1
        if understood:
            entry["result"] = "understood"
            say(dispatcher, "teachback_right")
        elif entry["attempts"] < teachback.MAX_ATTEMPTS:
            dispatcher.utter_message(text=point.explain_again)
        else:
            entry["result"] = "review"
            say(dispatcher, "teachback_review")
            await add_flag(tracker, "teachback", f"go over: {point.summary}", " / ".join(entry["answers"]))
        finished = current_point(results) is None
        return {"teachback_results": results, "teachback_answer": DONE if finished else None}


# --- Step 3: the decision, and its record ----------------------------------------------------


class ActionAskDecisionFormConsentDecision(Action):
    """Summarises what was covered, then offers the three choices."""

    def name(self) -> str:
        return "action_ask_decision_form_consent_decision"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        answers = tracker.get_slot("candidacy_answers") or {}
        results = tracker.get_slot("teachback_results") or {}
        say(
            dispatcher,
            "decision_summary",
            answered=len(answers),
            flagged=sum(1 for item in answers.values() if item.get("flagged")),
            understood=sum(1 for item in results.values() if item.get("result") == "understood"),
            review=sum(1 for item in results.values() if item.get("result") == "review"),
        )
        titles = [option.title for option in content.consent_content().decisions]
        say(dispatcher, "ask_decision", buttons=choice_buttons(titles))
        return [SlotSet("consent_stage", "decision")]


class ValidateDecisionForm(FormValidationAction):
    """Maps the patient's words or button to go ahead, not go ahead, or talk to the doctor first."""

    def name(self) -> str:
        return "validate_decision_form"

    async def validate_consent_decision(self, slot_value: Any, dispatcher: CollectingDispatcher,
                                        tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        decision = candidacy.pick_decision(str(slot_value or ""))
        if decision is None and await answer_digression(dispatcher, tracker):
            return {"consent_decision": None}
        if decision is None:
            say(dispatcher, "decision_unclear")
            return {"consent_decision": None}
        return {"consent_decision": decision}


def record_payload(tracker: Tracker, decision: str, supersedes: int | None) -> dict[str, Any]:
    """What the care team relies on: answers with flags, teach-back results, the decision, topics asked."""
    questions = content.consent_content()
    answers = tracker.get_slot("candidacy_answers") or {}
    results = tracker.get_slot("teachback_results") or {}
    _, judge = teachback.default_judge()
    return {
        "candidacy": [{"id": q.id, **answers[q.id]} for q in questions.questions if q.id in answers],
        "teachback": [{"id": p.id, **results[p.id]} for p in judge.points if p.id in results],
        "decision": decision,
        "topics_asked": conversation.topics_asked(tracker.events, content.topics().titles),
        "supersedes": supersedes,
    }


class ActionRecordConsent(Action):
    """Appends the decision to the tamper-evident record and tells the patient what happens next."""

    def name(self) -> str:
        return "action_record_consent"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        decision = tracker.get_slot("consent_decision")
        if decision not in consent_store.DECISION_TITLES:
            say(dispatcher, "decision_unclear")
            return [SlotSet("consent_decision", None)]
        metadata = tracker.latest_message.get("metadata") or {}
        try:
            previous = await asyncio.to_thread(consent_store.latest, tracker.sender_id)
            record = await asyncio.to_thread(
                consent_store.append,
                tracker.sender_id,
                tracker.get_latest_input_channel() or "unknown",
                decision,
                record_payload(tracker, decision, previous.id if previous else None),
                content.content_version(),
                metadata.get("patient_id"),  # set by channels that know the patient (a signed widget token)
            )
        except Exception:
            logger.exception("could not record the consent decision of %s", tracker.sender_id)
            say(dispatcher, "record_failed")
            return [SlotSet("consent_decision", None)]
        if decision == "talk_to_doctor":
            await add_flag(tracker, "decision", "wants to talk to the doctor first", f"record #{record.id}")
        say(dispatcher, f"recorded_{decision}")
        return [SlotSet("consent_stage", "decided"), SlotSet("consent_decision", None)]
