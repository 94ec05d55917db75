"""bot/rasa/resilience.py: a failed or hung action server ends the turn with the apology and the form where it was.

Issue 14, finding 3. Rasa's own ``_run_action`` logged a failed action as run and predicted on (a
form step advanced without its step), and waited 300 s for a hung server. Here the patched code runs
against real sockets: a port nothing listens on (stopped), a server that accepts and never answers
(hung), and one that answers 401 or 400; the processor's part runs on Rasa's own ``MessageProcessor``
methods with the project's domain. Installing is explicit, idempotent and undone exactly.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import socket
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiohttp import web
from rasa.core.actions import action as rasa_action
from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
from rasa.core.actions.forms import FormAction
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.core.policies.policy import PolicyPrediction
from rasa.core.processor import MessageProcessor
from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActionExecutionRejected,
    ActiveLoop,
    BotUttered,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT, EndpointConfig

from bot import settings
from bot.content.messages import ACTION_SERVER_DOWN, MESSAGE_NAME
from bot.rasa import nlg, resilience
from bot.settings import PROJECT_ROOT

DOMAIN = Domain.load(str(PROJECT_ROOT / "domain.yml"))
APOLOGY = nlg.content_reply(ACTION_SERVER_DOWN)["text"]
TIMEOUT = 0.5  # seconds, for the tests (served: ACTION_SERVER_TIMEOUT, 3 by default)
RASA_OWN = {
    "timeout": vars(rasa_action)["DEFAULT_REQUEST_TIMEOUT"],
    "run": vars(RemoteAction)["run"],
    "_run_action": vars(MessageProcessor)["_run_action"],
}


def rasa_own_code() -> bool:
    return (
        rasa_action.DEFAULT_REQUEST_TIMEOUT is RASA_OWN["timeout"]
        and vars(RemoteAction)["run"] is RASA_OWN["run"]
        and vars(MessageProcessor)["_run_action"] is RASA_OWN["_run_action"]
    )


@pytest.fixture
def installed(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv(settings.ACTION_SERVER_TIMEOUT_ENV, str(TIMEOUT))
    assert resilience.install()
    yield
    resilience.uninstall()
    assert rasa_own_code()


# --- installing ----------------------------------------------------------------------------


def test_importing_changes_nothing_in_rasa() -> None:
    """This module imported resilience before reading Rasa's attributes: they are Rasa's own."""
    assert not resilience.installed()
    assert RASA_OWN["timeout"] == DEFAULT_REQUEST_TIMEOUT == 300
    assert RASA_OWN["run"] is resilience._remote_run
    assert RASA_OWN["_run_action"] is not resilience.run_action and RASA_OWN["run"] is not resilience.run_remote_action


def test_the_patched_functions_take_rasas_own_parameters() -> None:
    """Rasa calls them by keyword too (the session start calls ``_run_action(..., nlg=...)``)."""
    for own, patched in (
        (RASA_OWN["run"], resilience.run_remote_action),
        (RASA_OWN["_run_action"], resilience.run_action),
    ):
        assert list(inspect.signature(patched).parameters) == list(inspect.signature(own).parameters)


def test_install_puts_each_change_in_place_once_and_uninstall_restores_rasas_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(settings.ACTION_SERVER_TIMEOUT_ENV, "2.5")
    try:
        assert resilience.install() and resilience.installed()
        assert rasa_action.DEFAULT_REQUEST_TIMEOUT == 2.5
        assert RemoteAction.run is resilience.run_remote_action
        assert MessageProcessor._run_action is resilience.run_action
        monkeypatch.setenv(settings.ACTION_SERVER_TIMEOUT_ENV, "1")
        assert resilience.install()  # a second call changes nothing, and so never keeps a patch as "Rasa's own"
        assert rasa_action.DEFAULT_REQUEST_TIMEOUT == 2.5
    finally:
        resilience.uninstall()
    assert rasa_own_code() and not resilience.installed()
    resilience.uninstall()  # a second call does nothing
    assert rasa_own_code()


def test_an_unusable_timeout_installs_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    for raw in ("0", "-1", "eleven", "60"):
        monkeypatch.setenv(settings.ACTION_SERVER_TIMEOUT_ENV, raw)
        with pytest.raises(settings.SettingsError, match="ACTION_SERVER_TIMEOUT"):
            resilience.install()
        assert rasa_own_code() and not resilience.installed()


def test_another_rasa_gets_one_error_and_rasas_own_code(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import rasa.version

    monkeypatch.setattr(rasa.version, "__version__", "3.7.0")
    with caplog.at_level(logging.INFO):
        assert resilience.install() is False
    assert rasa_own_code() and not resilience.installed()
    lines = [record for record in caplog.records if record.levelno >= logging.WARNING]
    assert len(lines) == 1 and "3.7.0" in lines[0].getMessage() and "3.6.21" in lines[0].getMessage()


def test_serve_installs_it_for_the_servers_lifetime(monkeypatch: pytest.MonkeyPatch) -> None:
    """``python -m bot serve``: in place while Rasa runs, with the token in the environment the endpoints read."""
    from bot import logs
    from bot.rasa import action_server, body_limit, serve, speedups

    seen: dict[str, Any] = {}

    def rasa_main() -> None:
        seen.update(installed=resilience.installed(), token=action_server.token())

    monkeypatch.setattr("rasa.__main__.main", rasa_main)
    monkeypatch.setattr(speedups, "install", lambda: True)  # the speed-ups have their own tests
    monkeypatch.delenv(settings.ENVIRONMENT_ENV, raising=False)
    monkeypatch.setenv(action_server.TOKEN_ENV, "t" * 40)
    try:
        assert serve.main(["--port", "5999"]) == 0
    finally:
        body_limit.uninstall()
        logs.uninstall()
    assert seen == {"installed": True, "token": "t" * 40}
    assert rasa_own_code()


# --- one call to the action server ----------------------------------------------------------


@asynccontextmanager
async def action_server(status: int | None, body: Any = None) -> AsyncIterator[str]:
    """A server answering every call with ``status`` and ``body``; ``None``: accepts and never answers (hung)."""

    async def answer(request: web.Request) -> web.Response:
        if status is None:
            await asyncio.sleep(3600)
        return web.json_response(body or {}, status=status or 200)

    app = web.Application()
    app.router.add_post("/webhook", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}/webhook"
    finally:
        await runner.cleanup()


def stopped_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/webhook"


def tracker(*events: Any, sender: str = "patient-1") -> DialogueStateTracker:
    return DialogueStateTracker.from_events(sender, list(events), DOMAIN.slots, domain=DOMAIN)


def user(text: str, intent: str) -> UserUttered:
    return UserUttered(text, {"name": intent, "confidence": 0.99})


async def call(url: str, name: str = "action_show_menu") -> Any:
    return await RemoteAction(name, EndpointConfig(url)).run(
        CollectingOutputChannel(),
        TemplatedNaturalLanguageGenerator(DOMAIN.responses),
        tracker(ActionExecuted(ACTION_LISTEN_NAME), user("menu", "show_menu")),
        DOMAIN,
    )


def test_a_hung_action_server_is_given_up_after_the_timeout(installed: None) -> None:
    async def hung() -> float:
        async with action_server(None) as url:
            started = time.monotonic()
            with pytest.raises(resilience.ActionServerFailed, match=f"no answer within {TIMEOUT:g} s"):
                await call(url)
            return time.monotonic() - started

    assert TIMEOUT <= asyncio.run(hung()) < TIMEOUT + 1


def test_a_stopped_action_server_and_a_refused_token_are_failures(installed: None) -> None:
    with pytest.raises(resilience.ActionServerFailed, match="action_show_menu"):
        asyncio.run(call(stopped_url()))

    async def refused() -> None:
        async with action_server(401, {"error": "unauthorized"}) as url:
            await call(url)

    with pytest.raises(resilience.ActionServerFailed, match="do not share ACTION_SERVER_TOKEN"):
        asyncio.run(refused())


def test_a_rejection_stays_rasas_rejection(installed: None) -> None:
    """A 400 from the action server is a form's "not this slot", which Rasa handles: not a failure."""

    async def rejected() -> None:
        async with action_server(400, {"action_name": "validate_candidacy_form", "error": "no"}) as url:
            await call(url, "validate_candidacy_form")

    with pytest.raises(ActionExecutionRejection) as raised:
        asyncio.run(rejected())
    assert not isinstance(raised.value, resilience.ActionServerFailed)


# --- a turn whose action failed ---------------------------------------------------------------


def processor() -> MessageProcessor:
    """Rasa's own ``MessageProcessor`` methods on the project's domain (no model: nothing here predicts)."""
    made = MessageProcessor.__new__(MessageProcessor)
    made.domain = DOMAIN
    return made


async def run(
    action: Any, conversation: DialogueStateTracker, channel: CollectingOutputChannel, made: MessageProcessor
) -> bool:
    prediction = PolicyPrediction.for_action_name(DOMAIN, action.name(), "RulePolicy")
    generator = TemplatedNaturalLanguageGenerator(DOMAIN.responses)
    # By keyword, as Rasa's session start calls it.
    return bool(
        await made._run_action(
            action=action, tracker=conversation, output_channel=channel, nlg=generator, prediction=prediction
        )
    )


def in_the_candidacy_form() -> DialogueStateTracker:
    """A patient at the second candidacy question who has just answered it."""
    return tracker(
        ActionExecuted(ACTION_LISTEN_NAME),
        user("start my consent", "start_consent"),
        ActionExecuted("utter_consent_intro"),
        ActionExecuted("candidacy_form"),
        ActiveLoop("candidacy_form"),
        SlotSet("requested_slot", "candidacy_answer"),
        SlotSet("candidacy_answers", {"purpose": "pain"}),
        SlotSet("consent_stage", "candidacy"),
        ActionExecuted(ACTION_LISTEN_NAME),
        user("back pain after a spinal cord injury", "inform"),
        SlotSet("candidacy_answer", "back pain after a spinal cord injury"),  # Rasa's slot extraction
    )


def test_a_form_step_on_a_failed_action_ends_the_turn_with_the_apology_and_the_form_where_it_was(
    installed: None,
) -> None:
    conversation = in_the_candidacy_form()
    before = conversation.applied_events()
    slots_before = conversation.current_slot_values()
    channel = CollectingOutputChannel()
    form = FormAction("candidacy_form", EndpointConfig(stopped_url()))
    assert asyncio.run(run(form, conversation, channel, processor())) is False, "nothing more is predicted"
    assert [message["text"] for message in channel.messages] == [APOLOGY]
    apology, reverted, listen = list(conversation.events)[-3:]
    assert isinstance(apology, BotUttered) and apology.metadata[MESSAGE_NAME] == ACTION_SERVER_DOWN
    assert isinstance(reverted, UserUtteranceReverted)
    assert isinstance(listen, ActionExecuted) and listen.action_name == ACTION_LISTEN_NAME
    # The patient's answer is taken back: the form waits at the same question, with the same answers.
    assert conversation.applied_events() == before[:-2]  # the answer and the slot Rasa took from it
    assert isinstance(before[-3], ActionExecuted) and before[-3].action_name == ACTION_LISTEN_NAME
    assert conversation.active_loop_name == "candidacy_form"
    assert conversation.current_slot_values() == {**slots_before, "candidacy_answer": None}


def test_starting_the_form_on_a_failed_action_does_not_go_on_to_the_next_step(installed: None) -> None:
    """Rasa's own code logged the form as run, and the rule for a finished form came next."""
    conversation = tracker(
        ActionExecuted(ACTION_LISTEN_NAME),
        user("start my consent", "start_consent"),
        ActionExecuted("utter_consent_intro"),
    )
    channel = CollectingOutputChannel()
    assert (
        asyncio.run(
            run(FormAction("candidacy_form", EndpointConfig(stopped_url())), conversation, channel, processor())
        )
        is False
    )
    assert conversation.active_loop_name is None and conversation.get_slot("consent_stage") is None
    assert [message["text"] for message in channel.messages] == [APOLOGY]


def test_rasas_own_code_logged_the_failed_form_as_run() -> None:
    """The finding itself, on Rasa's own ``_run_action``: the failed form counts as run and prediction goes on."""
    assert rasa_own_code()
    conversation = in_the_candidacy_form()
    channel = CollectingOutputChannel()
    assert asyncio.run(
        run(FormAction("candidacy_form", EndpointConfig(stopped_url())), conversation, channel, processor())
    )
    assert channel.messages == []
    newest = list(conversation.events)[-1]
    assert isinstance(newest, ActionExecuted) and newest.action_name == "candidacy_form"


def test_a_form_refuses_an_emergency_as_it_would_with_a_working_server(installed: None) -> None:
    """The form asks the action server to validate even a message it cannot use; the emergency rule must
    still answer it, not the apology."""
    conversation = in_the_candidacy_form()
    conversation.update(UserUtteranceReverted())  # the answer taken back: the form waits at its question
    conversation.update(ActionExecuted(ACTION_LISTEN_NAME))
    conversation.update(user("i can't breathe", "emergency"))  # not a candidacy answer (the slot's not_intent)
    channel = CollectingOutputChannel()
    form = FormAction("candidacy_form", EndpointConfig(stopped_url()))
    assert asyncio.run(run(form, conversation, channel, processor())) is True, "the rules answer next"
    assert channel.messages == []
    newest = list(conversation.events)[-1]
    assert isinstance(newest, ActionExecutionRejected) and newest.action_name == "candidacy_form"


def test_after_the_emergency_reply_a_failure_goes_on_without_an_apology(installed: None) -> None:
    """The emergency reply was sent by the Rasa server; losing the care team's flag must not add an apology."""
    conversation = tracker(
        ActionExecuted(ACTION_LISTEN_NAME), user("i can't breathe", "emergency"), ActionExecuted(nlg.EMERGENCY_RESPONSE)
    )
    channel = CollectingOutputChannel()
    action = RemoteAction("action_record_emergency", EndpointConfig(stopped_url()))
    assert asyncio.run(run(action, conversation, channel, processor())) is True, "the rule goes on"
    assert channel.messages == []
    newest = list(conversation.events)[-1]
    assert isinstance(newest, ActionExecuted) and newest.action_name == "action_record_emergency"


def test_a_failed_session_start_goes_on_and_the_turns_later_calls_fail_at_once(installed: None) -> None:
    """A new conversation on a hung server: one timeout for the whole turn, not one per call."""

    async def turn() -> tuple[bool, bool, float]:
        made, channel = processor(), CollectingOutputChannel()
        conversation = tracker()
        async with action_server(None) as url:
            started = time.monotonic()
            start = await run(RemoteAction(ACTION_SESSION_START_NAME, EndpointConfig(url)), conversation, channel, made)
            conversation.update(user("how long does it take", "ask_duration"))
            conversation.update(ActionExecuted("utter_ask_duration"))
            offer = await run(RemoteAction("action_follow_up_answer", EndpointConfig(url)), conversation, channel, made)
            return start, offer, time.monotonic() - started

    start, offer, seconds = asyncio.run(turn())
    assert start is False and offer is False  # the session start never predicts more (Rasa's own rule)
    assert seconds < TIMEOUT * 1.9, "the second call did not wait for the timeout again"


def test_a_failure_in_one_turn_does_not_make_the_next_turn_fail_fast(installed: None) -> None:
    async def two_turns() -> list[Any]:
        made, channel = processor(), CollectingOutputChannel()
        first = tracker(ActionExecuted(ACTION_LISTEN_NAME), user("menu", "show_menu"))
        await run(RemoteAction("action_show_menu", EndpointConfig(stopped_url())), first, channel, made)
        async with action_server(200, {"events": [], "responses": [{"text": "the menu"}]}) as url:
            second = tracker(ActionExecuted(ACTION_LISTEN_NAME), user("menu", "show_menu"), sender="patient-2")
            await run(RemoteAction("action_show_menu", EndpointConfig(url)), second, channel, made)
        return channel.messages

    messages = asyncio.run(two_turns())
    assert [message["text"] for message in messages] == [APOLOGY, "the menu"]
