"""The fan-out tier's own cost against Redis's ``XREAD`` alone (issue 18).

Starts its own ``redis-server`` on a free loopback port (nothing saved), fills one
event's stream with ``--events`` events shaped like a ``qa.question`` (about 550
characters of data), then, ``--runs`` times each, measures:

* ``xread``: a plain ``XREAD COUNT 512`` loop over the whole stream (redis-py parses the
  reply; nothing else is done);
* ``follow``: :class:`webinar.services.fanout.StreamFollower` reading the same stream
  into a hub (entries decoded into events, checked for order, put in the replay ring);
* ``append``: :class:`webinar.realtime.streams.EventStream` copying the events to a new
  stream, 64 per round trip (what the writer's publisher does after each commit).

Prints, per mode, the median events per second and CPU seconds of this process per
1,000 events, and the ratio of ``follow`` to ``xread``. Loopback only, bounded by
``--events``.

    python bench/stream_follow.py [--events 20000] [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from webinar.realtime.hub import Event, Hub
from webinar.realtime.streams import EventStream, connect
from webinar.services.fanout import StreamFollower
from webinar.storage.db import Database, migrate_sync
from webinar.storage.webinars import save_webinar_sync

TEXT = "How do we record a disclosure made during a group session, and who is told? " * 3


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def events(count: int) -> list[Event]:
    at = "2026-12-07T10:00:00.000+00:00"
    return [
        Event(
            seq,
            "qa.question",
            "all",
            {"question": {"id": seq, "text": TEXT, "author": "Anonymous", "votes": 0}},
            at,
        )
        for seq in range(1, count + 1)
    ]


async def measure(run: Callable[[], Awaitable[int]]) -> tuple[float, float]:
    """(events per second, CPU seconds per 1,000 events) of one run."""
    wall, cpu = time.perf_counter(), time.process_time()
    count = await run()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return count / wall, cpu / count * 1000


async def bench(
    url: str, count: int, runs: int, db: Database
) -> dict[str, list[tuple[float, float]]]:
    redis = connect(url)
    source = EventStream(redis, "bench:source", count + 10)
    batch = events(count)
    for start in range(0, count, 512):
        await source.append(batch[start : start + 512], floor=0)

    async def xread() -> int:
        seen, after = 0, 0
        while seen < count:
            reply: Any = await redis.xread({source.key: f"{after}-0"}, count=512)
            entries = reply[0][1]
            seen += len(entries)
            after = int(entries[-1][0].decode().partition("-")[0])
        return seen

    async def follow() -> int:
        hub = Hub(lambda event, fmt: "x", ring_size=4096)
        follower = StreamFollower(hub, source, db, block_ms=None)
        while hub.last_seq < count:
            await follower.step()
        return hub.last_seq

    async def append() -> int:
        target = EventStream(redis, f"bench:copy:{time.monotonic_ns()}", count + 10)
        for start in range(0, count, 64):
            await target.append(batch[start : start + 64], floor=0)
        await redis.delete(target.key)
        return count

    results: dict[str, list[tuple[float, float]]] = {"xread": [], "follow": [], "append": []}
    for _ in range(runs):
        for name, run in (("xread", xread), ("follow", follow), ("append", append)):
            results[name].append(await measure(run))
    await redis.aclose()
    return results


async def main(count: int, runs: int) -> None:
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is not installed (apt-get install redis-server)")
    port = free_port()
    server = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        for line in server.stdout:
            if "Ready to accept connections" in line:
                break
        with tempfile.TemporaryDirectory() as tmp:
            path = str(Path(tmp) / "bench.db")
            migrate_sync(path)
            event, _ = save_webinar_sync(path, "bench")
            db = Database(path, event.id)
            await db.open()
            results = await bench(f"redis://127.0.0.1:{port}/0", count, runs, db)
            await db.close()
    finally:
        server.kill()
        server.wait()
    medians = {
        name: (statistics.median(r[0] for r in rows), statistics.median(r[1] for r in rows))
        for name, rows in results.items()
    }
    print(f"{count} events, median of {runs} runs")
    for name, (rate, cpu) in medians.items():
        print(f"  {name:7} {rate:10,.0f} events/s  {cpu:.3f} CPU s per 1,000 events")
    ratio = medians["follow"][1] / medians["xread"][1]
    print(f"  follow / xread CPU per event: {ratio:.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=5)
    options = parser.parse_args()
    asyncio.run(main(options.events, options.runs))
