"""Speed-up ``message-turns``: at most a few messages worked on at a time, the others in arrival order.

Not a cost but an order: Rasa works on every message that arrives at once, switching
between them at each call to the action server, so under a burst a message with more
steps waits behind every other message at each step. At most ``MAX_CONCURRENT_MESSAGES``
messages (default 4; 0: no limit) are worked on at a time, the others wait their turn in
arrival order: the same throughput, a shorter tail. A message that waited
``TURN_WAIT_SECONDS`` goes ahead anyway, so nothing stuck holds up the rest.

Always installed (``bot.rasa.speedups.install()``): left off, it means no limit
(``MAX_CONCURRENT_MESSAGES`` = 0). It also freezes the start-up heap on the first message
(bot/rasa/heap.py), which has its own name to leave it off.

Importing this module changes nothing in Rasa: ``bot.rasa.speedups.install()`` applies ``PATCHES``.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from typing import Any

from rasa.core.processor import MessageProcessor

from bot import settings
from bot.rasa import heap

# Read again by install(): the limit in effect, 0 when this speed-up is left off.
MAX_CONCURRENT_MESSAGES = settings.max_concurrent_messages()
# A message that waited this long goes ahead without a turn: turns held that long mean something
# is stuck (an action server not answering), and an emergency must not wait behind it.
TURN_WAIT_SECONDS = 5.0
_TURNS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = weakref.WeakKeyDictionary()
_handle_message = MessageProcessor.handle_message  # Rasa's own
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
        lambda task: turns.release() if not task.cancelled() and task.exception() is None else None
    )


PATCHES: list[tuple[Any, str, Any]] = [(MessageProcessor, "handle_message", handle_message)]
RASA_NAMES: list[tuple[Any, str]] = [(MessageProcessor, "handle_message")]
