"""One process on SQLite against ``webinar serve --workers 2`` on PostgreSQL and Redis.

Run from the repository root (as root, or as a user that can start PostgreSQL). It
starts a throwaway PostgreSQL cluster (``tests/postgres_cluster.py``) and a throwaway
``redis-server`` (``tests/redis_server.py``), then for each configuration starts the
server on a free loopback port with a fresh database and runs ``bench/load.py``'s
scenario (``--scenario``, default ``questions``: 4 questions a second) against it with
``--url``. The server's CPU is summed over the supervisor and its workers (load.py
measures a server's children too). Printed and written (``--json``) side by side: p99
submit-to-screen, deliveries, server CPU-seconds per 1,000 deliveries, and the ratios
(workers / one process).

Every attendee's screen lands on either worker. By default an edge worker pipes its
screens to the event's writer, so this measures what the forwarding costs, not a spread
fan-out; ``--edge-fanout`` also runs the workers with ``--edge-fanout`` (each serves its
screens from its own hub, fed by the stream), in the same run.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from ports import free_port  # noqa: E402
from redis_server import RedisServer, redis_binary  # noqa: E402

from postgres_cluster import Cluster, binary  # noqa: E402
from webinar.storage import repo  # noqa: E402
from webinar.storage.webinars import list_webinars_sync  # noqa: E402

AGENDA = ROOT / "webinar" / "agendas" / "seed.toml"


def start_server(db: str, extra: list[str]) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "webinar", "serve", str(AGENDA)),
            *("--db", db, "--port", str(port), *extra),
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"the server ({' '.join(extra) or 'one process'}) exited at start")
        try:
            if httpx.get(f"{base}/readyz", timeout=5).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    sys.exit("the server did not start within 120 s")


def run_load(name: str, db: str, extra: list[str], load_args: list[str], out: Path) -> Any:
    proc, base = start_server(db, extra)
    try:
        event = list_webinars_sync(db)[0]
        secrets = repo.ensure_meta_sync(db, event.id, {})
        result = out / f"{name}.json"
        command = [
            sys.executable,
            str(ROOT / "bench" / "load.py"),
            "--url",
            base,
            "--code",
            secrets["join_code"],
            "--host-token",
            secrets["host_token"],
            "--server-pid",
            str(proc.pid),
            "--json",
            str(result),
            *load_args,
        ]
        print(f"== {name}: {' '.join(extra) or 'one process'}", flush=True)
        subprocess.run(command, cwd=ROOT, check=True)
        return json.loads(result.read_text())["results"]["ours"]
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def figures(result: dict[str, Any]) -> dict[str, float]:
    scenario = next(v for v in result.values() if isinstance(v, dict) and "delivered" in v)
    cpu = result["cpu"]
    cpu_seconds = cpu["server"] / 100 * cpu["wall"]
    delivered = scenario["delivered"]
    return {
        "p99_ms": 1000 * scenario["latency"]["p99"],
        "delivered": delivered,
        "missing": scenario["missing"],
        "duplicates": scenario["duplicates"],
        "server_cpu_s": cpu_seconds,
        "cpu_s_per_1000": 1000 * cpu_seconds / delivered if delivered else math.nan,
        "others_pct": cpu["others"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=2000)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--scenario", default="questions", choices=("questions", "storm"))
    parser.add_argument("--workers", type=int, default=2, help="Server workers.")
    parser.add_argument(
        "--edge-fanout", action="store_true", help="Also run the workers with --edge-fanout."
    )
    parser.add_argument("--json", dest="json_path")
    args = parser.parse_args()
    load_args = [
        "--scenario",
        args.scenario,
        "--clients",
        str(args.clients),
        "--duration",
        str(args.duration),
        "--quiet-wait",
        "10",
    ]
    binary("postgres")  # says what is missing before anything starts
    redis = RedisServer(redis_binary())
    cluster = Cluster(port=free_port())
    redis.start()
    cluster.start()
    rows: dict[str, dict[str, float]] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="webinar-bench-workers-") as folder:
            out = Path(folder)
            os.chmod(folder, 0o755)
            one = run_load("one", str(out / "webinar.db"), [], load_args, out)
            rows["1 process + SQLite"] = figures(one)
            url = cluster.create("bench_workers")
            extra = ["--workers", str(args.workers), "--redis", redis.url]
            many = run_load("workers", url, extra, load_args, out)
            rows[f"{args.workers} workers + PostgreSQL + Redis"] = figures(many)
            if args.edge_fanout:
                url = cluster.create("bench_workers_edge")
                edge = run_load("edge", url, [*extra, "--edge-fanout"], load_args, out)
                rows[f"{args.workers} workers, edge fan-out"] = figures(edge)
    finally:
        cluster.stop()
        redis.stop()
    names = list(rows)
    print()
    heads = ("p99 ms", 8), ("delivered", 10), ("CPU s", 7), ("CPU s/1000", 11), ("others %", 9)
    print(f"{'':34} " + " ".join(f"{head:>{width}}" for head, width in heads))
    for name in names:
        r = rows[name]
        print(
            f"{name:34} {r['p99_ms']:8.0f} {r['delivered']:10,.0f} {r['server_cpu_s']:7.1f}"
            f" {r['cpu_s_per_1000']:11.3f} {r['others_pct']:9.0f}"
        )
    a = rows[names[0]]
    ratios: dict[str, float] = {}
    for name, label in zip(names[1:], ("workers", "edge"), strict=False):
        b = rows[name]
        ratios[f"p99 {label}/one"] = b["p99_ms"] / a["p99_ms"]
        ratios[f"CPU per delivery {label}/one"] = b["cpu_s_per_1000"] / a["cpu_s_per_1000"]
    for key, value in ratios.items():
        print(f"{key}: {value:.2f}")
    if args.json_path:
        Path(args.json_path).write_text(json.dumps({"rows": rows, "ratios": ratios}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
