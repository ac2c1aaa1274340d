"""Keep Python's garbage collector from pausing a busy server.

With 2,000 connections the process holds about 400,000 tracked objects, and a full
collection pauses everything for 0.2–0.3 s roughly every 11 s (measured with
`bench/serve_traced.py`): that pause, not the fan-out, set the p99 latency. Moving the
long-lived objects into the permanent generation (`gc.freeze()`) every few seconds keeps
full collections small. Objects that die after being frozen are reclaimed by an
unfreeze-and-collect at a long interval: one pause every ten minutes instead of several
a minute.
"""

from __future__ import annotations

import asyncio
import gc

from webinar.services.background import Background

FREEZE_EVERY = 10.0
COLLECT_EVERY = 600.0


async def tune_forever(
    freeze_every: float = FREEZE_EVERY, collect_every: float = COLLECT_EVERY
) -> None:
    since_collect = 0.0
    try:
        while True:
            await asyncio.sleep(freeze_every)
            since_collect += freeze_every
            if since_collect >= collect_every:
                since_collect = 0.0
                gc.unfreeze()
                gc.collect()
            gc.freeze()
    finally:
        gc.unfreeze()


class GcTuner(Background):
    """The tuner as a background task of the server."""

    def __init__(self) -> None:
        super().__init__("gc-tuner", tune_forever)
