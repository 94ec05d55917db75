"""Rasa's SQL tracker store without its two per-message costs (issue 8, bench/results.md).

Rasa's ``SQLTrackerStore`` reads every event of the conversation back and replays them into a
new tracker for each message, and before each save counts the stored events with a sub-query
to find the new ones. This store keeps each conversation's last saved tracker in memory (at
most ``cache_size`` conversations, least recently used dropped) and:

* on ``retrieve`` hands that tracker back when the database's newest event id for the
  conversation is still the one it wrote last (one indexed query) and the tracker has no
  events it did not save; otherwise (another server answered a message, a message failed
  halfway, anything else wrote) the tracker is read from the database as before;
* on ``save`` inserts only the events added since it handed the tracker out, in one
  statement, when nobody wrote since; otherwise it counts the stored events as Rasa does.

The database stays the record: every event is written before a message is answered, and a
restart or another server reads it. A save that starts a new session, or that leaves the
database and the tracker apart, is not kept, so what ``retrieve`` returns is always what
Rasa's own store would read: the latest session's events.
"""

from __future__ import annotations

import functools
import itertools
import json
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import SessionStarted
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from bot.records import db

if TYPE_CHECKING:
    from rasa.shared.core.trackers import DialogueStateTracker

DEFAULT_CACHE_SIZE = 256
# SQLite only. WAL lets a read run while a write commits. NORMAL: a commit does not wait for
# the disk (a power cut, not a crash, may lose the last messages; the file stays whole);
# FULL waits for the disk on every commit. Consent records and flags are stored apart (bot/records/db.py).
DEFAULT_SQLITE_SYNCHRONOUS = "NORMAL"
SQLITE_SYNCHRONOUS = ("OFF", "NORMAL", "FULL", "EXTRA")
HANDED_PRUNE_AT = 4096


@dataclass
class _Stored:
    """What the database held of a conversation when this store last read or wrote it."""

    events: int  # how many of the tracker's events were stored (its length then)
    last_id: int | None  # the conversation's newest event id then


class CachedSQLTrackerStore(SQLTrackerStore):
    """``SQLTrackerStore`` that remembers the trackers it saved and appends only new events.

    Takes every option of Rasa's ``type: SQL`` store (dialect, url, db, username, ...) plus
    ``cache_size``: how many conversations to keep in memory (0 turns the memory off), and
    for SQLite ``sqlite_synchronous`` (see ``DEFAULT_SQLITE_SYNCHRONOUS``).
    """

    engine: sa.engine.Engine

    def __init__(
        self,
        *args: Any,
        cache_size: int | str = DEFAULT_CACHE_SIZE,
        sqlite_synchronous: str = DEFAULT_SQLITE_SYNCHRONOUS,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if self.engine.dialect.name == "sqlite":
            synchronous = str(sqlite_synchronous).upper()
            if synchronous not in SQLITE_SYNCHRONOUS:
                raise ValueError(
                    f"tracker_store sqlite_synchronous must be one of {', '.join(SQLITE_SYNCHRONOUS)},"
                    f" not {sqlite_synchronous!r}"
                )
            # SQLAlchemy 1.4 opens a new SQLite connection for every session: keep one per thread.
            self.engine = sa.create_engine(self.engine.url, poolclass=sa.pool.SingletonThreadPool)
            sa.event.listen(self.engine, "connect", functools.partial(db.sqlite_pragmas, synchronous=synchronous))
            self.sessionmaker = sa.orm.sessionmaker(bind=self.engine)
        self.cache_size = int(cache_size)
        self._kept: OrderedDict[str, tuple[DialogueStateTracker, _Stored]] = OrderedDict()
        self._handed: dict[str, tuple[weakref.ReferenceType[DialogueStateTracker], _Stored]] = {}
        events = self.SQLEvent.__table__
        self._insert = events.insert()
        self._last_id = sa.select(sa.func.max(events.c.id)).where(events.c.sender_id == sa.bindparam("sender_id"))

    # --- reading ------------------------------------------------------------------------

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        """The latest session of the conversation: from memory when the database agrees, else read."""
        kept = self._kept.pop(sender_id, None)
        with self.engine.connect() as connection:
            last_id = connection.execute(self._last_id, {"sender_id": sender_id}).scalar()
        tracker: DialogueStateTracker | None
        if (
            kept is not None
            and last_id is not None
            and kept[1].last_id == last_id
            and len(kept[0].events) == kept[1].events
        ):  # unchanged since saved, here and in the database
            tracker = kept[0]
        else:
            tracker = await self._retrieve(sender_id, fetch_events_from_all_sessions=False)  # Rasa's own read
        if tracker is not None:
            self._handed[sender_id] = (weakref.ref(tracker), _Stored(len(tracker.events), last_id))
            if len(self._handed) > HANDED_PRUNE_AT:  # trackers read and never saved (API reads)
                self._handed = {k: v for k, v in self._handed.items() if v[0]() is not None}
        return tracker

    # --- writing ------------------------------------------------------------------------

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Appends the events the database does not have yet, then keeps the tracker in memory."""
        sender_id = tracker.sender_id
        handed = self._handed.pop(sender_id, None)
        self._kept.pop(sender_id, None)
        await self.stream_events(tracker)  # with an event broker, Rasa reads the stored tracker back here
        self._handed.pop(sender_id, None)  # ... which is no tracker handed out to a caller
        events = tracker.events
        bounded = events.maxlen is not None
        with self.engine.begin() as connection:
            before = connection.execute(self._last_id, {"sender_id": sender_id}).scalar()
            if handed is not None and handed[0]() is tracker and handed[1].last_id == before and not bounded:
                start = handed[1].events  # handed out by this store, and nobody wrote since
            else:  # a new tracker, an API call, or another writer: count the stored events as Rasa does
                with sa.orm.Session(bind=connection) as session:
                    start = self._event_query(session, sender_id, fetch_events_from_all_sessions=False).count()
            new_events = list(itertools.islice(events, start, None))
            if new_events:
                connection.execute(self._insert, [self._row(sender_id, event) for event in new_events])
            after = connection.execute(self._last_id, {"sender_id": sender_id}).scalar()
        starts_session = any(isinstance(event, SessionStarted) for event in new_events)
        if (
            self.cache_size > 0 and after is not None and start <= len(events) and not bounded and not starts_session
        ):  # the database now holds exactly this tracker's session
            self._kept[sender_id] = (tracker, _Stored(len(events), after))
            while len(self._kept) > self.cache_size:
                self._kept.popitem(last=False)

    @staticmethod
    def _row(sender_id: str, event: Any) -> dict[str, Any]:
        """One ``events`` row, exactly as Rasa's ``SQLTrackerStore.save`` writes it."""
        data = event.as_dict()
        return {
            "sender_id": sender_id,
            "type_name": event.type_name,
            "timestamp": data.get("timestamp"),
            "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
            "action_name": data.get("name"),
            "data": json.dumps(data),
        }
