"""Every widget message reaches the assistant, and only once, across dropped connections.

A phone switching networks drops its socket without a word; whatever the widget sent
meanwhile is gone. So the widget gives each message a random *client id*, keeps it
until the server acknowledges it, and sends what is still unacknowledged (or not yet
answered) again after it reconnects. The server remembers the client ids it has seen
per conversation (``ReceivedMessages``): a message sent twice is acknowledged twice
but answered once. Each id is also kept in the message's metadata in the tracker, so
``session_history`` can tell a reconnecting widget which of its messages the
conversation already holds (``received_ids_from_events``), after a restart too.

Plain Python, no Rasa: the channel (``bot.channels.web.channel``) uses it.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

from bot.channels.web.protocol import CLIENT_ID_KEY

_CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
# The widget resends only what it sent since it last heard from the server: a few messages.
RECENT_PER_CONVERSATION = 20
# Conversations remembered per server process, least recently active forgotten first.
CONVERSATIONS = 10_000

Seen = Literal["new", "in_flight", "done"]


def client_id_of(data: object) -> str | None:
    """The client id of a ``user_uttered`` payload, or None (absent or not a short random id).

    Clients without ids (Rasa's own webchat, scripts) are served as before, without de-duplication.
    """
    if not isinstance(data, Mapping):
        return None
    value = data.get(CLIENT_ID_KEY)
    return value if isinstance(value, str) and _CLIENT_ID.match(value) else None


class ReceivedMessages:
    """The client ids each conversation has sent lately, and whether their turn has finished.

    In memory per server process and bounded: ``per_conversation`` ids for each of the
    ``conversations`` most recently active. What it forgets (a restart, another server)
    ``session_history`` recovers from the tracker (``remember``).
    """

    def __init__(self, per_conversation: int = RECENT_PER_CONVERSATION, conversations: int = CONVERSATIONS) -> None:
        self.per_conversation = per_conversation
        self.conversations = conversations
        self._seen: OrderedDict[str, OrderedDict[str, bool]] = OrderedDict()  # id -> turn finished

    def _ids(self, conversation: str) -> OrderedDict[str, bool]:
        ids = self._seen.get(conversation)
        if ids is None:
            ids = self._seen[conversation] = OrderedDict()
            while len(self._seen) > self.conversations:
                self._seen.popitem(last=False)
        else:
            self._seen.move_to_end(conversation)
        return ids

    def _add(self, ids: OrderedDict[str, bool], client_id: str, finished: bool) -> None:
        ids[client_id] = finished
        ids.move_to_end(client_id)
        while len(ids) > self.per_conversation:
            ids.popitem(last=False)

    def receive(self, conversation: str, client_id: str) -> Seen:
        """Record ``client_id`` as received; what was known of it before: new, in flight or done."""
        ids = self._ids(conversation)
        finished = ids.get(client_id)
        if finished is None:
            self._add(ids, client_id, False)
            return "new"
        return "done" if finished else "in_flight"

    def finish(self, conversation: str, client_id: str) -> None:
        """The turn of ``client_id`` is over (answered, refused or failed): a resend is not answered again."""
        self._add(self._ids(conversation), client_id, True)

    def remember(self, conversation: str, client_ids: Iterable[str]) -> None:
        """Ids the conversation's tracker already holds (answered turns), read when a widget resumes it."""
        ids = self._ids(conversation)
        for client_id in client_ids:
            if not ids.get(client_id):
                self._add(ids, client_id, True)


def received_ids_from_events(events: Sequence[Mapping[str, Any]], limit: int = RECENT_PER_CONVERSATION) -> list[str]:
    """The client ids of the conversation's latest user messages (serialized tracker events), oldest first.

    Start payloads and button payloads count too: a widget must not send them again.
    """
    found: list[str] = []
    for event in events:
        if event.get("event") != "user":
            continue
        metadata = event.get("metadata")
        client_id = client_id_of(metadata) if isinstance(metadata, Mapping) else None
        if client_id:
            found.append(client_id)
    return found[-limit:]
