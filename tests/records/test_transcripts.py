"""A conversation as the patient saw it: messages, taps shown as the buttons' titles, steps, flags and records."""

from __future__ import annotations

import time
import uuid

import pytest

from bot.consent.record import ConsentPayload
from bot.outreach import RECHECK_PAYLOAD, REMINDER_KEY
from bot.records import consent_store, flags
from bot.records import milestones as ms
from bot.records import transcripts as tr
from bot.records.transcripts import Button, Entry, transcript, transcript_exists
from tests.helpers.records import STORED_PAYLOAD
from tests.helpers.tracker import Script, drop_events_table, write_events


def new_id() -> str:
    return f"patient-{uuid.uuid4().hex[:12]}"


def patient(entries: tuple[Entry, ...]) -> list[Entry]:
    return [entry for entry in entries if entry.kind == tr.PATIENT]


def test_a_conversation_as_the_patient_saw_it_with_taps_as_titles(database_url: str) -> None:
    conversation = new_id()
    script = (
        Script(time.time() - 600).menu("hi").topic("/ask_duration", "ask_duration").topic("is it safe?", "ask_safety")
    )
    script.start_consent("/start_consent").answer("Pain", "pain", how="button").answer("back pain", "back pain")
    write_events(database_url, conversation, script.events)
    found = transcript(conversation, tracker_url=database_url, database_url=database_url)
    said = [(e.text, e.said, e.tapped) for e in patient(found.entries)]
    assert said == [
        ("hi", "hi", False),
        ("How long?", "/ask_duration", True),  # the menu's button
        ("is it safe?", "is it safe?", False),
        ("Start my consent", "/start_consent", True),  # offered after the answer
        ("Pain", "Pain", True),  # a choice whose payload is its title
        ("back pain", "back pain", False),
    ]
    assert found.channels == ("rest",) and {e.channel for e in patient(found.entries)} == {"rest"}
    menu = next(e for e in found.entries if e.kind == tr.ASSISTANT and e.name == "menu")
    assert Button("How long?", "/ask_duration") in menu.buttons and menu.text.startswith("You can ask me")
    question = next(e for e in found.entries if e.name == "candidacy:purpose")
    assert question.text.startswith("(1 of 11) ") and [b.title for b in question.buttons] == [
        "Pain",
        "Muscle spasms",
        "Both",
    ]
    assert [e.at for e in found.entries] == sorted(e.at for e in found.entries)
    assert found.started_at == found.entries[0].at and found.last_at == found.entries[-1].at


def test_a_payload_is_shown_as_a_tap_only_when_the_assistant_had_just_offered_it(sqlite_url: str) -> None:
    script = Script(time.time()).menu("hi").topic("how long", "ask_duration").topic("/ask_safety", "ask_safety")
    script.topic("/ask_duration", "ask_duration")  # offered by the menu two turns before, not by the last answer
    write_events(sqlite_url, "c", script.events)
    shown = [(e.text, e.tapped) for e in patient(transcript("c", sqlite_url, sqlite_url).entries)]
    assert shown[2:] == [("/ask_safety", False), ("/ask_duration", False)]


def test_the_turn_a_reminder_ran_is_not_shown_as_the_patients_message() -> None:
    events = [
        {"event": "user", "timestamp": 1.0, "text": RECHECK_PAYLOAD, "metadata": {REMINDER_KEY: "reminder:i1"}},
        {"event": "bot", "timestamp": 1.1, "text": "Your injection is Fri, Dec 4.", "metadata": {}},
        {"event": "user", "timestamp": 9.0, "text": "it blocks the nerve", "metadata": {}, "input_channel": "sms"},
    ]
    shown = [(entry.kind, entry.text) for entry in tr.messages(events)]
    assert shown == [(tr.ASSISTANT, "Your injection is Fri, Dec 4."), (tr.PATIENT, "it blocks the nerve")]


def test_steps_are_marked_between_the_answer_and_the_next_question(sqlite_url: str) -> None:
    script = Script(time.time()).start_consent().answer("Pain", "pain", how="button").pause().resume()
    write_events(sqlite_url, "c", script.events)
    entries = transcript("c", sqlite_url, sqlite_url).entries
    kinds = [(e.kind, e.milestone.kind if e.milestone else e.name or e.text) for e in entries]
    answer_at = kinds.index((tr.PATIENT, "Pain"))
    assert kinds[answer_at - 2 : answer_at + 3] == [
        (tr.MILESTONE, ms.CONSENT_STARTED),
        (tr.ASSISTANT, "candidacy:purpose"),
        (tr.PATIENT, "Pain"),
        (tr.MILESTONE, ms.CANDIDACY_ANSWER),
        (tr.ASSISTANT, "candidacy:condition"),
    ]
    marked = [e.milestone.kind for e in entries if e.milestone]
    assert ms.QUESTION_ASKED not in marked and ms.STARTED not in marked
    assert marked[-2:] == [ms.PAUSE, ms.RESUME]
    everything = transcript("c", sqlite_url, sqlite_url).milestones
    assert {m.kind for m in everything} >= {ms.QUESTION_ASKED, ms.STARTED}


def test_flags_and_records_are_marked_at_their_times(database_url: str) -> None:
    conversation = new_id()
    script = Script(time.time() - 600).start_consent().emergency("I cant breathe", ["breathing"])
    flag_id = flags.add(conversation, "rest", "emergency", "I cant breathe", "breathing", url=database_url)
    flags.add("someone-else", "rest", "callback", "call me", url=database_url)
    record = consent_store.append(
        conversation, "rest", ConsentPayload.from_json(STORED_PAYLOAD), "v1", url=database_url
    )
    script.wait(time.time() + 60 - script.at).topic("how long", "ask_duration")
    write_events(database_url, conversation, script.events)
    found = transcript(conversation, tracker_url=database_url, database_url=database_url)
    kinds = [e.kind for e in found.entries]
    flag_at, record_at = kinds.index(tr.FLAG), kinds.index(tr.RECORD)
    emergency_at = next(i for i, e in enumerate(found.entries) if e.milestone and e.milestone.kind == ms.EMERGENCY)
    last_patient = max(i for i, kind in enumerate(kinds) if kind == tr.PATIENT)
    assert emergency_at < flag_at < record_at < last_patient
    assert [f.id for f in found.flags] == [flag_id] and found.entries[flag_at].flag == found.flags[0]
    assert found.entries[record_at].record == record and found.records == (record,)


def test_text_is_kept_as_stored_and_the_channel_is_the_patients(sqlite_url: str) -> None:
    script = Script(time.time(), channel="sms").topic("<b>how long</b> & when?", "ask_duration")
    write_events(sqlite_url, "c", script.events)
    found = transcript("c", sqlite_url, sqlite_url)
    assert [e.text for e in patient(found.entries)] == ["<b>how long</b> & when?"]
    assert found.channels == ("sms",)


def test_an_unknown_conversation_before_rasa_made_its_table(sqlite_url: str) -> None:
    drop_events_table(sqlite_url)
    assert not transcript_exists("anyone", sqlite_url)
    with pytest.raises(LookupError):
        transcript("anyone", tracker_url=sqlite_url, database_url=sqlite_url)


def test_an_unknown_conversation(database_url: str) -> None:
    known, unknown = new_id(), new_id()
    write_events(database_url, known, Script(time.time()).topic("hi", "ask_what_is").events)
    assert transcript_exists(known, database_url) and not transcript_exists(unknown, database_url)
    with pytest.raises(LookupError):
        transcript(unknown, tracker_url=database_url, database_url=database_url)


def test_a_conversation_known_only_by_its_flag(sqlite_url: str) -> None:
    flags.add("gone", "sms", "callback", "call me", url=sqlite_url)
    found = transcript("gone", tracker_url=sqlite_url, database_url=sqlite_url)
    assert [e.kind for e in found.entries] == [tr.FLAG] and found.channels == ()
