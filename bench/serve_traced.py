"""The real server, instrumented: memory per attendee, event-loop stalls, GC pauses.

Serves the seed agenda like ``webinar serve`` (same app, same uvicorn settings) in this
process, takes a tracemalloc snapshot once it is up and another once ``--expect``
WebSockets have stayed connected for a few seconds, and writes the difference, grouped by
source line and by file, divided by the number of connections. Drive it with
``bench/load.py --url``::

    python bench/serve_traced.py --db /tmp/t.db --port 8800 --expect 2000 --out mem.txt &
    python bench/load.py --scenario join --clients 2000 --url http://127.0.0.1:8800 \\
        --db /tmp/t.db --server-pid $!

tracemalloc slows the server and counts Python allocations only (not the C library's or
the kernel's socket buffers), so use it for *where*, and ``bench/load.py`` for *how much*.
With ``--freeze`` it also calls ``gc.collect(); gc.freeze()`` once ``--expect``
attendees are connected (an experiment for the lead, not what ``webinar serve`` does).
With ``--no-tracemalloc`` it only watches the event loop: every stall longer than
``--stall-ms`` (the loop did not run a 10 ms timer on time) and every garbage collection
longer than 5 ms are written to ``--stalls`` when it stops, so a latency spike measured by
``bench/load.py`` can be matched with its cause. It stops by itself after
``--max-seconds``, or on SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import linecache
import signal
import time
import tracemalloc
from datetime import date
from pathlib import Path
from typing import Any

import uvicorn

from webinar.services import prepare_database
from webinar.services.agenda_files import SEED_AGENDA, load_agenda
from webinar.web.app import Settings
from webinar.web.site import create_app

WS_MAX_SIZE = 64 * 1024  # as webinar.web.server


def describe(before: tracemalloc.Snapshot, after: tracemalloc.Snapshot, n: int) -> str:
    lines = [f"tracemalloc difference for {n} connected attendees (bytes per attendee)", ""]
    total = sum(s.size_diff for s in after.compare_to(before, "filename"))
    lines.append(f"total Python allocations: {total / n:,.0f} B per attendee")
    lines.append("")
    lines.append("by file:")
    for stat in after.compare_to(before, "filename")[:25]:
        frame = stat.traceback[0]
        lines.append(
            f"  {stat.size_diff / n:>9,.0f} B  {stat.count_diff / n:>7.1f} blocks  {frame}"
        )
    lines.append("")
    lines.append("by line:")
    for stat in after.compare_to(before, "lineno")[:40]:
        frame = stat.traceback[0]
        code = linecache.getline(frame.filename, frame.lineno).strip()
        lines.append(
            f"  {stat.size_diff / n:>9,.0f} B  {stat.count_diff / n:>7.1f} blocks  "
            f"{frame.filename}:{frame.lineno}  {code}"
        )
    return "\n".join(lines) + "\n"


class LoopWatch:
    """Event-loop stalls and GC pauses, with Unix times, to compare with load.py's timeline."""

    def __init__(self, stall_ms: float) -> None:
        self.stall = stall_ms / 1000
        self.stalls: list[tuple[float, float]] = []
        self.collections: list[tuple[float, int, float, int]] = []
        self._gc_started = 0.0
        self.gc_total = [0.0, 0.0, 0.0]
        self.gc_count = [0, 0, 0]

    def on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
            return
        spent = time.perf_counter() - self._gc_started
        generation = info["generation"]
        self.gc_total[generation] += spent
        self.gc_count[generation] += 1
        if spent > 0.005:
            self.collections.append((time.time(), generation, spent, info["collected"]))

    async def run(self) -> None:
        tick = 0.01
        while True:
            started = time.perf_counter()
            await asyncio.sleep(tick)
            late = time.perf_counter() - started - tick
            if late > self.stall:
                self.stalls.append((time.time(), late))

    def report(self) -> str:
        lines = ["event-loop stalls (unix time, seconds late):"]
        lines += [f"  {at:.3f}  {late:.3f}" for at, late in self.stalls]
        lines.append("garbage collections over 5 ms (unix time, generation, seconds, collected):")
        lines += [f"  {at:.3f}  gen{g}  {spent:.3f}  {n}" for at, g, spent, n in self.collections]
        lines.append("totals by generation (count, seconds):")
        for generation in range(3):
            lines.append(
                f"  gen{generation}: {self.gc_count[generation]}, {self.gc_total[generation]:.3f} s"
            )
        lines.append(
            f"gc thresholds {gc.get_threshold()}; objects tracked now {len(gc.get_objects())}"
        )
        return "\n".join(lines) + "\n"


async def main(args: argparse.Namespace) -> None:
    if args.tracemalloc:
        tracemalloc.start(args.frames)
    watch_loop = LoopWatch(args.stall_ms)
    gc.callbacks.append(watch_loop.on_gc)
    secrets = prepare_database(args.db)
    base = f"http://127.0.0.1:{args.port}"
    settings = Settings(
        agenda=load_agenda(SEED_AGENDA, today=date.today()),
        db_path=args.db,
        secrets=secrets,
        base_url=base,
    )
    config = uvicorn.Config(
        create_app(settings),
        host="127.0.0.1",
        port=args.port,
        log_level="info",  # as ``webinar serve``: one access-log line per request
        ws_max_size=WS_MAX_SIZE,
        proxy_headers=True,
        forwarded_allow_ips="127.0.0.1",
        lifespan="on",
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: setattr(server, "should_exit", True))
    while not server.started:
        await asyncio.sleep(0.05)
    app = server.config.loaded_app
    while hasattr(app, "app"):
        app = app.app
    hub = app.state.services.hub
    print(f"serving on {base}", flush=True)

    watcher = asyncio.create_task(watch(args, server, hub))
    looper = asyncio.create_task(watch_loop.run())
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.shield(serving), args.max_seconds)
    server.should_exit = True
    await serving
    watcher.cancel()
    looper.cancel()
    if args.stalls:
        Path(args.stalls).write_text(watch_loop.report())


async def watch(args: argparse.Namespace, server: uvicorn.Server, hub: Any) -> None:
    """Once ``--expect`` attendees have stayed for ``--settle`` seconds: freeze, and write
    what tracemalloc saw them take."""
    if not args.tracemalloc and not args.freeze:
        return
    before: tracemalloc.Snapshot | None = None
    stable = 0
    while not server.should_exit:
        await asyncio.sleep(1.0)
        count = hub.client_count
        if args.tracemalloc and before is None and count == 0:
            before = tracemalloc.take_snapshot()  # after the first requests
        if args.expect and count >= args.expect:
            stable += 1
            if stable >= args.settle:
                settled(args, count, before)
                return
        else:
            stable = 0


def settled(args: argparse.Namespace, count: int, before: tracemalloc.Snapshot | None) -> None:
    if args.freeze:
        # The experiment: what if the server froze its long-lived objects once the
        # audience is in, so full collections skip them?
        started = time.perf_counter()
        gc.collect()
        gc.freeze()
        print(
            f"gc.freeze() with {count} attendees: {gc.get_freeze_count()} "
            f"objects frozen in {time.perf_counter() - started:.3f} s",
            flush=True,
        )
    if before is not None:
        after = tracemalloc.take_snapshot()
        Path(args.out).write_text(describe(before, after, count))
        print(f"wrote {args.out} for {count} attendees", flush=True)


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--expect", type=int, default=0, help="Attendees to wait for.")
    parser.add_argument("--out", default="memory-per-attendee.txt")
    parser.add_argument("--settle", type=int, default=3, help="Seconds connected before.")
    parser.add_argument("--frames", type=int, default=1, help="tracemalloc frames kept.")
    parser.add_argument("--max-seconds", type=float, default=300.0)
    parser.add_argument(
        "--no-tracemalloc", dest="tracemalloc", action="store_false", help="Stalls and GC only."
    )
    parser.add_argument("--stall-ms", type=float, default=50.0)
    parser.add_argument(
        "--freeze",
        action="store_true",
        help="Experiment: gc.collect() then gc.freeze() once --expect attendees are in.",
    )
    parser.add_argument("--stalls", help="Write the stalls and GC pauses here at the end.")
    asyncio.run(main(parser.parse_args()))


if __name__ == "__main__":
    cli()
