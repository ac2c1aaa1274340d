"""eager.start: a coroutine's first step runs now; only one that must wait gets a task."""

from __future__ import annotations

import asyncio

import pytest

from webinar.web import eager

pytestmark = pytest.mark.unit


async def test_a_coroutine_that_never_waits_runs_to_its_end_without_a_task() -> None:
    done: list[str] = []

    async def write() -> None:
        done.append("written")

    before = len(asyncio.all_tasks())
    assert eager.start(write()) is None
    assert done == ["written"]
    assert len(asyncio.all_tasks()) == before


async def test_a_coroutine_that_waits_is_finished_by_a_task_from_where_it_stopped() -> None:
    gate: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    steps: list[str] = []

    async def write() -> None:
        steps.append("before")
        steps.append(await gate)
        await asyncio.sleep(0)  # a bare yield as well
        steps.append("after")

    task = eager.start(write())
    assert task is not None
    assert steps == ["before"]  # the first step ran synchronously
    gate.set_result("gate opened")
    await task
    assert steps == ["before", "gate opened", "after"]


async def test_an_error_before_the_first_wait_reaches_the_caller() -> None:
    async def write() -> None:
        raise ConnectionResetError("gone")

    with pytest.raises(ConnectionResetError, match="gone"):
        eager.start(write())


async def test_a_failed_wait_is_raised_inside_the_coroutine() -> None:
    gate: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    seen: list[str] = []

    async def write() -> None:
        try:
            await gate
        except OSError as exc:
            seen.append(str(exc))

    task = eager.start(write())
    assert task is not None
    gate.set_exception(OSError("transport lost"))
    await task
    assert seen == ["transport lost"]


async def test_cancelling_the_task_cancels_the_coroutine_where_it_waits() -> None:
    gate: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    cleaned: list[bool] = []

    async def write() -> None:
        try:
            await gate
        finally:
            cleaned.append(True)

    task = eager.start(write())
    assert task is not None
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert cleaned == [True]
    assert gate.cancelled()


async def test_an_awaitable_that_is_not_a_coroutine_is_scheduled() -> None:
    future: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    scheduled = eager.start(future)

    assert scheduled is future  # nothing to step: it completes when it completes
    future.set_result(None)
    await scheduled
