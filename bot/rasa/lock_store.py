"""Rasa's Redis ticket lock, with every change to a lock made atomically in Redis.

Rasa 3.6's ``RedisLockStore`` keeps one conversation's ticket queue in a Redis
key, but changes it by GET, change in Python, SET. Two servers that receive
messages of the same conversation at the same moment both read the same queue,
both issue ticket 0 and both go ahead: the two messages are handled at the
same time and events are lost or interleaved in the tracker (RasaHQ/rasa#9213;
the fix, ``ConcurrentRedisLockStore``, is not in Rasa Open Source).
``scripts/scale-test.sh --control`` shows the fault with Rasa's class.

This subclass keeps Rasa's lock semantics and storage format (``TicketLock``
JSON under ``<key_prefix>:lock:<conversation id>``) and only makes each
read-change-write a Redis transaction: ``WATCH`` the key, read it, change the
lock, ``MULTI``/``EXEC`` the write, and retry if another server wrote the key in
between. Waiting for a busy conversation polls every ``wait_seconds`` (default
0.05 s) instead of Rasa's 1 s.

    lock_store:
      type: bot.rasa.lock_store.AtomicRedisLockStore
      url: ${REDIS_HOST}
      port: ${REDIS_PORT}
      ...
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncGenerator, Callable
from contextlib import asynccontextmanager
from typing import Any

import redis
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

logger = logging.getLogger(__name__)

DEFAULT_WAIT_SECONDS = 0.05
MAX_ATTEMPTS = 200

# What a change does with the lock: keep (write it back), delete it, or leave it as it was.
KEEP, DELETE, UNCHANGED = "keep", "delete", "unchanged"


class AtomicRedisLockStore(RedisLockStore):
    """``RedisLockStore`` whose ticket issuing, expiry and release are Redis transactions."""

    def __init__(self, endpoint_config: EndpointConfig | None = None, **kwargs: Any) -> None:
        if endpoint_config is not None:  # built from endpoints.yml by Rasa
            kwargs = {**endpoint_config.kwargs, **kwargs}
            if endpoint_config.url:
                kwargs.setdefault("host", endpoint_config.url)
        self.wait_seconds = float(kwargs.pop("wait_seconds", DEFAULT_WAIT_SECONDS))
        kwargs = {k: v for k, v in kwargs.items() if v not in (None, "") or k == "host"}
        super().__init__(**kwargs)

    def _transact(
        self, conversation_id: str, change: Callable[[TicketLock | None], tuple[str, TicketLock | None, Any]]
    ) -> Any:
        """Apply ``change`` to the stored lock atomically; it returns (what to do, the lock, a result)."""
        key = self.key_prefix + conversation_id
        for _ in range(MAX_ATTEMPTS):
            with self.red.pipeline() as pipe:
                try:
                    pipe.watch(key)
                    raw = pipe.get(key)
                    lock = TicketLock.from_dict(json.loads(raw)) if raw else None
                    action, changed, result = change(lock)
                    pipe.multi()
                    if action == KEEP and changed is not None:
                        pipe.set(key, changed.dumps())
                    elif action == DELETE:
                        pipe.delete(key)
                    pipe.execute()
                    return result
                except redis.WatchError:
                    continue  # another server changed this conversation's lock meanwhile: read it again
        raise LockError(f"Could not update the lock of conversation '{conversation_id}' after {MAX_ATTEMPTS} attempts.")

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        def change(lock: TicketLock | None) -> tuple[str, TicketLock | None, Any]:
            lock = lock or self.create_lock(conversation_id)
            return KEEP, lock, lock.issue_ticket(lock_lifetime)

        try:
            return int(self._transact(conversation_id, change))
        except LockError:
            raise
        except Exception as error:
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error

    def update_lock(self, conversation_id: str) -> None:
        def change(lock: TicketLock | None) -> tuple[str, TicketLock | None, Any]:
            if lock is None:
                return UNCHANGED, None, None
            lock.remove_expired_tickets()
            return KEEP, lock, None

        self._transact(conversation_id, change)

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        def change(lock: TicketLock | None) -> tuple[str, TicketLock | None, Any]:
            if lock is None:
                return UNCHANGED, None, None
            lock.remove_ticket_for(ticket_number)
            return KEEP, lock, None

        self._transact(conversation_id, change)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Release ``ticket_number``; delete the lock in the same transaction if nobody else waits."""

        def change(lock: TicketLock | None) -> tuple[str, TicketLock | None, Any]:
            if lock is None:
                return UNCHANGED, None, False
            lock.remove_ticket_for(ticket_number)
            if lock.is_someone_waiting():
                return KEEP, lock, False
            return DELETE, None, True

        deleted = self._transact(conversation_id, change)
        self._log_deletion(conversation_id, bool(deleted))

    @asynccontextmanager
    async def lock(
        self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME, wait_time_in_seconds: float | None = None
    ) -> AsyncGenerator[TicketLock, None]:
        wait = self.wait_seconds if wait_time_in_seconds is None else wait_time_in_seconds
        async with super().lock(conversation_id, lock_lifetime, wait) as ticket_lock:
            yield ticket_lock
