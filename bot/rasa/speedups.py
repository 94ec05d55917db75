"""Per-message costs of Rasa 3.6 removed, same results (each measured in bench/results.md, issue 8).

Imported by bot/rasa/nlu_component.py, so every Rasa process that loads the model has them. Each
one computes what Rasa computes, only without repeating work; tests/test_rasa_speedups.py
checks each against Rasa's own code.

1. ``RemoteAction`` checks each action server answer against a JSON schema whose events
   are a ``oneOf`` over every event type, so each event was tried against all of them
   (about 1 ms a call). An event is now checked against the one alternative its ``event``
   field names; an answer that fails is checked again by the whole schema, so errors
   read as before.
2. ``DialogueStateTracker.applied_events`` re-reads the whole conversation several times a
   message (quadratic in form turns). It now continues from its last answer for the same
   tracker when events were only appended and no new form appeared. Likewise
   ``Domain.states_for_tracker_history``, which the rule policy asks for several times a
   message, replayed the whole conversation into a new tracker to describe the state before
   each action: the states before actions already described are kept, with the replayed
   tracker, while the applied events only grow.
3. ``DaskGraphRunner.run`` hands each message's NLU and policy graphs to dask's scheduler,
   whose bookkeeping cost more than most components. The graph is now run depth-first in
   this thread, each node once, as dask's synchronous scheduler does.
4. ``LogisticRegressionClassifier``: scikit-learn multiplies the features by the
   transposed coefficients, which scipy copied into a new array (MBs) for every message.
   The coefficients are stored column-major once, so the transpose needs no copy. And it
   asked each message for its word-level and sentence-level features, each combined from
   four featurizers, to use only the sentence-level ones: now only those are combined.
5. Calls to the action server: each opened a new connection (a name look-up in a thread,
   a TCP handshake, a new pool) and wrote the whole conversation as JSON (about 60 KB) with
   the standard library, 0.4 ms a call. Connections are now kept open between calls (one
   pool per event loop, idle ones closed after ``KEEPALIVE_SECONDS``, well before the
   action server's own 5 s), and orjson writes the same JSON in a tenth of the time
   (falling back to the standard library for anything it refuses; NaN is written as null).
6. Rasa's message processor, forms and rule policy deep-copy events, slots and messages for every
   debug log line they pass to structlog, also when debug logging is off and the line is
   dropped. There those copies are made only when the ``rasa`` logger logs debug lines.
7. Not a cost but an order: Rasa works on every message that arrives at once, switching
   between them at each call to the action server, so under a burst a message with more
   steps waits behind every other message at each step. At most
   ``MAX_CONCURRENT_MESSAGES`` messages (default 4; 0: no limit) are worked on at a time,
   the others wait their turn in arrival order: the same throughput, a shorter tail. A
   message that waited ``TURN_WAIT_SECONDS`` goes ahead anyway, so nothing stuck holds up
   the rest.

Each has a name (``SPEEDUPS``); ``SPEEDUPS_OFF=name,name`` leaves those off, which is how
bench/variants/without-* measure what each is worth (bench/results.md).
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import logging
import weakref
from collections.abc import Callable
from typing import Any

import aiohttp
import numpy as np
import orjson
import scipy.sparse
from jsonschema import exceptions, validators
from rasa.core import processor as rasa_processor
from rasa.core.actions import forms as rasa_forms
from rasa.core.actions.action import RemoteAction
from rasa.core.policies import rule_policy
from rasa.core.processor import MessageProcessor
from rasa.engine.exceptions import GraphRunError
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.core import trackers as rasa_trackers
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
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT, EndpointConfig

from bot import settings

# --- 1. the action server's answers ----------------------------------------------------------
from bot.rasa import heap


class ActionResponseCheck:
    """Rasa's action-response schema, with each event checked only against its own event type."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self.full = validators.validator_for(schema)(schema)
        self.base: Any = None
        self.by_type: dict[str, Any] = {}
        items = schema.get("properties", {}).get("events", {}).get("items", {})
        alternatives = items.get("oneOf") or []
        names = [alt.get("properties", {}).get("event", {}).get("const") for alt in alternatives]
        if not names or None in names or len(set(names)) != len(names) or "event" not in items.get("required", []):
            return  # not the shape this relies on: every answer goes through the full schema
        base = copy.deepcopy(schema)
        del base["properties"]["events"]["items"]["oneOf"]
        self.base = self.full.__class__(base)
        self.by_type = {name: self.full.__class__(alt) for name, alt in zip(names, alternatives, strict=True)}

    def passes_quickly(self, result: Any) -> bool:
        """True only if the full schema passes too: base schema, and each event's own alternative.

        Every alternative pins ``event`` to a different constant, so an event valid for the
        alternative its type names fails every other one: exactly one of ``oneOf`` holds.
        """
        if self.base is None or not self.base.is_valid(result):
            return False
        for event in result.get("events") or ():
            check = self.by_type.get(event.get("event"))
            if check is None or not check.is_valid(event):
                return False
        return True

    def validate(self, result: Any) -> None:
        """Raises ``jsonschema.ValidationError`` exactly when the full schema does."""
        if self.passes_quickly(result):
            return
        error = exceptions.best_match(self.full.iter_errors(result))
        if error is not None:
            raise error


ACTION_RESPONSE = ActionResponseCheck(RemoteAction.action_response_format_spec())
_validate_action_result = RemoteAction._validate_action_result


def validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    """``RemoteAction._validate_action_result`` with the quick check first; failures as Rasa reports them."""
    if ACTION_RESPONSE.passes_quickly(result):
        return True
    return _validate_action_result(self, result)


# --- 2. applied events -----------------------------------------------------------------------

_CACHE_ATTRIBUTE = "_rhizotomy_applied_events"
_applied_events = rasa_trackers.DialogueStateTracker.applied_events


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
    if (cached is not None and cached[0] is events and cached[1] <= count and cached[3] == loop_names
            and events.maxlen is None and (cached[1] == 0 or events[cached[1] - 1] is cached[2])):
        start, applied = cached[1], list(cached[4])
    for event in itertools.islice(events, start, None):
        if isinstance(event, (Restarted, SessionStarted)):
            applied = []
        elif isinstance(event, ActionReverted):
            self._undo_till_previous(ActionExecuted, applied)
        elif isinstance(event, UserUtteranceReverted):
            self._undo_till_previous(UserUttered, applied)
            self._undo_till_previous(ActionExecuted, applied)
        elif (isinstance(event, ActionExecuted) and event.action_name in loop_names
              and not self._first_loop_execution_or_unhappy_path(event.action_name, applied)):
            self._undo_till_previous_loop_execution(event.action_name, applied)
        else:
            applied.append(event)
    self.__dict__[_CACHE_ATTRIBUTE] = (events, count, events[-1] if count else None, loop_names, list(applied))
    return applied


_states_for_tracker_history = Domain.states_for_tracker_history
_STATES_ATTRIBUTE = "_rhizotomy_states"


def states_for_tracker_history(self: Domain, tracker: Any, omit_unset_slots: bool = False,
                               ignore_rule_only_turns: bool = False,
                               rule_only_data: dict[str, Any] | None = None) -> list[State]:
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
    if (cached is not None and cached[0] == key and len(cached[1]) <= len(applied)
            and all(done is event for done, event in zip(cached[1], applied, strict=False))):
        _, replayed_events, replay, states = cached
    else:
        replayed_events, replay, states = [], tracker.init_copy(), []
    for event in applied[len(replayed_events):]:
        if isinstance(event, ActionExecuted):
            states.append(self._clean_state(self.get_active_state(replay, omit_unset_slots=omit_unset_slots)))
        replay.update(event)
    tracker.__dict__[_STATES_ATTRIBUTE] = (key, applied, replay, states)
    final = self._clean_state(self.get_active_state(replay, omit_unset_slots=omit_unset_slots))
    return [{kind: dict(sub_state) for kind, sub_state in state.items()} for state in states] + [final]


# --- 3. running the graph --------------------------------------------------------------------


def run_graph(self: DaskGraphRunner, inputs: dict[str, Any] | None = None,
              targets: list[str] | None = None) -> dict[str, Any]:
    """``DaskGraphRunner.run`` without dask: each needed node once, its inputs first, in this thread."""
    run_targets = targets if targets else self._graph_schema.target_names
    minimal = self.__dict__.setdefault("_rhizotomy_minimal", {})
    key = tuple(run_targets)
    schema = minimal.get(key)
    if schema is None:
        schema = minimal[key] = self._graph_schema.minimal_graph_schema(run_targets)
    results: dict[str, Any] = {}
    if inputs:
        self._add_inputs_to_graph(inputs, dict.fromkeys(schema.nodes))  # Rasa's name-clash check
        results.update({name: (name, value) for name, value in inputs.items()})

    def compute(name: str) -> Any:
        if name not in results:
            node = schema.nodes.get(name)
            if node is None:  # dask passes a key it does not know on as the value itself
                return name
            results[name] = self._instantiated_nodes[name](*(compute(need) for need in node.needs.values()))
        return results[name]

    try:
        return dict(compute(target) for target in run_targets)
    except RuntimeError as error:
        raise GraphRunError("Error running runner.") from error


# --- 4. the intent classifier ----------------------------------------------------------------

_load_classifier: Callable[..., Any] = LogisticRegressionClassifier.load.__func__  # type: ignore[attr-defined]


def create_x(self: LogisticRegressionClassifier, messages: list[Message]) -> scipy.sparse.csr_matrix:
    """``LogisticRegressionClassifier._create_X``, combining only the sentence features it uses."""
    rows = []
    for message in messages:
        _, sentence = message._filter_sparse_features(TEXT, [])
        sparse = message._combine_features(sentence, [])
        dense = message.get_dense_features(attribute=TEXT)[1]
        rows.append(scipy.sparse.hstack([scipy.sparse.csr_matrix(sparse.features if sparse else []),
                                         scipy.sparse.csr_matrix(dense.features if dense else [])]))
    return scipy.sparse.vstack(rows)


def load_classifier(cls: Any, *args: Any, **kwargs: Any) -> Any:
    """``LogisticRegressionClassifier.load``, with the coefficients column-major (same numbers)."""
    component = _load_classifier(cls, *args, **kwargs)
    classifier = getattr(component, "clf", None)
    if classifier is not None and hasattr(classifier, "coef_"):
        classifier.coef_ = np.asfortranarray(classifier.coef_)
    return component


# --- 5. JSON for the action server ----------------------------------------------------------

# Dataclasses and dates go to ``_float_subclass`` (refused) as the standard library refuses them;
# numpy's float64 (a float) is written as a float, other numpy values are refused.
_ORJSON_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME


def _float_subclass(value: Any) -> float:
    if isinstance(value, float):
        return float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def dumps(value: Any) -> str:
    """JSON text of ``value``, as ``json.dumps`` writes it: orjson where it can, else the standard library.

    Two differences, neither in a tracker Rasa sends: NaN and infinities (not JSON) are
    written as null instead of NaN/Infinity, and plain Enum members and UUIDs are written
    instead of refused.
    """
    try:
        return orjson.dumps(value, default=_float_subclass, option=_ORJSON_OPTIONS).decode()
    except TypeError:
        return json.dumps(value)


KEEPALIVE_SECONDS = 1.0
_CONNECTORS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aiohttp.TCPConnector] = (
    weakref.WeakKeyDictionary())


def session(self: EndpointConfig) -> aiohttp.ClientSession:
    """``EndpointConfig.session`` (same headers, auth and time-out) on this loop's kept connections."""
    loop = asyncio.get_running_loop()
    connector = _CONNECTORS.get(loop)
    if connector is None or connector.closed:
        connector = _CONNECTORS[loop] = aiohttp.TCPConnector(keepalive_timeout=KEEPALIVE_SECONDS)
    auth = aiohttp.BasicAuth(self.basic_auth["username"], self.basic_auth["password"]) if self.basic_auth else None
    return aiohttp.ClientSession(headers=self.headers, auth=auth, json_serialize=dumps, connector=connector,
                                 connector_owner=False, timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT))


# --- 6. copies made only for debug log lines ------------------------------------------------

_RASA_LOGGER = logging.getLogger("rasa")


class CopyForDebugLogs:
    """The ``copy`` module for modules whose deep copies only go into debug log lines."""

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)

    @staticmethod
    def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
        return copy.deepcopy(value, memo) if _RASA_LOGGER.isEnabledFor(logging.DEBUG) else value


# --- 7. messages worked on at a time ---------------------------------------------------------

MAX_CONCURRENT_MESSAGES = settings.max_concurrent_messages()
# A message that waited this long goes ahead without a turn: turns held that long mean something
# is stuck (an action server not answering), and an emergency must not wait behind it.
TURN_WAIT_SECONDS = 5.0
_TURNS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = weakref.WeakKeyDictionary()
_handle_message = MessageProcessor.handle_message
logger = logging.getLogger(__name__)


async def handle_message(self: MessageProcessor, message: Any) -> Any:
    """``MessageProcessor.handle_message`` once one of ``MAX_CONCURRENT_MESSAGES`` turns is free."""
    heap.freeze_startup()  # the model is loaded by the first message
    if MAX_CONCURRENT_MESSAGES <= 0:
        return await _handle_message(self, message)
    loop = asyncio.get_running_loop()
    turns = _TURNS.get(loop)
    if turns is None:
        turns = _TURNS[loop] = asyncio.Semaphore(MAX_CONCURRENT_MESSAGES)
    if not await _take_turn(turns):
        logger.warning("No turn free for %.0f s: handling a message without one.", TURN_WAIT_SECONDS)
        return await _handle_message(self, message)
    try:
        return await _handle_message(self, message)
    finally:
        turns.release()


async def _take_turn(turns: asyncio.Semaphore) -> bool:
    """Waits up to ``TURN_WAIT_SECONDS`` for a turn; False if none came (none is then held)."""
    acquiring = asyncio.ensure_future(turns.acquire())
    try:
        done, _ = await asyncio.wait({acquiring}, timeout=TURN_WAIT_SECONDS)
    except BaseException:  # cancelled while waiting (the patient's connection closed)
        _give_back(acquiring, turns)
        raise
    if acquiring in done:
        return True
    _give_back(acquiring, turns)
    return False


def _give_back(acquiring: asyncio.Future[Any], turns: asyncio.Semaphore) -> None:
    """Stops waiting for a turn; a turn granted in the same instant is released at once."""
    acquiring.cancel()
    acquiring.add_done_callback(
        lambda task: turns.release() if not task.cancelled() and task.exception() is None else None)


# --- applying them ---------------------------------------------------------------------------

SPEEDUPS: dict[str, list[tuple[Any, str, Any]]] = {  # name: (owner, attribute, new value) to set
    "action-response-check": [(RemoteAction, "_validate_action_result", validate_action_result)],
    "applied-events": [(rasa_trackers.DialogueStateTracker, "applied_events", applied_events),
                       (Domain, "states_for_tracker_history", states_for_tracker_history)],
    "graph-runner": [(DaskGraphRunner, "run", run_graph)],
    "classifier": [(LogisticRegressionClassifier, "load", classmethod(load_classifier)),
                   (LogisticRegressionClassifier, "_create_X", create_x)],
    "action-server-connection": [(EndpointConfig, "session", session)],
    "debug-log-copies": [(module, "copy", CopyForDebugLogs()) for module in (rasa_processor, rasa_forms, rule_policy)],
    # Always in place; off means MAX_CONCURRENT_MESSAGES=0. It also freezes the heap (bot/rasa/heap.py).
    "message-turns": [(MessageProcessor, "handle_message", handle_message)],
}
_OFF = settings.speedups_off()
if _OFF - SPEEDUPS.keys() - {heap.NAME}:
    raise settings.SettingsError(f"SPEEDUPS_OFF names {', '.join(sorted(_OFF - SPEEDUPS.keys() - {heap.NAME}))}; "
                                 f"the speed-ups are {', '.join([*SPEEDUPS, heap.NAME])}")
if "message-turns" in _OFF:
    MAX_CONCURRENT_MESSAGES = 0
for _name, _patches in SPEEDUPS.items():
    if _name not in _OFF or _name == "message-turns":
        for _owner, _attribute, _value in _patches:
            setattr(_owner, _attribute, _value)
