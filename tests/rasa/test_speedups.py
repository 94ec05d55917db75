"""Each Rasa 3.6 speed-up in bot/rasa/speedups.py computes what Rasa's own code computes.

Every test puts a patched function next to Rasa's original (kept by the module, or rebuilt
here from Rasa's source where the module keeps none) and compares the answers.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import datetime
import gc
import json
import logging
from collections.abc import Iterator
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
from bot.rasa import heap
from bot.rasa import speedups as rasa_speedups
from bot.settings import PROJECT_ROOT
from devtools import launch

MODEL = PROJECT_ROOT / "models" / "rhizotomy.tar.gz"
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
        {"event": "user", "text": "yes", "parse_data": {"intent": {"name": "affirm", "confidence": 0.9},
                                                        "entities": [{"entity": "x", "value": 1, "start": 0}]}},
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
    assert RemoteAction._validate_action_result is rasa_speedups.validate_action_result
    assert rasa_speedups.ACTION_RESPONSE.base is not None, "Rasa's schema changed shape: no quick path"


def test_a_valid_answer_with_several_event_types_passes() -> None:
    assert rasa_speedups._validate_action_result(ACTION, VALID_ANSWER)
    assert rasa_speedups.ACTION_RESPONSE.passes_quickly(VALID_ANSWER)
    assert ACTION._validate_action_result(VALID_ANSWER)


@pytest.mark.parametrize("answer", INVALID_ANSWERS.values(), ids=INVALID_ANSWERS.keys())
def test_an_invalid_answer_is_refused_as_rasa_refuses_it(answer: dict[str, Any]) -> None:
    """Same exception, same message and place as Rasa's own check: the action server's author reads it."""
    with pytest.raises(jsonschema.ValidationError) as expected:
        rasa_speedups._validate_action_result(ACTION, copy.deepcopy(answer))
    with pytest.raises(jsonschema.ValidationError) as actual:
        ACTION._validate_action_result(copy.deepcopy(answer))
    assert actual.value.message == expected.value.message
    assert list(actual.value.absolute_path) == list(expected.value.absolute_path)
    with pytest.raises(jsonschema.ValidationError) as checked:
        rasa_speedups.ACTION_RESPONSE.validate(answer)
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
    check = rasa_speedups.ACTION_RESPONSE
    verdicts = [(check.passes_quickly(answer), check.full.is_valid(answer), answer) for answer in generated_answers()]
    wrongly_passed = [answer for quick, full, answer in verdicts if quick and not full]
    assert wrongly_passed == []
    assert any(not full for _, full, _ in verdicts) and any(full for _, full, _ in verdicts)


@pytest.mark.parametrize("alternative", ALTERNATIVES, ids=lambda alt: alt["properties"]["event"]["const"])
def test_every_event_type_takes_the_quick_path(alternative: dict[str, Any]) -> None:
    """Valid events must not fall back to the full schema: that is the cost the patch removes."""
    answer = {"events": [minimal_event(alternative)]}
    assert rasa_speedups.ACTION_RESPONSE.full.is_valid(answer)
    assert rasa_speedups.ACTION_RESPONSE.passes_quickly(answer)


def test_a_schema_of_another_shape_always_goes_through_the_full_check() -> None:
    check = rasa_speedups.ActionResponseCheck({"type": "object", "properties": {"events": {"type": "array"}}})
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
    return [*listen_then("start", "start_consent"), ActionExecuted(form), ActiveLoop(form),
            SlotSet("requested_slot", "first")]


def end_form(form: str) -> list[Event]:
    return [*listen_then("done", "inform"), ActionExecuted(form), ActiveLoop(None),
            SlotSet("requested_slot", None), ActionExecuted("utter_done")]


CONVERSATIONS: dict[str, list[Event]] = {
    "a form, start to end": [
        *listen_then("hi", "greet"), ActionExecuted("utter_greet"), BotUttered("Hello"),
        *start_form("decision_form"), *form_turn("decision_form", "a"), *form_turn("decision_form", "b"),
        *end_form("decision_form"), *listen_then("bye", "goodbye"), ActionExecuted("utter_goodbye"),
    ],
    "the form rejected, then a different action (unhappy path)": [
        *start_form("candidacy_form"),
        *listen_then("why?", "ask_why"), ActionExecutionRejected("candidacy_form"), ActionExecuted("utter_why"),
        ActionExecuted("candidacy_form"), *form_turn("candidacy_form", "a"),
        *listen_then("what is it", "ask_what_is"), ActionExecuted("utter_what_is"),
        ActionExecuted("candidacy_form"), *form_turn("candidacy_form", "b"), *end_form("candidacy_form"),
    ],
    "two forms, one inside the other's conversation": [
        *start_form("candidacy_form"), *form_turn("candidacy_form", "a"), *end_form("candidacy_form"),
        *start_form("understanding_form"), *form_turn("understanding_form", "b"),
        *form_turn("understanding_form", "c"), *end_form("understanding_form"),
        *form_turn("candidacy_form", "d"),
    ],
    "reverted utterances and actions": [
        *start_form("decision_form"), *form_turn("decision_form", "a"), UserUtteranceReverted(),
        *form_turn("decision_form", "b"), ActionReverted(), ActionExecuted("decision_form"),
        *listen_then("oops", "deny"), ActionExecuted("utter_sorry"), UserUtteranceReverted(), ActionReverted(),
        *form_turn("decision_form", "c"), *end_form("decision_form"),
    ],
    "restarts and new sessions": [
        *start_form("decision_form"), *form_turn("decision_form", "a"), Restarted(),
        *form_turn("decision_form", "b"), *start_form("decision_form"), *form_turn("decision_form", "c"),
        ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen"),
        *form_turn("decision_form", "d"), *form_turn("decision_form", "e"),
    ],
    "a form's name appears only later": [  # the new name changes how the earlier events count
        *form_turn("intake_form", "a"), *form_turn("intake_form", "b"), *form_turn("intake_form", "c"),
        *start_form("intake_form"), *form_turn("intake_form", "d"), *end_form("intake_form"),
        *form_turn("intake_form", "e"), *form_turn("later_form", "f"), *form_turn("later_form", "g"),
        ActiveLoop("later_form"), *form_turn("later_form", "h"),
    ],
}


def assert_same_applied_events(tracker: DialogueStateTracker, step: int) -> None:
    expected = rasa_speedups._applied_events(tracker)
    actual = tracker.applied_events()
    assert actual == expected, f"after event {step}: {tracker.events[-1] if tracker.events else None}"
    assert [id(event) for event in actual] == [id(event) for event in expected], f"after event {step}"


@pytest.mark.parametrize("events", CONVERSATIONS.values(), ids=CONVERSATIONS.keys())
@pytest.mark.parametrize("max_event_history", [None, 12])
def test_applied_events_match_rasa_after_every_event(events: list[Event], max_event_history: int | None) -> None:
    """One tracker grows event by event, as in a conversation, so the remembered answer is reused."""
    assert DialogueStateTracker.applied_events is rasa_speedups.applied_events
    tracker = DialogueStateTracker.from_events("patient", events[:2], slots=[AnySlot("requested_slot", [])],
                                               max_event_history=max_event_history)
    assert_same_applied_events(tracker, 2)
    for step, event in enumerate(events[2:], start=3):
        tracker.update(copy.deepcopy(event))
        assert_same_applied_events(tracker, step)
        assert_same_applied_events(tracker, step)  # asked twice with nothing new


def assert_same_states(domain: Domain, tracker: DialogueStateTracker, step: int) -> None:
    expected = rasa_speedups._states_for_tracker_history(domain, tracker)
    actual = domain.states_for_tracker_history(tracker)
    assert actual == expected, f"after event {step}: {tracker.events[-1] if tracker.events else None}"
    for state in actual:  # as the rule policy does to the states it gets: must not reach the kept ones
        state.get("user", {}).pop("text", None)
        state.pop("slots", None)


@pytest.mark.parametrize("events", CONVERSATIONS.values(), ids=CONVERSATIONS.keys())
def test_states_match_rasa_after_every_event(events: list[Event]) -> None:
    """The states before each action are kept while the conversation only grows; each answer is Rasa's."""
    assert Domain.states_for_tracker_history is rasa_speedups.states_for_tracker_history
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
    expected = rasa_speedups._applied_events(tracker)
    answer = tracker.applied_events()
    answer.clear()
    assert tracker.applied_events() == expected
    tracker.applied_events().append(Restarted())
    tracker.update(ActionExecuted("utter_more"))
    assert tracker.applied_events() == rasa_speedups._applied_events(tracker)


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
    """The trained model, loaded once (about 10 s)."""
    if not MODEL.exists():
        pytest.skip(f"{MODEL} is missing: run `make model` first")
    return Agent.load(str(MODEL))


def test_states_match_rasa_in_real_conversations(assistant: launch.Running, monkeypatch: pytest.MonkeyPatch) -> None:
    """Simulated patients (small talk, topics, the consent forms with the real action server) through
    the model: every time a policy asks for the states, the kept-and-continued answer is the one
    Rasa computes afresh."""
    agent = Agent.load(str(MODEL), action_endpoint=EndpointConfig(assistant.actions_url))
    asked = []

    def checked(domain: Domain, tracker: DialogueStateTracker, *args: Any, **kwargs: Any) -> list[Any]:
        expected = rasa_speedups._states_for_tracker_history(domain, tracker, *args, **kwargs)
        actual = rasa_speedups.states_for_tracker_history(domain, tracker, *args, **kwargs)
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
        [i["confidence"] for i in expected["intent_ranking"]], rel=1e-12)
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
    assert DaskGraphRunner.run is rasa_speedups.run_graph
    assert LogisticRegressionClassifier._create_X is rasa_speedups.create_x
    assert LogisticRegressionClassifier.load.__func__ is rasa_speedups.load_classifier  # type: ignore[attr-defined]


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
    _, component = classifier(agent)
    messages = featurized(agent, MESSAGES)
    expected = create_x_reference(component, messages)
    actual = component._create_X(messages)
    assert actual.shape == expected.shape and actual.shape[0] == len(MESSAGES)
    assert actual.dtype == expected.dtype and actual.format == expected.format
    assert (actual != expected).nnz == 0
    for message in messages:  # one at a time, as Rasa's process() does it
        assert (component._create_X([message]) != create_x_reference(component, [message])).nnz == 0


# --- 5. JSON for the action server ----------------------------------------------------------


@dataclasses.dataclass
class Point:
    x: int


JSON_VALUES = {
    "nested": {"events": [{"event": "slot", "name": "pain", "value": 7.25, "timestamp": 1700000000.123456}],
               "slots": {"a": None, "b": [1, 2.5, -0.0, 1e16, 5e-324], "c": {"d": {"e": True}}}},
    "unicode": {"text": "café – ça va? 你好 🙂 \u0000 \"quoted\" \\", "ключ": "значение"},
    "numpy float64": {"confidence": np.float64(0.1) + np.float64(0.2), "list": [np.float64(1e-300)]},
    "non-string keys": {1: "a", 2.5: "b", None: "c", False: "d"},
    "big integer": {"n": 2**70},
    "tuple": {"t": (1, "two", None)},
}


def test_dumps_writes_nan_and_infinities_as_null() -> None:
    """The one documented difference: not JSON, so orjson writes null where json.dumps writes NaN."""
    assert json.loads(rasa_speedups.dumps({"x": float("nan"), "y": float("inf")})) == {"x": None, "y": None}


@pytest.mark.parametrize("value", JSON_VALUES.values(), ids=JSON_VALUES.keys())
def test_dumps_writes_what_json_dumps_writes(value: Any) -> None:
    assert isinstance(rasa_speedups.dumps(value), str)
    assert repr(json.loads(rasa_speedups.dumps(value))) == repr(json.loads(json.dumps(value)))


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
        rasa_speedups.dumps({"value": value})


def test_action_server_sessions_share_one_pool_per_loop() -> None:
    """Each call opens a session and closes it; the connections must outlive it, in one pool."""
    assert EndpointConfig.session is rasa_speedups.session

    async def check() -> None:
        endpoint = EndpointConfig("http://localhost:1", headers={"X-Test": "1"},
                                  basic_auth={"username": "rasa", "password": "secret"})
        first, second = endpoint.session(), endpoint.session()
        connector = first.connector
        try:
            assert isinstance(first, aiohttp.ClientSession)
            assert first._json_serialize is rasa_speedups.dumps
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
        assert isinstance(module.copy, rasa_speedups.CopyForDebugLogs)
    assert processor.copy.copy is copy.copy  # everything but deepcopy is the copy module's


def test_no_copy_when_debug_lines_are_dropped(rasa_logger: logging.Logger) -> None:
    value = {"slots": [{"name": "a", "value": [1, 2]}]}
    rasa_logger.setLevel(logging.INFO)
    assert rasa_speedups.CopyForDebugLogs.deepcopy(value) is value


def test_a_real_copy_when_debug_lines_are_logged(rasa_logger: logging.Logger) -> None:
    value = {"slots": [{"name": "a", "value": [1, 2]}]}
    rasa_logger.setLevel(logging.DEBUG)
    copied = rasa_speedups.CopyForDebugLogs().deepcopy(value)
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
        return list(await asyncio.gather(*(rasa_speedups.handle_message(processor, i) for i in range(count))))

    return asyncio.run(send_all())


@pytest.fixture
def handler(monkeypatch: pytest.MonkeyPatch) -> FakeHandler:
    fake = FakeHandler()
    monkeypatch.setattr(rasa_speedups, "_handle_message", fake)
    monkeypatch.setattr(heap, "_frozen", True)  # the freeze has its own test
    return fake


def test_at_most_the_limit_run_at_once_in_arrival_order(handler: FakeHandler, monkeypatch: pytest.MonkeyPatch) -> None:
    assert MessageProcessor.handle_message is rasa_speedups.handle_message
    monkeypatch.setattr(rasa_speedups, "MAX_CONCURRENT_MESSAGES", 3)
    assert burst(handler, 10) == list(range(10))
    assert handler.most == 3
    assert handler.started == list(range(10))


def test_zero_means_no_limit(handler: FakeHandler, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rasa_speedups, "MAX_CONCURRENT_MESSAGES", 0)
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
    monkeypatch.setattr(rasa_speedups, "MAX_CONCURRENT_MESSAGES", 2)
    monkeypatch.setattr(rasa_speedups, "TURN_WAIT_SECONDS", 0.05)
    release = asyncio.Event()

    async def handle(processor: Any, message: str) -> str:
        if message.startswith("stuck"):
            await release.wait()
        return message

    monkeypatch.setattr(rasa_speedups, "_handle_message", handle)
    processor = cast(MessageProcessor, None)

    async def scenario() -> tuple[str, int, int]:
        stuck = [asyncio.ensure_future(rasa_speedups.handle_message(processor, f"stuck {i}")) for i in range(2)]
        await asyncio.sleep(0.01)
        urgent = await asyncio.wait_for(rasa_speedups.handle_message(processor, "I can't breathe"), 1)
        waiting = asyncio.ensure_future(rasa_speedups.handle_message(processor, "cancelled"))
        await asyncio.sleep(0.01)
        waiting.cancel()  # the patient's connection closed while it waited
        release.set()
        await asyncio.gather(*stuck)
        turns = rasa_speedups._TURNS[asyncio.get_running_loop()]
        await asyncio.sleep(0.01)
        return urgent, turns._value, len([w for w in turns._waiters or () if not w.done()])

    urgent, free, waiting = asyncio.run(scenario())
    assert urgent == "I can't breathe"
    assert (free, waiting) == (2, 0)
