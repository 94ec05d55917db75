"""A stopped or hung action server never leaves a patient without an answer, nor a form a step ahead.

Rasa 3.6 waits up to 300 s (``DEFAULT_REQUEST_TIMEOUT``) for each call to the action server,
and when a call fails it logs the action as run, without its events, and predicts on. So a
stopped action server meant silence (REST ``[]``, an empty SMS reply), a hung one a minute of
it, and a form step advanced on a step that never ran: "start my consent" answered "that's all
the health questions" with none asked. The form (Rasa's ``FormAction``) calls the action server
for ``validate_candidacy_form`` and ``action_ask_...``; when those failed, the form was logged as
run without activating, and the rule for a finished form came next.

``install()`` patches three things of Rasa's (``patches()``: the time-out, ``RemoteAction.run``,
``MessageProcessor._run_action``) in the process that serves (``python -m bot serve``,
bot/rasa/serve.py), never at import; ``uninstall()`` puts Rasa's own code back. With them:

* each call to the action server is given up after ``ACTION_SERVER_TIMEOUT`` seconds (default
  3, bot/settings.py), well inside Twilio's 15 s; once a call of a turn failed, the turn's later
  calls fail at once, so the patient hears back within about that time;
* a turn whose action failed ends there: the patient's message is taken back with Rasa's own
  ``UserUtteranceReverted`` (as if it never came: a form stays at its question and keeps
  nothing the message set), and the apology ``action_server_down`` of content/messages.yml,
  with the clinic's phone, is sent by the Rasa server itself (bot/rasa/nlg.py). The patient can
  say it again;
* a form asked for a slot the message does not fill (an emergency, "pause", a request for a
  person) refuses it, as it would with a working server, and the rules answer it;
* two failures go on as in Rasa (the action logged without its events): the session start (the
  session-start backstop, bot/rasa/policy.py, answers the message) and an action after the
  turn's emergency reply (the reply, written in the Rasa server, was sent; only the care team's
  flag is lost, and the log says so). An emergency reply is never followed by the apology.

``run_action`` is Rasa 3.6.21's ``MessageProcessor._run_action`` with one more ``except``; on any
other Rasa ``install()`` logs one error and changes nothing.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import weakref
from typing import Any

from rasa.core.actions import action as rasa_action
from rasa.core.actions.action import (
    Action,
    ActionExecutionRejection,
    RemoteAction,
    create_bot_utterance,
)
from rasa.core.actions.forms import FormAction
from rasa.core.channels.channel import OutputChannel
from rasa.core.nlg import NaturalLanguageGenerator
from rasa.core.policies.policy import PolicyPrediction
from rasa.core.processor import MessageProcessor
from rasa.shared.constants import UTTER_PREFIX
from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActionExecutionRejected,
    Event,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import RasaException
from rasa.utils.endpoints import ClientResponseError

from bot import settings
from bot.content.messages import ACTION_SERVER_DOWN
from bot.rasa import nlg as project_nlg

WRITTEN_FOR = "3.6.21"  # the Rasa whose ``_run_action`` body ``run_action`` copies
REASON_CHARS = 200

logger = logging.getLogger(__name__)

_remote_run = RemoteAction.run  # Rasa's own, called by the patched one
# The tracker of the turn in which a call failed (a weak reference: set per message, in its task).
_failed_turn: contextvars.ContextVar[weakref.ReferenceType[DialogueStateTracker] | None] = contextvars.ContextVar(
    "action_server_failed_turn", default=None
)
# True while an action of such a turn runs: its calls to the action server fail at once.
_fail_fast: contextvars.ContextVar[bool] = contextvars.ContextVar("action_server_fail_fast", default=False)
_installed: list[tuple[Any, str, Any]] = []  # (owner, attribute, what its own __dict__ held), in order


class ActionServerFailed(RasaException):
    """A call to the action server that got no usable answer: refused, timed out, an error status."""

    def __init__(self, action_name: str, reason: str) -> None:
        self.action_name = action_name
        self.reason = reason
        super().__init__(f"action '{action_name}': {reason}")


def _reason(error: BaseException) -> str:
    """Why a call failed, in one bounded line (Rasa's errors name the URL and the status, never a message)."""
    inner = error.__cause__ or error.__context__ or error
    if isinstance(error, asyncio.TimeoutError) or isinstance(inner, asyncio.TimeoutError):
        return f"no answer within {rasa_action.DEFAULT_REQUEST_TIMEOUT:g} s"
    if isinstance(inner, ClientResponseError) and inner.status == 401:
        return "refused with 401: the Rasa server and the action server do not share ACTION_SERVER_TOKEN"
    return f"{type(inner).__name__}: {str(inner)[:REASON_CHARS]}"


async def run_remote_action(
    self: RemoteAction,
    output_channel: OutputChannel,
    nlg: NaturalLanguageGenerator,
    tracker: DialogueStateTracker,
    domain: Any,
) -> list[Event]:
    """``RemoteAction.run``; any failure but a rejection (a form's "not this slot") is ``ActionServerFailed``."""
    if _fail_fast.get():
        raise ActionServerFailed(self.name(), "an earlier call of this turn failed")
    try:
        return await _remote_run(self, output_channel, nlg, tracker, domain)
    except ActionExecutionRejection:
        raise
    except Exception as error:  # connection refused, timed out, an error status, an answer Rasa cannot read
        raise ActionServerFailed(self.name(), _reason(error)) from error


def _handling_a_message(tracker: DialogueStateTracker) -> bool:
    """Whether the tracker's newest user message is the one being answered (no ``action_listen`` after it)."""
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            return True
        if isinstance(event, ActionExecuted) and event.action_name == ACTION_LISTEN_NAME:
            return False
    return False


def _emergency_answered(tracker: DialogueStateTracker) -> bool:
    """Whether the emergency reply was given since the newest user message."""
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            return False
        if isinstance(event, ActionExecuted) and event.action_name == project_nlg.EMERGENCY_RESPONSE:
            return True
    return False


def _goes_on_without(action: Action, tracker: DialogueStateTracker) -> bool:
    """The failures that change nothing a patient relies on: the session start, and after an emergency reply."""
    return action.name() == ACTION_SESSION_START_NAME or _emergency_answered(tracker)


def _would_reject(action: Action, tracker: DialogueStateTracker, domain: Domain) -> bool:
    """Whether ``action`` is a form asking for a slot this message does not fill, which it refuses whatever
    its validation says (Rasa's ``FormAction.validate``): an emergency, "pause", a request for a person.

    Their rules answer such a message after the form's refusal, with a working action server or not; a
    failed validation must not turn an emergency's reply into the apology.
    """
    return (
        isinstance(action, FormAction)
        and bool(action.get_slot_to_fill(tracker))
        and not action._get_slot_extractions(tracker, domain)
    )


def _failed_this_turn(tracker: DialogueStateTracker) -> bool:
    failed = _failed_turn.get()
    return failed is not None and failed() is tracker


async def _take_back_and_apologise(
    processor: MessageProcessor, tracker: DialogueStateTracker, output_channel: OutputChannel
) -> None:
    """Send the apology from the content files, forget the message being answered (if one is), and listen.

    As Rasa's own fallback does it: the reverted message takes the ``action_listen`` before it
    along (``DialogueStateTracker.applied_events``), so an ``action_listen`` follows: the state
    is the one the message found.
    """
    apology = create_bot_utterance(project_nlg.content_reply(ACTION_SERVER_DOWN))
    tracker.update(apology)
    if _handling_a_message(tracker):
        tracker.update(UserUtteranceReverted())
    tracker.update(ActionExecuted(ACTION_LISTEN_NAME))
    await processor.execute_side_effects([apology], tracker, output_channel)


async def run_action(
    self: MessageProcessor,
    action: Action,
    tracker: DialogueStateTracker,
    output_channel: OutputChannel,
    nlg: NaturalLanguageGenerator,
    prediction: PolicyPrediction,
) -> bool:
    """``MessageProcessor._run_action`` of Rasa 3.6.21, with a failed action server handled (module docstring).

    Returns whether to predict another action, as Rasa's: False when the turn ends on a failure.
    """
    try:
        # Use temporary tracker as we might need to discard the policy events in
        # case of a rejection.
        temporary_tracker = tracker.copy()
        temporary_tracker.update_with_events(prediction.events, self.domain)
        fail_fast = _fail_fast.set(_failed_this_turn(tracker))
        try:
            events = await action.run(output_channel, nlg, temporary_tracker, self.domain)
        finally:
            _fail_fast.reset(fail_fast)
    except ActionExecutionRejection:
        events = [ActionExecutionRejected(action.name(), prediction.policy_name, prediction.max_confidence)]
        tracker.update(events[0])
        return self.should_predict_another_action(action.name())
    except ActionServerFailed as failure:  # the project's case; everything else is Rasa's
        _failed_turn.set(weakref.ref(tracker))
        if _would_reject(action, temporary_tracker, self.domain):  # as with a working server: the rules answer
            logger.error(
                "The action server failed (%s) for %s, which refuses this message anyway.", failure, action.name()
            )
            events = [ActionExecutionRejected(action.name(), prediction.policy_name, prediction.max_confidence)]
            tracker.update(events[0])
            return self.should_predict_another_action(action.name())
        if not _goes_on_without(action, tracker):
            logger.error(
                "The action server failed (%s) for %s: the message is taken back and the patient "
                "was sent the apology '%s'.",
                failure,
                action.name(),
                ACTION_SERVER_DOWN,
            )
            await _take_back_and_apologise(self, tracker, output_channel)
            return False
        logger.error(
            "The action server failed (%s) for %s; the conversation goes on without it.", failure, action.name()
        )
        events = []
    except Exception:
        logger.exception(
            f"Encountered an exception while running action '{action.name()}'."
            "Bot will continue, but the actions events are lost. "
            "Please check the logs of your action server for "
            "more information."
        )
        events = []

    self._log_action_on_tracker(tracker, action, events, prediction)

    if any(isinstance(e, UserUttered) for e in events):
        tracker = await self.run_action_extract_slots(output_channel, tracker)

    if action.name() != ACTION_LISTEN_NAME and not action.name().startswith(UTTER_PREFIX):
        self._log_slots(tracker)

    await self.execute_side_effects(events, tracker, output_channel)

    return self.should_predict_another_action(action.name())


def patches(timeout: float) -> list[tuple[Any, str, Any]]:
    """(owner, attribute, new value): the time-out, the guarded remote call, the turn that ends on a failure."""
    return [
        (rasa_action, "DEFAULT_REQUEST_TIMEOUT", timeout),
        (RemoteAction, "run", run_remote_action),
        (MessageProcessor, "_run_action", run_action),
    ]


def rasa_version() -> str:
    from rasa import version

    return str(version.__version__)


def installed() -> bool:
    return bool(_installed)


def install() -> bool:
    """Puts the changes into Rasa (once; a second call does nothing); True if they are in place.

    ``settings.SettingsError`` for an unusable ``ACTION_SERVER_TIMEOUT``; the apology is rendered
    once here, so a content error stops the server at start. On a Rasa other than
    ``WRITTEN_FOR`` it logs one error and changes nothing.
    """
    if _installed:
        return True
    version = rasa_version()
    if version != WRITTEN_FOR:
        logger.error(
            "Rasa %s is installed, but bot/rasa/resilience.py was written for Rasa %s: not installed. "
            "A hung action server is waited for %s s and a failed one answers nothing.",
            version,
            WRITTEN_FOR,
            rasa_action.DEFAULT_REQUEST_TIMEOUT,
        )
        return False
    timeout = settings.action_server_timeout()
    project_nlg.content_reply(ACTION_SERVER_DOWN)
    for owner, attribute, value in patches(timeout):
        _installed.append((owner, attribute, vars(owner)[attribute]))
        setattr(owner, attribute, value)
    logger.info("Action server calls are given up after %g s; a failed turn gets '%s'.", timeout, ACTION_SERVER_DOWN)
    return True


def uninstall() -> None:
    """Puts back exactly what Rasa's own modules and classes held."""
    while _installed:
        owner, attribute, original = _installed.pop()
        setattr(owner, attribute, original)
