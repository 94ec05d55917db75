"""The tick timer (bot/outreach/scheduler.py): runs the tick on the loop, starts once, stops clean."""

from __future__ import annotations

import asyncio

import pytest

from bot.outreach.scheduler import OutreachScheduler


@pytest.mark.asyncio
async def test_the_tick_runs_until_stopped_and_a_second_start_adds_no_job() -> None:
    ticks: list[int] = []

    async def tick() -> None:
        ticks.append(1)

    scheduler = OutreachScheduler(0.05)
    scheduler.start(tick)
    scheduler.start(tick)
    assert scheduler.running and scheduler.jobs() == 1
    for _ in range(100):
        if len(ticks) >= 2:
            break
        await asyncio.sleep(0.02)
    assert len(ticks) >= 2
    scheduler.stop()
    scheduler.stop()
    assert not scheduler.running and scheduler.jobs() == 0
    counted = len(ticks)
    await asyncio.sleep(0.2)
    assert len(ticks) == counted


@pytest.mark.asyncio
async def test_a_slow_tick_never_runs_twice_at_once() -> None:
    running: list[int] = []
    overlaps: list[int] = []

    async def slow() -> None:
        if running:
            overlaps.append(1)
        running.append(1)
        await asyncio.sleep(0.2)
        running.pop()

    scheduler = OutreachScheduler(0.02)
    scheduler.start(slow)
    await asyncio.sleep(0.5)
    scheduler.stop()
    assert overlaps == []


def test_a_tick_that_is_not_a_coroutine_function_is_refused() -> None:
    """A lambda returning a coroutine would be run in a thread and its coroutine dropped: nothing ever sent."""

    async def tick() -> None:
        return None

    with pytest.raises(TypeError, match="async function"):
        OutreachScheduler(1).start(lambda: tick())
