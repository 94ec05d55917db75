"""The steps of one conversation that a nurse and the clinic care about, read from its stored Rasa events.

The care-team console marks them in a transcript; the clinic's insight figures count them.
Each is derived from what the assistant really stores (``var/tracker.db`` shows it):

- the consent forms keep their progress in slots, each set as a whole: ``candidacy_answers``
  and ``teachback_results`` (``bot.consent.steps``), a form's answer slot set to ``"done"``
  when its step is finished, ``consent_stage`` set to ``"decided"`` by ``action_record_consent``
  with the decided value in ``consent_decision``;
- every message the actions compose carries its content name in the bot event's metadata
  (``message_name``: ``candidacy:<id>``, ``teachback:<id>:question``, ``callback_open`` ...) and
  a domain response its ``utter_action`` (``utter_<topic>``, ``utter_emergency``);
- a message the assistant did not understand is the user message that
  ``action_handle_low_confidence`` answered; pauses and resumes are ``bot.conversation.pauses``,
  as the consent record keeps them.

Slots carried into a new session are set again with the same value, so only changes count.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from bot import conversation
from bot.content.messages import MESSAGE_NAME
from bot.records.tracker_events import Event

STARTED = "started"  # the patient's first message
CONSENT_STARTED = "consent_started"  # the candidacy step opened for the first time
QUESTION_ASKED = "question_asked"  # a candidacy question, teach-back point or the decision asked
CANDIDACY_ANSWER = "candidacy_answer"
CANDIDACY_DONE = "candidacy_done"
TEACHBACK_POINT = "teachback_point"  # a point got its result
TEACHBACK_DONE = "teachback_done"
DECISION = "decision"
TOPIC_ASKED = "topic_asked"
NOT_UNDERSTOOD = "not_understood"
OUT_OF_SCOPE = "out_of_scope"
PAUSE = "pause"
RESUME = "resume"
EMERGENCY = "emergency"
HANDOFF = "handoff"  # a callback or a medicine question passed on to the care team

KINDS = (
    STARTED,
    CONSENT_STARTED,
    QUESTION_ASKED,
    CANDIDACY_ANSWER,
    CANDIDACY_DONE,
    TEACHBACK_POINT,
    TEACHBACK_DONE,
    DECISION,
    TOPIC_ASKED,
    NOT_UNDERSTOOD,
    OUT_OF_SCOPE,
    PAUSE,
    RESUME,
    EMERGENCY,
    HANDOFF,
)
STEP_ENDS = (CANDIDACY_DONE, TEACHBACK_DONE)
# Steps, as ``consent_stage`` names them.
CANDIDACY = "candidacy"
UNDERSTANDING = "understanding"
DECIDING = "decision"
# Handoffs
CALLBACK = "callback"
MEDICATION = "medication"

EXCERPT_CHARS = 80
FORM_DONE = "done"  # bot.consent.steps.DONE: a form's answer slot once its step is finished
FALLBACK_ACTION = "action_handle_low_confidence"
OUT_OF_SCOPE_RESPONSE = "utter_out_of_scope"
EMERGENCY_RESPONSE = "utter_emergency"
RECORD_ACTION = "action_record_consent"
CANDIDACY_FORM = "candidacy_form"
EMERGENCY_LOGGED = "emergency_logged"
CALLBACK_WRITTEN = ("callback_open", "callback_closed")
CALLBACK_FAILED = "callback_failed"
MEDICATION_PASSED_ON = ("medication_flagged", "medication_flagged_in_step")
NOT_A_TOPIC = ("nlu_fallback",)
_CANDIDACY_ASKED = re.compile(r"^candidacy:(?P<id>[^:]+)(:confirm)?$")
_TEACHBACK_ASKED = re.compile(r"^teachback:(?P<id>[^:]+):(question|choices)$")
DECISION_ASKED = "ask_decision"


@dataclass(frozen=True)
class Milestone:
    """One step of a conversation, at ``at`` (Unix seconds); fields that do not apply to its kind stay empty.

    ``step`` is the consent step (``candidacy``, ``understanding``, ``decision``) of a question
    asked, a pause or a resume. ``text`` is at most EXCERPT_CHARS of the patient's own words
    (a candidacy answer as said, a message not understood, an emergency, a callback request).
    ``topic`` is the topic answered (TOPIC_ASKED) or the closest topic of a message not
    understood or out of scope. ``flagged``: the answer went to the care team's flag log, or
    the emergency or handoff flag was written. ``detail``: the emergency's red-flag categories
    and verdict, or the handoff's kind (CALLBACK, MEDICATION).
    """

    kind: str
    at: float
    step: str = ""
    question_id: str = ""  # candidacy question (QUESTION_ASKED in candidacy, CANDIDACY_ANSWER)
    point_id: str = ""  # teach-back point (QUESTION_ASKED in understanding, TEACHBACK_POINT)
    answer: str = ""  # the candidacy answer's value (pain, yes, dont_know, unclear, "7" ...)
    how: str = ""  # typed / button / confirmed (candidacy); own_words / chosen / missed (teach-back)
    result: str = ""  # teach-back: understood, or review (the care team goes over it at the visit)
    attempts: int = 0  # teach-back answers given for the point
    decision: str = ""  # go_ahead / decline / talk_to_doctor (content/consent.yml values)
    topic: str = ""
    text: str = ""
    flagged: bool = False
    detail: str = ""


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """``text`` on one line, cut to ``limit`` characters with an ellipsis when longer."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _topic_intents() -> frozenset[str]:
    from bot import content

    return frozenset(content.topics().titles)


def _closest_topic(parse_data: Mapping[str, Any], topics: frozenset[str]) -> str:
    ranking = parse_data.get("intent_ranking") or []
    found = conversation.likely_intents(ranking, lambda name: name in topics and name not in NOT_A_TOPIC, 1)
    return found[0] if found else ""


def _red_flags(parse_data: Mapping[str, Any]) -> str:
    """The safety net's reading of a message, as ``action_record_emergency`` writes it in the flag's detail."""
    entities = parse_data.get("entities") or []
    categories = [str(e.get("value")) for e in entities if e.get("entity") == "red_flag"]
    verdicts = {str(e.get("value")) for e in entities if e.get("entity") == "safety_verdict"}
    detail = ", ".join(categories) or "emergency intent (classifier)"
    return f"possible emergency (unsure): {detail}" if "possible" in verdicts else detail


class _Reader:
    """Walks a conversation's events once, keeping the slots and the latest message and action it needs."""

    def __init__(self, topics: frozenset[str]) -> None:
        self.topics = topics
        self.found: list[Milestone] = []
        self.slots: dict[str, Any] = {}
        self.last_action = ""
        self.last_user: Mapping[str, Any] = {}
        self.medication_text = ""
        self.consent_started = False
        self.step_ends: list[Milestone] = []

    def read(self, event: Mapping[str, Any]) -> None:
        kind = event.get("event")
        at = float(event.get("timestamp") or 0.0)
        if kind != "slot":
            self.finish_steps()
        if kind == "user":
            self._user(event, at)
        elif kind == "action":
            self._action(str(event.get("name") or ""), at)
        elif kind == "bot":
            self._bot(event, at)
        elif kind == "slot":
            self._slot(str(event.get("name") or ""), event.get("value"), at)
        elif kind == "active_loop":
            if event.get("name") == CANDIDACY_FORM and not self.consent_started:
                self.consent_started = True
                self.found.append(Milestone(CONSENT_STARTED, at, step=CANDIDACY))
        elif kind == "restart":
            self.slots = {}

    def finish_steps(self) -> None:
        """A form sets its answer slot to "done" just before the slot with the last answer: the step ends after it."""
        if not self.step_ends:
            return
        latest = max((m.at for m in self.found[-3:]), default=0.0)  # the answer was found just before
        self.found.extend(replace(m, at=max(m.at, latest)) for m in self.step_ends)
        self.step_ends = []

    def _user(self, event: Mapping[str, Any], at: float) -> None:
        if not self.last_user:
            self.found.append(Milestone(STARTED, at))
        self.last_user = event
        if ((event.get("parse_data") or {}).get("intent") or {}).get("name") == "medication_question":
            self.medication_text = str(event.get("text") or "")

    def _user_text(self) -> str:
        return excerpt(str(self.last_user.get("text") or ""))

    def _action(self, name: str, at: float) -> None:
        if name != "action_listen":
            self.last_action = name
        if name in (FALLBACK_ACTION, OUT_OF_SCOPE_RESPONSE) and self.last_user:
            parse_data = self.last_user.get("parse_data") or {}
            self.found.append(
                Milestone(
                    NOT_UNDERSTOOD if name == FALLBACK_ACTION else OUT_OF_SCOPE,
                    float(self.last_user.get("timestamp") or at),
                    text=self._user_text(),
                    topic=_closest_topic(parse_data, self.topics),
                )
            )

    def _bot(self, event: Mapping[str, Any], at: float) -> None:
        metadata = event.get("metadata") or {}
        name = str(metadata.get(MESSAGE_NAME) or "")
        response = str(metadata.get("utter_action") or "")
        if response.startswith("utter_") and response[len("utter_") :] in self.topics:
            self.found.append(Milestone(TOPIC_ASKED, at, topic=response[len("utter_") :]))
        elif response == EMERGENCY_RESPONSE:
            detail = _red_flags(self.last_user.get("parse_data") or {})
            self.found.append(Milestone(EMERGENCY, at, text=self._user_text(), detail=detail))
        self._asked(name, at)
        if name == EMERGENCY_LOGGED:
            self._mark_flagged(EMERGENCY)
        elif name in CALLBACK_WRITTEN or name == CALLBACK_FAILED:
            written = name != CALLBACK_FAILED
            self.found.append(Milestone(HANDOFF, at, text=self._user_text(), flagged=written, detail=CALLBACK))
        elif name in MEDICATION_PASSED_ON:
            said = self.medication_text or str(self.last_user.get("text") or "")
            self.found.append(Milestone(HANDOFF, at, text=excerpt(said), flagged=True, detail=MEDICATION))

    def _asked(self, name: str, at: float) -> None:
        candidacy = _CANDIDACY_ASKED.match(name)
        teachback = _TEACHBACK_ASKED.match(name)
        if candidacy:
            self.found.append(Milestone(QUESTION_ASKED, at, step=CANDIDACY, question_id=candidacy["id"]))
        elif teachback:
            self.found.append(Milestone(QUESTION_ASKED, at, step=UNDERSTANDING, point_id=teachback["id"]))
        elif name == DECISION_ASKED:
            self.found.append(Milestone(QUESTION_ASKED, at, step=DECIDING))

    def _mark_flagged(self, kind: str) -> None:
        for index in range(len(self.found) - 1, -1, -1):
            if self.found[index].kind == kind:
                self.found[index] = replace(self.found[index], flagged=True)
                return

    def _slot(self, name: str, value: Any, at: float) -> None:
        before = self.slots.get(name)
        self.slots[name] = value
        if value == before:
            return  # carried into a new session, or set again: nothing happened
        if name == "candidacy_answers" and isinstance(value, Mapping):
            self._candidacy(before if isinstance(before, Mapping) else {}, value, at)
        elif name == "teachback_results" and isinstance(value, Mapping):
            self._teachback(before if isinstance(before, Mapping) else {}, value, at)
        elif name == "candidacy_answer" and value == FORM_DONE:
            self.step_ends.append(Milestone(CANDIDACY_DONE, at, step=CANDIDACY))
        elif name == "teachback_answer" and value == FORM_DONE:
            self.step_ends.append(Milestone(TEACHBACK_DONE, at, step=UNDERSTANDING))
        elif name == "consent_stage" and value == "decided" and self.last_action == RECORD_ACTION:
            self.found.append(Milestone(DECISION, at, step=DECIDING, decision=str(self.slots.get("consent_decision"))))

    def _candidacy(self, before: Mapping[str, Any], after: Mapping[str, Any], at: float) -> None:
        for question_id, item in after.items():
            if not isinstance(item, Mapping) or before.get(question_id) == item:
                continue
            self.found.append(
                Milestone(
                    CANDIDACY_ANSWER,
                    at,
                    step=CANDIDACY,
                    question_id=str(question_id),
                    answer=str(item.get("answer") or ""),
                    how=str(item.get("how") or ""),
                    text=excerpt(str(item.get("said") or "")),
                    flagged=bool(item.get("flagged")),
                    detail=str(item.get("flag_note") or ""),
                )
            )

    def _teachback(self, before: Mapping[str, Any], after: Mapping[str, Any], at: float) -> None:
        for point_id, item in after.items():
            if not isinstance(item, Mapping) or item.get("result") is None:
                continue
            earlier = before.get(point_id)
            if isinstance(earlier, Mapping) and earlier.get("result") == item.get("result"):
                continue
            self.found.append(
                Milestone(
                    TEACHBACK_POINT,
                    at,
                    step=UNDERSTANDING,
                    point_id=str(point_id),
                    result=str(item.get("result")),
                    how=str(item.get("how") or ""),
                    attempts=int(item.get("attempts") or 0),
                    text=excerpt(" / ".join(str(answer) for answer in item.get("answers") or [])),
                )
            )


def milestones(
    events: Iterable[Event | Mapping[str, Any]], topic_intents: Iterable[str] | None = None
) -> list[Milestone]:
    """The milestones of one conversation's events (oldest first), in time order.

    ``events`` are ``tracker_events.Event`` rows or Rasa's event dictionaries; ``topic_intents``
    defaults to the topics of ``content/topics.yml``.
    """
    dicts = [event.data if isinstance(event, Event) else dict(event) for event in events]
    reader = _Reader(frozenset(topic_intents) if topic_intents is not None else _topic_intents())
    for event in dicts:
        reader.read(event)
    reader.finish_steps()
    for kind, step, at in conversation.pauses(dicts):
        reader.found.append(Milestone(PAUSE if kind == conversation.PAUSED else RESUME, at, step=step))
    return sorted(reader.found, key=lambda milestone: (milestone.at, milestone.kind in STEP_ENDS))
