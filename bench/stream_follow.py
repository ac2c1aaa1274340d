"""The fan-out tier's own cost against Redis's ``XADD``/``XREAD`` alone (issue 18).

Starts its own ``redis-server`` on a free loopback port (nothing saved), fills one
event's stream with ``--events`` events shaped like a ``qa.question`` (about 550
characters of data), then, ``--runs`` times each, measures:

* ``xread``: a plain ``XREAD COUNT 512`` loop over the whole stream (redis-py parses the
  reply; nothing else is done);
* ``follow``: :class:`webinar.services.fanout.StreamFollower` reading the same stream
  into a hub (entries decoded into events, checked for order, put in the replay ring);
* ``append``: :class:`webinar.realtime.streams.EventStream` copying the events to a new
  stream, 64 per round trip (what the writer's publisher does after each commit);

and end to end, a producer handing the events over ``--per-commit`` at a time (as
commits do) while a reader takes them, in one process:

* ``raw``: the same entries (their fields encoded beforehand) sent by a plain pipelined
  ``XADD`` loop and read by a plain ``XREAD BLOCK`` loop: Redis alone;
* ``tier``: the events published into a writer's hub, copied to a new stream by
  :class:`webinar.services.fanout.StreamPublisher` (rung after each handover, as after a
  COMMIT) and read into another hub by a started :class:`StreamFollower`.

Prints, per mode, the median events per second and CPU seconds per 1,000 events of this
process and of ``redis-server``, and the ratios ``follow`` / ``xread`` and ``tier`` /
``raw``. Loopback only, bounded by ``--events``.

    python bench/stream_follow.py [--events 20000] [--runs 5] [--per-commit 8]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from webinar.realtime.hub import Event, Hub
from webinar.realtime.streams import EventStream, _fields, connect
from webinar.services.commit import Committer, utcnow
from webinar.services.fanout import StreamFollower, StreamPublisher
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


#: (events per second, CPU seconds per 1,000 events of this process, of redis-server)
Figures = tuple[float, float, float]
Run = Callable[[], Awaitable[int]]


def cpu_of(pid: int) -> float:
    """CPU seconds (user + system) a process has used, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measure(run: Run, redis_pid: int) -> Figures:
    """The figures of one run."""
    wall, cpu, redis_cpu = time.perf_counter(), time.process_time(), cpu_of(redis_pid)
    count = await run()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    redis_cpu = cpu_of(redis_pid) - redis_cpu
    return count / wall, cpu / count * 1000, redis_cpu / count * 1000


def reading_modes(
    redis: Redis, source: EventStream, batch: list[Event], db: Database
) -> dict[str, Run]:
    """``xread``, ``follow`` and ``append``: one side at a time, on a filled stream."""
    count = len(batch)

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

    return {"xread": xread, "follow": follow, "append": append}


async def raw_publish(
    redis: Redis,
    key: str,
    pending: list[tuple[str, dict[Any, Any]]],
    wake: asyncio.Event,
    count: int,
) -> None:
    """Send what is pending with pipelined ``XADD``s (up to 512 a round trip)."""
    sent = 0
    while sent < count:
        await wake.wait()
        wake.clear()
        while pending:
            taken, pending[:] = pending[:512], pending[512:]
            async with redis.pipeline(transaction=False) as pipe:
                for stream_id, fields in taken:
                    pipe.xadd(key, fields, id=stream_id, maxlen=count + 10, approximate=True)
                await pipe.execute()
            sent += len(taken)


async def raw_read(redis: Redis, key: str, count: int) -> int:
    """Read ``count`` entries with ``XREAD BLOCK``, 512 at most a round trip."""
    seen, after = 0, "0-0"
    while seen < count:
        reply: Any = await redis.xread({key: after}, count=512, block=2000)
        if reply:
            got = reply[0][1]
            seen += len(got)
            after = got[-1][0]
    return seen


def end_to_end_modes(
    redis: Redis, batch: list[Event], db: Database, per_commit: int
) -> dict[str, Run]:
    """``raw`` and ``tier``: a producer hands events over while a reader takes them."""
    count = len(batch)
    chunks = [batch[start : start + per_commit] for start in range(0, count, per_commit)]

    async def raw() -> int:
        key = f"bench:raw:{time.monotonic_ns()}"
        entries = [(f"{event.seq}-0", _fields(event, 0)) for event in batch]
        pending: list[tuple[str, dict[Any, Any]]] = []
        wake = asyncio.Event()
        reader = asyncio.create_task(raw_read(redis, key, count))
        publisher = asyncio.create_task(raw_publish(redis, key, pending, wake, count))
        at = 0
        for chunk in chunks:
            pending.extend(entries[at : at + len(chunk)])
            at += len(chunk)
            wake.set()
            await asyncio.sleep(0)
        seen = await reader
        await publisher
        await redis.delete(key)
        return seen

    async def tier() -> int:
        key = f"bench:tier:{time.monotonic_ns()}"
        writer = Committer(db, Hub(lambda event, fmt: "x", ring_size=count + 10), utcnow)
        publisher = StreamPublisher(writer, EventStream(redis, key, count + 10))
        reader = Hub(lambda event, fmt: "x", ring_size=4096)
        follower = StreamFollower(reader, EventStream(redis, key, count + 10), db, block_ms=2000)
        arrived = asyncio.Event()
        reader.subscribe({"all"}, "json", sink=Arrivals(count, arrived))
        follower.start()
        publisher.start()
        for chunk in chunks:
            writer.hub.publish_all(chunk)
            for ring in writer.published:
                ring()
            await asyncio.sleep(0)
        await arrived.wait()
        await publisher.stop()
        await follower.stop()
        await redis.delete(key)
        return reader.last_seq

    return {"raw": raw, "tier": tier}


class Arrivals:
    """A screen that says when the last event arrived."""

    def __init__(self, last: int, arrived: asyncio.Event) -> None:
        self.last = last
        self.arrived = arrived

    def write_now(self, seq: int, wire: str) -> bool:
        if seq >= self.last:
            self.arrived.set()
        return True

    def write_many(self, items: Sequence[tuple[int, str]]) -> bool:
        return all([self.write_now(seq, wire) for seq, wire in items])

    def wake(self) -> None:
        pass

    def end(self, reason: str) -> None:
        pass


async def bench(
    url: str, redis_pid: int, count: int, runs: int, per_commit: int, db: Database
) -> dict[str, list[Figures]]:
    redis = connect(url)
    source = EventStream(redis, "bench:source", count + 10)
    batch = events(count)
    for start in range(0, count, 512):
        await source.append(batch[start : start + 512], floor=0)
    modes = reading_modes(redis, source, batch, db) | end_to_end_modes(redis, batch, db, per_commit)
    results: dict[str, list[Figures]] = {name: [] for name in modes}
    for _ in range(runs):
        for name, run in modes.items():
            results[name].append(await measure(run, redis_pid))
    await redis.aclose()
    return results


async def main(count: int, runs: int, per_commit: int) -> None:
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
            url = f"redis://127.0.0.1:{port}/0"
            results = await bench(url, server.pid, count, runs, per_commit, db)
            await db.close()
    finally:
        server.kill()
        server.wait()
    report(count, runs, per_commit, results)


def report(count: int, runs: int, per_commit: int, results: dict[str, list[Figures]]) -> None:
    medians = {
        name: tuple(statistics.median(r[i] for r in rows) for i in range(3))
        for name, rows in results.items()
    }
    print(f"{count} events, median of {runs} runs; end to end {per_commit} per handover")
    print(f"  {'mode':7} {'events/s':>10}  CPU s per 1,000 events: bench   redis   both")
    for name, (rate, cpu, redis_cpu) in medians.items():
        both = cpu + redis_cpu
        print(f"  {name:7} {rate:10,.0f}  {cpu:29.3f} {redis_cpu:7.3f} {both:6.3f}")
    for tier, raw in (("follow", "xread"), ("tier", "raw")):
        (rate, cpu, rcpu), (raw_rate, raw_cpu, raw_rcpu) = medians[tier], medians[raw]
        print(
            f"  {tier} / {raw}: CPU per event {cpu / raw_cpu:.2f}x (this process),"
            f" {(cpu + rcpu) / (raw_cpu + raw_rcpu):.2f}x (with redis-server);"
            f" events/s {rate / raw_rate:.2f}x"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--per-commit", type=int, default=8, help="Events per handover.")
    options = parser.parse_args()
    asyncio.run(main(options.events, options.runs, options.per_commit))
