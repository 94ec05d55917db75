"""The cached tracker store on SQLite and PostgreSQL: it reads and writes what Rasa's SQLTrackerStore would.

Every test drives real stores on a real database with real Rasa events; where it matters, the
answer is compared with what Rasa's own ``SQLTrackerStore`` reads from the same database.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.rasa.tracker_store import CachedSQLTrackerStore

DOMAIN = Domain.from_yaml("""
version: "3.1"
intents: [greet, ask_duration, affirm]
slots:
  name:
    type: text
    mappings: [{type: custom}]
  consent_stage:
    type: categorical
    values: [candidacy, decided]
    mappings: [{type: custom}]
""")

MakeStore = Callable[..., SQLTrackerStore]


# Explicit, increasing timestamps: Rasa finds the latest session by comparing them.
_clock = itertools.count(1_700_000_000)


def stamp() -> float:
    return float(next(_clock))


# --- events ----------------------------------------------------------------------------------


def turn(text: str, intent: str = "greet", **slots: Any) -> list[Event]:
    """One exchange as Rasa logs it: the user's message, slots set, the bot's reply, listening again."""
    return [
        UserUttered(text, {"name": intent, "confidence": 0.98}, timestamp=stamp()),
        *(SlotSet(name, value, timestamp=stamp()) for name, value in slots.items()),
        ActionExecuted(f"utter_{intent}", policy="RulePolicy", confidence=1.0, timestamp=stamp()),
        BotUttered(f"reply to {text}", {"buttons": None}, timestamp=stamp()),
        ActionExecuted("action_listen", timestamp=stamp()),
    ]


def new_session(**carried: Any) -> list[Event]:
    """What ``action_session_start`` adds: the action, ``SessionStarted``, carried-over slots, listening.

    As in Rasa's processor, the action's own event is created after the events it returns, so it
    comes first but with the latest timestamp (and belongs to the new session when read back).
    """
    started = [
        SessionStarted(timestamp=stamp()),
        *(SlotSet(name, value, timestamp=stamp()) for name, value in carried.items()),
        ActionExecuted("action_listen", timestamp=stamp()),
    ]
    return [ActionExecuted("action_session_start", timestamp=stamp()), *started]


def add(tracker: DialogueStateTracker, events: Iterable[Event]) -> DialogueStateTracker:
    for event in events:
        tracker.update(event)
    return tracker


def dicts(events: Iterable[Event]) -> list[dict[str, Any]]:
    return [event.as_dict() for event in events]


# --- stores ----------------------------------------------------------------------------------


@pytest.fixture
def store_options(database_url: str) -> Iterator[dict[str, Any]]:
    """``type: SQL`` options for the test database, with Rasa's ``events`` table dropped before and after."""
    url = sa.engine.make_url(database_url)
    if url.get_backend_name() == "sqlite":
        options: dict[str, Any] = {"dialect": "sqlite", "db": url.database}
    else:
        options = {
            "dialect": url.drivername,
            "host": url.host,
            "port": url.port,
            "db": url.database,
            "username": url.username,
            "password": url.password,
        }
    engine = sa.create_engine(database_url, future=True)
    SQLTrackerStore.Base.metadata.drop_all(engine)  # the PostgreSQL database outlives a test
    yield options
    SQLTrackerStore.Base.metadata.drop_all(engine)
    engine.dispose()


@pytest.fixture
def make_store(store_options: dict[str, Any]) -> Iterator[MakeStore]:
    """Builds stores on the test database, like separate Rasa servers (or restarts) sharing it."""
    made: list[SQLTrackerStore] = []

    def build(kind: type[SQLTrackerStore] = CachedSQLTrackerStore, **options: Any) -> SQLTrackerStore:
        made.append(kind(DOMAIN, **store_options, **options))
        return made[-1]

    yield build
    for store in made:
        store.engine.dispose()


class CollectingBroker(EventBroker):
    """An event broker that keeps what it is sent (Rasa's stores stream each saved event to the broker)."""

    def __init__(self) -> None:
        self.published: list[dict[str, Any]] = []

    def publish(self, event: dict[str, Any]) -> None:
        self.published.append(event)


@pytest.fixture
def store(make_store: MakeStore) -> SQLTrackerStore:
    return make_store()


def save(store: SQLTrackerStore, tracker: DialogueStateTracker) -> DialogueStateTracker:
    asyncio.run(store.save(tracker))
    return tracker


def retrieve(store: SQLTrackerStore, sender_id: str) -> DialogueStateTracker:
    tracker = asyncio.run(store.retrieve(sender_id))
    assert tracker is not None, f"no tracker for {sender_id!r}"
    return tracker


def converse(store: SQLTrackerStore, sender_id: str, *messages: list[Event]) -> DialogueStateTracker:
    """Each message as Rasa handles it: fetch the tracker (or a new one), add the message's events, save."""
    for events in messages:
        tracker = asyncio.run(store.retrieve(sender_id)) or store.init_tracker(sender_id)
        save(store, add(tracker, events))
    return tracker


def first_message(text: str = "hi", **slots: Any) -> list[Event]:
    """A conversation's first message: a session starts, then the exchange (a save not kept in memory)."""
    return [*new_session(), *turn(text, **slots)]


def rows(store: SQLTrackerStore, sender_id: str) -> list[dict[str, Any]]:
    """The conversation's ``events`` rows in insertion order, without the id and sender columns."""
    table = SQLTrackerStore.SQLEvent.__table__
    query = sa.select(table).where(table.c.sender_id == sender_id).order_by(table.c.id)
    with store.engine.connect() as connection:
        return [
            {k: v for k, v in row._mapping.items() if k not in ("id", "sender_id")} for row in connection.execute(query)
        ]


def stored(store: SQLTrackerStore, sender_id: str) -> list[dict[str, Any]]:
    """Every stored event of the conversation, all sessions, as dicts."""
    return [json.loads(row["data"]) for row in rows(store, sender_id)]


def rasa_reads(make_store: MakeStore, sender_id: str) -> DialogueStateTracker | None:
    """What Rasa's own SQLTrackerStore reads from the same database."""
    return asyncio.run(make_store(SQLTrackerStore).retrieve(sender_id))


def assert_reads_as_rasa(make_store: MakeStore, tracker: DialogueStateTracker) -> None:
    expected = rasa_reads(make_store, tracker.sender_id)
    assert expected is not None
    assert dicts(tracker.events) == dicts(expected.events)
    assert tracker.current_slot_values() == expected.current_slot_values()


# --- reading and writing ---------------------------------------------------------------------


def test_events_of_several_messages_are_stored_once_in_order(store: SQLTrackerStore, make_store: MakeStore) -> None:
    """Each save appends only what is new; a restart (fresh store) reads what Rasa's store reads."""
    messages = [
        first_message(),
        turn("I'm Ann", name="Ann"),
        turn("how long?", "ask_duration"),
        turn("yes", "affirm", consent_stage="decided"),
    ]
    expected: list[Event] = []
    for events in messages:
        tracker = converse(store, "patient", events)
        expected += events
        assert stored(store, "patient") == dicts(expected)

    restarted = retrieve(make_store(), "patient")
    assert restarted is not tracker
    assert dicts(restarted.events) == dicts(expected)
    assert (restarted.get_slot("name"), restarted.get_slot("consent_stage")) == ("Ann", "decided")
    assert_reads_as_rasa(make_store, restarted)


def test_a_saved_tracker_is_handed_back_from_memory(store: SQLTrackerStore) -> None:
    """The point of the store: no read and replay of the whole conversation while the database agrees."""
    tracker = converse(store, "patient", first_message(), turn("I'm Ann", name="Ann"))
    before = rows(store, "patient")
    assert retrieve(store, "patient") is tracker
    assert rows(store, "patient") == before

    save(store, add(tracker, turn("how long?", "ask_duration")))
    assert retrieve(store, "patient") is tracker
    assert stored(store, "patient") == dicts(tracker.events)


def test_another_server_writing_invalidates_the_memory(make_store: MakeStore) -> None:
    """Two servers on one database: each sees the other's messages, never its own stale copy."""
    server_a, server_b = make_store(), make_store()
    mine = converse(server_a, "patient", first_message(), turn("hello?"))

    theirs = converse(server_b, "patient", turn("I'm Ann", name="Ann"))

    seen = retrieve(server_a, "patient")
    assert seen is not mine
    assert dicts(seen.events) == dicts(theirs.events)
    assert seen.get_slot("name") == "Ann"

    save(server_a, add(seen, turn("how long?", "ask_duration")))
    assert dicts(retrieve(server_b, "patient").events) == dicts(seen.events) == stored(server_a, "patient")


def test_a_write_between_retrieve_and_save_is_not_hidden(make_store: MakeStore) -> None:
    """Another server writing while this one handles a message: the next read must include its events."""
    server_a, server_b = make_store(), make_store()
    converse(server_a, "patient", first_message(), turn("hello?"))
    mine, theirs = retrieve(server_a, "patient"), retrieve(server_b, "patient")

    save(server_b, add(theirs, turn("I'm Ann", name="Ann")))
    save(server_a, add(mine, turn("how long?", "ask_duration")))

    assert_reads_as_rasa(make_store, retrieve(server_a, "patient"))


def test_an_abandoned_tracker_is_not_handed_out_again(store: SQLTrackerStore) -> None:
    """A message that fails halfway leaves its unsaved events behind: the next one reads the database."""
    saved = converse(store, "patient", first_message(), turn("hello?"))
    saved_events = dicts(saved.events)
    abandoned = add(retrieve(store, "patient"), turn("how long?", "ask_duration", name="Ann"))
    assert abandoned is saved  # it came from memory

    again = retrieve(store, "patient")
    assert again is not abandoned
    assert dicts(again.events) == saved_events == stored(store, "patient")
    assert again.get_slot("name") is None


@pytest.mark.parametrize("listen", [False, True], ids=["as-the-processor-creates-it", "with-action-listen"])
def test_an_abandoned_new_conversation_is_not_handed_out_again(
    store: SQLTrackerStore, make_store: MakeStore, listen: bool
) -> None:
    """``get_or_create_tracker`` saves a new tracker and returns it; if its first message fails, nothing leaks."""
    created = asyncio.run(store.get_or_create_tracker("patient", append_action_listen=listen))
    add(created, first_message(name="Ann"))  # the message fails before its save

    again = asyncio.run(store.retrieve("patient"))
    expected = rasa_reads(make_store, "patient")  # None without action_listen: nothing was stored
    assert (again is None) == (expected is None)
    assert dicts(again.events if again else []) == dicts(expected.events if expected else [])


def test_a_new_session_is_read_back_as_rasa_reads_it(store: SQLTrackerStore, make_store: MakeStore) -> None:
    """A save that starts a session is not kept: the next read holds only the latest session, as in Rasa."""
    converse(store, "patient", first_message(name="Ann"), turn("how long?", "ask_duration"))
    tracker = retrieve(store, "patient")
    latest = [*new_session(name="Ann"), *turn("back again")]
    save(store, add(tracker, latest))
    assert stored(store, "patient") == dicts(tracker.events)

    again = retrieve(store, "patient")
    assert again is not tracker
    assert dicts(again.events) == dicts(latest)
    assert again.get_slot("name") == "Ann"
    assert_reads_as_rasa(make_store, again)

    save(store, add(again, turn("how long?", "ask_duration")))  # within the session it is kept again
    assert retrieve(store, "patient") is again
    assert_reads_as_rasa(make_store, again)


def test_with_an_event_broker_every_event_is_stored_and_published_once(make_store: MakeStore) -> None:
    """Saving streams new events to the broker first (Rasa's ``stream_events`` retrieves the stored tracker)."""
    broker = CollectingBroker()
    store = make_store(event_broker=broker)
    messages = [first_message(), turn("I'm Ann", name="Ann"), turn("how long?", "ask_duration")]
    tracker = asyncio.run(store.get_or_create_tracker("patient", append_action_listen=False))  # as the processor
    save(store, add(tracker, messages[0]))
    converse(store, "patient", *messages[1:])

    expected = dicts(itertools.chain(*messages))
    assert stored(store, "patient") == expected
    assert [{k: v for k, v in event.items() if k != "sender_id"} for event in broker.published] == expected
    assert {event["sender_id"] for event in broker.published} == {"patient"}


# --- memory bound ------------------------------------------------------------------------------


def test_cache_size_drops_the_least_recently_saved(make_store: MakeStore) -> None:
    """Only ``cache_size`` conversations stay in memory; a dropped one is read back whole from the database."""
    store = make_store(cache_size=2)
    saved = {
        sender: converse(store, sender, first_message(), turn(f"I'm {sender}", name=sender))
        for sender in ("first", "second", "third")
    }

    dropped = retrieve(store, "first")
    assert dropped is not saved["first"]
    assert dicts(dropped.events) == dicts(saved["first"].events)
    assert dropped.get_slot("name") == "first"
    assert retrieve(store, "second") is saved["second"]
    assert retrieve(store, "third") is saved["third"]


def test_cache_size_zero_keeps_nothing(make_store: MakeStore) -> None:
    """With the memory off, every retrieve is Rasa's own read."""
    store = make_store(cache_size=0)
    tracker = converse(store, "patient", first_message(), turn("I'm Ann", name="Ann"))
    again = retrieve(store, "patient")
    assert again is not tracker
    assert dicts(again.events) == dicts(tracker.events)
    assert again.get_slot("name") == "Ann"


# --- trackers the store did not hand out ---------------------------------------------------------


def test_a_tracker_from_init_tracker_is_stored_once(store: SQLTrackerStore) -> None:
    """Saved again and again without a retrieve in between: each save counts what is stored, as Rasa does."""
    tracker = save(store, add(store.init_tracker("patient"), first_message()))
    save(store, add(tracker, turn("how long?", "ask_duration")))
    save(store, tracker)
    assert stored(store, "patient") == dicts(tracker.events)


def test_get_or_create_tracker_then_save_stores_each_event_once(store: SQLTrackerStore) -> None:
    """``create_tracker`` saves the new tracker itself; the message's save must not repeat its events."""
    tracker = asyncio.run(store.get_or_create_tracker("patient"))
    assert [event.action_name for event in tracker.events] == ["action_listen"]
    assert stored(store, "patient") == dicts(tracker.events)
    save(store, add(tracker, first_message()))
    assert stored(store, "patient") == dicts(tracker.events)


def test_a_rebuilt_tracker_adds_only_its_new_events(store: SQLTrackerStore, make_store: MakeStore) -> None:
    """A tracker built from events (e.g. by an API call) while another is handed out: only the extra events."""
    converse(store, "patient", first_message(), turn("hello?"))
    handed = retrieve(store, "patient")
    extra = turn("how long?", "ask_duration", name="Ann")
    rebuilt = DialogueStateTracker.from_events("patient", [*handed.events, *extra], DOMAIN.slots)
    save(store, rebuilt)

    assert stored(store, "patient") == dicts(rebuilt.events)
    assert_reads_as_rasa(make_store, retrieve(store, "patient"))


def test_a_tracker_behind_the_database_does_not_hide_stored_events(
    store: SQLTrackerStore, make_store: MakeStore
) -> None:
    """Saving a tracker that lacks stored events writes nothing, and the next read still has every event."""
    first, second = first_message(), turn("how long?", "ask_duration")
    converse(store, "patient", first, second)
    save(store, DialogueStateTracker.from_events("patient", first, DOMAIN.slots))

    assert stored(store, "patient") == dicts([*first, *second])
    assert_reads_as_rasa(make_store, retrieve(store, "patient"))


# --- rows ----------------------------------------------------------------------------------------


def test_rows_are_written_as_rasa_writes_them(make_store: MakeStore) -> None:
    """Same columns as Rasa's store, both for a new tracker and for the events added to a handed-out one."""
    ours, rasa = make_store(), make_store(SQLTrackerStore)
    messages = [first_message(), turn("how long?", "ask_duration", name="Ann")]
    converse(ours, "ours", *messages)
    converse(rasa, "rasa", *messages)

    written = rows(ours, "ours")
    assert written == rows(rasa, "rasa")
    assert len(written) == sum(len(events) for events in messages)
    user = next(row for row in written if row["type_name"] == "user" and row["intent_name"] == "ask_duration")
    assert user["action_name"] is None and json.loads(user["data"])["text"] == "how long?"
    assert [row["action_name"] for row in written if row["type_name"] == "action"] == [
        "action_session_start",
        "action_listen",
        "utter_greet",
        "action_listen",
        "utter_ask_duration",
        "action_listen",
    ]
    assert all(row["timestamp"] == json.loads(row["data"])["timestamp"] for row in written)


# --- SQLite settings -------------------------------------------------------------------------


@pytest.mark.parametrize("setting, expected", [({}, 1), ({"sqlite_synchronous": "full"}, 2)])
def test_sqlite_commits_wait_for_the_disk_only_when_asked(
    sqlite_url: str, setting: dict[str, Any], expected: int
) -> None:
    """WAL in both cases; NORMAL (1) by default, FULL (2) when endpoints.yml says so."""
    store = CachedSQLTrackerStore(DOMAIN, dialect="sqlite", db=sa.engine.make_url(sqlite_url).database, **setting)
    try:
        with store.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == expected
    finally:
        store.engine.dispose()


def test_an_unknown_sqlite_setting_is_refused_by_name(sqlite_url: str) -> None:
    with pytest.raises(ValueError, match="sqlite_synchronous must be one of OFF, NORMAL, FULL, EXTRA, not 'sometimes'"):
        CachedSQLTrackerStore(
            DOMAIN, dialect="sqlite", db=sa.engine.make_url(sqlite_url).database, sqlite_synchronous="sometimes"
        )
