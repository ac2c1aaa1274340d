"""What the writer epoch's fence costs a commit (issue 18).

A worker that writes for an event took its writer epoch (``Database.take_writing``), and
every transaction it writes must find that epoch still the event's. The check is folded
into the statement that takes the event's next sequence numbers
(``Database.take_seqs``); before, it was a ``SELECT writer_epoch ... [FOR UPDATE]`` of its
own right after ``BEGIN``. This bench commits changes of one event each (one small event
per change, through the real :class:`webinar.services.commit.Committer`) in three modes,
alternated round by round in the same run (each round in another order):

* ``unfenced``: no epoch taken (one process serving the database: nothing to check);
* ``fenced``: the epoch taken, checked by the seq UPDATE (this tree);
* ``select``: the epoch taken, plus the separate ``SELECT`` at ``BEGIN`` that the fence
  cost before (the statement this change saved; emulated by :class:`SeparateCheck`).

Two loads: ``serial`` (one change at a time: each commit is one transaction, the
statement's round trip shows) and ``burst`` (``--burst`` changes at once: group commit
puts many changes in one transaction). Prints the median time a handover took to be
written over every handover of every round, and the changes per second it means (a
median resists the bursts of other work on a shared machine better than a total).
``--db`` is a SQLite file (default: a temporary one) or a PostgreSQL URL (the bench adds
events of its own to it and leaves them: give a throwaway database).

    python bench/fence.py [--db postgresql://...] [--changes 200] [--rounds 30]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

from webinar.realtime.hub import Event, Hub
from webinar.services.commit import Committer, Outgoing, Work, utcnow
from webinar.storage.db import Database, Tx, migrate_sync
from webinar.storage.postgres import is_postgres
from webinar.storage.webinars import save_webinar_sync

MODES = ("unfenced", "fenced", "select")


class SeparateCheck(Database):
    """The fence as it was: a statement of its own right after ``BEGIN``."""

    @contextlib.asynccontextmanager
    async def transaction(self, *, fenced: bool = True) -> AsyncIterator[Tx]:
        async with super().transaction(fenced=fenced) as conn:
            if fenced and self.epoch is not None:
                await self._check_epoch(conn, self.epoch)
            yield conn


def change(n: int) -> Work:
    async def work(tx: Tx, now: datetime) -> tuple[int, list[Outgoing]]:
        return n, [Outgoing("qa.vote", "all", {"question_id": 1, "votes": n})]

    return work


def encode(event: Event, fmt: str) -> str:
    return ""


async def handle(url: str, webinar_id: int, mode: str) -> Committer:
    db = (SeparateCheck if mode == "select" else Database)(url, webinar_id)
    await db.open()
    if mode != "unfenced":
        await db.take_writing()
    return Committer(db, Hub(encode), utcnow)


async def run(url: str, webinar_id: int, mode: str, changes: int, burst: int) -> list[float]:
    """Seconds each handover took to be written (one change at a time for ``burst`` 1, else
    ``burst`` changes at once, sharing transactions)."""
    committer = await handle(url, webinar_id, mode)
    took: list[float] = []
    try:
        for start in range(0, changes, burst):
            began = time.perf_counter()
            await asyncio.gather(
                *(committer.commit(change(n)) for n in range(start, min(changes, start + burst)))
            )
            took.append(time.perf_counter() - began)
        return took
    finally:
        await committer.db.close()


async def bench(url: str, changes: int, rounds: int, burst: int) -> dict[str, list[float]]:
    migrate_sync(url)
    event, _ = save_webinar_sync(url, f"fence-{uuid.uuid4().hex[:8]}")
    results: dict[str, list[float]] = {}
    for round_ in range(rounds):
        order = MODES[round_ % 3 :] + MODES[: round_ % 3]  # no mode always first
        for load, size in (("serial", 1), ("burst", burst)):
            for mode in order:
                took = await run(url, event.id, mode, changes, size)
                results.setdefault(f"{load} {mode}", []).extend(took)
    return results


def report(
    url: str, changes: int, rounds: int, burst: int, results: dict[str, list[float]]
) -> None:
    backend = "PostgreSQL" if is_postgres(url) else "SQLite"
    print(f"{backend}: {changes} changes per run, {rounds} rounds")
    print("  (median seconds per handover: one change serial, a burst of changes at once;")
    print("   changes/s = changes per handover / that median)")
    medians = {name: statistics.median(took) for name, took in results.items()}
    for name, median in medians.items():
        size = 1 if name.startswith("serial") else burst
        print(f"  {name:16} {median * 1000:8.2f} ms  {size / median:9,.0f} changes/s")
    for load in ("serial", "burst"):
        gain = medians[f"{load} select"] / medians[f"{load} fenced"]
        print(f"  {load}: changes/s fenced / select {gain:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", help="A SQLite file or a PostgreSQL URL (default: a temp file).")
    parser.add_argument("--changes", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--burst", type=int, default=50, help="Changes at once (burst load).")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = options.db or str(Path(tmp) / "fence.db")
        results = asyncio.run(bench(url, options.changes, options.rounds, options.burst))
    report(url, options.changes, options.rounds, options.burst, results)


if __name__ == "__main__":
    main()
