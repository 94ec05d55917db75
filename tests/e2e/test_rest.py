"""The real assistant over the REST channel: topics, safety net and the full consent flow."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from actions.messaging import MESSAGE_NAME
from bot import content
from bot.channels.web.session import history_from_events
from bot.content.messages import EMERGENCY_MESSAGES
from bot.records import consent_store, flags
from devtools import launch
from devtools.launch import Running
from tests.helpers.conversations import joined, new_sender, tracker_events
from tests.helpers.servers import stop_action_server

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


def test_no_chest_pain_is_not_an_emergency(assistant: Running) -> None:
    sender = new_sender()
    reply = joined(assistant.say(sender, "no chest pain, just a bit sore where the needle went"))
    assert "could be an emergency" not in reply and "emergency room" not in reply
    assert not [f for f in flags.open_flags(assistant.database_url) if f.conversation_id == sender]


def test_the_full_consent_flow_records_a_chained_decision(assistant: Running) -> None:
    sender = new_sender()
    assert "two short steps" in joined(assistant.say(sender, "I consent"))
    answers = [
        "Pain",
        "back pain after a spinal cord injury",
        "7",
        "physical therapy",
        "A little",
        "No",
        "No",
        "No",
        "Does not apply",
        "No",
        "no",
    ]
    for answer in answers:
        reply = assistant.say(sender, answer)
    assert "in your own words, what does the injection do" in joined(reply)
    for answer in [
        "it blocks pain signals from the nerve",
        "soreness where the needle went in",
        "an infection",
        "no, it can wear off",
        "no, it is not a cure",
    ]:
        reply = assistant.say(sender, answer)
    assert "what would you like to do" in joined(reply)
    reply = assistant.say(sender, "Go ahead")
    assert "recorded that you want to go ahead" in joined(reply)
    record = consent_store.latest(sender, assistant.database_url)
    assert record is not None and record.decision == "go_ahead" and record.channel == "rest"
    assert all(item.result == "understood" for item in record.payload.teachback)
    assert len(record.payload.candidacy) == len(answers)
    assert consent_store.verify(assistant.database_url).ok
    reply = assistant.say(sender, "I changed my mind")
    reply = assistant.say(sender, "Talk to my doctor first")
    newest = consent_store.latest(sender, assistant.database_url)
    assert newest is not None
    assert newest.decision == "talk_to_doctor" and newest.payload.supersedes == record.id


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
    reply = assistant.say(sender, "start my consent") + assistant.say(sender, "14") + assistant.say(sender, "Pain")
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


@pytest.fixture(scope="module")
def assistant_without_actions(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Running, str]]:
    """An assistant of its own whose action server is stopped once both servers are up, and a
    conversation begun while the action server was still there."""
    with launch.assistant(tmp_path_factory.mktemp("no-action-server")) as running:
        sender = new_sender()
        assert running.say(sender, "how long does it take")
        stop_action_server(running)
        yield running, sender


@pytest.mark.parametrize("conversation", ["new", "begun before"])
def test_an_emergency_is_answered_when_the_action_server_is_down(
    assistant_without_actions: tuple[Running, str], conversation: str
) -> None:
    """The reply comes from the Rasa server itself (bot/rasa/nlg.py); only the care team's flag is lost.

    A new conversation's session cannot start without the action server: bot/rasa/policy.py answers it.
    """
    assistant, begun = assistant_without_actions
    sender = new_sender() if conversation == "new" else begun
    reply = assistant.say(sender, "I can't breathe", timeout=30)
    text = reply[0].get("text") or ""
    assert content.clinic().emergency_number in text
    assert not re.search(r"[{}]", text), f"a placeholder reached the patient: {text!r}"
    bots = [event for event in tracker_events(assistant, sender) if event["event"] == "bot"]
    assert bots[-1]["metadata"].get(MESSAGE_NAME) in EMERGENCY_MESSAGES
    assert not flags.open_flags(assistant.database_url), "nothing could record the flag"


def test_the_clinic_facts_are_filled_in_when_the_action_server_is_down(
    assistant_without_actions: tuple[Running, str],
) -> None:
    """The session start that sets the clinic's slots could not run: the facts come from the Rasa server."""
    assistant, _ = assistant_without_actions
    text = joined(assistant.say(new_sender(), "goodbye", timeout=30))
    assert content.clinic().emergency_number in text
    assert not re.search(r"\bnone\b|[{}]", text), f"an unfilled clinic fact reached the patient: {text!r}"
