"""The conversations active in a time window, read from the tracker store in one pass and turned into milestones.

The insight figures need whole conversations (where a patient stopped depends on everything
asked before), but only those with something stored in the window. So the store is asked
once for its conversations (one grouped query), and the events are then read once, in store
order, from the first event of the oldest conversation still active. A conversation's events
are held only until its last one is read (the grouped query gave their number), then turned
into milestones and dropped: memory is bounded by the conversations that overlap in time,
not by the store's size. The events are read as that query found them: an event stored after
it (a patient typing while the page is built) waits for the next look.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from bot.records import milestones as ms
from bot.records import tracker_events
from bot.records.tracker_events import Event


@dataclass(frozen=True)
class ConversationSteps:
    """One conversation's milestones, oldest first, with the time of its first and last stored event (Unix s)."""

    conversation_id: str
    first_at: float
    last_at: float
    milestones: tuple[ms.Milestone, ...]


def conversations_since(
    since: float,
    url: str | None = None,
    topic_intents: Iterable[str] | None = None,
    stored: Iterable[tracker_events.Conversation] | None = None,
) -> Iterator[ConversationSteps]:
    """Every conversation with an event at or after ``since`` (Unix s), whole, in the order their last event was read.

    Nothing when Rasa has not created its table yet. ``topic_intents`` defaults to the topics of
    ``content/topics.yml``; ``stored`` is ``tracker_events.conversations(url)`` when the caller has it.
    """
    topics = frozenset(topic_intents) if topic_intents is not None else None
    listed = tracker_events.conversations(url) if stored is None else stored
    wanted = {found.conversation_id: found for found in listed if found.last_at >= since}
    if not wanted:
        return
    held: dict[str, list[Event]] = {}
    finished: set[str] = set()
    earliest = min(found.first_at for found in wanted.values())
    for event in tracker_events.iter_events(url, since=earliest):
        summary = wanted.get(event.conversation_id)
        if summary is None or event.conversation_id in finished:
            continue  # not active in the window, or stored after the conversations were counted
        events = held.setdefault(event.conversation_id, [])
        events.append(event)
        if len(events) >= summary.events:
            finished.add(event.conversation_id)
            yield _steps(summary, held.pop(event.conversation_id), topics)
    for conversation_id, events in held.items():  # rows skipped as unreadable: fewer than counted
        yield _steps(wanted[conversation_id], events, topics)


def _steps(
    summary: tracker_events.Conversation, events: list[Event], topics: frozenset[str] | None
) -> ConversationSteps:
    found = ms.milestones(events, topics)
    return ConversationSteps(summary.conversation_id, summary.first_at, summary.last_at, tuple(found))
