"""Sizing figures for docs/scaling.md: memory per connected screen, deliveries per
CPU-second, and what the metrics cost on the hot path.

Run from the repository root (needs ``psutil``, as ``bench/load.py``)::

    python bench/sizing.py memory --clients 1000,2000,5000
    python bench/sizing.py throughput --clients 2000 --rate 4
    python bench/sizing.py hotpath --clients 2000 --without /tmp/main-src --rounds 10
    python bench/sizing.py overhead --clients 2000 --without /tmp/main-src --rounds 2

Each part drives ``bench/load.py`` (its real server on a free loopback port, real
WebSocket clients in worker processes, psutil on the server's pid) and reads its JSON:

``memory``      the join scenario at each ``--clients``: the server's RSS with none
                connected, then with all connected; the slope (bytes per screen) by least
                squares over every point, and the base (RSS with none).
``throughput``  the questions scenario with ``--baseline`` (the raw ``broadcast()``
                server of ``bench/baseline.py``, same clients, same run): question
                deliveries counted on the clients divided by the server's CPU-seconds over
                the run, for ours and the baseline.
``hotpath``     the hub's fan-out alone, in this process, to ``--clients`` screens
                whose connections take everything at once (and 2 hosts' screens), with
                this tree's hub and with ``--without``'s (loaded from its file),
                alternated; medians and their ratio, nanoseconds per delivery. Two paths:
                ``folded``, the one production runs (``fold_seconds=0.5``,
                ``slice_size=256``): one storm window published, each of ``--questions``
                questions as staff and everyone see it plus the vote counts, then the
                push and all its slices; and ``unfolded``: one event published to every
                screen at once (``Hub()``). Each timed ``--repeat`` times a round, in CPU
                time of the thread (``time.thread_time``: what other processes take is
                not counted). No sockets: the hub's own share of a delivery, with
                nothing to hide it.
``overhead``    the storm (10 questions/s + 100 votes/s), alternately against this tree
                and against ``--without`` (a copy of the source without the metrics, such
                as ``git archive <commit> | tar -x -C DIR``, served with load.py's
                ``--server-source``):
                p99 and server CPU per run, medians and their ratio.

Everything is bounded by load.py's own ``--duration`` and ``--timeout``; every server
and client is stopped at the end of each run.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LOAD = ROOT / "bench" / "load.py"


def load(args: list[str]) -> dict[str, Any]:
    """Run bench/load.py with ``args``; its JSON payload."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "result.json"
        command = [sys.executable, str(LOAD), *args, "--json", str(out)]
        print("$", " ".join(command[1:]), flush=True)
        subprocess.run(command, check=True, cwd=ROOT)
        payload: dict[str, Any] = json.loads(out.read_text())
        return payload


def common(args: argparse.Namespace) -> list[str]:
    return ["--workers", str(args.workers), "--quiet-wait", str(args.quiet_wait)]


def slope(points: list[tuple[int, float]]) -> tuple[float, float]:
    """(slope, intercept) of the least-squares line through ``points``."""
    xs = [float(x) for x, _ in points]
    ys = [y for _, y in points]
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    if spread == 0:
        return 0.0, mean_y
    rise = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
    return rise / spread, mean_y - rise / spread * mean_x


def memory(args: argparse.Namespace) -> dict[str, Any]:
    points: list[tuple[int, float]] = []
    runs = []
    for clients in args.clients:
        payload = load(["--scenario", "join", "--clients", str(clients), *common(args)])
        res = payload["results"]["ours"]
        points += [(0, res["rss_none"]), (res["join"]["connected"], res["rss_all"])]
        runs.append(
            {
                "clients": clients,
                "connected": res["join"]["connected"],
                "rss_none": res["rss_none"],
                "rss_all": res["rss_all"],
            }
        )
    per_screen, base = slope(points)
    return {"runs": runs, "bytes_per_screen": per_screen, "base_bytes": base}


def cpu_seconds(res: dict[str, Any]) -> float:
    cpu = res["cpu"]
    return float(cpu["server"]) / 100 * float(cpu["wall"])


def throughput(args: argparse.Namespace) -> dict[str, Any]:
    (clients,) = args.clients
    payload = load(
        [
            "--scenario",
            "questions",
            "--clients",
            str(clients),
            "--rate",
            str(args.rate),
            "--duration",
            str(args.duration),
            "--baseline",
            *common(args),
        ]
    )
    out: dict[str, Any] = {"clients": clients, "rate": args.rate}
    for kind, res in payload["results"].items():
        questions = res["questions"]
        out[kind] = {
            "delivered": questions["delivered"],
            "missing": questions["missing"],
            "server_cpu_s": cpu_seconds(res),
            "deliveries_per_cpu_s": questions["delivered"] / cpu_seconds(res),
            "p99_s": questions["latency"]["p99"],
            "others_busy_pct": res["cpu"]["others"],
        }
    out["ours_per_baseline"] = (
        out["ours"]["deliveries_per_cpu_s"] / out["baseline"]["deliveries_per_cpu_s"]
    )
    return out


def storm(args: argparse.Namespace, source: str | None) -> dict[str, Any]:
    (clients,) = args.clients
    payload = load(
        [
            "--scenario",
            "storm",
            "--clients",
            str(clients),
            "--duration",
            str(args.duration),
            *common(args),
            *(["--server-source", source] if source else []),
        ]
    )
    res = payload["results"]["ours"]
    questions = res["storm"]
    return {
        "delivered": questions["delivered"],
        "p99_s": questions["latency"]["p99"],
        "server_cpu_pct": res["cpu"]["server"],
        "server_cpu_s": cpu_seconds(res),
        "missing": questions["missing"],
        "duplicates": questions["duplicates"],
        "others_busy_pct": res["cpu"]["others"],
    }


def overhead(args: argparse.Namespace) -> dict[str, Any]:
    if args.without is None:
        sys.exit("overhead needs --without DIR: a copy of the source without the metrics.")
    without = str(Path(args.without).resolve())
    runs: dict[str, list[dict[str, Any]]] = {"with": [], "without": []}
    for _ in range(args.rounds):  # alternated, so drifting load falls on both alike
        runs["without"].append(storm(args, without))
        runs["with"].append(storm(args, None))
    medians = {
        side: {
            key: statistics.median(r[key] for r in results)
            for key in ("p99_s", "server_cpu_pct", "server_cpu_s")
        }
        for side, results in runs.items()
    }
    ratios = {
        key: medians["with"][key] / medians["without"][key]
        for key in medians["with"]
        if medians["without"][key]
    }
    return {"runs": runs, "medians": medians, "with_per_without": ratios}


class Taker:
    """A screen whose connection always takes what it is handed at once."""

    def write_now(self, seq: int, wire: str) -> bool:
        return True

    def write_many(self, items: Any) -> bool:
        return True

    def wake(self) -> None:
        pass

    def end(self, reason: str) -> None:
        pass


class HandLoop:
    """The hub's clock and scheduler: what it asks to run later runs when told to."""

    def __init__(self) -> None:
        self.now = 0.0
        self.calls: list[Any] = []

    def clock(self) -> float:
        return self.now

    def schedule(self, delay: float, callback: Any) -> None:
        self.calls.append(callback)

    def run_one(self) -> None:
        self.calls.pop(0)()

    def run_all(self) -> None:
        while self.calls:
            self.run_one()


def hub_module(source: Path) -> ModuleType:
    """``webinar/realtime/hub.py`` of ``source``, loaded under a name of its own."""
    spec = importlib.util.spec_from_file_location(
        f"hub_{abs(hash(source))}", source / "webinar" / "realtime" / "hub.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


#: Screens of hosts among the attendees (they see the staff events too).
STAFF_SCREENS = 2
AT = "2026-12-07T10:00:00+00:00"


def screens(module: ModuleType, hub: Any, clients: int) -> None:
    """``clients`` attendees' screens (HTML, as browsers) and a few hosts'."""
    for n in range(clients):
        hub.subscribe({"all"}, "html", owner=f"p{n}", sink=Taker())
    for n in range(STAFF_SCREENS):
        hub.subscribe({"staff"}, "html-staff", owner=f"h{n}", sink=Taker())


def window(module: ModuleType, first: int, questions: int) -> list[Any]:
    """One fold window of the storm: each question as the staff and everyone see it, then
    the vote counts; sequence numbers from ``first``."""
    events = []
    for n in range(questions):
        events.append(module.Event(first + 2 * n, "qa.question", "staff", {}, AT))
        events.append(module.Event(first + 2 * n + 1, "qa.question", "all", {}, AT))
    events.append(module.Event(first + 2 * questions, "qa.votes", "all", {}, AT))
    return events


def folded_seconds(
    module: ModuleType, clients: int, repeat: int, questions: int
) -> tuple[list[float], list[float], int]:
    """Seconds per folded push (production's ``Hub(fold_seconds=0.5, slice_size=256)``:
    one window's events published, then the push and every slice of it, run back to
    back), ``repeat`` times; the seconds until its first slice was written (the first
    256 screens had their events); and the deliveries of one push."""
    hand = HandLoop()
    hub = module.Hub(
        lambda event, fmt: "x" * 200,
        fold_seconds=0.5,
        slice_size=256,
        clock=hand.clock,
        schedule=hand.schedule,
    )
    screens(module, hub, clients)
    times: list[float] = []
    firsts: list[float] = []
    seq = 1
    for _ in range(repeat):
        events = window(module, seq, questions)
        seq += len(events)
        hand.now += 1.0  # a window later: this push is due at once
        began = time.thread_time()
        hub.publish_all(events)
        hand.run_one()  # the push and its first slice
        firsts.append(time.thread_time() - began)
        hand.run_all()
        times.append(time.thread_time() - began)
    return times, firsts, hub.deliveries // repeat


def fan_out_seconds(
    module: ModuleType, clients: int, repeat: int
) -> tuple[list[float], list[float], int]:
    """Seconds per publish of one event to ``clients`` screens, unfolded (``Hub()``),
    ``repeat`` times (all at once: the first screen waits as long as the last, so twice);
    and the deliveries of one publish."""
    hub = module.Hub(lambda event, fmt: "x" * 200, ring_size=64)
    screens(module, hub, clients)
    times = []
    for seq in range(1, repeat + 1):
        event = module.Event(seq, "qa.question", "all", {}, AT)
        began = time.thread_time()
        hub.publish(event)
        times.append(time.thread_time() - began)
    return times, times, hub.deliveries // repeat


def hotpath(args: argparse.Namespace) -> dict[str, Any]:
    if args.without is None:
        sys.exit("hotpath needs --without DIR: a copy of the source to compare with.")
    (clients,) = args.clients
    sides = {"with": hub_module(ROOT), "without": hub_module(Path(args.without).resolve())}
    paths: dict[str, Callable[[ModuleType], tuple[list[float], list[float], int]]] = {
        "folded": lambda module: folded_seconds(module, clients, args.repeat, args.questions),
        "unfolded": lambda module: fan_out_seconds(module, clients, args.repeat),
    }
    out: dict[str, Any] = {"clients": clients, "questions_per_push": args.questions}
    for path, measure in paths.items():
        samples: dict[str, list[float]] = {"with": [], "without": []}
        first: dict[str, list[float]] = {"with": [], "without": []}
        deliveries: dict[str, int] = {}
        for _ in range(args.rounds):  # alternated, so drifting load falls on both alike
            for side, module in sides.items():
                times, firsts, deliveries[side] = measure(module)
                samples[side] += times
                first[side] += firsts
        medians = {side: statistics.median(values) for side, values in samples.items()}
        out[path] = {
            "runs_per_side": len(samples["with"]),
            "deliveries_per_run": deliveries,
            "median_s": medians,
            "median_first_slice_s": {side: statistics.median(v) for side, v in first.items()},
            "ns_per_delivery": {side: medians[side] / deliveries[side] * 1e9 for side in sides},
            "deliveries_per_cpu_s": {side: deliveries[side] / medians[side] for side in sides},
            "with_per_without": medians["with"] / medians["without"],
        }
    return out


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("part", choices=("memory", "throughput", "hotpath", "overhead"))
    parser.add_argument(
        "--clients",
        type=lambda text: [int(n) for n in text.split(",")],
        default=None,
        help="Attendees (memory: a comma-separated list).",
    )
    parser.add_argument("--rate", type=float, default=4.0, help="Questions a second.")
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=4, help="Client processes.")
    parser.add_argument("--rounds", type=int, default=2, help="Runs of each side, alternated.")
    parser.add_argument("--repeat", type=int, default=200, help="hotpath: publishes a round.")
    parser.add_argument(
        "--questions", type=int, default=5, help="hotpath: questions in a fold window."
    )
    parser.add_argument(
        "--without", help="overhead, hotpath: a copy of the source to compare with."
    )
    parser.add_argument("--quiet-wait", type=float, default=20.0)
    parser.add_argument("--json", dest="json_path", help="Write the figures here too.")
    args = parser.parse_args(argv)
    if args.clients is None:
        args.clients = [1000, 2000, 5000] if args.part == "memory" else [2000]
    if args.part != "memory" and len(args.clients) != 1:
        parser.error(f"{args.part} takes one --clients figure")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    parts = {"memory": memory, "throughput": throughput, "hotpath": hotpath, "overhead": overhead}
    figures = parts[args.part](args)
    text = json.dumps(figures, indent=2)
    print(text)
    if args.json_path:
        Path(args.json_path).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
