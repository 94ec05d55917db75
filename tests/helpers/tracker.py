"""Conversations written into a tracker-store database as Rasa writes them, for tests that read the store.

``write_events`` saves a list of Rasa event dictionaries with Rasa's own ``SQLTrackerStore``
(its ``events`` table, its columns, its JSON), so a reader is tested against what Rasa
really stores. The builders make events shaped like the ones the running assistant
stores (``var/tracker.db``): the same keys, metadata and parse data, at given times.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

import sqlalchemy as sa

from bot.content.messages import MESSAGE_NAME
from bot.settings import PROJECT_ROOT

MODEL_METADATA = {"model_id": "0123456789abcdef0123456789abcdef", "assistant_id": "rhizotomy-consent-assistant"}


@lru_cache(maxsize=1)
def _domain() -> Any:
    from rasa.shared.core.domain import Domain

    return Domain.load(str(PROJECT_ROOT / "domain.yml"))


def write_events(url: str, conversation_id: str, events: Sequence[Mapping[str, Any]]) -> None:
    """Store ``events`` as conversation ``conversation_id`` with Rasa's SQL tracker store at ``url``.

    Rows this conversation had already are deleted first: the PostgreSQL test database is
    shared between runs, and a test needs exactly the conversation it wrote.
    """
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.trackers import DialogueStateTracker

    delete_conversation(url, conversation_id)
    domain = _domain()
    store = SQLTrackerStore(domain, host=url)
    try:
        tracker = DialogueStateTracker.from_dict(conversation_id, [dict(event) for event in events], domain.slots)
        asyncio.run(store.save(tracker))
    finally:
        store.engine.dispose()


def delete_conversation(url: str, conversation_id: str) -> None:
    """Remove one conversation's rows from Rasa's ``events`` table, if the table exists."""
    engine = sa.create_engine(url, future=True)
    try:
        if sa.inspect(engine).has_table("events"):
            with engine.begin() as connection:
                connection.execute(sa.text("DELETE FROM events WHERE sender_id = :sender"), {"sender": conversation_id})
    finally:
        engine.dispose()


def drop_events_table(url: str) -> None:
    """Drop Rasa's ``events`` table (a clean store for tests that count every conversation).

    The PostgreSQL test database is shared by every test run at the time: there, prefer
    conversation ids of the test's own (``delete_conversation`` clears one).
    """
    engine = sa.create_engine(url, future=True)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text("DROP TABLE IF EXISTS events"))
    finally:
        engine.dispose()


# --- events shaped as the running assistant stores them --------------------------------------


def _metadata(extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    return {**(extra or {}), **MODEL_METADATA}


def action(name: str, at: float, policy: str | None = "RulePolicy") -> dict[str, Any]:
    """An action run (``action_listen``, ``utter_<topic>``, a form, a custom action)."""
    return {
        "event": "action",
        "timestamp": at,
        "metadata": _metadata(),
        "name": name,
        "policy": policy,
        "confidence": 1.0,
        "action_text": None,
        "hide_rule_turn": False,
    }


def session_start(at: float, slots: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """What ``action_session_start`` stores: the action, ``session_started``, carried-over slots, listen."""
    carried = [slot(name, value, at) for name, value in (slots or {}).items()]
    return [
        action("action_session_start", at, policy=None),
        {"event": "session_started", "timestamp": at, "metadata": _metadata()},
        *carried,
        slot("clinic_name", "Riverside Spine & Pain Clinic", at),
        action("action_listen", at, policy=None),
    ]


def user(
    text: str,
    intent: str,
    at: float,
    confidence: float = 1.0,
    ranking: Iterable[tuple[str, float]] | None = None,
    entities: Sequence[Mapping[str, Any]] = (),
    channel: str = "rest",
) -> dict[str, Any]:
    """A patient's message as parsed by the NLU pipeline (``ranking``: (intent, confidence), most likely first)."""
    message_id = uuid.uuid4().hex
    ranked = [{"name": name, "confidence": value} for name, value in (ranking or [(intent, confidence)])]
    return {
        "event": "user",
        "timestamp": at,
        "metadata": _metadata(),
        "text": text,
        "parse_data": {
            "intent": {"name": intent, "confidence": confidence},
            "entities": [dict(entity) for entity in entities],
            "text": text,
            "message_id": message_id,
            "metadata": {},
            "intent_ranking": ranked,
        },
        "input_channel": channel,
        "message_id": message_id,
    }


def bot(
    text: str,
    at: float,
    buttons: Sequence[Mapping[str, str]] | None = None,
    name: str | None = None,
    utter_action: str | None = None,
) -> dict[str, Any]:
    """An assistant message: ``name`` for composed messages (``message_name``), ``utter_action`` for responses."""
    extra: dict[str, Any] = {}
    if name:
        extra[MESSAGE_NAME] = name
    if utter_action:
        extra["utter_action"] = utter_action
    return {
        "event": "bot",
        "timestamp": at,
        "metadata": _metadata(extra),
        "text": text,
        "data": {
            "elements": None,
            "quick_replies": None,
            "buttons": [dict(button) for button in buttons] if buttons is not None else None,
            "attachment": None,
            "image": None,
            "custom": None,
        },
    }


def slot(name: str, value: Any, at: float) -> dict[str, Any]:
    """A slot set (``consent_stage``, ``candidacy_answers``, ``teachback_results``, ``consent_decision`` ...)."""
    return {"event": "slot", "timestamp": at, "metadata": _metadata(), "name": name, "value": value}


def active_loop(name: str | None, at: float) -> dict[str, Any]:
    """A form starting (its name) or ending (None)."""
    return {"event": "active_loop", "timestamp": at, "metadata": _metadata(), "name": name}


def action_rejected(name: str, at: float) -> dict[str, Any]:
    """A form that refused a message (a pause, an emergency, a request for a person) before a rule took over."""
    return {
        "event": "action_execution_rejected",
        "timestamp": at,
        "metadata": _metadata(),
        "name": name,
        "policy": "RulePolicy",
        "confidence": 1.0,
    }


def featurization(at: float) -> dict[str, Any]:
    return {
        "event": "user_featurization",
        "timestamp": at,
        "metadata": _metadata(),
        "use_text_for_featurization": False,
    }


def _said_buttons(titles: Iterable[str]) -> list[dict[str, str]]:
    """Buttons whose payload is their title, as the consent steps send them (bot.consent.steps.choice_buttons)."""
    return [{"title": title, "payload": title} for title in titles]


FORMS = {"candidacy": "candidacy_form", "understanding": "understanding_form", "decision": "decision_form"}
FORM_SLOTS = {"candidacy_form": "candidacy_answer", "understanding_form": "teachback_answer"}


class Script:
    """A conversation built turn by turn as the running assistant stores it (event order, slots, message names).

    The shapes follow conversations recorded from the real assistant (devtools.launch over REST):
    each method is one patient message and what the assistant did with it. The clock starts at
    ``start`` and moves ``gap`` seconds per message (``wait`` jumps ahead: another day, say).
    ``events`` is the list to give ``write_events``.
    """

    def __init__(self, start: float, gap: float = 10.0, channel: str = "rest") -> None:
        from bot import content

        self.content = content
        self.at = start
        self.gap = gap
        self.channel = channel
        self.events: list[dict[str, Any]] = session_start(start)
        self.answers: dict[str, dict[str, Any]] = {}
        self.results: dict[str, dict[str, Any]] = {}
        self.stage: str | None = None
        self.form: str | None = None

    # --- clock and plumbing ---------------------------------------------------------------

    def wait(self, seconds: float) -> Script:
        self.at += seconds
        return self

    def _tick(self) -> float:
        self.at += 0.01
        return self.at

    def _add(self, *events: dict[str, Any]) -> None:
        self.events.extend(events)

    def _say(
        self,
        text: str,
        intent: str,
        confidence: float = 0.95,
        ranking: Iterable[tuple[str, float]] | None = None,
        entities: Sequence[Mapping[str, Any]] = (),
    ) -> float:
        self.at += self.gap
        said_at = self.at
        ranked = list(ranking) if ranking is not None else [(intent, confidence)]
        self._add(user(text, intent, said_at, confidence, ranked, entities, self.channel))
        if self.form in FORM_SLOTS and intent not in ("pause", "emergency", "request_human"):
            self._add(slot(FORM_SLOTS[self.form], text, said_at))  # the form's from_text mapping
        return said_at

    def _listen(self) -> None:
        self._add(action("action_listen", self._tick()))

    def _message(self, name: str, buttons: Sequence[Mapping[str, str]] | None = None, **values: Any) -> None:
        composed = self.content.message(name, **values)
        shown = composed.buttons if buttons is None else buttons
        self._add(bot(composed.text, self._tick(), list(shown), name=name))

    def _response(self, response: str, text: str = "") -> None:
        """A domain response, with its text from domain.yml (``text`` for one the domain does not write)."""
        from bot.content.messages import clinic_values

        written = (_domain().responses.get(response) or [{}])[0].get("text")
        shown = str(written).format_map(clinic_values()) if written else text
        self._add(action(response, self._tick()), bot(shown, self.at, utter_action=response))

    def _numbered(self, ids: list[str], current: str, text: str) -> str:
        return self.content.message(
            "numbered_question", number=ids.index(current) + 1, total=len(ids), question=text
        ).text

    def _stop_form(self) -> None:
        self._add(
            action("action_deactivate_loop", self._tick()),
            active_loop(None, self.at),
            slot("requested_slot", None, self.at),
        )
        self.form = None

    # --- topics and the safety net -----------------------------------------------------------

    def topic(self, text: str, intent: str, confidence: float = 0.95) -> Script:
        """A question about a topic, answered from the sheet (``utter_<intent>``), then the light offer of more."""
        self._say(text, intent, confidence)
        self._add(featurization(self.at))
        self._response(f"utter_{intent}", f"(answer of {intent})")
        self._add(action("action_follow_up_answer", self._tick()))
        topics = self.content.topics()
        self._message("more_topics", topics.buttons_after(intent))
        self._listen()
        return self

    def menu(self, text: str = "/show_menu") -> Script:
        self._say(text, "show_menu", 1.0)
        self._add(featurization(self.at), action("action_show_menu", self._tick()))
        topics = self.content.topics()
        self._message("menu", [*topics.menu_buttons(), topics.language_button])
        self._listen()
        return self

    def not_understood(self, text: str, ranking: Iterable[tuple[str, float]]) -> Script:
        """A message below the confidence threshold: ``nlu_fallback`` first in the ranking, then ``ranking``."""
        self._say(text, "nlu_fallback", 0.4, [("nlu_fallback", 0.4), *ranking])
        self._add(featurization(self.at), action("action_handle_low_confidence", self._tick()))
        topics = self.content.topics()
        closest = [name for name, _ in ranking if topics.is_topic(name)][:3]
        self._message("ask_rephrase", [topics.button(name) for name in closest] + [topics.menu_button])
        self._listen()
        return self

    def out_of_scope(self, text: str) -> Script:
        self._say(text, "out_of_scope", 0.9, [("out_of_scope", 0.9), ("ask_what_is", 0.05)])
        self._add(featurization(self.at))
        self._response("utter_out_of_scope", "Sorry, I can't help with that.")
        self._add(action("action_show_menu", self._tick()))
        topics = self.content.topics()
        self._message("menu", [*topics.menu_buttons(), topics.language_button])
        self._listen()
        return self

    def emergency(self, text: str, categories: Sequence[str] = ("breathing",), possible: bool = False) -> Script:
        """An emergency: the Rasa server's reply, the flag written, and any step stopped."""
        verdict = "possible" if possible else "emergency"
        reply = "emergency_possible" if possible else "emergency"
        found = [
            {"entity": "red_flag", "value": c, "start": 0, "end": len(text), "extractor": "RedFlagDetector"}
            for c in categories
        ]
        found += [
            {
                "entity": "safety_verdict",
                "value": verdict,
                "start": 0,
                "end": len(text),
                "extractor": "RedFlagDetector",
            },
            {"entity": "safety_reply", "value": reply, "start": 0, "end": len(text), "extractor": "RedFlagDetector"},
        ]
        self._say(text, "emergency", 1.0, entities=found)
        self._add(slot("safety_reply", reply, self.at))
        if self.form:
            self._add(action_rejected(self.form, self._tick()))
        self._add(featurization(self.at), action("utter_emergency", self._tick()))
        text_sent = self.content.message(reply).text
        self._add(bot(text_sent, self.at, [], name=reply, utter_action="utter_emergency"))
        self._add(action("action_record_emergency", self._tick()))
        self._message("emergency_logged")
        self._add(action("action_answer_topic_after_advice", self._tick()))
        if self.form:
            self._stop_form()
        self._listen()
        return self

    def callback(self, text: str = "can I talk to a real person", written: bool = True) -> Script:
        self._say(text, "request_human", 0.98)
        if self.form:
            self._add(action_rejected(self.form, self._tick()))
        self._add(featurization(self.at), action("action_request_callback", self._tick()))
        if written:
            self._message("callback_closed", next_opening="Monday at 8am")
        else:
            self._message("callback_failed")
        if self.form:
            self._stop_form()
        self._listen()
        return self

    def medication(self, text: str, pass_on: bool = True) -> Script:
        """A question about the patient's own medicine, then a tap on "Yes, please" (or "No, thanks")."""
        self._say(text, "medication_question", 1.0)
        self._add(featurization(self.at), action("action_answer_medication_question", self._tick()))
        self._message("medication_question")
        self._message("offer_flag_medication")
        self._listen()
        self._say("/affirm" if pass_on else "/deny", "affirm" if pass_on else "deny", 1.0)
        self._add(featurization(self.at))
        if pass_on:
            self._add(action("action_flag_medication_question", self._tick()))
            self._message("medication_flagged")
        else:
            self._response("utter_medication_not_flagged", "OK, I won't pass it on.")
        self._listen()
        return self

    # --- the consent steps ----------------------------------------------------------------

    def _ask_candidacy(self, pending: bool = False) -> None:
        questions = self.content.consent_content().questions
        question = next(q for q in questions if q.id not in self.answers)
        text = self._numbered([q.id for q in questions], question.id, question.text)
        name = f"candidacy:{question.id}:confirm" if pending else f"candidacy:{question.id}"
        self._add(slot("requested_slot", "candidacy_answer", self.at))
        self._add(bot(text, self.at, _said_buttons(o.title for o in question.options), name=name))
        self._add(slot("consent_stage", "candidacy", self.at))
        self.stage = "candidacy"

    def _ask_teachback(self) -> None:
        teachback = self.content.teachback_content()
        ids = [p.id for p in teachback.points]
        point = next(p for p in teachback.points if (self.results.get(p.id) or {}).get("result") is None)
        attempts = int((self.results.get(point.id) or {}).get("attempts") or 0)
        self._add(slot("requested_slot", "teachback_answer", self.at))
        if attempts >= 2 and point.choices:
            text = self._numbered(ids, point.id, point.choice_question)
            self._add(bot(text, self.at, _said_buttons(point.choices), name=f"teachback:{point.id}:choices"))
        else:
            text = self._numbered(ids, point.id, point.question)
            self._add(bot(text, self.at, _said_buttons(teachback.open_buttons), name=f"teachback:{point.id}:question"))
        self._add(slot("consent_stage", "understanding", self.at))
        self.stage = "understanding"

    def _ask_decision(self) -> None:
        decisions = self.content.consent_content().decisions
        self._add(slot("requested_slot", "consent_decision", self.at))
        counts = {
            "answered": len(self.answers),
            "flagged": sum(1 for item in self.answers.values() if item.get("flagged")),
            "understood": sum(1 for item in self.results.values() if item.get("result") == "understood"),
            "review": sum(1 for item in self.results.values() if item.get("result") == "review"),
        }
        self._message("decision_summary", None, **counts)
        self._message("ask_decision", _said_buttons(d.title for d in decisions))
        self._add(slot("consent_stage", "decision", self.at))
        self.stage = "decision"

    def _open(self, form: str) -> None:
        self._add(action(form, self._tick()), active_loop(form, self.at))
        self.form = form
        if form == "candidacy_form":
            self._ask_candidacy()
        elif form == "understanding_form":
            self._ask_teachback()
        else:
            self._ask_decision()

    def start_consent(self, text: str = "/start_consent", intent: str = "start_consent") -> Script:
        """The consent steps started: "Start my consent" (``start_consent``) or "I consent" (``give_consent``)."""
        self._say(text, intent, 1.0 if text.startswith("/") else 0.93)
        self._add(featurization(self.at))
        if intent == "give_consent":
            self._response("utter_consent_needs_checks", "Thank you. Before I can record your choice, two short steps.")
        else:
            self._response("utter_consent_intro", "Great. There are two short steps.")
        self._open("candidacy_form")
        self._listen()
        return self

    def answer(
        self,
        said: str,
        value: str,
        how: str = "typed",
        flag_note: str = "",
        intent: str = "nlu_fallback",
    ) -> Script:
        """An answer to the pending candidacy question, recorded as ``value`` (flagged when ``flag_note``)."""
        questions = self.content.consent_content().questions
        question = next(q for q in questions if q.id not in self.answers)
        self._say(said, intent, 0.4 if intent == "nlu_fallback" else 0.9)
        self._add(featurization(self.at), action("candidacy_form", self._tick()))
        self.answers = {
            **self.answers,
            question.id: {
                "question": question.text,
                "answer": value,
                "said": said,
                "flagged": bool(flag_note),
                "flag_note": flag_note,
                "how": how,
            },
        }
        done = len(self.answers) == len(questions)
        self._add(slot("candidacy_answer", "done" if done else None, self.at))
        self._add(slot("candidacy_answers", self.answers, self.at), slot("candidacy_pending", None, self.at))
        if not done:
            self._ask_candidacy()
        else:
            self._add(slot("requested_slot", None, self.at), active_loop(None, self.at))
            self._response("utter_candidacy_done", "Thank you, that's all the health questions.")
            self._open("understanding_form")
        self._listen()
        return self

    def unclear(self, said: str, reason: str = "hedged") -> Script:
        """An answer that needs confirming: kept as pending, the question asked again with the patient's words."""
        questions = self.content.consent_content().questions
        question = next(q for q in questions if q.id not in self.answers)
        self._say(said, "dont_know", 0.5)
        self._add(featurization(self.at), action("candidacy_form", self._tick()))
        self._add(slot("candidacy_answer", None, self.at))
        self._add(slot("candidacy_pending", {"question": question.id, "said": said, "reason": reason}, self.at))
        self._ask_candidacy(pending=True)
        self._listen()
        return self

    def explain(self, said: str, understood: bool, chosen: bool = False, intent: str = "ask_how_it_works") -> Script:
        """An answer to the current teach-back point, judged ``understood`` (``chosen``: a tap on the right choice).

        A miss explains again (first), offers the choices (second), then marks the point for the visit.
        """
        teachback = self.content.teachback_content()
        point = next(p for p in teachback.points if (self.results.get(p.id) or {}).get("result") is None)
        before = self.results.get(point.id) or {"summary": point.summary, "answers": [], "attempts": 0, "result": None}
        attempts = int(before["attempts"]) + 1
        after: dict[str, Any] = {**before, "answers": [*before["answers"], said], "attempts": attempts}
        self._say(said, intent, 0.9)
        self._add(featurization(self.at), action("understanding_form", self._tick()))
        if understood:
            after.update(result="understood", how="chosen" if chosen else "own_words")
            self._message("teachback_right")
        elif attempts < 2:
            self._add(bot(point.explain_again, self.at, [], name=f"teachback:{point.id}:again"))
        elif attempts == 2 and point.choices:
            self._message("teachback_try_choices")
        else:
            after.update(result="review", how="missed")
            self._message("teachback_review")
        self.results = {**self.results, point.id: after}
        done = all((self.results.get(p.id) or {}).get("result") for p in teachback.points)
        self._add(
            slot("teachback_answer", "done" if done else None, self.at),
            slot("teachback_results", self.results, self.at),
        )
        if not done:
            self._ask_teachback()
        else:
            self._add(slot("requested_slot", None, self.at), active_loop(None, self.at))
            self._open("decision_form")
        self._listen()
        return self

    def decide(self, said: str, value: str) -> Script:
        """A clear choice at the decision step, recorded by ``action_record_consent``."""
        self._say(said, "nlu_fallback", 0.4)
        self._add(
            slot("consent_decision", said, self.at), featurization(self.at), action("decision_form", self._tick())
        )
        self._add(
            slot("consent_decision", value, self.at), slot("requested_slot", None, self.at), active_loop(None, self.at)
        )
        self.form = None
        self._add(action("action_record_consent", self._tick()))
        self._message(f"recorded_{value}")
        self._add(
            bot("Your own copy of what was recorded: https://clinic.example/copy/x", self.at, [], name="own_copy")
        )
        self._add(slot("consent_stage", "decided", self.at), slot("consent_decision", None, self.at))
        self.stage = "decided"
        self._listen()
        return self

    def change_decision(self, text: str = "change my decision") -> Script:
        self._say(text, "change_decision", 0.99)
        self._add(featurization(self.at))
        self._response("utter_change_decision", "Sure, you can change your choice.")
        self._open("decision_form")
        self._listen()
        return self

    def pause(self, text: str = "later") -> Script:
        """ "later" in the middle of a step: the form refuses it, the rule pauses and stops the form."""
        self._say(text, "pause", 0.9)
        if self.form:
            self._add(action_rejected(self.form, self._tick()))
        self._add(featurization(self.at))
        self._response("utter_consent_paused", "OK, I've paused here and saved your answers.")
        self._stop_form()
        self._listen()
        return self

    def resume(self, text: str = "continue") -> Script:
        """ "continue": the step the patient paused at opens again and asks its pending question."""
        self._say(text, "resume", 0.94)
        self._add(featurization(self.at))
        self._open(FORMS[self.stage or "candidacy"])
        self._listen()
        return self

    def new_session(self, after: float = 2 * 3600) -> Script:
        """A visit after the session expired: a new session carrying over every slot set (action_session_start)."""
        self.at += after
        latest: dict[str, Any] = {}
        for event in self.events:
            if event["event"] == "slot" and event["name"] not in ("requested_slot", "clinic_name"):
                latest[event["name"]] = event["value"]
        self._add(*session_start(self.at, {name: value for name, value in latest.items() if value is not None}))
        return self
