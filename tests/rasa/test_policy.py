"""The backstop to RulePolicy for the first message of a session the action server could not start."""

from __future__ import annotations

import pytest
from rasa.core.agent import Agent
from rasa.core.policies.policy import PolicyPrediction
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, Event, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.rasa.policy import as_if_session_started
from bot.settings import PROJECT_ROOT
from devtools.launch import MODEL

DOMAIN = Domain.load(str(PROJECT_ROOT / "domain.yml"))
START = ActionExecuted("action_session_start")
LISTEN = ActionExecuted("action_listen")


def said(intent: str) -> UserUttered:
    return UserUttered(f"/{intent}", {"name": intent, "confidence": 1.0})


def conversation(*events: Event) -> DialogueStateTracker:
    return DialogueStateTracker.from_events("patient", list(events), slots=DOMAIN.slots)


FAILED_START = (START, said("emergency"))  # the action server was down: no SessionStarted, no action_listen
STARTED = (START, SessionStarted(), SlotSet("emergency_number", "911"), LISTEN, said("emergency"))


def test_a_failed_session_start_is_read_as_if_the_session_had_started() -> None:
    failed = conversation(*FAILED_START)
    started = as_if_session_started(failed, DOMAIN)
    assert started is not None
    assert [type(e).__name__ for e in started.events] == ["ActionExecuted", "ActionExecuted", "UserUttered"]
    assert started.past_states(DOMAIN)[-1]["prev_action"] == {"action_name": "action_listen"}
    assert len(failed.events) == 2, "the conversation itself is left as it is"


@pytest.mark.parametrize(
    "events",
    [
        STARTED,
        (START, SessionStarted(), LISTEN),
        (),
        (*FAILED_START, ActionExecuted("utter_emergency"), LISTEN, said("greet")),
    ],
    ids=["started", "no message yet", "empty", "later turn"],
)
def test_any_other_conversation_is_left_to_rulepolicy(events: tuple[Event, ...]) -> None:
    assert as_if_session_started(conversation(*events), DOMAIN) is None


@pytest.fixture(scope="module")
def agent() -> Agent:
    """The trained model (about 10 s to load)."""
    if not MODEL.exists():
        pytest.skip(f"{MODEL} is missing: run `make model` first")
    return Agent.load(str(MODEL))


def predict(agent: Agent, tracker: DialogueStateTracker) -> tuple[str, str | None]:
    """The next action and the policy that chose it, as the Rasa server predicts them."""
    assert agent.processor is not None
    prediction: PolicyPrediction = agent.processor._predict_next_with_tracker(tracker)
    return agent.domain.action_names_or_texts[prediction.max_confidence_index], prediction.policy_name


def play(agent: Agent, *events: Event) -> list[tuple[str, str | None]]:
    """The actions predicted one after the other until the assistant listens again."""
    tracker = conversation(*events)
    turn: list[tuple[str, str | None]] = []
    while not turn or turn[-1][0] != "action_listen":
        turn.append(predict(agent, tracker))
        tracker.update(ActionExecuted(turn[-1][0]))
    return turn


def test_an_emergency_after_a_failed_session_start_is_answered(agent: Agent) -> None:
    backstop = "SessionStartBackstopPolicy"
    assert play(agent, *FAILED_START) == [
        ("utter_emergency", backstop),
        ("action_record_emergency", backstop),
        ("action_answer_topic_after_advice", backstop),
        ("action_listen", backstop),
    ]


def test_after_a_session_start_rulepolicy_alone_decides(agent: Agent) -> None:
    assert play(agent, *STARTED) == [
        ("utter_emergency", "RulePolicy"),
        ("action_record_emergency", "RulePolicy"),
        ("action_answer_topic_after_advice", "RulePolicy"),
        ("action_listen", "RulePolicy"),
    ]


def test_the_backstop_answers_any_first_message_as_the_rules_do(agent: Agent) -> None:
    assert [action for action, _ in play(agent, START, said("ask_duration"))] == [
        "utter_ask_duration",
        "action_follow_up_answer",
        "action_listen",
    ]
