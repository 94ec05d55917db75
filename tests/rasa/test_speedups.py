"""Each Rasa 3.6 speed-up in bot/rasa/speedups/ computes what Rasa's own code computes, and installing them
is explicit, checked and undone.

Every test of a speed-up puts a patched function next to Rasa's original (kept by the module, or
rebuilt here from Rasa's source where the module keeps none) and compares the answers. Importing
patches nothing, so each test installs them (an autouse fixture, as `python -m bot serve` does) and
uninstalls them after; the tests of installing itself start from Rasa's own code (``stock_rasa``),
and after the last test of this module Rasa is checked to be its own again, for the tests that follow.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import datetime
import gc
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

import aiohttp
import dask
import jsonschema
import numpy as np
import pytest
import scipy.sparse
from rasa.core.actions.action import RemoteAction
from rasa.core.agent import Agent
from rasa.core.channels.channel import UserMessage
from rasa.core.processor import MessageProcessor
from rasa.engine.constants import PLACEHOLDER_MESSAGE, PLACEHOLDER_TRACKER
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActionExecutionRejected,
    ActionReverted,
    ActiveLoop,
    BotUttered,
    Event,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.slots import AnySlot
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT, EndpointConfig

from bench import scenario
from bot import cli, settings
from bot.rasa import heap, speedups
from bot.rasa.speedups import action_connection, action_response, applied_events, debug_log_copies, message_turns
from bot.rasa.speedups import classifier as classifier_speedup
from bot.rasa.speedups import graph_runner as graph_runner_speedup
from bot.settings import PROJECT_ROOT
from devtools import launch

MODEL = PROJECT_ROOT / "models" / "rhizotomy.tar.gz"

# --- installing (the tests of installing itself are at the end) -------------------------------

PATCHES: list[tuple[Any, str, Any]] = [patch for name in speedups.SPEEDUPS for patch in speedups.module(name).PATCHES]
_NOTHING = object()  # an owner's own __dict__ held nothing: the attribute was inherited


def own_entries() -> list[Any]:
    """What each patched owner's own ``__dict__`` holds now for its patched attribute."""
    return [vars(owner).get(attribute, _NOTHING) for owner, attribute, _ in PATCHES]


# Read as this module is collected, after importing every speed-up module and before any test ran.
STOCK = own_entries()


def stock_of(owner: Any, attribute: str) -> Any:
    """What Rasa's own ``owner.__dict__`` held for ``attribute`` before any test."""
    return next(stock for (o, a, _), stock in zip(PATCHES, STOCK, strict=True) if o is owner and a == attribute)


def label(owner: Any, attribute: str) -> str:
    return f"{getattr(owner, '__name__', owner)}.{attribute}"


def changed_from_stock() -> list[str]:
    """The patched attributes whose owner's own ``__dict__`` no longer holds Rasa's own object."""
    entries = zip(PATCHES, own_entries(), STOCK, strict=True)
    return [label(owner, attribute) for (owner, attribute, _), now, stock in entries if now is not stock]


@contextmanager
def speedups_on() -> Iterator[None]:
    """Every speed-up in Rasa for the block (as served with nothing in SPEEDUPS_OFF), Rasa's own code after it."""
    already = bool(speedups.installed())
    assert speedups.install(off=())
    try:
        yield
    finally:
        if not already:
            speedups.uninstall()


@pytest.fixture(autouse=True, scope="module")
def stock_rasa_after_these_tests() -> Iterator[None]:
    """Whatever happens here, the tests after this module run on Rasa's own code."""
    yield
    speedups.uninstall()
    assert changed_from_stock() == []


@pytest.fixture(autouse=True)
def installed() -> Iterator[None]:
    """Each test with the speed-ups in place, as the served assistant has them."""
    with speedups_on():
        yield


@pytest.fixture
def stock_rasa(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """For the tests of installing itself: Rasa's own code to start with (the autouse install undone)."""
    monkeypatch.delenv("SPEEDUPS_OFF", raising=False)
    speedups.uninstall()
    assert changed_from_stock() == [] and speedups.installed() == frozenset()
    yield
    speedups.uninstall()


SCHEMA = RemoteAction.action_response_format_spec()
ALTERNATIVES: list[dict[str, Any]] = SCHEMA["properties"]["events"]["items"]["oneOf"]
ACTION = RemoteAction("action_test", EndpointConfig("http://localhost:1"))

# --- 1. the action server's answers ----------------------------------------------------------

VALID_ANSWER = {
    "events": [
        {"event": "slot", "name": "consent_decision", "value": "yes", "timestamp": None},
        {"event": "active_loop", "name": "decision_form"},
        {"event": "bot", "text": "Thanks", "data": {"buttons": []}, "metadata": {"utter_action": "utter_thanks"}},
        {"event": "followup", "name": "action_listen"},
        {
            "event": "user",
            "text": "yes",
            "parse_data": {
                "intent": {"name": "affirm", "confidence": 0.9},
                "entities": [{"entity": "x", "value": 1, "start": 0}],
            },
        },
        {"event": "action", "name": "utter_greet", "policy": None, "confidence": 1.0},
        {"event": "restart", "timestamp": 1700000000.5},
    ],
    "responses": [{"text": "hello"}, {"template": "utter_greet"}],
}

INVALID_ANSWERS = {
    "unknown event type": {"events": [{"event": "no_such_event"}]},
    "slot name not a string": {"events": [{"event": "slot", "name": 3, "value": 1}]},
    "slot without a value": {"events": [{"event": "slot", "name": "x"}]},
    "timestamp a string": {"events": [{"event": "restart", "timestamp": "now"}]},
    "confidence a string": {"events": [{"event": "action", "name": "x", "confidence": "high"}]},
    "entity without a value": {"events": [{"event": "entities", "entities": [{"entity": "x"}]}]},
    "responses not a list": {"events": [], "responses": "not a list"},
    "event without event": {"events": [{"name": "x", "value": 1}]},
    "event not a string": {"events": [{"event": 42}]},
    "a valid event, then a broken one": {"events": [{"event": "restart"}, {"event": "slot", "value": 1}]},
    "events not a list": {"events": {"event": "restart"}},
}


def test_the_patch_is_installed() -> None:
    assert RemoteAction._validate_action_result is action_response.validate_action_result
    assert action_response.ACTION_RESPONSE.base is not None, "Rasa's schema changed shape: no quick path"


def test_a_valid_answer_with_several_event_types_passes() -> None:
    assert action_response._validate_action_result(ACTION, VALID_ANSWER)
    assert action_response.ACTION_RESPONSE.passes_quickly(VALID_ANSWER)
    assert ACTION._validate_action_result(VALID_ANSWER)


@pytest.mark.parametrize("answer", INVALID_ANSWERS.values(), ids=INVALID_ANSWERS.keys())
def test_an_invalid_answer_is_refused_as_rasa_refuses_it(answer: dict[str, Any]) -> None:
    """Same exception, same message and place as Rasa's own check: the action server's author reads it."""
    with pytest.raises(jsonschema.ValidationError) as expected:
        action_response._validate_action_result(ACTION, copy.deepcopy(answer))
    with pytest.raises(jsonschema.ValidationError) as actual:
        ACTION._validate_action_result(copy.deepcopy(answer))
    assert actual.value.message == expected.value.message
    assert list(actual.value.absolute_path) == list(expected.value.absolute_path)
    with pytest.raises(jsonschema.ValidationError) as checked:
        action_response.ACTION_RESPONSE.validate(answer)
    assert list(checked.value.absolute_path) == list(expected.value.absolute_path)


SAMPLES = {"string": "x", "number": 1.5, "integer": 1, "boolean": True, "object": {}, "array": [], "null": None}
WRONG_VALUES: list[Any] = [None, True, 0, 2.5, "x", [], [1], {}, {"x": 1}]
NESTED_BREAKS = [  # user events whose top-level fields are fine but whose parse data is not
    {"intent": {"name": "x", "confidence": "high"}},
    {"entities": [{"entity": "x"}]},
    {"intent_ranking": [{"name": 1}]},
    {"response_selector": {}},  # matches both of its own oneOf alternatives
]


def minimal_event(alternative: dict[str, Any]) -> dict[str, Any]:
    """The smallest event this alternative accepts: its type and a value for each required field."""
    properties = alternative["properties"]
    event = {"event": properties["event"]["const"]}
    for name in alternative.get("required", []):
        kind = properties[name].get("type", "string")
        event[name] = SAMPLES[kind[0] if isinstance(kind, list) else kind]
    return event


def generated_answers() -> Iterator[Any]:
    """Minimal valid events of every type, and variants with each field wrong, missing or renamed."""
    names = [alternative["properties"]["event"]["const"] for alternative in ALTERNATIVES]
    for alternative in ALTERNATIVES:
        event = minimal_event(alternative)
        yield {"events": [event]}
        for field in [*alternative["properties"], "timestamp", "metadata"]:
            for wrong in WRONG_VALUES:
                yield {"events": [{"event": "restart"}, {**event, field: wrong}]}
        for field in event:
            yield {"events": [{key: value for key, value in event.items() if key != field}]}
        for name in [*names, "no_such_event", "User", ""]:
            yield {"events": [{**event, "event": name}]}
    for parse_data in NESTED_BREAKS:
        yield {"events": [{"event": "user", "text": "hi", "parse_data": parse_data}]}
    yield from [None, [], "x", {}, {"events": None}, {"events": [None]}, {"responses": [1]}, {"events": [[]]}]


def test_the_quick_check_never_passes_what_the_full_schema_refuses() -> None:
    """The quick path skips Rasa's check, so it may only say yes where the full schema says yes."""
    check = action_response.ACTION_RESPONSE
    verdicts = [(check.passes_quickly(answer), check.full.is_valid(answer), answer) for answer in generated_answers()]
    wrongly_passed = [answer for quick, full, answer in verdicts if quick and not full]
    assert wrongly_passed == []
    assert any(not full for _, full, _ in verdicts) and any(full for _, full, _ in verdicts)


@pytest.mark.parametrize("alternative", ALTERNATIVES, ids=lambda alt: alt["properties"]["event"]["const"])
def test_every_event_type_takes_the_quick_path(alternative: dict[str, Any]) -> None:
    """Valid events must not fall back to the full schema: that is the cost the patch removes."""
    answer = {"events": [minimal_event(alternative)]}
    assert action_response.ACTION_RESPONSE.full.is_valid(answer)
    assert action_response.ACTION_RESPONSE.passes_quickly(answer)


def test_a_schema_of_another_shape_always_goes_through_the_full_check() -> None:
    check = action_response.ActionResponseCheck({"type": "object", "properties": {"events": {"type": "array"}}})
    assert check.base is None and not check.passes_quickly({"events": []})
    check.validate({"events": []})
    with pytest.raises(jsonschema.ValidationError):
        check.validate({"events": 1})


# --- 2. applied events -----------------------------------------------------------------------


def listen_then(text: str, intent: str) -> list[Event]:
    return [ActionExecuted("action_listen"), UserUttered(text, {"name": intent, "confidence": 1.0})]


def form_turn(form: str, value: str) -> list[Event]:
    """A user answer the form accepts: the form runs again and asks for the next slot."""
    return [*listen_then(value, "inform"), ActionExecuted(form), SlotSet("requested_slot", value)]


def start_form(form: str) -> list[Event]:
    return [
        *listen_then("start", "start_consent"),
        ActionExecuted(form),
        ActiveLoop(form),
        SlotSet("requested_slot", "first"),
    ]


def end_form(form: str) -> list[Event]:
    return [
        *listen_then("done", "inform"),
        ActionExecuted(form),
        ActiveLoop(None),
        SlotSet("requested_slot", None),
        ActionExecuted("utter_done"),
    ]


CONVERSATIONS: dict[str, list[Event]] = {
    "a form, start to end": [
        *listen_then("hi", "greet"),
        ActionExecuted("utter_greet"),
        BotUttered("Hello"),
        *start_form("decision_form"),
        *form_turn("decision_form", "a"),
        *form_turn("decision_form", "b"),
        *end_form("decision_form"),
        *listen_then("bye", "goodbye"),
        ActionExecuted("utter_goodbye"),
    ],
    "the form rejected, then a different action (unhappy path)": [
        *start_form("candidacy_form"),
        *listen_then("why?", "ask_why"),
        ActionExecutionRejected("candidacy_form"),
        ActionExecuted("utter_why"),
        ActionExecuted("candidacy_form"),
        *form_turn("candidacy_form", "a"),
        *listen_then("what is it", "ask_what_is"),
        ActionExecuted("utter_what_is"),
        ActionExecuted("candidacy_form"),
        *form_turn("candidacy_form", "b"),
        *end_form("candidacy_form"),
    ],
    "two forms, one inside the other's conversation": [
        *start_form("candidacy_form"),
        *form_turn("candidacy_form", "a"),
        *end_form("candidacy_form"),
        *start_form("understanding_form"),
        *form_turn("understanding_form", "b"),
        *form_turn("understanding_form", "c"),
        *end_form("understanding_form"),
        *form_turn("candidacy_form", "d"),
    ],
    "reverted utterances and actions": [
        *start_form("decision_form"),
        *form_turn("decision_form", "a"),
        UserUtteranceReverted(),
        *form_turn("decision_form", "b"),
        ActionReverted(),
        ActionExecuted("decision_form"),
        *listen_then("oops", "deny"),
        ActionExecuted("utter_sorry"),
        UserUtteranceReverted(),
        ActionReverted(),
        *form_turn("decision_form", "c"),
        *end_form("decision_form"),
    ],
    "restarts and new sessions": [
        *start_form("decision_form"),
        *form_turn("decision_form", "a"),
        Restarted(),
        *form_turn("decision_form", "b"),
        *start_form("decision_form"),
        *form_turn("decision_form", "c"),
        ActionExecuted("action_session_start"),
        SessionStarted(),
        ActionExecuted("action_listen"),
        *form_turn("decision_form", "d"),
        *form_turn("decision_form", "e"),
    ],
    "a form's name appears only later": [  # the new name changes how the earlier events count
        *form_turn("intake_form", "a"),
        *form_turn("intake_form", "b"),
        *form_turn("intake_form", "c"),
        *start_form("intake_form"),
        *form_turn("intake_form", "d"),
        *end_form("intake_form"),
        *form_turn("intake_form", "e"),
        *form_turn("later_form", "f"),
        *form_turn("later_form", "g"),
        ActiveLoop("later_form"),
        *form_turn("later_form", "h"),
    ],
}


def assert_same_applied_events(tracker: DialogueStateTracker, step: int) -> None:
    expected = applied_events._applied_events(tracker)
    actual = tracker.applied_events()
    assert actual == expected, f"after event {step}: {tracker.events[-1] if tracker.events else None}"
    assert [id(event) for event in actual] == [id(event) for event in expected], f"after event {step}"


@pytest.mark.parametrize("events", CONVERSATIONS.values(), ids=CONVERSATIONS.keys())
@pytest.mark.parametrize("max_event_history", [None, 12])
def test_applied_events_match_rasa_after_every_event(events: list[Event], max_event_history: int | None) -> None:
    """One tracker grows event by event, as in a conversation, so the remembered answer is reused."""
    assert DialogueStateTracker.applied_events is applied_events.applied_events
    tracker = DialogueStateTracker.from_events(
        "patient", events[:2], slots=[AnySlot("requested_slot", [])], max_event_history=max_event_history
    )
    assert_same_applied_events(tracker, 2)
    for step, event in enumerate(events[2:], start=3):
        tracker.update(copy.deepcopy(event))
        assert_same_applied_events(tracker, step)
        assert_same_applied_events(tracker, step)  # asked twice with nothing new


def assert_same_states(domain: Domain, tracker: DialogueStateTracker, step: int) -> None:
    expected = applied_events._states_for_tracker_history(domain, tracker)
    actual = domain.states_for_tracker_history(tracker)
    assert actual == expected, f"after event {step}: {tracker.events[-1] if tracker.events else None}"
    for state in actual:  # as the rule policy does to the states it gets: must not reach the kept ones
        state.get("user", {}).pop("text", None)
        state.pop("slots", None)


@pytest.mark.parametrize("events", CONVERSATIONS.values(), ids=CONVERSATIONS.keys())
def test_states_match_rasa_after_every_event(events: list[Event]) -> None:
    """The states before each action are kept while the conversation only grows; each answer is Rasa's."""
    assert Domain.states_for_tracker_history is applied_events.states_for_tracker_history
    domain = Domain.load(str(PROJECT_ROOT / "domain.yml"))
    tracker = DialogueStateTracker.from_events("patient", events[:2], slots=[AnySlot("requested_slot", [])])
    for step, event in enumerate(events[2:], start=3):
        tracker.update(copy.deepcopy(event))
        assert_same_states(domain, tracker, step)
        assert_same_states(domain, tracker, step)  # asked twice with nothing new, after the caller's edits


def test_the_caller_may_change_the_answer() -> None:
    """Rasa hands the list to code that edits it; the next answer must not see those edits."""
    events = CONVERSATIONS["a form, start to end"]
    tracker = DialogueStateTracker.from_events("patient", events[:10], slots=[AnySlot("requested_slot", [])])
    expected = applied_events._applied_events(tracker)
    answer = tracker.applied_events()
    answer.clear()
    assert tracker.applied_events() == expected
    tracker.applied_events().append(Restarted())
    tracker.update(ActionExecuted("utter_more"))
    assert tracker.applied_events() == applied_events._applied_events(tracker)


def test_the_same_event_object_appended_to_a_full_history() -> None:
    """A capped history drops old events, so the kept answer is never reused there."""
    tracker = DialogueStateTracker.from_events("patient", [UserUttered("a"), ActionExecuted("b")], max_event_history=3)
    same = ActionExecuted("utter_x")
    for event in [Restarted(), same, same]:
        tracker.update(event)
        assert_same_applied_events(tracker, len(tracker.events))


# --- 3 and 4. the graph runner and the intent classifier, on the trained model ---------------

MESSAGES = [
    "what is a rhizotomy?",
    "how long does recovery take",
    "can I drive home after the procedure",
    "what are the risks",
    "hi there",
    "thanks, bye",
    "are you a real person",
    "I can't breathe",
    "wat is radiofrequncy ablaton",
    "i want to talk to a nurse",
    "i consent",
]


@pytest.fixture(scope="module")
def agent() -> Agent:
    """The trained model, loaded once (about 10 s), with the speed-ups in place as it loads (the classifier's)."""
    if not MODEL.exists():
        pytest.skip(f"{MODEL} is missing: run `make model` first")
    with speedups_on():
        return Agent.load(str(MODEL))


def test_states_match_rasa_in_real_conversations(assistant: launch.Running, monkeypatch: pytest.MonkeyPatch) -> None:
    """Simulated patients (small talk, topics, the consent forms with the real action server) through
    the model: every time a policy asks for the states, the kept-and-continued answer is the one
    Rasa computes afresh."""
    action_server = EndpointConfig(assistant.actions_url, headers={"Authorization": f"Bearer {assistant.action_token}"})
    agent = Agent.load(str(MODEL), action_endpoint=action_server)
    asked = []

    def checked(domain: Domain, tracker: DialogueStateTracker, *args: Any, **kwargs: Any) -> list[Any]:
        expected = applied_events._states_for_tracker_history(domain, tracker, *args, **kwargs)
        actual = applied_events.states_for_tracker_history(domain, tracker, *args, **kwargs)
        assert actual == expected, f"{tracker.sender_id} after {len(tracker.events)} events"
        asked.append(len(actual))
        return actual

    monkeypatch.setattr(Domain, "states_for_tracker_history", checked)

    async def play() -> None:
        for index in range(3):
            for text in scenario.conversation(index, 20).messages:
                await agent.handle_message(UserMessage(text, sender_id=f"states-{index}"))

    asyncio.run(play())
    assert len(asked) > 60 and max(asked) > 10  # many predictions, well into each conversation
    tracker = asyncio.run(agent.tracker_store.retrieve("states-0"))
    assert tracker is not None and any(isinstance(e, ActiveLoop) and e.name for e in tracker.events)  # forms ran


def graph_runner(agent: Agent) -> DaskGraphRunner:
    assert agent.processor is not None
    runner = agent.processor.graph_runner
    assert isinstance(runner, DaskGraphRunner)
    return runner


def run_with_dask(runner: DaskGraphRunner, inputs: dict[str, Any], targets: list[str]) -> dict[str, Any]:
    """Rasa's own ``DaskGraphRunner.run``: the minimal graph, the inputs added, dask's scheduler."""
    graph = runner._build_dask_graph(runner._graph_schema.minimal_graph_schema(targets))
    runner._add_inputs_to_graph(inputs, graph)
    return dict(dask.get(graph, targets))


def nlu_inputs(text: str) -> dict[str, Any]:
    """What ``MessageProcessor._parse_message_with_graph`` passes, with a fresh message each time."""
    message = UserMessage(text, sender_id="patient")
    return {PLACEHOLDER_MESSAGE: [message], PLACEHOLDER_TRACKER: DialogueStateTracker.from_events("patient", [])}


def assert_same_parse(actual: dict[str, Any], expected: dict[str, Any]) -> None:
    assert actual["intent"]["name"] == expected["intent"]["name"]
    assert actual["intent"]["confidence"] == pytest.approx(expected["intent"]["confidence"], rel=1e-12)
    assert [i["name"] for i in actual["intent_ranking"]] == [i["name"] for i in expected["intent_ranking"]]
    assert [i["confidence"] for i in actual["intent_ranking"]] == pytest.approx(
        [i["confidence"] for i in expected["intent_ranking"]], rel=1e-12
    )
    assert actual.get("entities", []) == expected.get("entities", [])


def classifier(agent: Agent) -> tuple[str, LogisticRegressionClassifier]:
    """The classifier's node name and the component the loaded model runs."""
    for name, node in graph_runner(agent)._instantiated_nodes.items():
        if isinstance(node._component, LogisticRegressionClassifier):
            return name, node._component
    raise AssertionError("the model has no LogisticRegressionClassifier")


def featurized(agent: Agent, texts: list[str]) -> list[Message]:
    """The messages as the classifier receives them: the output of the node before it."""
    runner = graph_runner(agent)
    name, _ = classifier(agent)
    before = runner._graph_schema.nodes[name].needs["messages"]
    return [runner.run(inputs=nlu_inputs(text), targets=[before])[before][0] for text in texts]


def create_x_reference(self: LogisticRegressionClassifier, messages: list[Message]) -> scipy.sparse.csr_matrix:
    """Rasa 3.6's ``LogisticRegressionClassifier._create_X``, copied from its source."""
    X = []
    for e in messages:
        # First element is sequence features, second is sentence features
        sparse_feats = e.get_sparse_features(attribute=TEXT)[1]
        # First element is sequence features, second is sentence features
        dense_feats = e.get_dense_features(attribute=TEXT)[1]
        together = scipy.sparse.hstack(
            [
                scipy.sparse.csr_matrix(sparse_feats.features if sparse_feats else []),
                scipy.sparse.csr_matrix(dense_feats.features if dense_feats else []),
            ]
        )
        X.append(together)
    return scipy.sparse.vstack(X)


def test_the_runner_and_classifier_patches_are_installed() -> None:
    assert DaskGraphRunner.run is graph_runner_speedup.run_graph
    assert LogisticRegressionClassifier._create_X is classifier_speedup.create_x
    assert LogisticRegressionClassifier.load.__func__ is classifier_speedup.load_classifier  # type: ignore[attr-defined]


@pytest.mark.parametrize("text", MESSAGES)
def test_a_message_parses_as_with_dask(agent: Agent, text: str) -> None:
    """The whole NLU graph (patched runner, patched classifier) against dask's scheduler."""
    assert agent.processor is not None
    runner, target = graph_runner(agent), agent.processor.model_metadata.nlu_target
    expected = run_with_dask(runner, nlu_inputs(text), [target])[target][0].as_dict(only_output_properties=True)
    actual = runner.run(inputs=nlu_inputs(text), targets=[target])[target][0].as_dict(only_output_properties=True)
    assert_same_parse(actual, expected)
    parsed = asyncio.run(agent.parse_message(text))
    assert parsed["text"] == text
    assert_same_parse(parsed, expected)


def test_the_runner_runs_each_needed_node_once(agent: Agent) -> None:
    """Several targets that share nodes: same results as dask, and no node outside the targets' graph."""
    runner = graph_runner(agent)
    name, _ = classifier(agent)
    before = runner._graph_schema.nodes[name].needs["messages"]
    targets = [name, before, "nlu_message_converter"]
    expected = run_with_dask(runner, nlu_inputs("what is a rhizotomy"), targets)
    actual = runner.run(inputs=nlu_inputs("what is a rhizotomy"), targets=targets)
    assert list(actual) == list(expected) == targets
    assert actual[name][0] is actual[before][0]  # one message object passed along, as under dask
    assert_same_parse(actual[name][0].as_dict(), expected[name][0].as_dict())


def test_the_coefficients_are_column_major_and_give_the_same_probabilities(agent: Agent) -> None:
    _, component = classifier(agent)
    assert component.clf.coef_.flags.f_contiguous
    row_major = copy.copy(component.clf)
    row_major.coef_ = np.ascontiguousarray(component.clf.coef_)
    assert row_major.coef_.flags.c_contiguous and np.array_equal(row_major.coef_, component.clf.coef_)
    X = component._create_X(featurized(agent, MESSAGES))
    np.testing.assert_allclose(component.clf.predict_proba(X), row_major.predict_proba(X), rtol=1e-12, atol=0)


def test_the_features_are_those_rasa_combines(agent: Agent) -> None:
    """The counts the patched ``_create_X`` combines (the project's classifier weighs them afterwards)."""
    _, component = classifier(agent)
    create_x = LogisticRegressionClassifier._create_X
    messages = featurized(agent, MESSAGES)
    expected = create_x_reference(component, messages)
    actual = create_x(component, messages)
    assert actual.shape == expected.shape and actual.shape[0] == len(MESSAGES)
    assert actual.dtype == expected.dtype and actual.format == expected.format
    assert (actual != expected).nnz == 0
    for message in messages:  # one at a time, as Rasa's process() does it
        assert (create_x(component, [message]) != create_x_reference(component, [message])).nnz == 0


# --- 5. JSON for the action server ----------------------------------------------------------


@dataclasses.dataclass
class Point:
    x: int


JSON_VALUES = {
    "nested": {
        "events": [{"event": "slot", "name": "pain", "value": 7.25, "timestamp": 1700000000.123456}],
        "slots": {"a": None, "b": [1, 2.5, -0.0, 1e16, 5e-324], "c": {"d": {"e": True}}},
    },
    "unicode": {"text": 'café – ça va? 你好 🙂 \u0000 "quoted" \\', "ключ": "значение"},
    "numpy float64": {"confidence": np.float64(0.1) + np.float64(0.2), "list": [np.float64(1e-300)]},
    "non-string keys": {1: "a", 2.5: "b", None: "c", False: "d"},
    "big integer": {"n": 2**70},
    "tuple": {"t": (1, "two", None)},
}


def test_dumps_writes_nan_and_infinities_as_null() -> None:
    """The one documented difference: not JSON, so orjson writes null where json.dumps writes NaN."""
    assert json.loads(action_connection.dumps({"x": float("nan"), "y": float("inf")})) == {"x": None, "y": None}


@pytest.mark.parametrize("value", JSON_VALUES.values(), ids=JSON_VALUES.keys())
def test_dumps_writes_what_json_dumps_writes(value: Any) -> None:
    assert isinstance(action_connection.dumps(value), str)
    assert repr(json.loads(action_connection.dumps(value))) == repr(json.loads(json.dumps(value)))


REFUSED = {
    "object": object(),
    "set": {1, 2},
    "numpy int64": np.int64(3),
    "numpy float32": np.float32(0.5),
    "numpy array": np.array([1.0]),
    "date": datetime.date(2024, 1, 1),
    "dataclass": Point(1),
}


@pytest.mark.parametrize("value", REFUSED.values(), ids=REFUSED.keys())
def test_dumps_refuses_what_json_dumps_refuses(value: Any) -> None:
    with pytest.raises(TypeError):
        json.dumps({"value": value})
    with pytest.raises(TypeError):
        action_connection.dumps({"value": value})


def test_action_server_sessions_share_one_pool_per_loop() -> None:
    """Each call opens a session and closes it; the connections must outlive it, in one pool."""
    assert EndpointConfig.session is action_connection.session

    async def check() -> None:
        endpoint = EndpointConfig(
            "http://localhost:1", headers={"X-Test": "1"}, basic_auth={"username": "rasa", "password": "secret"}
        )
        first, second = endpoint.session(), endpoint.session()
        connector = first.connector
        try:
            assert isinstance(first, aiohttp.ClientSession)
            assert first._json_serialize is action_connection.dumps
            assert connector is not None and second.connector is connector
            assert first.headers["X-Test"] == "1"
            assert first.auth == aiohttp.BasicAuth("rasa", "secret")
            assert first.timeout.total == DEFAULT_REQUEST_TIMEOUT
        finally:
            await first.close()
            await second.close()
        assert connector is not None and not connector.closed
        third = EndpointConfig("http://localhost:1").session()
        assert third.connector is connector and third.auth is None
        await third.close()
        await connector.close()

    asyncio.run(check())


# --- 6. copies made only for debug log lines ------------------------------------------------


@pytest.fixture
def rasa_logger() -> Iterator[logging.Logger]:
    logger = logging.getLogger("rasa")
    level = logger.level
    yield logger
    logger.setLevel(level)


def test_the_copy_modules_are_replaced() -> None:
    """Only in modules whose every ``copy.`` use feeds a debug log line (read in Rasa 3.6.21)."""
    from rasa.core import processor
    from rasa.core.actions import forms
    from rasa.core.policies import rule_policy

    for module in (processor, forms, rule_policy):
        assert isinstance(module.copy, debug_log_copies.CopyForDebugLogs)
    assert processor.copy.copy is copy.copy  # everything but deepcopy is the copy module's


def test_no_copy_when_debug_lines_are_dropped(rasa_logger: logging.Logger) -> None:
    value = {"slots": [{"name": "a", "value": [1, 2]}]}
    rasa_logger.setLevel(logging.INFO)
    assert debug_log_copies.CopyForDebugLogs.deepcopy(value) is value


def test_a_real_copy_when_debug_lines_are_logged(rasa_logger: logging.Logger) -> None:
    value = {"slots": [{"name": "a", "value": [1, 2]}]}
    rasa_logger.setLevel(logging.DEBUG)
    copied = debug_log_copies.CopyForDebugLogs().deepcopy(value)
    assert copied == value and copied is not value
    assert copied["slots"][0]["value"] is not value["slots"][0]["value"]


# --- 7. messages worked on at a time ---------------------------------------------------------


class FakeHandler:
    """Stands in for Rasa's ``handle_message``: records how many run at once and in which order they start."""

    def __init__(self) -> None:
        self.running = self.most = 0
        self.started: list[int] = []

    async def __call__(self, processor: Any, message: int) -> int:
        self.started.append(message)
        self.running += 1
        self.most = max(self.most, self.running)
        await asyncio.sleep(0.001 * (1 + message % 4))  # different lengths: turns free up out of order
        self.running -= 1
        return message


def burst(handler: FakeHandler, count: int) -> list[int]:
    processor = cast(MessageProcessor, None)

    async def send_all() -> list[int]:
        return list(await asyncio.gather(*(message_turns.handle_message(processor, i) for i in range(count))))

    return asyncio.run(send_all())


@pytest.fixture
def handler(monkeypatch: pytest.MonkeyPatch) -> FakeHandler:
    fake = FakeHandler()
    monkeypatch.setattr(message_turns, "_handle_message", fake)
    monkeypatch.setattr(heap, "_frozen", True)  # the freeze has its own test
    return fake


def test_at_most_the_limit_run_at_once_in_arrival_order(handler: FakeHandler, monkeypatch: pytest.MonkeyPatch) -> None:
    assert MessageProcessor.handle_message is message_turns.handle_message
    monkeypatch.setattr(message_turns, "MAX_CONCURRENT_MESSAGES", 3)
    assert burst(handler, 10) == list(range(10))
    assert handler.most == 3
    assert handler.started == list(range(10))


def test_zero_means_no_limit(handler: FakeHandler, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(message_turns, "MAX_CONCURRENT_MESSAGES", 0)
    assert burst(handler, 10) == list(range(10))
    assert handler.most == 10


def test_the_first_message_freezes_startup_objects(handler: FakeHandler, monkeypatch: pytest.MonkeyPatch) -> None:
    """The model is loaded by then; the garbage collector should stop walking it."""
    monkeypatch.setattr(heap, "_frozen", False)
    frozen_before = gc.get_freeze_count()
    try:
        assert burst(handler, 1) == [0]
        assert gc.get_freeze_count() > 0
    finally:
        if frozen_before == 0:
            gc.unfreeze()


def test_a_stuck_turn_holds_no_one_up_for_long(monkeypatch: pytest.MonkeyPatch) -> None:
    """With every turn held by a message that does not finish (an action server that does not
    answer), a new message goes ahead after TURN_WAIT_SECONDS; no turn is lost on the way."""
    monkeypatch.setattr(heap, "_frozen", True)
    monkeypatch.setattr(message_turns, "MAX_CONCURRENT_MESSAGES", 2)
    monkeypatch.setattr(message_turns, "TURN_WAIT_SECONDS", 0.05)
    release = asyncio.Event()

    async def handle(processor: Any, message: str) -> str:
        if message.startswith("stuck"):
            await release.wait()
        return message

    monkeypatch.setattr(message_turns, "_handle_message", handle)
    processor = cast(MessageProcessor, None)

    async def scenario() -> tuple[str, int, int]:
        stuck = [asyncio.ensure_future(message_turns.handle_message(processor, f"stuck {i}")) for i in range(2)]
        await asyncio.sleep(0.01)
        urgent = await asyncio.wait_for(message_turns.handle_message(processor, "I can't breathe"), 1)
        waiting = asyncio.ensure_future(message_turns.handle_message(processor, "cancelled"))
        await asyncio.sleep(0.01)
        waiting.cancel()  # the patient's connection closed while it waited
        release.set()
        await asyncio.gather(*stuck)
        turns = message_turns._TURNS[asyncio.get_running_loop()]
        await asyncio.sleep(0.01)
        return urgent, turns._value, len([w for w in turns._waiters or () if not w.done()])

    urgent, free, waiting = asyncio.run(scenario())
    assert urgent == "I can't breathe"
    assert (free, waiting) == (2, 0)


# --- installing: explicit, once, undone ------------------------------------------------------

IMPORT_CHECK = """
import json, sys
from rasa.core import processor
from rasa.core.actions import action, forms
from rasa.core.policies import rule_policy
from rasa.engine import graph
from rasa.engine.runner import dask
from rasa.nlu.classifiers import logistic_regression_classifier
from rasa.shared.core import domain, events, trackers
from rasa.shared.nlu.training_data import message
from rasa.utils import endpoints


def namespaces():  # every Rasa module and every class defined in one, with what its own __dict__ holds
    found = {}
    for name, module in list(sys.modules.items()):
        if name == "rasa" or name.startswith("rasa."):
            found[name] = (module, dict(vars(module)))
            for value in list(vars(module).values()):
                if isinstance(value, type) and value.__module__ == name:
                    found[name + ":" + value.__qualname__] = (value, dict(vars(value)))
    return found


before = namespaces()
from bot.rasa import speedups
for name in speedups.SPEEDUPS:
    speedups.module(name)
changes = []
for key, (owner, held) in before.items():
    now = dict(vars(owner))
    changes += [f"{key}.{attribute}" for attribute, value in held.items() if now.get(attribute, held) is not value]
    changes += [f"{key}.{attribute} (added)" for attribute, value in now.items()
                if attribute not in held and type(value).__name__ != "module"]  # a submodule imported is no patch
print(json.dumps({"changes": changes, "installed": sorted(speedups.installed()),
                  "modules": sorted(m for m in sys.modules if m.startswith("bot.rasa.speedups."))}))
"""


def python_env() -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(PROJECT_ROOT),
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "RASA_TELEMETRY_ENABLED": "false",
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
    }


def test_importing_the_speedups_patches_nothing() -> None:
    """A fresh process: every attribute of every Rasa module and class is what it was before the imports."""
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_CHECK],
        cwd=PROJECT_ROOT,
        env=python_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["changes"] == []
    assert found["installed"] == []
    assert len(found["modules"]) == len(speedups.SPEEDUPS)  # every module was imported


def test_rasa_held_its_own_code_when_this_module_was_collected() -> None:
    """This module imported every speed-up module before reading ``STOCK``: none of it is a patch."""
    assert len(STOCK) == len(PATCHES) >= 10
    for (owner, attribute, value), stock in zip(PATCHES, STOCK, strict=True):
        assert stock is not _NOTHING, f"{owner}.{attribute}: Rasa 3.6.21 defines it on the owner itself"
        assert stock is not value, f"{owner}.{attribute} was patched at import"
    assert stock_of(RemoteAction, "_validate_action_result") is action_response._validate_action_result


def test_install_puts_every_patch_in_place(stock_rasa: None) -> None:
    assert speedups.install(off=())
    assert speedups.installed() == frozenset(speedups.SPEEDUPS)
    for (owner, attribute, value), now in zip(PATCHES, own_entries(), strict=True):
        assert now is value, f"{owner}.{attribute}"
    assert LogisticRegressionClassifier.load.__func__ is classifier_speedup.load_classifier  # type: ignore[attr-defined]
    assert settings.max_concurrent_messages() == message_turns.MAX_CONCURRENT_MESSAGES


def test_install_is_idempotent(stock_rasa: None) -> None:
    """A second call changes nothing, whatever it names, and so never takes a patch for Rasa's own code."""
    assert speedups.install(off=())
    after_first = own_entries()
    assert speedups.install(off=["graph-runner", "message-turns"])
    assert speedups.install()
    assert all(now is first for now, first in zip(own_entries(), after_first, strict=True))
    assert speedups.installed() == frozenset(speedups.SPEEDUPS)
    assert settings.max_concurrent_messages() == message_turns.MAX_CONCURRENT_MESSAGES
    speedups.uninstall()
    assert changed_from_stock() == []


def test_uninstall_restores_rasas_own_attributes(stock_rasa: None) -> None:
    """The very objects Rasa's own ``__dict__`` held: functions, the classmethod, the modules' ``copy``."""
    from rasa.core import processor
    from rasa.core.actions import forms
    from rasa.core.policies import rule_policy

    load = vars(LogisticRegressionClassifier)["load"]
    assert isinstance(load, classmethod)
    assert speedups.install(off=())
    assert changed_from_stock() == [label(owner, attribute) for owner, attribute, _ in PATCHES]
    speedups.uninstall()
    assert changed_from_stock() == []
    assert speedups.installed() == frozenset()
    assert vars(LogisticRegressionClassifier)["load"] is load
    assert LogisticRegressionClassifier.load.__func__ is classifier_speedup._load_classifier  # type: ignore[attr-defined]
    for module in (processor, forms, rule_policy):
        assert module.copy is copy
    assert RemoteAction._validate_action_result is action_response._validate_action_result
    assert DialogueStateTracker.applied_events is applied_events._applied_events
    assert Domain.states_for_tracker_history is applied_events._states_for_tracker_history
    assert MessageProcessor.handle_message is message_turns._handle_message
    speedups.uninstall()  # a second call does nothing
    assert changed_from_stock() == []


def test_an_inherited_attribute_is_deleted_again_not_copied_down() -> None:
    """Restoring an inherited attribute by setting it on the owner would hide later changes to the base class."""

    class Base:
        def greet(self) -> str:
            return "base"

        @classmethod
        def make(cls) -> str:
            return "made"

    class Child(Base):
        def own(self) -> str:
            return "own"

    own = vars(Child)["own"]
    originals = speedups._apply(
        [
            (Child, "greet", lambda self: "patched"),
            (Child, "make", classmethod(lambda cls: "patched")),
            (Child, "own", lambda self: "patched"),
        ]
    )
    assert (Child().greet(), Child.make(), Child().own()) == ("patched", "patched", "patched")
    speedups._restore(originals)
    assert "greet" not in vars(Child) and "make" not in vars(Child) and vars(Child)["own"] is own
    assert (Child().greet(), Child.make(), Child().own()) == ("base", "made", "own")


def test_what_is_left_off_stays_rasas_own(stock_rasa: None) -> None:
    """``message-turns`` left off stays in place without a limit (it also freezes the heap, which has its own name)."""
    assert speedups.install(off=["graph-runner", "message-turns", heap.NAME])
    assert speedups.installed() == frozenset(speedups.SPEEDUPS) - {"graph-runner"}
    assert vars(DaskGraphRunner)["run"] is stock_of(DaskGraphRunner, "run")
    assert MessageProcessor.handle_message is message_turns.handle_message
    assert message_turns.MAX_CONCURRENT_MESSAGES == 0
    assert heap._left_off is True
    speedups.uninstall()
    assert heap._left_off is None


def test_speedups_off_is_read_when_nothing_is_named(stock_rasa: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPEEDUPS_OFF", "classifier, action-server-connection")
    assert speedups.install()
    assert speedups.installed() == frozenset(speedups.SPEEDUPS) - {"classifier", "action-server-connection"}
    assert EndpointConfig.session is not action_connection.session
    assert heap._left_off is False


def test_an_unknown_name_installs_nothing(stock_rasa: None) -> None:
    with pytest.raises(settings.SettingsError, match="graph-runer"):
        speedups.install(off=["graph-runer"])
    assert speedups.installed() == frozenset() and changed_from_stock() == []


def test_another_rasa_version_gets_one_error_and_no_speedup(
    stock_rasa: None, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Rasa 3.6's method bodies must not go into another Rasa; the one line says what happened."""
    import rasa.version

    monkeypatch.setattr(rasa.version, "__version__", "3.7.0")
    with caplog.at_level(logging.INFO):
        assert speedups.install(off=()) is False
    assert speedups.installed() == frozenset() and changed_from_stock() == []
    lines = [record for record in caplog.records if record.levelno >= logging.WARNING]
    assert len(lines) == 1 and lines[0].levelno == logging.ERROR and lines[0].name == "bot.rasa.speedups"
    text = lines[0].getMessage()
    assert "3.7.0" in text and "3.6.21" in text and "no speed-up was installed" in text and "stock" in text
    monkeypatch.setattr(rasa.version, "__version__", speedups.WRITTEN_FOR)
    assert speedups.install(off=())  # the same process, on the Rasa they were written for


def test_every_rasa_name_the_speedups_rely_on_exists() -> None:
    """Every module's ``RASA_NAMES`` and patched attributes, on the Rasa installed (instance attributes
    read from the constructor that assigns them)."""
    for name in speedups.SPEEDUPS:
        module = speedups.module(name)
        assert module.PATCHES and module.RASA_NAMES, name
        assert {(o, a) for o, a, _ in module.PATCHES} <= set(module.RASA_NAMES), name
    assert speedups.rasa_names_missing() == []
    assert speedups.rasa_names_missing(
        [
            (DaskGraphRunner, "_instantiated_nodes"),
            (DaskGraphRunner, "_no_such_thing"),
            (DialogueStateTracker, "eventz"),
        ]
    ) == ["DaskGraphRunner._no_such_thing", "DialogueStateTracker.eventz"]


def test_serve_installs_the_speedups_then_runs_rasa_run_here(stock_rasa: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """``python -m bot serve ARGS`` is ``rasa run ARGS`` in this process, the speed-ups already in place."""
    import rasa.__main__

    seen: dict[str, Any] = {}

    def rasa_main() -> None:
        seen.update(argv=list(sys.argv), installed=speedups.installed(), run=vars(DaskGraphRunner)["run"])

    monkeypatch.setattr(rasa.__main__, "main", rasa_main)
    argv = list(sys.argv)
    assert cli.main(["serve", "--model", "models/x.tar.gz", "--port", "5999", "--enable-api", "-vv"]) == 0
    assert seen["argv"] == ["rasa", "run", "--model", "models/x.tar.gz", "--port", "5999", "--enable-api", "-vv"]
    assert seen["installed"] == frozenset(speedups.SPEEDUPS)
    assert seen["run"] is graph_runner_speedup.run_graph
    assert sys.argv == argv
    seen.clear()
    assert cli.main(["serve", "actions"]) == 2  # the action server is `rasa run actions`
    monkeypatch.setenv("SPEEDUPS_OFF", "graph-runer")
    speedups.uninstall()
    assert cli.main(["serve"]) == 2  # a typo in SPEEDUPS_OFF: not served
    assert seen == {} and speedups.installed() == frozenset()


def test_python_m_bot_serve_reaches_rasa_run() -> None:
    """The real command line, cheaply: ``--help`` goes through to ``rasa run``, which prints its usage."""
    done = subprocess.run(
        [sys.executable, "-m", "bot", "serve", "--help"],
        cwd=PROJECT_ROOT,
        env=python_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "usage: rasa run" in done.stdout and "--enable-api" in done.stdout
