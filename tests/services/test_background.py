"""One helper starts and stops every background task (tickers, the vote flusher)."""

from __future__ import annotations

import asyncio

import pytest

from webinar.services.background import Background

pytestmark = pytest.mark.unit


class Runs:
    """A background body that says when it started and records that it was cancelled."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.starts = 0
        self.cancelled = 0

    async def __call__(self) -> None:
        self.starts += 1
        self.started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.cancelled += 1
            raise


async def test_stop_cancels_the_task_and_waits_for_it() -> None:
    body = Runs()
    task = Background("ticker", body)

    task.start()
    await asyncio.wait_for(body.started.wait(), 5)
    await task.stop()

    assert (body.starts, body.cancelled, task.running) == (1, 1, False)


async def test_start_twice_runs_one_task_and_stop_twice_is_harmless() -> None:
    body = Runs()
    task = Background("ticker", body)

    task.start()
    task.start()
    await asyncio.wait_for(body.started.wait(), 5)
    await task.stop()
    await task.stop()

    assert (body.starts, body.cancelled) == (1, 1)


async def test_it_can_start_again_after_a_stop() -> None:
    body = Runs()
    task = Background("ticker", body)
    task.start()
    await asyncio.wait_for(body.started.wait(), 5)
    await task.stop()
    body.started.clear()

    task.start()
    await asyncio.wait_for(body.started.wait(), 5)

    assert task.running
    await task.stop()
    assert (body.starts, body.cancelled) == (2, 2)


async def test_stop_before_start_does_nothing() -> None:
    task = Background("ticker", Runs())

    await task.stop()

    assert not task.running
