"""A conversation as the patient saw it, for the care team: messages, buttons, and the steps marked in time.

Read from the tracker store as Rasa stored it (``tracker_events``), with the conversation's
flags and consent records from the project's database. A tap on a button reaches Rasa as
the button's payload (``/request_human``, or the title itself for the consent steps' choices;
the SMS channel turns a numbered reply into it), so a patient message that is a payload of
the assistant's buttons just before it is shown as the title the patient tapped. The turn a
reminder runs (``bot.outreach``) is no patient message: only what the assistant texted shows.
Text is kept exactly as stored: the page escapes it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from bot.content.messages import MESSAGE_NAME
from bot.outreach import REMINDER_KEY
from bot.records import consent_store, db, flags, tracker_events
from bot.records.milestones import QUESTION_ASKED, STARTED, Milestone, milestones
from bot.records.tracker_events import EVENTS, Event

PATIENT = "patient"
ASSISTANT = "assistant"
MILESTONE = "milestone"
FLAG = "flag"
RECORD = "record"
# Milestones a transcript marks: a question asked is its own message there, and the start is the first message.
UNMARKED = (QUESTION_ASKED, STARTED)
# Which of entries in the same instant comes first: what the patient said, what it made happen, the reply.
_ORDER = {PATIENT: 0, MILESTONE: 1, FLAG: 2, RECORD: 2, ASSISTANT: 3}


@dataclass(frozen=True)
class Button:
    title: str
    payload: str


@dataclass(frozen=True)
class Entry:
    """One line of the transcript at ``at`` (Unix seconds); the fields of other kinds stay empty.

    PATIENT: ``text`` as shown (the tapped button's title when ``tapped``), ``said`` as stored,
    ``channel``. ASSISTANT: ``text``, ``buttons``, ``name`` (the content it came from:
    ``message_name`` or the domain response). MILESTONE, FLAG, RECORD: the marker's object.
    """

    kind: str
    at: float
    text: str = ""
    said: str = ""
    tapped: bool = False
    channel: str = ""
    buttons: tuple[Button, ...] = ()
    name: str = ""
    milestone: Milestone | None = None
    flag: flags.Flag | None = None
    record: consent_store.Record | None = None


@dataclass(frozen=True)
class Transcript:
    """One conversation: its entries in time order, and everything they were made from."""

    conversation_id: str
    entries: tuple[Entry, ...]
    channels: tuple[str, ...]  # the patient's input channels, in the order first used
    milestones: tuple[Milestone, ...]  # every milestone, the unmarked ones too
    flags: tuple[flags.Flag, ...]
    records: tuple[consent_store.Record, ...]

    @property
    def started_at(self) -> float | None:
        return self.entries[0].at if self.entries else None

    @property
    def last_at(self) -> float | None:
        return self.entries[-1].at if self.entries else None


def transcript_exists(conversation_id: str, tracker_url: str | None = None) -> bool:
    """Whether the tracker store has any event of ``conversation_id``."""
    engine = db.connect(tracker_url or tracker_events.tracker_url())
    if not sa.inspect(engine).has_table(EVENTS.name):
        return False
    query = sa.select(EVENTS.c.id).where(EVENTS.c.sender_id == conversation_id).limit(1)
    with engine.connect() as connection:
        return connection.execute(query).first() is not None


def transcript(conversation_id: str, tracker_url: str | None = None, database_url: str | None = None) -> Transcript:
    """The conversation ``conversation_id``; LookupError when neither the store nor the database knows it."""
    stored = tracker_events.events(conversation_id, tracker_url or tracker_events.tracker_url())
    raised = flags.all_rows(database_url, conversation_id=conversation_id)
    recorded = consent_store.records(database_url, conversation_id=conversation_id)
    if not stored and not raised and not recorded:
        raise LookupError(f"no conversation {conversation_id!r}")
    return build(conversation_id, stored, raised, recorded)


def build(
    conversation_id: str,
    stored: Sequence[Event],
    raised: Iterable[flags.Flag] = (),
    recorded: Iterable[consent_store.Record] = (),
) -> Transcript:
    """The transcript of events already read, with the conversation's flags and records as markers."""
    found = milestones(stored)
    entries = messages(event.data for event in stored)
    entries += [Entry(MILESTONE, m.at, milestone=m) for m in found if m.kind not in UNMARKED]
    raised, recorded = tuple(raised), tuple(recorded)
    entries += [Entry(FLAG, flag.created_at.timestamp(), flag=flag) for flag in raised]
    entries += [Entry(RECORD, _record_time(record), record=record) for record in recorded]
    entries.sort(key=lambda entry: (entry.at, _ORDER[entry.kind]))
    channels: list[str] = []
    for entry in entries:
        if entry.kind == PATIENT and entry.channel and entry.channel not in channels:
            channels.append(entry.channel)
    return Transcript(conversation_id, tuple(entries), tuple(channels), tuple(found), raised, recorded)


def _record_time(record: consent_store.Record) -> float:
    """A record's ``created_at`` (ISO 8601, UTC) as Unix seconds."""
    created = dt.datetime.fromisoformat(record.created_at)
    return (created if created.tzinfo else created.replace(tzinfo=dt.timezone.utc)).timestamp()


def _buttons(event: Mapping[str, Any]) -> tuple[Button, ...]:
    raw = (event.get("data") or {}).get("buttons") or []
    return tuple(
        Button(str(button.get("title") or ""), str(button.get("payload") or ""))
        for button in raw
        if isinstance(button, Mapping)
    )


def messages(events: Iterable[Mapping[str, Any]]) -> list[Entry]:
    """The patient's and the assistant's messages, in store order; a tap shown as the button's title."""
    entries: list[Entry] = []
    offered: list[Button] = []  # the buttons of the assistant's messages since the patient's last message
    for event in events:
        kind = event.get("event")
        at = float(event.get("timestamp") or 0.0)
        if kind == "user" and REMINDER_KEY in (event.get("metadata") or {}):
            offered = []  # the turn a reminder ran: the assistant texted first, the patient said nothing
        elif kind == "user":
            said = str(event.get("text") or "")
            tapped = next((button for button in reversed(offered) if button.payload == said.strip()), None)
            channel = str(event.get("input_channel") or "")
            shown = tapped.title if tapped else said
            entries.append(Entry(PATIENT, at, text=shown, said=said, tapped=tapped is not None, channel=channel))
            offered = []
        elif kind == "bot":
            buttons = _buttons(event)
            text = str(event.get("text") or "")
            if not text and not buttons:
                continue
            metadata = event.get("metadata") or {}
            name = str(metadata.get(MESSAGE_NAME) or metadata.get("utter_action") or "")
            entries.append(Entry(ASSISTANT, at, text=text, buttons=buttons, name=name))
            offered.extend(buttons)
    return entries
