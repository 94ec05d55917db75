"""Rate limits for the patient channels: how many messages one key (a conversation, a client
address) may send in a sliding window. In memory, per server process: with several servers
behind nginx each keeps its own count, which still bounds a flood to servers x limit.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class RateLimiter:
    """At most ``limit`` events per key in any ``window_seconds``; keys unseen for a window are forgotten."""

    limit: int
    window_seconds: float
    clock: Callable[[], float] = time.monotonic
    _events: dict[str, deque[float]] = field(default_factory=dict)
    _checks: int = 0

    def allow(self, key: str) -> bool:
        """Count one event for ``key`` and say whether it is within the limit (a refused one is not counted)."""
        now = self.clock()
        events = self._events.setdefault(key, deque())
        while events and now - events[0] >= self.window_seconds:
            events.popleft()
        self._checks += 1
        if self._checks % 1024 == 0:
            self._forget(now)
        if len(events) >= self.limit:
            return False
        events.append(now)
        return True

    def _forget(self, now: float) -> None:
        """Drop keys with no event in the window, so memory follows active senders only."""
        for key in [
            key for key, events in self._events.items() if not events or now - events[-1] >= self.window_seconds
        ]:
            del self._events[key]
