"""The real assistant over the REST channel: topics, safety net and the full consent flow."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any, NamedTuple

import pytest
import requests

from actions.messaging import MESSAGE_NAME
from bot import content
from bot.channels.web.session import history_from_events
from bot.content.messages import ACTION_SERVER_DOWN, EMERGENCY_MESSAGES
from bot.records import consent_store, copy_link, flags
from devtools import launch
from devtools.launch import Running
from tests.helpers.conversations import (
    CANDIDACY_ANSWERS,
    RIGHT_TEACHBACK,
    decided,
    joined,
    new_sender,
    own_copy_link,
    sent_names,
    tracker_events,
)
from tests.helpers.servers import hung_action_server, stop_action_server

pytestmark = pytest.mark.e2e


TOPIC_QUESTIONS = [
    ("what exactly is a rhizotomy injection", ["procedure", "nerve roots"]),
    ("why is it called a rhizotomy", ["rhiza", "root"]),
    ("what conditions is this used for", ["spinal cord injury", "multiple sclerosis"]),
    ("how does the injection work", ["signals", "brain"]),
    ("what medicine do they put in the shot", ["steroid", "phenol"]),
    ("do they use x-rays to guide the needle", ["fluoroscopy", "mri"]),
    ("what happens during the procedure", ["table", "needle", "slowly"]),
    ("how long does the procedure take", ["less than an hour"]),
    ("when will i start to feel relief", ["right away", "slowly"]),
    ("will i need more injections later", ["wear off", "more shots"]),
    ("what are the side effects", ["soreness", "nerve damage", "infection"]),
    ("what is recovery like afterwards", ["sore", "call them"]),
    ("is this different from rhizotomy surgery", ["cut", "less invasive"]),
    ("what are the benefits", ["pain", "daily life"]),
    ("will it cure my MS", ["not a cure"]),
    ("do i still need physical therapy with it", ["physical therapy", "plan"]),
    ("am i a good candidate for this", ["care team decides"]),
    ("is the injection safe", ["fairly safe", "risk"]),
]


@pytest.mark.parametrize(("question", "facts"), TOPIC_QUESTIONS, ids=[q for q, _ in TOPIC_QUESTIONS])
def test_every_topic_is_answered_as_the_first_message(assistant: Running, question: str, facts: list[str]) -> None:
    reply = assistant.say(new_sender(), question)
    text = joined(reply)
    for fact in facts:
        assert fact in text, f"{question!r} -> {text!r}"
    assert reply[-1].get("buttons"), "an answer ends with a light offer of what else to ask"


def test_an_emergency_is_answered_at_once_and_flagged(assistant: Running) -> None:
    sender = new_sender()
    assistant.say(sender, "what happens during the procedure")
    reply = assistant.say(sender, "since the injection i can't move my legs")
    assert "call 911 now" in (reply[0].get("text") or "").lower()
    logged = [f for f in flags.open_flags(assistant.database_url) if f.conversation_id == sender]
    assert [f.kind for f in logged] == ["emergency"]


UNSURE_ADVICE = {"emergency_possible", "emergency_possible_self_harm"}


def test_a_question_asked_with_an_unsure_emergency_is_answered_after_the_advice(assistant: Running) -> None:
    """Conditional advice first (the learned layer is unsure), then the answer (action_answer_topic_after_advice)."""
    sender = new_sender()
    assistant.say(sender, "I've been reading horror stories online and now I'm really shaken, is this procedure safe?")
    names = sent_names(assistant, sender)
    assert names[0] in UNSURE_ADVICE and names[1:4] == ["emergency_logged", "topic_after_advice", "utter_ask_safety"]
    assert names[-1] == "more_topics", names


@pytest.mark.parametrize(
    "message",
    [
        "i cant breathe properly since the injection, is that a side effect?",  # a rule's phrase, doubted: unsure
        "my lips and throat are swelling up and i cant breathe, is that a side effect??",  # sure
    ],
)
def test_a_red_flag_phrase_gets_its_advice_and_no_topic_answer(assistant: Running, message: str) -> None:
    sender = new_sender()
    assistant.say(sender, message)
    names = sent_names(assistant, sender)
    assert names[0].startswith("emergency") and names[1:] == ["emergency_logged"], names


def test_no_chest_pain_is_not_an_emergency(assistant: Running) -> None:
    sender = new_sender()
    reply = joined(assistant.say(sender, "no chest pain, just a bit sore where the needle went"))
    assert "could be an emergency" not in reply and "emergency room" not in reply
    assert not [f for f in flags.open_flags(assistant.database_url) if f.conversation_id == sender]


def test_the_full_consent_flow_records_a_chained_decision(assistant: Running) -> None:
    sender = new_sender()
    assert "two short steps" in joined(assistant.say(sender, "I consent"))
    for answer in CANDIDACY_ANSWERS:
        reply = assistant.say(sender, answer)
    assert "in your own words, what does the injection do" in joined(reply)
    for answer in RIGHT_TEACHBACK:
        reply = assistant.say(sender, answer)
    assert "what would you like to do" in joined(reply)
    reply = assistant.say(sender, "Go ahead")
    assert "recorded that you want to go ahead" in joined(reply)
    assert sent_names(assistant, sender)[-2:] == ["recorded_go_ahead", "own_copy"]
    record = consent_store.latest(sender, assistant.database_url)
    assert record is not None and record.decision == "go_ahead" and record.channel == "rest"
    assert all(item.result == "understood" for item in record.payload.teachback)
    assert len(record.payload.candidacy) == len(CANDIDACY_ANSWERS)
    assert consent_store.verify(assistant.database_url).ok
    reply = assistant.say(sender, "I changed my mind")
    reply = assistant.say(sender, "Talk to my doctor first")
    newest = consent_store.latest(sender, assistant.database_url)
    assert newest is not None
    assert newest.decision == "talk_to_doctor" and newest.payload.supersedes == record.id


@pytest.mark.parametrize("answer", ["I've decided to go ahead", "I have decided not to have it"])
def test_a_decision_in_the_patients_words_never_gets_the_crisis_line(assistant: Running, answer: str) -> None:
    """Suicide messages say "I've decided" too; the safety net learned the decision step's own words apart."""
    sender = new_sender()
    assistant.say(sender, "I consent")
    for step_answer in [*CANDIDACY_ANSWERS, *RIGHT_TEACHBACK]:
        assistant.say(sender, step_answer)
    assistant.say(sender, answer)
    assert not set(sent_names(assistant, sender)) & set(EMERGENCY_MESSAGES)


def test_the_patient_gets_a_link_to_their_own_copy_that_opens_the_record(assistant: Running) -> None:
    sender = decided(assistant)
    record = consent_store.latest(sender, assistant.database_url)
    link = own_copy_link(assistant, sender)
    assert link.startswith(assistant.base_url + copy_link.PATH)
    page = requests.get(link, timeout=10)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert record is not None and record.record_hash in page.text and record.content_version in page.text
    altered = requests.get(link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB"), timeout=10)
    assert altered.status_code == 404 and record.record_hash not in altered.text


QUESTIONS_THE_SHEET_DOES_NOT_ANSWER = [
    ("what should i do to get ready for the day of the injection", "utter_ask_preparation"),
    ("am i allowed to eat breakfast before the procedure", "utter_ask_fasting"),
    ("will i be able to drive myself home afterwards", "utter_ask_driving"),
    ("should i bring someone with me to the appointment", "utter_ask_companion"),
    ("is the injection going to be painful", "utter_ask_pain_during"),
]


@pytest.mark.parametrize(("question", "answer"), QUESTIONS_THE_SHEET_DOES_NOT_ANSWER)
def test_a_question_the_sheet_does_not_answer_says_so_and_sends_the_patient_to_the_clinic(
    assistant: Running, question: str, answer: str
) -> None:
    sender = new_sender()
    reply = assistant.say(sender, question)
    assert sent_names(assistant, sender) == [answer, "ask_the_clinic", "more_topics"]
    assert "does not say" in joined(reply) and content.clinic().phone in joined(reply)


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("how long will i be at the clinic for the procedure", "utter_ask_duration"),
        ("how long before i'm back to my normal routine after it", "utter_ask_recovery"),
        ("my husband is booked in, how long will he take to recover afterwards", "utter_ask_recovery"),
        ("my daughter has cerebral palsy, what will they actually do to her during it", "utter_ask_procedure_steps"),
        ("my mum is 80, is this procedure safe for her", "utter_ask_safety"),
    ],
)
def test_recovery_and_duration_are_told_apart_and_caregivers_are_understood(
    assistant: Running, question: str, answer: str
) -> None:
    sender = new_sender()
    assistant.say(sender, question)
    assert sent_names(assistant, sender)[0] == answer


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        (
            "my brother is over the moon that this will finally sort his spasms out for good. "
            "how long is he at the clinic on the day?",
            "utter_ask_duration",
        ),
        ("since its a one off and he never needs another one, do they use an xray to guide it", "utter_ask_imaging"),
        ("everybody tells me there is zero risk with these. what should she wear on the day?", "utter_ask_preparation"),
        (
            "Mum read that it gets rid of the pain for good and she'll never need another one. "
            "Do they use an x-ray to find the spot?",
            "utter_ask_imaging",
        ),
        (
            "My friend had hers done and said it didnt hurt at all and she was back at work next day. "
            "How long does the injection itself take?",
            "utter_ask_duration",
        ),
    ],
)
def test_a_long_preamble_does_not_outweigh_the_question_after_it(
    assistant: Running, question: str, answer: str
) -> None:
    """The belief is corrected after the answer; the answer is to the question (bot/rasa/intent_classifier.py,
    bot/rasa/question_featurizer.py)."""
    sender = new_sender()
    assistant.say(sender, question)
    assert sent_names(assistant, sender)[0] == answer


def test_a_mistaken_belief_in_a_question_is_corrected_after_the_answer(assistant: Running) -> None:
    sender = new_sender()
    assistant.say(sender, "the injection is going to cure my back, so how long does the procedure take?")
    names = sent_names(assistant, sender)
    assert names == ["utter_ask_duration", "teachback:not_a_cure:again", "more_topics"], names


def test_a_mixed_answer_is_asked_back_with_the_patients_words_and_recorded_as_confirmed(assistant: Running) -> None:
    sender = new_sender()
    assistant.say(sender, "start my consent")
    for answer in ["Pain", "MS", "7", "physical therapy", "A little"]:
        assistant.say(sender, answer)
    assistant.say(sender, "no but I take aspirin now and then")
    assert sent_names(assistant, sender)[-1] == "candidacy:blood_thinners:confirm", "nothing recorded yet"
    assistant.say(sender, "Yes")
    assert sent_names(assistant, sender)[-1] == "candidacy:allergies"
    for answer in ["No", "No", "Does not apply", "No", "no"]:
        assistant.say(sender, answer)
    for answer in RIGHT_TEACHBACK:
        assistant.say(sender, answer)
    assistant.say(sender, "Go ahead")
    record = consent_store.latest(sender, assistant.database_url)
    assert record is not None
    stored = next(item for item in record.payload.candidacy if item.id == "blood_thinners")
    assert (stored.answer, stored.how, stored.flagged) == ("yes", "confirmed", True)
    assert stored.said == "no but I take aspirin now and then / Yes"
    assert next(item for item in record.payload.candidacy if item.id == "allergies").how == "button"


def test_the_teachback_asks_in_own_words_first_and_offers_choices_only_after_two_misses(assistant: Running) -> None:
    sender = new_sender()
    assistant.say(sender, "start my consent")
    for answer in ["Pain", "MS", "7", "physical therapy", "A little", "No", "No", "No", "Does not apply", "No", "no"]:
        reply = assistant.say(sender, answer)
    teachback = content.teachback_content()
    point = teachback.points[0]
    assert sent_names(assistant, sender)[-1] == f"teachback:{point.id}:question"
    assert [b["title"] for b in reply[-1]["buttons"]] == list(teachback.open_buttons), "no answer to tap"
    assistant.say(sender, "I'm not sure")
    assert sent_names(assistant, sender)[-2:] == [f"teachback:{point.id}:again", f"teachback:{point.id}:question"]
    reply = assistant.say(sender, "idk")
    assert sent_names(assistant, sender)[-2:] == ["teachback_try_choices", f"teachback:{point.id}:choices"]
    assert [b["title"] for b in reply[-1]["buttons"]] == list(point.choices)
    assistant.say(sender, point.right_choice)
    for answer in RIGHT_TEACHBACK[1:]:
        assistant.say(sender, answer)
    assistant.say(sender, "Go ahead")
    record = consent_store.latest(sender, assistant.database_url)
    assert record is not None
    assert [(item.result, item.how) for item in record.payload.teachback][:2] == [
        ("understood", "chosen"),
        ("understood", "own_words"),
    ]


def test_going_mid_check_pauses_and_a_hello_later_offers_to_continue(assistant: Running) -> None:
    sender = new_sender()
    assistant.say(sender, "start my consent")
    for answer in ["Pain", "MS", "7", "physical therapy", "A little", "No", "No", "No", "Does not apply", "No", "no"]:
        assistant.say(sender, answer)
    assistant.say(sender, "have to go, later")
    assert sent_names(assistant, sender)[-1] == "utter_consent_paused", "paused, not judged as an answer"
    assistant.say(sender, "hi")
    assert sent_names(assistant, sender)[-1] == "welcome_back"
    assistant.say(sender, "where were we")
    point = content.teachback_content().points[0]
    assert sent_names(assistant, sender)[-1] == f"teachback:{point.id}:question"
    for answer in RIGHT_TEACHBACK:
        assistant.say(sender, answer)
    assistant.say(sender, "Go ahead")
    record = consent_store.latest(sender, assistant.database_url)
    assert record is not None
    assert [(p.kind, p.step) for p in record.payload.pauses] == [
        ("paused", "understanding"),
        ("resumed", "understanding"),
    ]
    assert record.payload.teachback[0].answers == (RIGHT_TEACHBACK[0],), "the goodbye was never an answer"


def test_a_nervous_yes_is_not_recorded_and_the_choice_comes_again(assistant: Running) -> None:
    sender = new_sender()
    assistant.say(sender, "start my consent")
    for answer in ["Pain", "MS", "7", "physical therapy", "A little", "No", "No", "No", "Does not apply", "No", "no"]:
        assistant.say(sender, answer)
    for answer in RIGHT_TEACHBACK:
        assistant.say(sender, answer)
    assistant.say(sender, "yes I think so, but I'm nervous")
    assert sent_names(assistant, sender)[-3:] == ["decision_doubtful", "decision_summary", "ask_decision"]
    assert consent_store.latest(sender, assistant.database_url) is None
    assistant.say(sender, "Talk to my doctor first")
    record = consent_store.latest(sender, assistant.database_url)
    assert record is not None and record.decision == "talk_to_doctor"


def test_what_is_saved_can_be_asked_at_any_time(assistant: Running) -> None:
    sender = new_sender()
    assistant.say(sender, "what have you saved")
    assert sent_names(assistant, sender)[-1] == "saved_nothing"
    assistant.say(sender, "start my consent")
    assistant.say(sender, "Pain")
    assistant.say(sender, "what did you record so far")
    assert sent_names(assistant, sender)[-2:] == ["saved_so_far", "candidacy:condition"], "then the pending question"
    for answer in ["MS", "7", "physical therapy", "A little", "No", "No", "No", "Does not apply", "No", "no"]:
        assistant.say(sender, answer)
    for answer in RIGHT_TEACHBACK:
        assistant.say(sender, answer)
    assistant.say(sender, "Go ahead")
    assistant.say(sender, "can i see my answers")
    assert sent_names(assistant, sender)[-3:] == ["saved_so_far", "saved_decision", "own_copy"]


def test_a_hello_in_the_middle_of_a_step_is_greeted_and_the_question_comes_again(assistant: Running) -> None:
    sender = new_sender()
    assistant.say(sender, "start my consent")
    assistant.say(sender, "Pain")
    assistant.say(sender, "hello")
    assert sent_names(assistant, sender)[-2:] == ["hello_again", "candidacy:condition"]


def test_an_emergency_in_the_questions_comes_first_and_the_patient_can_continue(assistant: Running) -> None:
    sender = new_sender()
    assistant.say(sender, "start my consent")
    assert "(2 of" in joined(assistant.say(sender, "Pain"))
    reply = assistant.say(sender, "my throat is closing up")
    assert "call 911 now" in (reply[0].get("text") or "").lower()
    assert "(2 of" in joined(assistant.say(sender, "continue")), "the pending question is asked again"


def test_a_medicine_question_is_never_advised_and_flagged_on_request(assistant: Running) -> None:
    sender = new_sender()
    assistant.say(sender, "how long does it take")
    reply = joined(assistant.say(sender, "should i stop my warfarin before the injection?"))
    assert "doctor or pharmacist who prescribed it" in reply
    assert "you can stop" not in reply and "you should stop" not in reply
    assert "passed your question on" in joined(assistant.say(sender, "yes please"))
    logged = [f for f in flags.open_flags(assistant.database_url) if f.conversation_id == sender]
    assert [(f.kind, f.message) for f in logged] == [("medication", "should i stop my warfarin before the injection?")]


REST_KEYS = {"recipient_id", "text", "buttons", "image", "attachment", "custom"}


def test_sent_messages_are_named_in_the_tracker_and_nowhere_a_patient_sees(assistant: Running) -> None:
    sender = new_sender()
    reply = assistant.say(sender, "start my consent") + assistant.say(sender, "hmm") + assistant.say(sender, "Pain")
    assert all(set(message) <= REST_KEYS for message in reply), "the REST channel's JSON is unchanged"
    bots = [event for event in tracker_events(assistant, sender) if event["event"] == "bot"]
    named = [event["metadata"].get(MESSAGE_NAME) or event["metadata"].get("utter_action") for event in bots]
    assert named == [
        "utter_consent_intro",
        "candidacy:purpose",
        "candidacy:purpose:hint",
        "candidacy:purpose",
        "candidacy:condition",
    ]
    assert all(MESSAGE_NAME not in event["data"] for event in bots)
    history = history_from_events(tracker_events(assistant, sender))
    assert all(MESSAGE_NAME not in message for message in history), "a resumed web chat shows no names"
    assert [m["text"] for m in history if m["sender"] == "bot"] == [m["text"] for m in reply]


def test_a_forged_call_to_the_action_server_gets_401_and_writes_no_consent_record(assistant: Running) -> None:
    """Issue 14, finding 2: one POST to the action server wrote a ``go_ahead`` record for any patient."""
    sender = new_sender()
    forged = action_call("action_record_consent", sender, {"consent_decision": "go_ahead"}, {"patient_id": "mrn-1"})
    for headers in ({}, {"Authorization": "Bearer forged"}, {"Authorization": f"Bearer {assistant.action_token}x"}):
        answer = requests.post(assistant.actions_url, json=forged, headers=headers, timeout=30)
        assert answer.status_code == 401, headers
        assert answer.json()["error"] == "unauthorized"
    assert consent_store.latest(sender, assistant.database_url) is None
    assert not [r for r in consent_store.records(assistant.database_url) if r.conversation_id == sender]
    # What refused it is the token: the Rasa server's own token runs an action.
    menu = action_call("action_show_menu", sender)
    answer = requests.post(
        assistant.actions_url, json=menu, headers={"Authorization": f"Bearer {assistant.action_token}"}, timeout=30
    )
    assert answer.status_code == 200 and answer.json()["responses"]


def action_call(name: str, sender: str, slots: dict[str, Any] | None = None, metadata: Any = None) -> dict[str, Any]:
    """The body the Rasa server posts to the action server's ``/webhook`` to run ``name``."""
    latest = {"text": "go ahead", "intent": {"name": "affirm", "confidence": 1.0}, "metadata": metadata or {}}
    return {
        "next_action": name,
        "sender_id": sender,
        "tracker": {
            "sender_id": sender,
            "slots": slots or {},
            "latest_message": latest,
            "events": [{"event": "user", "text": "go ahead", "parse_data": latest, "input_channel": "rest"}],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        },
        "domain": {},
        "version": "3.6.2",
    }


# --- the action server stopped or hung (issue 14, finding 3) -----------------------------------

REPLY_WITHIN_SECONDS = 5.0  # what a patient waits at most, whatever the action server does


class Outage(NamedTuple):
    """An assistant of its own, with conversations begun while its action server was still there."""

    running: Running
    begun: str  # asked a topic question
    in_form: str  # at the second candidacy question


def begin_conversations(running: Running) -> tuple[str, str]:
    begun, in_form = new_sender(), new_sender()
    assert running.say(begun, "how long does it take")
    running.say(in_form, "start my consent")
    assert "(2 of" in joined(running.say(in_form, "Pain"))
    return begun, in_form


def timed_say(running: Running, sender: str, message: str) -> tuple[list[dict[str, Any]], float]:
    started = time.monotonic()
    reply = running.say(sender, message, timeout=30)
    return reply, time.monotonic() - started


def apology() -> str:
    return content.message(ACTION_SERVER_DOWN).text


def last_sent(running: Running, sender: str) -> str | None:
    bots = [event for event in tracker_events(running, sender) if event["event"] == "bot"]
    return bots[-1]["metadata"].get(MESSAGE_NAME) if bots else None


def candidacy_answers_recorded(running: Running, sender: str) -> int:
    """How many times the candidacy answers were stored in the conversation."""
    return len(
        [e for e in tracker_events(running, sender) if e["event"] == "slot" and e["name"] == "candidacy_answers"]
    )


@pytest.fixture(scope="module")
def assistant_without_actions(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Outage]:
    """An assistant whose action server is stopped once both servers are up."""
    with launch.assistant(tmp_path_factory.mktemp("no-action-server")) as running:
        begun, in_form = begin_conversations(running)
        stop_action_server(running)
        yield Outage(running, begun, in_form)


@pytest.fixture(scope="module")
def assistant_with_hung_actions(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Outage]:
    """An assistant whose action server each test freezes (SIGSTOP) and lets go on after."""
    with launch.assistant(tmp_path_factory.mktemp("hung-action-server")) as running:
        begun, in_form = begin_conversations(running)
        yield Outage(running, begun, in_form)


@pytest.mark.parametrize("conversation", ["new", "begun before"])
def test_an_emergency_is_answered_when_the_action_server_is_down(
    assistant_without_actions: Outage, conversation: str
) -> None:
    """The reply comes from the Rasa server itself (bot/rasa/nlg.py); only the care team's flag is lost.

    A new conversation's session cannot start without the action server: bot/rasa/policy.py answers it.
    """
    assistant, begun = assistant_without_actions.running, assistant_without_actions.begun
    sender = new_sender() if conversation == "new" else begun
    reply, seconds = timed_say(assistant, sender, "I can't breathe")
    text = reply[0].get("text") or ""
    assert content.clinic().emergency_number in text
    assert not re.search(r"[{}]", text), f"a placeholder reached the patient: {text!r}"
    assert last_sent(assistant, sender) in EMERGENCY_MESSAGES, "no apology after the emergency reply"
    assert not flags.open_flags(assistant.database_url), "nothing could record the flag"
    assert seconds < REPLY_WITHIN_SECONDS


def test_the_clinic_facts_are_filled_in_when_the_action_server_is_down(
    assistant_without_actions: Outage,
) -> None:
    """The session start that sets the clinic's slots could not run: the facts come from the Rasa server."""
    assistant = assistant_without_actions.running
    text = joined(assistant.say(new_sender(), "goodbye", timeout=30))
    assert content.clinic().emergency_number in text
    assert not re.search(r"\bnone\b|[{}]", text), f"an unfilled clinic fact reached the patient: {text!r}"


@pytest.mark.parametrize("conversation", ["new", "begun before"])
def test_any_other_turn_gets_the_apology_with_the_clinics_phone_when_the_action_server_is_down(
    assistant_without_actions: Outage, conversation: str
) -> None:
    """Rasa answered ``[]``: the topic's answer needs the action server for what comes after it."""
    assistant = assistant_without_actions.running
    sender = new_sender() if conversation == "new" else assistant_without_actions.begun
    reply, seconds = timed_say(assistant, sender, "what are the side effects")
    assert reply[-1].get("text") == apology() and content.clinic().phone in apology()
    assert last_sent(assistant, sender) == ACTION_SERVER_DOWN
    assert seconds < REPLY_WITHIN_SECONDS


def test_the_candidacy_form_does_not_advance_when_the_action_server_is_down(assistant_without_actions: Outage) -> None:
    """ "Start my consent" said "that's all the health questions" with none asked."""
    assistant, in_form = assistant_without_actions.running, assistant_without_actions.in_form
    sender = new_sender()
    reply = assistant.say(sender, "start my consent", timeout=30)
    assert reply[-1].get("text") == apology()
    names = [
        event["metadata"].get("utter_action") for event in tracker_events(assistant, sender) if event["event"] == "bot"
    ]
    assert "utter_candidacy_done" not in names and "all the health questions" not in joined(reply)
    recorded = candidacy_answers_recorded(assistant, in_form)
    reply = assistant.say(in_form, "back pain after a spinal cord injury", timeout=30)
    assert [message.get("text") for message in reply] == [apology()], "no next question, no hint"
    assert candidacy_answers_recorded(assistant, in_form) == recorded, "the answer was not taken in"


@pytest.mark.parametrize("conversation", ["new", "begun before", "in the form"])
def test_an_emergency_is_answered_within_seconds_when_the_action_server_hangs(
    assistant_with_hung_actions: Outage, conversation: str
) -> None:
    outage = assistant_with_hung_actions
    sender = {"new": new_sender(), "begun before": outage.begun, "in the form": outage.in_form}[conversation]
    with hung_action_server(outage.running):
        reply, seconds = timed_say(outage.running, sender, "I can't breathe")
    assert content.clinic().emergency_number in (reply[0].get("text") or "")
    assert last_sent(outage.running, sender) in EMERGENCY_MESSAGES, "no apology after the emergency reply"
    assert seconds < REPLY_WITHIN_SECONDS


@pytest.mark.parametrize("conversation", ["new", "begun before"])
def test_any_other_turn_gets_the_apology_within_seconds_when_the_action_server_hangs(
    assistant_with_hung_actions: Outage, conversation: str
) -> None:
    """Rasa waited 300 s for the action server (the REST caller gave up first, Twilio after 15 s)."""
    outage = assistant_with_hung_actions
    sender = new_sender() if conversation == "new" else outage.begun
    with hung_action_server(outage.running):
        reply, seconds = timed_say(outage.running, sender, "will i need more injections later")
    assert reply[-1].get("text") == apology()
    assert seconds < REPLY_WITHIN_SECONDS
    assert "more shots" in joined(outage.running.say(sender, "will i need more injections later")), "back once it is"


def test_the_candidacy_form_waits_at_its_question_while_the_action_server_hangs(
    assistant_with_hung_actions: Outage,
) -> None:
    """The answer given during the outage is not taken in; given again afterwards, the form goes on from there."""
    outage = assistant_with_hung_actions
    sender = new_sender()
    outage.running.say(sender, "start my consent")
    assert "(2 of" in joined(outage.running.say(sender, "Pain"))
    with hung_action_server(outage.running):
        reply, seconds = timed_say(outage.running, sender, "back pain after a spinal cord injury")
        started, _ = timed_say(outage.running, new_sender(), "start my consent")
    assert [message.get("text") for message in reply] == [apology()] and seconds < REPLY_WITHIN_SECONDS
    assert started[-1].get("text") == apology() and "all the health questions" not in joined(started)
    after = joined(outage.running.say(sender, "back pain after a spinal cord injury"))
    assert "(3 of" in after, f"the form goes on from the question it was at: {after!r}"
