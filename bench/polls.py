"""Benchmark of a live poll: ``--clients`` attendees answer one poll within ``--window`` s.

Run from the repository root, for example::

    python bench/polls.py --clients 2000 --window 8

It starts the real server (``python -m webinar serve agendas/seed.toml``) as a subprocess
on a free loopback port with a fresh database in a temporary folder. The host writes a
single-choice poll with four options, opens it and shows it on the projector. Attendees
are spread over ``--workers`` processes (asyncio loops): each joins over HTTP (with its own
simulated address, as ``bench/load.py`` does, since joins are limited per address),
opens a JSON live socket and waits; then every attendee sends one ``polls.answer`` action
over its socket at its own moment, evenly spread over the window, and times the
acknowledgement (the action's ``result`` reply, sent only after the answer's COMMIT).

The projector is the host's ``/projector`` socket in the HTML format (the fragments the
page swaps in, rendered by the server as for a real projector). The results are hidden
from attendees (the default), so only staff screens get counts (``--results live`` sends
every update to every attendee's screen as well); each projector update
says how many people have answered. The k-th acknowledged answer counts as shown once an
update with at least k respondents arrives: *result update* latency is that arrival time
minus the answer's send time (the answers are committed in acknowledgement order, give
or take one group commit).

Checks: every acknowledged answer is counted (the projector's last update and the
database's ``poll_answers`` both equal the number acknowledged), and none was refused.
Prints p50 / p99 / max of acknowledgement and of result update, in milliseconds; the
target is p99 at most 500 ms on the 2-core machine. Bounded: ``--timeout`` for the whole
run; the server and the workers are stopped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing as mp
import re
import sqlite3
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load import ROOT, free_port, http_client, pct, simulated_address

SEED = ROOT / "agendas" / "seed.toml"
RESPONDENTS = re.compile(
    r'id="ppoll-\d+-results".*?(\d+) (?:answered so far|people answered|person answered)', re.S
)


def start_server(folder: Path) -> tuple[Any, str, str]:
    """(process, base URL, database path) of a fresh server."""
    import subprocess

    port = free_port()
    db = str(folder / "webinar.db")
    log = (folder / "server.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "webinar", "serve", str(SEED), "--db", db, "--port", str(port)],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=0.5).status_code == 200:
                return proc, base, db
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the server did not start")


def secrets_of(db: str) -> dict[str, str]:
    with contextlib.closing(sqlite3.connect(db)) as conn, conn:
        return dict(conn.execute("SELECT key, value FROM meta").fetchall())


# -- the attendees (worker processes) -------------------------------------------------------


async def attendee(
    index: int, conf: dict[str, Any], ready: asyncio.Queue[ClientConnection | None]
) -> None:
    http = http_client(conf["base"])
    try:
        response = await http.post(
            "/api/join",
            json={"code": conf["code"], "name": f"Attendee {index:05d}"},
            headers={"X-Forwarded-For": simulated_address(index)},
        )
        if response.status_code != 201:
            await ready.put(None)
            return
        cookie = "; ".join(f"{k}={v}" for k, v in http.cookies.items())
        conn = await connect(
            conf["ws_url"],
            additional_headers={"Cookie": cookie},
            origin=conf["base"],
            compression=None,
            open_timeout=60,
            ping_interval=None,
            max_size=2**24,
        )
        await conn.send(json.dumps({"type": "resume", "last_seq": None}))
        await asyncio.wait_for(conn.recv(), 60)  # the snapshot
        await ready.put(conn)
    finally:
        await http.aclose()


async def answer(
    conn: ClientConnection, index: int, at: float, conf: dict[str, Any]
) -> tuple[float, float, bool]:
    await asyncio.sleep(max(0.0, at - time.time()))
    ref = uuid.uuid4().hex
    message = {
        "type": "action",
        "id": ref,
        "name": "polls.answer",
        "params": {"poll_id": conf["poll_id"], "choices": [index % 4], "key": ref},
    }
    sent = time.time()
    await conn.send(json.dumps(message))
    while True:
        reply = json.loads(await conn.recv())
        if isinstance(reply, list):  # events folded into one message: not the reply
            continue
        if reply.get("type") == "result" and reply.get("id") == ref:
            return sent, time.time(), bool(reply["ok"])


async def run_worker(indexes: list[int], conf: dict[str, Any], pipe: Any) -> None:
    ready: asyncio.Queue[ClientConnection | None] = asyncio.Queue()
    limit = asyncio.Semaphore(64)

    async def joined(i: int) -> None:
        async with limit:
            await attendee(i, conf, ready)

    await asyncio.gather(*(joined(i) for i in indexes))
    conns = [ready.get_nowait() for _ in indexes]
    pipe.send(sum(c is not None for c in conns))
    start_at: float = pipe.recv()
    total = conf["clients"]
    tasks = [
        answer(c, i, start_at + conf["window"] * i / total, conf)
        for i, c in zip(indexes, conns, strict=True)
        if c is not None
    ]
    pipe.send(await asyncio.gather(*tasks))
    for c in conns:
        if c is not None:
            await c.close()


def worker(indexes: list[int], conf: dict[str, Any], pipe: Any) -> None:
    asyncio.run(run_worker(indexes, conf, pipe))


# -- the host and the projector -------------------------------------------------------------


async def host_setup(base: str, token: str, results: str) -> tuple[httpx.AsyncClient, int]:
    host = httpx.AsyncClient(base_url=base, timeout=30, trust_env=False)
    await host.get(f"/enter/host/{token}")
    csrf = (await host.get("/api/session")).json()["csrf_token"]
    host.headers["X-CSRF-Token"] = csrf
    made = await host.post(
        "/api/polls/create",
        json={
            "question": "Which agency first?",
            "kind": "single",
            "options": ["Police", "Health", "Education", "Social care"],
            "results": results,
        },
    )
    poll_id: int = made.json()["poll"]["id"]
    for action in ("open", "project"):
        assert (
            await host.post(f"/api/polls/{action}", json={"poll_id": poll_id})
        ).status_code == 200
    return host, poll_id


async def watch_projector(
    base: str, host: httpx.AsyncClient, updates: list[tuple[float, int]], done: asyncio.Event
) -> None:
    cookie = "; ".join(f"{k}={v}" for k, v in host.cookies.items())
    ws = base.replace("http://", "ws://") + "/ws?format=html"
    async with connect(
        ws,
        additional_headers={"Cookie": cookie},
        origin=base,  # type: ignore[arg-type]
        compression=None,
        max_size=2**24,
    ) as conn:
        await conn.send(json.dumps({"type": "resume", "last_seq": None}))
        while not done.is_set():
            try:
                text = str(await asyncio.wait_for(conn.recv(), 0.5))
            except TimeoutError:
                continue
            found = RESPONDENTS.search(text)
            if found:
                updates.append((time.time(), int(found.group(1))))


async def drive(args: argparse.Namespace, base: str, secrets: dict[str, str]) -> dict[str, Any]:
    host, poll_id = await host_setup(base, secrets["host_token"], args.results)
    conf = {
        "base": base,
        "ws_url": base.replace("http://", "ws://") + "/ws?format=json",
        "code": secrets["join_code"],
        "poll_id": poll_id,
        "clients": args.clients,
        "window": args.window,
    }
    updates: list[tuple[float, int]] = []
    done = asyncio.Event()
    projector = asyncio.create_task(watch_projector(base, host, updates, done))
    pipes, procs = [], []
    for w in range(args.workers):
        parent, child = mp.Pipe()
        indexes = list(range(w, args.clients, args.workers))
        proc = mp.Process(target=worker, args=(indexes, conf, child), daemon=True)
        proc.start()
        pipes.append(parent)
        procs.append(proc)
    loop = asyncio.get_running_loop()
    connected = sum([await loop.run_in_executor(None, p.recv) for p in pipes])
    start_at = time.time() + 1.0
    for p in pipes:
        p.send(start_at)
    answers = [a for p in pipes for a in await loop.run_in_executor(None, p.recv)]
    acked = sum(ok for _, _, ok in answers)
    deadline = time.monotonic() + 30
    while (not updates or updates[-1][1] < acked) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)  # bounded wait for the last flush to reach the projector
    done.set()
    await projector
    for proc in procs:
        proc.join(timeout=10)
    await host.aclose()
    return {"connected": connected, "answers": answers, "acked": acked, "updates": updates}


def timeline(answers: list[tuple[float, float, bool]]) -> str:
    """Each second's p99 acknowledgement, to show when a stall happened."""
    if not answers:
        return ""
    start = min(sent for sent, _, _ in answers)
    seconds: dict[int, list[float]] = {}
    for sent, ack, _ in answers:
        seconds.setdefault(int(sent - start), []).append((ack - sent) * 1000)
    return ", ".join(f"{s}s: {pct(v, 99):.0f}" for s, v in sorted(seconds.items()))


def spread(values: list[float]) -> str:
    return f"{pct(values, 50):.0f} / {pct(values, 99):.0f} / {max(values, default=0):.0f} ms"


def summarise(result: dict[str, Any], db: str, window: float) -> None:
    answers = sorted(result["answers"], key=lambda a: a[1])
    acks = [(ack - sent) * 1000 for sent, ack, ok in answers if ok]
    updates = result["updates"]
    shown = []
    for k, (sent, _, ok) in enumerate(answers, start=1):
        arrival = next((t for t, n in updates if n >= k), None)
        if ok and arrival is not None:
            shown.append((arrival - sent) * 1000)
    with contextlib.closing(sqlite3.connect(db)) as conn, conn:
        (stored,) = conn.execute("SELECT COUNT(*) FROM poll_answers").fetchone()
    last = updates[-1][1] if updates else 0
    print(f"attendees connected: {result['connected']}; answers sent: {len(answers)} in {window} s")
    print(f"acknowledged: {result['acked']}; refused: {len(answers) - result['acked']}")
    print(f"stored: {stored}; projector's last count: {last}; projector updates: {len(updates)}")
    print("ack p50 / p99 / max:", spread(acks))
    print("ack p99 by second of the window:", timeline(answers))
    print("result update p50 / p99 / max:", spread(shown))
    ok = stored == result["acked"] == last and pct(acks, 99) <= 500 and pct(shown, 99) <= 500
    print("every acknowledged answer counted, p99 within 500 ms:", "yes" if ok else "NO")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--window", type=float, default=8.0, help="seconds to spread answers over")
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument(
        "--results",
        choices=("hidden", "live"),
        default="hidden",
        help="live: every attendee's screen gets the counts too (each update, to everyone)",
    )
    args = parser.parse_args()
    if not 1 <= args.clients <= 5000 or not 1 <= args.workers <= 8 or not 0 < args.window <= 60:
        parser.error("--clients 1-5000, --workers 1-8, --window up to 60 s")
    with tempfile.TemporaryDirectory(prefix="webinar-polls-") as tmp:
        proc, base, db = start_server(Path(tmp))
        try:
            result = asyncio.run(asyncio.wait_for(drive(args, base, secrets_of(db)), args.timeout))
        finally:
            proc.terminate()
            proc.wait(timeout=20)
        summarise(result, db, args.window)
    return 0


if __name__ == "__main__":
    sys.exit(main())
