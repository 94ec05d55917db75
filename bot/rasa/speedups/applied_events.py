"""Speed-up ``applied-events``: a conversation's applied events and states continued, not recomputed.

``DialogueStateTracker.applied_events`` re-reads the whole conversation several times a
message (quadratic in form turns). It now continues from its last answer for the same
tracker when events were only appended and no new form appeared. Likewise
``Domain.states_for_tracker_history``, which the rule policy asks for several times a
message, replayed the whole conversation into a new tracker to describe the state before
each action: the states before actions already described are kept, with the replayed
tracker, while the applied events only grow.

Importing this module changes nothing in Rasa: ``bot.rasa.speedups.install()`` applies ``PATCHES``.
"""

from __future__ import annotations

import itertools
from typing import Any

from rasa.shared.core.domain import Domain, State
from rasa.shared.core.events import (
    ActionExecuted,
    ActionReverted,
    ActiveLoop,
    Event,
    Restarted,
    SessionStarted,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

_CACHE_ATTRIBUTE = "_rhizotomy_applied_events"
_applied_events = DialogueStateTracker.applied_events  # Rasa's own


def applied_events(self: Any) -> list[Event]:
    """``DialogueStateTracker.applied_events``, continued from the last answer when events were only added.

    Rasa's loop looks at each event with the applied events so far and the names of every
    form in the conversation. The answer for the first n events is kept with those names;
    it is reused while the first n events are the same objects and the names have not
    changed (a new form changes how earlier events count, so then it starts again), and
    never when the tracker keeps only its latest events (old ones drop out).
    """
    events = self.events
    count = len(events)
    loop_names = [event.name for event in events if isinstance(event, ActiveLoop) and event.name]
    cached = self.__dict__.get(_CACHE_ATTRIBUTE)
    start, applied = 0, []
    if (
        cached is not None
        and cached[0] is events
        and cached[1] <= count
        and cached[3] == loop_names
        and events.maxlen is None
        and (cached[1] == 0 or events[cached[1] - 1] is cached[2])
    ):
        start, applied = cached[1], list(cached[4])
    for event in itertools.islice(events, start, None):
        if isinstance(event, (Restarted, SessionStarted)):
            applied = []
        elif isinstance(event, ActionReverted):
            self._undo_till_previous(ActionExecuted, applied)
        elif isinstance(event, UserUtteranceReverted):
            self._undo_till_previous(UserUttered, applied)
            self._undo_till_previous(ActionExecuted, applied)
        elif (
            isinstance(event, ActionExecuted)
            and event.action_name in loop_names
            and not self._first_loop_execution_or_unhappy_path(event.action_name, applied)
        ):
            self._undo_till_previous_loop_execution(event.action_name, applied)
        else:
            applied.append(event)
    self.__dict__[_CACHE_ATTRIBUTE] = (events, count, events[-1] if count else None, loop_names, list(applied))
    return applied


_states_for_tracker_history = Domain.states_for_tracker_history  # Rasa's own
_STATES_ATTRIBUTE = "_rhizotomy_states"


def states_for_tracker_history(
    self: Domain,
    tracker: Any,
    omit_unset_slots: bool = False,
    ignore_rule_only_turns: bool = False,
    rule_only_data: dict[str, Any] | None = None,
) -> list[State]:
    """``Domain.states_for_tracker_history``, continued from the states it described last time.

    Rasa's loop replays the applied events into a new tracker and, before each action,
    describes that tracker's state; the last state describes the end. The replayed tracker
    and the states before actions are kept while the applied events still begin with the
    ones replayed (the same objects): an action's state is only described once it ran, when
    nothing can change its past any more. Callers change the states they get (the rule
    policy drops text or intent), so each call hands out copies. Rule-only turns (ML
    policies) take Rasa's own path.
    """
    if ignore_rule_only_turns:
        return _states_for_tracker_history(self, tracker, omit_unset_slots, ignore_rule_only_turns, rule_only_data)
    applied = tracker.applied_events()
    key = (id(self), omit_unset_slots)
    cached = tracker.__dict__.get(_STATES_ATTRIBUTE)
    if (
        cached is not None
        and cached[0] == key
        and len(cached[1]) <= len(applied)
        and all(done is event for done, event in zip(cached[1], applied, strict=False))
    ):
        _, replayed_events, replay, states = cached
    else:
        replayed_events, replay, states = [], tracker.init_copy(), []
    for event in applied[len(replayed_events) :]:
        if isinstance(event, ActionExecuted):
            states.append(self._clean_state(self.get_active_state(replay, omit_unset_slots=omit_unset_slots)))
        replay.update(event)
    tracker.__dict__[_STATES_ATTRIBUTE] = (key, applied, replay, states)
    final = self._clean_state(self.get_active_state(replay, omit_unset_slots=omit_unset_slots))
    return [{kind: dict(sub_state) for kind, sub_state in state.items()} for state in states] + [final]


PATCHES: list[tuple[Any, str, Any]] = [
    (DialogueStateTracker, "applied_events", applied_events),
    (Domain, "states_for_tracker_history", states_for_tracker_history),
]
# Every Rasa name the code above relies on. Instance attributes (assigned in the constructor, see
# bot.rasa.speedups.rasa_names_missing): DialogueStateTracker.events (a deque: ``maxlen``),
# ActiveLoop.name, ActionExecuted.action_name.
RASA_NAMES: list[tuple[Any, str]] = [
    (DialogueStateTracker, "applied_events"),
    (DialogueStateTracker, "events"),
    (DialogueStateTracker, "_undo_till_previous"),
    (DialogueStateTracker, "_first_loop_execution_or_unhappy_path"),
    (DialogueStateTracker, "_undo_till_previous_loop_execution"),
    (DialogueStateTracker, "init_copy"),
    (DialogueStateTracker, "update"),
    (ActiveLoop, "name"),
    (ActionExecuted, "action_name"),
    (Domain, "states_for_tracker_history"),
    (Domain, "get_active_state"),
    (Domain, "_clean_state"),
]
