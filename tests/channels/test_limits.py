"""The shared rate limiter: a sliding window per key."""

from __future__ import annotations

from bot.channels.limits import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_key_gets_its_limit_per_window_and_others_are_not_affected() -> None:
    clock = Clock()
    limiter = RateLimiter(limit=3, window_seconds=60, clock=clock)
    assert [limiter.allow("a") for _ in range(4)] == [True, True, True, False]
    assert limiter.allow("b")
    clock.now = 59.9
    assert not limiter.allow("a")
    clock.now = 60.0
    assert limiter.allow("a"), "the oldest event left the window"


def test_refused_events_do_not_extend_the_wait() -> None:
    clock = Clock()
    limiter = RateLimiter(limit=1, window_seconds=10, clock=clock)
    assert limiter.allow("a")
    clock.now = 5
    assert not limiter.allow("a")
    clock.now = 10
    assert limiter.allow("a")


def test_idle_keys_are_forgotten() -> None:
    clock = Clock()
    limiter = RateLimiter(limit=1, window_seconds=1, clock=clock)
    for number in range(1024):
        limiter.allow(str(number))
    clock.now = 5
    limiter.allow("x")
    limiter._forget(clock.now)
    assert list(limiter._events) == ["x"]
