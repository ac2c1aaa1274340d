"""The garbage-collector tuner freezes long-lived objects and lets go when it stops."""

from __future__ import annotations

import asyncio
import gc

import pytest

from webinar.web.gctune import tune_forever


async def test_tuner_freezes_then_unfreezes_on_stop() -> None:
    keep = [[i] for i in range(1000)]  # long-lived objects
    # Not zero everywhere: CPython 3.12 starts with a few hundred objects frozen.
    before = gc.get_freeze_count()
    task = asyncio.create_task(tune_forever(freeze_every=0.01, collect_every=10.0))

    # Until the tuner has frozen once (by a deadline, not a count of sleeps: on a busy
    # machine 100 sleeps of 10 ms can all pass before the tuner runs).
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    while gc.get_freeze_count() <= before and loop.time() < deadline:
        await asyncio.sleep(0.01)
    frozen = gc.get_freeze_count()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert frozen - before > len(keep)
    assert gc.get_freeze_count() == 0
