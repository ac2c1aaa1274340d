"""Run a coroutine's first step now, and only make a task of it if it has to wait.

An ASGI ``send`` of a WebSocket message usually completes without ever suspending: the
frame goes into the transport's buffer and the coroutine returns. Creating a task (or
waking one) per screen per event to do that is most of the cost of a broadcast to
thousands of screens. :func:`start` steps the coroutine synchronously; if it finishes, no
task is made at all; if it suspends (the transport is full and the server waits for it
to drain), a task takes over from exactly where it stopped.

This is what ``asyncio.eager_task_factory`` does from Python 3.12 on, without allocating
a Task for the common case that completes at once; it is written out here because we
support 3.11.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Coroutine
from typing import Any


def start(step: Awaitable[None]) -> asyncio.Future[None] | None:
    """Step a coroutine now: None if it has finished, else the task that finishes it.

    An exception raised before the first suspension propagates to the caller. Any other
    awaitable (an ASGI ``send`` need not be a coroutine) is simply scheduled.
    """
    if not isinstance(step, Coroutine):
        return asyncio.ensure_future(step)
    try:
        waiting_on = step.send(None)
    except StopIteration:
        return None
    return asyncio.ensure_future(_finish(step, waiting_on))


async def _finish(coro: Coroutine[Any, Any, None], waiting_on: Any) -> None:
    """Drive a suspended coroutine to its end, as its own task would have."""
    while True:
        try:
            if waiting_on is None:  # a bare yield (asyncio.sleep(0)): let the loop run once
                await asyncio.sleep(0)
            else:
                # The future it yielded (asyncio only ever yields futures), still marked as
                # blocking a task: clear the mark as a Task would, then await it ourselves.
                waiting_on._asyncio_future_blocking = False
                await waiting_on
        except BaseException as exc:  # the awaited future failed, or we were cancelled
            try:
                waiting_on = coro.throw(exc)
            except StopIteration:
                return
            continue
        try:
            waiting_on = coro.send(None)
        except StopIteration:
            return
