"""Load and latency benchmark of the live server, against a plain broadcast baseline.

Run from the repository root. It starts the real server (``python -m webinar serve
agendas/seed.toml``) as a subprocess on a free loopback port with a fresh database in a
temporary folder, or targets a running one with ``--url``; spreads ``--clients`` simulated
attendees over ``--workers`` processes, each an asyncio loop with hundreds of real clients:
``POST /api/join`` over httpx (HTTP/1.1 keep-alive), then a WebSocket (``websockets``
client, compression off unless ``--compress``) to ``/ws?format=json`` resumed with
``{"type": "resume", "last_seq": null}``. Every client stamps each event it receives with
``time.time()`` (every process runs on this machine, so the clocks agree).

Scenarios (``--scenario``):

``join``       the join storm: every attendee joins and connects as fast as ``--concurrency``
               (in flight per worker) allows; time until all are connected, errors.
``questions``  ``--rate`` questions a second for ``--duration`` seconds, asked by a pool of
               attendees sized to stay under the forum's limit of 5 questions a minute each;
               every text is unique and carries its send time. Submit-to-arrival latency on
               every attendee's socket (p50, p99, max), deliveries a second, missing and
               duplicated questions per screen (by question id); and every event logged
               for everyone checked on every screen by sequence number (lost, duplicated,
               out of order; for the baseline, every event any screen got).
``storm``      10 questions/s and 100 votes/s (``--rate``, ``--votes``) for ``--duration``;
               then checks that every question reached every screen exactly once, that
               the final counts of ``GET /api/qa/questions`` (as host) equal the votes
               acknowledged (a vote whose answer never came back may count or not), and
               that every screen shows those final counts.
``split``      the host starts the agenda and jumps to ``lcspr-breakout``: time from the
               host's request to each attendee's ``breakout.group`` event; then
               ``agenda/next`` and the time to each attendee's "ended" ``breakout.group``.
``survey``     the host opens the survey; every attendee submits it (``survey/save``,
               ``final``); errors and latency.
``saturate``   the ``questions`` scenario in steps of rising rate (``--steps``, each
               ``--step-seconds``) until p99 exceeds ``--p99-limit`` or messages fall behind
               (a screen misses one, or is dropped); reports the highest sustained rate.

``--baseline`` (``questions``, ``saturate`` and ``storm``) first runs the same clients
against ``bench/baseline.py``, a minimal server built on ``websockets``' ``broadcast()`` that
sends envelopes shaped like our ``qa.question`` events, then against ours, and prints both
side by side with the ratios (ours / baseline). The baseline has no votes: in a storm it
gets the questions alone, at the same rate.

``--hog 0.5`` starts another process that busy-loops half of one core (busy for that share
of every 20 ms) during each run, the baseline's and ours, and stops it with the run.

Several events may arrive in one message (a JSON array); "messages per screen" counts the
messages, every other figure the events.

Each delivery is also split at the event's ``at`` (our server stamps it when a change
takes the commit lock, before its SQLite transaction; the baseline when it broadcasts):
*submit-to-stamp* (HTTP, validation, waiting for the lock) and *stamp-to-screen* (the
transaction, the fan-out, the client). ``--timeline`` prints every question's figures in
turn, which shows stalls (a garbage collection, a backlog) as they happen.

Server figures (psutil on the server's pid; CPU summed with its children's, the workers
of ``--workers N``): CPU (cpu-time delta / wall, 100% = one
core), RSS with no attendee connected, with all connected and the peak, and RSS per
attendee = (RSS with N connected - RSS with none) / N. The CPU of the client workers, of
this process and of every other process on the machine are shown too: on a small machine
they compete with the server. Before each run the tool waits (``--quiet-wait``) for the
machine to be nearly idle and warns when it is not.

Everything is bounded: ``--duration``, a hard ``--timeout`` per run (workers and the server
are stopped when it expires; workers also stop by themselves), and every client is
closed at the end. Needs ``psutil`` (``pip install psutil``), besides the test extras.

Examples::

    python bench/load.py --scenario join --clients 2000
    python bench/load.py --scenario questions --clients 2000 --rate 4 --baseline
    python bench/load.py --scenario storm --clients 2000 --duration 60
    python bench/load.py --scenario saturate --clients 1000 --baseline
    python bench/load.py --scenario split --clients 2000
    python bench/load.py --scenario saturate --clients 1000 --steps 30,40,60 --baseline-only

See also ``bench/serve_traced.py`` (the same server with tracemalloc, an event-loop stall
log and GC timings, driven with ``--url``) and ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import array
import asyncio
import bisect
import collections
import contextlib
import json
import math
import multiprocessing as mp
import os
import queue
import random
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "agendas" / "seed.toml"
BASELINE = Path(__file__).resolve().parent / "baseline.py"
SCENARIOS = ("join", "questions", "storm", "split", "survey", "saturate")
#: Questions a minute an asker sends at most (the forum allows 5 a minute per attendee).
ASKS_PER_MINUTE = 4
#: Votes a minute a voter sends at most (the forum allows 120 a minute per attendee).
VOTES_PER_MINUTE = 90
ORGANISATIONS = 97


# -- small helpers -------------------------------------------------------------------------


def secrets_of_only_event(db: str) -> dict[str, str]:
    """The code and link tokens of the one event the benchmark's database holds."""
    from webinar.services import event_secrets
    from webinar.storage.webinars import list_webinars_sync

    return event_secrets(db, list_webinars_sync(db)[0].id)


def need_psutil() -> Any:
    try:
        import psutil
    except ImportError:
        sys.exit("bench/load.py measures the server with psutil: run `pip install psutil`.")
    return psutil


def die_with_parent() -> None:
    """Ask Linux to send SIGTERM to this process when its parent dies (best effort)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            import ctypes

            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@cache
def ssl_context() -> ssl.SSLContext:
    """One TLS context per process: httpx would otherwise build one per client."""
    return ssl.create_default_context()


def http_client(base: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=base,
        timeout=60.0,
        verify=ssl_context(),
        trust_env=False,
        limits=httpx.Limits(max_connections=4, max_keepalive_connections=1),
    )


def simulated_address(n: int) -> str:
    """Attendee ``n``'s own address: real attendees join from many, and the server limits
    joins per address. The server trusts ``X-Forwarded-For`` from 127.0.0.1."""
    return f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"


def cookie_header(http: httpx.AsyncClient) -> str:
    return "; ".join(f"{k}={v}" for k, v in http.cookies.items())


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile of ``values`` (sorted or not); NaN when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))
    return ordered[rank]


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "n": len(ordered),
        "p50": pct(ordered, 50),
        "p99": pct(ordered, 99),
        "max": ordered[-1] if ordered else math.nan,
    }


def ms(seconds: float) -> str:
    return "-" if math.isnan(seconds) else f"{seconds * 1000:,.0f} ms"


def error_name(exc: BaseException) -> str:
    return type(exc).__name__


def parse_at(at: str) -> float:
    """An event's ISO 8601 ``at`` as a Unix time."""
    return datetime.fromisoformat(at).timestamp()


def question_text(tag: str, sent: float, size: int) -> str:
    head = f"Load test question {tag} sent at {sent:.6f}: "
    filler = "how should partnerships choose a proportionate review method? "
    body = head + filler * (1 + size // len(filler))
    return body[:size].rstrip()


# -- the server under test -----------------------------------------------------------------


class Server:
    """Our server or the baseline, in a subprocess on a free port; or a running one."""

    def __init__(self, kind: str, args: argparse.Namespace) -> None:
        self.kind = kind
        self.args = args
        self.proc: subprocess.Popen[bytes] | None = None
        self.tmp: tempfile.TemporaryDirectory[str] | None = None
        self.pid: int | None = None
        self.base = ""
        self.code = ""
        self.host_token = ""
        self.log_path: Path | None = None
        #: Our server's database (to read which events went to everyone); "" if unknown.
        self.db_path = ""

    @property
    def ws_url(self) -> str:
        return self.base.replace("http://", "ws://", 1) + "/ws?format=json"

    def start(self) -> None:
        if self.kind == "ours" and self.args.url:
            self.attach()
            return
        port = free_port()
        self.tmp = tempfile.TemporaryDirectory(prefix=f"webinar-load-{self.kind}-")
        folder = Path(self.tmp.name)
        self.log_path = folder / "server.log"
        command = self.command(folder, port)
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                command,
                # ``python -m webinar`` imports the package from its working folder.
                cwd=self.args.server_source or ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
                preexec_fn=die_with_parent,
            )
        self.pid = self.proc.pid
        self.base = f"http://127.0.0.1:{port}"
        self.wait_ready(self.proc)
        if self.kind == "ours":
            meta = secrets_of_only_event(self.db_path)
            self.code, self.host_token = meta["join_code"], meta["host_token"]

    def attach(self) -> None:
        """Use the server already running at ``--url``."""
        args = self.args
        self.base = args.url.rstrip("/")
        self.pid = args.server_pid
        self.db_path = args.db or ""
        meta: dict[str, str] = {}
        if args.db:
            meta = secrets_of_only_event(args.db)
        self.code = args.code or meta.get("join_code", "")
        self.host_token = args.host_token or meta.get("host_token", "")
        if not self.code or not self.host_token:
            sys.exit("With --url give --code and --host-token, or --db to read them.")

    def command(self, folder: Path, port: int) -> list[str]:
        if self.kind == "ours":
            # --db without --url: a database to serve (an empty PostgreSQL one, say).
            db = self.db_path = self.args.db or str(folder / "webinar.db")
            return [
                sys.executable,
                "-m",
                "webinar",
                "serve",
                str(SEED),
                "--db",
                db,
                "--port",
                str(port),
            ]
        command = [sys.executable, str(BASELINE), "--port", str(port)]
        command += ["--max-seconds", str(int(self.args.timeout + 60))]
        if self.args.compress:
            command.append("--compress")
        return command

    def wait_ready(self, proc: subprocess.Popen[bytes]) -> None:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the {self.kind} server exited:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.base}/healthz", timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"the {self.kind} server did not start:\n{self.log_tail()}")
            time.sleep(0.1)

    def log_tail(self, lines: int = 30) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.proc is not None and self.args.server_log and self.log_path is not None:
            with contextlib.suppress(OSError):
                target = Path(f"{self.args.server_log}.{self.kind}")
                target.write_bytes(self.log_path.read_bytes())
        if self.proc is not None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
            self.proc = None
        if self.tmp is not None:
            self.tmp.cleanup()
            self.tmp = None


# -- the simulated attendees (worker processes) ----------------------------------------------


class Sim:
    """One simulated attendee: an HTTP session and a live socket, recording arrivals."""

    __slots__ = (
        "closed",
        "conn",
        "csrf",
        "dups",
        "error",
        "first",
        "frames",
        "http",
        "idx",
        "join_s",
        "marks",
        "qa_chars",
        "ready_at",
        "seq_back",
        "seq_dups",
        "seqs",
        "start_seq",
        "task",
        "votes",
        "ws_s",
    )

    def __init__(self, idx: int) -> None:
        self.idx = idx
        self.http: httpx.AsyncClient | None = None
        self.csrf = ""
        self.conn: ClientConnection | None = None
        self.task: asyncio.Task[None] | None = None
        #: question id -> receive time of its first "new" qa.question event.
        self.first: dict[int, float] = {}
        self.dups: dict[int, int] = {}
        #: question id -> the vote count this screen shows.
        self.votes: dict[int, int] = {}
        #: "split", "return", "round_end" -> receive time of the first such event.
        self.marks: dict[str, float] = {}
        self.qa_chars = 0
        #: WebSocket messages received (one may carry several events).
        self.frames = 0
        self.join_s = math.nan
        self.ws_s = math.nan
        self.ready_at = 0.0
        self.error = ""
        self.closed: int | None = None
        #: Sequence numbers of the events received, in arrival order, after the snapshot
        #: at ``start_seq``; a repeated one counts in ``seq_dups``, an earlier one that is
        #: new in ``seq_back`` (events must arrive once each, in order).
        self.seqs = array.array("q")
        self.start_seq = 0
        self.seq_dups = 0
        self.seq_back = 0


class Worker:
    def __init__(self, wid: int, conf: dict[str, Any]) -> None:
        self.wid = wid
        self.conf = conf
        self.sims = [Sim(i) for i in range(conf["first"], conf["first"] + conf["count"])]
        #: question id -> the event's "at" (the server's commit time), from the first screen.
        self.event_at: dict[int, float] = {}

    def live(self) -> list[Sim]:
        return [s for s in self.sims if s.ready_at]

    # connecting

    async def cmd_connect(self) -> dict[str, Any]:
        sem = asyncio.Semaphore(self.conf["concurrency"])
        started = time.time()
        await asyncio.gather(*(self._connect(sim, sem) for sim in self.sims))
        ok = self.live()
        return {
            "started": started,
            "connected": len(ok),
            "errors": Counter(s.error for s in self.sims if s.error),
            "join": [s.join_s for s in ok if not math.isnan(s.join_s)],
            "ws": [s.ws_s for s in ok],
            "ready": [s.ready_at for s in ok],
        }

    async def _connect(self, sim: Sim, sem: asyncio.Semaphore) -> None:
        conf = self.conf
        async with sem:
            step = "join"
            try:
                started = time.time()
                headers: dict[str, str] = {}
                if conf["kind"] == "ours":
                    sim.http = http_client(conf["base"])
                    response = await sim.http.post(
                        "/api/join",
                        json={
                            "code": conf["code"],
                            "name": f"Attendee {sim.idx:05d}",
                            "organisation": f"Organisation {sim.idx % ORGANISATIONS:02d}",
                        },
                        headers={"X-Forwarded-For": simulated_address(sim.idx)},
                    )
                    if response.status_code != 201:
                        sim.error = f"join: HTTP {response.status_code}"
                        return
                    sim.csrf = response.json()["csrf_token"]
                    headers["Cookie"] = cookie_header(sim.http)
                    sim.join_s = time.time() - started
                step = "websocket"
                opened = time.time()
                sim.conn = await connect(
                    conf["ws_url"],
                    additional_headers=headers,
                    origin=conf["origin"],
                    compression="deflate" if conf["compress"] else None,
                    proxy=None,
                    open_timeout=60,
                    ping_interval=None,
                    close_timeout=2,
                    max_size=2**24,
                )
                await sim.conn.send(json.dumps({"type": "resume", "last_seq": None}))
                step = "snapshot"
                snapshot = json.loads(await asyncio.wait_for(sim.conn.recv(), 60))
                sim.start_seq = int(snapshot.get("seq") or 0)
                sim.ready_at = time.time()
                sim.ws_s = sim.ready_at - opened
                sim.task = asyncio.create_task(self._read(sim))
            except Exception as exc:
                sim.error = f"{step}: {error_name(exc)}"

    async def _read(self, sim: Sim) -> None:
        assert sim.conn is not None
        loads = json.loads
        seqs, seen = sim.seqs, set()
        try:
            async for raw in sim.conn:
                now = time.time()
                parsed = loads(raw)
                # Several events in one message (folded, or a backlog) come as an array.
                batch = parsed if isinstance(parsed, list) else (parsed,)
                sim.frames += 1
                size = len(raw) // len(batch) if batch else 0
                for message in batch:
                    seq = message.get("seq")
                    if isinstance(seq, int) and "at" in message:  # an event, not a reply
                        if seq in seen or seq <= sim.start_seq:
                            sim.seq_dups += 1
                        else:
                            if seqs and seq < seqs[-1]:
                                sim.seq_back += 1
                            seen.add(seq)
                            seqs.append(seq)
                    self._note(sim, message, size, now)
        except ConnectionClosed as exc:
            sim.closed = exc.rcvd.code if exc.rcvd is not None else 1006
        else:
            sim.closed = sim.conn.close_code or 1000

    def _note(self, sim: Sim, message: dict[str, Any], size: int, now: float) -> None:
        """Record what a message tells: a question's arrival, vote counts, breakout marks."""
        kind = message.get("type")
        if kind == "qa.question":
            self._note_question(sim, message, size, now)
        elif kind == "qa.votes":
            for key, count in message["data"]["votes"].items():
                sim.votes[int(key)] = count
        elif kind == "breakout.group":
            sim.marks.setdefault("return" if message["data"].get("ended") else "split", now)
        elif kind == "breakout.round" and message["data"].get("state") == "ended":
            sim.marks.setdefault("round_end", now)

    def _note_question(self, sim: Sim, message: dict[str, Any], size: int, now: float) -> None:
        data = message["data"]
        question = data.get("question") or {}
        qid = question.get("id")
        if qid is None:
            return
        if data.get("new") and not data.get("removed"):
            if qid in sim.first:
                sim.dups[qid] = sim.dups.get(qid, 0) + 1
            else:
                sim.first[qid] = now
                sim.qa_chars += size
                if qid not in self.event_at:
                    self.event_at[qid] = parse_at(message["at"])
        if "votes" in question:
            sim.votes[qid] = question["votes"]

    # observing

    async def cmd_status(self) -> dict[str, Any]:
        live = self.live()
        return {
            "live": len(live),
            "open": sum(1 for s in live if s.closed is None),
            "arrivals": sum(len(s.first) for s in live),
            "marks": Counter(k for s in live for k in s.marks),
        }

    async def cmd_collect(
        self, sent: dict[int, float], votes: dict[int, int] | None
    ) -> dict[str, Any]:
        """Latencies and losses of the questions in ``sent`` (id -> send time)."""
        per_question = {qid: array.array("d") for qid in sent}
        missing = clients_missing = duplicates = delivered = 0
        last = 0.0
        vote_mismatch = 0
        chars = arrivals = 0
        live = self.live()
        for sim in live:
            miss = 0
            first = sim.first
            for qid, at in sent.items():
                got = first.get(qid)
                if got is None:
                    miss += 1
                else:
                    per_question[qid].append(got - at)
                    last = max(last, got)
            delivered += len(sent) - miss
            missing += miss
            clients_missing += miss > 0
            duplicates += sum(sim.dups.get(qid, 0) for qid in sent)
            chars += sim.qa_chars
            arrivals += len(first)
            if votes is not None and any(sim.votes.get(q, 0) != n for q, n in votes.items()):
                vote_mismatch += 1
        return {
            "live": len(live),
            "latencies": {qid: values.tobytes() for qid, values in per_question.items()},
            "event_at": {qid: self.event_at[qid] for qid in sent if qid in self.event_at},
            "delivered": delivered,
            "missing": missing,
            "clients_missing": clients_missing,
            "duplicates": duplicates,
            "last": last,
            "vote_mismatch": vote_mismatch,
            "chars": chars,
            "arrivals": arrivals,
            "frames": sum(sim.frames for sim in live),
            "closed": Counter(s.closed for s in live if s.closed is not None),
        }

    async def cmd_seqs(self) -> bytes:
        """Every sequence number some screen of this worker received (for the baseline,
        where every event goes to everyone)."""
        union: set[int] = set()
        for sim in self.live():
            union.update(sim.seqs)
        return array.array("q", sorted(union)).tobytes()

    async def cmd_seqcheck(self, everyone: bytes) -> dict[str, Any]:
        """Per screen, against the events that went to everyone (``everyone``, sorted):
        those after its snapshot that never arrived; and duplicates, out-of-order."""
        expected = array.array("q", everyone)
        lost = clients_lost = dups = back = total = 0
        for sim in self.live():
            start = bisect.bisect_right(expected, sim.start_seq)
            received = set(sim.seqs)
            missing = sum(1 for seq in expected[start:] if seq not in received)
            total += len(expected) - start
            lost += missing
            clients_lost += missing > 0
            dups += sim.seq_dups
            back += sim.seq_back
        return {
            "expected": total,
            "lost": lost,
            "clients_lost": clients_lost,
            "duplicates": dups,
            "out_of_order": back,
        }

    async def cmd_marks(self, key: str, since: float) -> dict[str, Any]:
        live = self.live()
        got = [s.marks[key] - since for s in live if key in s.marks]
        return {"live": len(live), "latencies": got, "missing": len(live) - len(got)}

    async def cmd_survey(self) -> dict[str, Any]:
        sem = asyncio.Semaphore(self.conf["concurrency"])
        latencies: list[float] = []
        errors: Counter[str] = Counter()
        resent: Counter[str] = Counter()
        rng = random.Random(self.wid)
        sectors = ["Police", "Health", "Education", "Other"]

        async def submit(sim: Sim) -> None:
            assert sim.http is not None
            answers = {
                "overall": rng.randint(1, 5),
                "national_reviews_useful": rng.randint(1, 5),
                "role": rng.choice(sectors),
                "cover_next": f"More on proportionate reviews ({sim.idx})",
                "final": True,
                # As the browser does: a retry after a lost reply continues the response.
                "key": f"load-{self.wid}-{sim.idx}-{rng.getrandbits(64):016x}",
            }
            async with sem:
                started = time.time()
                for attempt in (1, 2):
                    try:
                        response = await sim.http.post(
                            "/api/survey/save", json=answers, headers={"X-CSRF-Token": sim.csrf}
                        )
                        if response.status_code != 200:
                            errors[f"HTTP {response.status_code}"] += 1
                    except (httpx.ReadError, httpx.RemoteProtocolError) as exc:
                        # The server closed an idle keep-alive connection (uvicorn: after
                        # 5 s) just as the request went out on it, so no response came.
                        # Browsers resend in that case; so do we, once, and count it. The
                        # save is idempotent (one response per person).
                        if attempt == 1:
                            resent[error_name(exc)] += 1
                            continue
                        errors[error_name(exc)] += 1
                    except Exception as exc:
                        errors[error_name(exc)] += 1
                    break
                latencies.append(time.time() - started)

        await asyncio.gather(*(submit(s) for s in self.live() if s.http is not None))
        return {"latencies": latencies, "errors": errors, "resent": resent, "done": time.time()}

    async def close(self) -> None:
        async def shut(sim: Sim) -> None:
            if sim.conn is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(sim.conn.close(), 5)
            if sim.task is not None:
                sim.task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await sim.task
            if sim.http is not None:
                with contextlib.suppress(Exception):
                    await sim.http.aclose()

        await asyncio.gather(*(shut(s) for s in self.sims))


def worker_entry(wid: int, conf: dict[str, Any], commands: Any, results: Any) -> None:
    die_with_parent()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(worker_main(wid, conf, commands, results))


async def worker_main(wid: int, conf: dict[str, Any], commands: Any, results: Any) -> None:
    worker = Worker(wid, conf)
    loop = asyncio.get_running_loop()
    results.put((wid, 0, "ready", None))
    try:
        while time.time() < conf["deadline"]:
            try:
                number, name, args = await loop.run_in_executor(None, commands.get, True, 0.5)
            except queue.Empty:
                continue
            if name == "close":
                break
            try:
                reply = await getattr(worker, f"cmd_{name}")(*args)
            except Exception:
                reply = {"error": traceback.format_exc()}
            results.put((wid, number, name, reply))
    finally:
        await worker.close()
        results.put((wid, -1, "closed", None))


# -- the driver: host, askers and voters (this process) --------------------------------------


class Session:
    """A participant driven from this process (host, asker or voter)."""

    def __init__(self, base: str) -> None:
        self.http = http_client(base)
        self.csrf = ""

    async def join(self, code: str, name: str, organisation: str, number: int = 0) -> None:
        # Each from an address of its own (beyond the attendees'), as the attendees join:
        # the server limits joins per address.
        response = await self.http.post(
            "/api/join",
            json={"code": code, "name": name, "organisation": organisation},
            headers={"X-Forwarded-For": simulated_address((1 << 23) + number)},
        )
        if response.status_code != 201:
            raise RuntimeError(f"join refused: {response.status_code} {response.text}")
        self.csrf = response.json()["csrf_token"]

    async def enter(self, role: str, token: str) -> None:
        response = await self.http.get(f"/enter/{role}/{token}")
        if response.status_code != 303:
            raise RuntimeError(f"cannot enter as {role}: {response.status_code}")
        self.csrf = (await self.http.get("/api/session")).json()["csrf_token"]

    async def act(self, name: str, **params: Any) -> httpx.Response:
        area, command = name.split(".", 1)
        return await self.http.post(
            f"/api/{area}/{command}", json=params, headers={"X-CSRF-Token": self.csrf}
        )

    async def close(self) -> None:
        await self.http.aclose()


class OurDriver:
    """Asks through ``qa/ask`` and votes through ``qa/vote`` as pools of attendees."""

    def __init__(self, server: Server, askers: int, voters: int, text_size: int) -> None:
        self.server = server
        self.text_size = text_size
        self.host = Session(server.base)
        self.askers = [Session(server.base) for _ in range(askers)]
        self.voters = [Session(server.base) for _ in range(voters)]

    async def setup(self) -> None:
        await self.host.enter("host", self.server.host_token)
        sem = asyncio.Semaphore(20)

        async def join(session: Session, name: str, number: int) -> None:
            async with sem:
                await session.join(self.server.code, name, f"Bench Org {number % 7}", number)

        first_voter = len(self.askers)  # numbers for addresses: voters after askers
        await asyncio.gather(
            *(join(s, f"Asker {i:03d}", i) for i, s in enumerate(self.askers)),
            *(join(s, f"Voter {i:03d}", first_voter + i) for i, s in enumerate(self.voters)),
        )
        # Warm the live endpoint once, so "RSS with none connected" includes its code.
        warm = self.askers[0] if self.askers else self.host
        conn = await connect(
            self.server.ws_url,
            additional_headers={"Cookie": cookie_header(warm.http)},
            compression=None,
            proxy=None,
        )
        await conn.send(json.dumps({"type": "resume", "last_seq": None}))
        await asyncio.wait_for(conn.recv(), 30)
        await conn.close()

    async def ask(self, number: int, sent: float) -> int:
        asker = self.askers[number % len(self.askers)]
        response = await asker.act(
            "qa.ask",
            text=question_text(f"#{number}-{uuid.uuid4().hex[:8]}", sent, self.text_size),
            key=uuid.uuid4().hex,
            anonymous=False,
        )
        if response.status_code != 200:
            raise RuntimeError(f"HTTP {response.status_code}")
        qid: int = response.json()["question"]["id"]
        return qid

    async def vote(self, voter: int, qid: int) -> None:
        response = await self.voters[voter].act("qa.vote", question_id=qid, on=True)
        if response.status_code != 200:
            raise RuntimeError(f"HTTP {response.status_code}")

    async def probe_pages(self, seconds: float, every: float = 0.5) -> dict[str, Any]:
        """Load the attendee page and the host console in turn while the scenario runs:
        are pages still responsive? Latency of each full GET, and any that failed."""
        page_user = self.askers[0] if self.askers else self.host
        latencies: list[float] = []
        failures: collections.Counter[str] = collections.Counter()
        deadline = time.monotonic() + seconds
        turn = 0
        while time.monotonic() < deadline:
            session, path = (page_user, "/live") if turn % 2 == 0 else (self.host, "/host")
            turn += 1
            started = time.monotonic()
            try:
                response = await session.http.get(path, timeout=30)
                if response.status_code == 200:
                    latencies.append(time.monotonic() - started)
                else:
                    failures[f"HTTP {response.status_code}"] += 1
            except httpx.HTTPError as exc:
                failures[type(exc).__name__] += 1
            await asyncio.sleep(max(0.0, every - (time.monotonic() - started)))
        return {"latency": summary(latencies), "failures": dict(failures)}

    async def close(self) -> None:
        await asyncio.gather(
            *(s.close() for s in [self.host, *self.askers, *self.voters]), return_exceptions=True
        )


class BaselineDriver:
    """Publishes over one WebSocket to the baseline's ``/publish``; replies come in order."""

    def __init__(self, server: Server, text_size: int) -> None:
        self.server = server
        self.text_size = text_size
        self.conn: ClientConnection | None = None
        self.pending: list[asyncio.Future[int]] = []
        self.reader: asyncio.Task[None] | None = None
        self.askers: list[Any] = []
        self.voters: list[Any] = []

    async def setup(self) -> None:
        url = self.server.base.replace("http://", "ws://", 1) + "/publish"
        self.conn = await connect(url, compression=None, proxy=None, ping_interval=None)
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.conn is not None
        with contextlib.suppress(ConnectionClosed):
            async for raw in self.conn:
                future = self.pending.pop(0)
                if not future.done():
                    future.set_result(json.loads(raw)["id"])

    async def ask(self, number: int, sent: float) -> int:
        assert self.conn is not None
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self.pending.append(future)
        text = question_text(f"#{number}-{uuid.uuid4().hex[:8]}", sent, self.text_size)
        await self.conn.send(
            json.dumps(
                {"text": text, "author": f"Asker {number % 60:03d}", "organisation": "Bench Org 3"}
            )
        )
        return await asyncio.wait_for(future, 60)

    async def vote(self, voter: int, qid: int) -> None:
        raise RuntimeError("the baseline has no votes")

    async def close(self) -> None:
        if self.conn is not None:
            await self.conn.close()
        if self.reader is not None:
            self.reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.reader


# -- the orchestrator ----------------------------------------------------------------------


class CpuWindow:
    """CPU used by each named process, and by the whole machine, over a window."""

    def __init__(self, psutil: Any, procs: dict[str, list[Any]]) -> None:
        self.psutil = psutil
        self.procs = procs
        self.start = time.time()
        self.base = {name: self._cpu(ps) for name, ps in procs.items()}
        self.sys0 = psutil.cpu_times()

    def _cpu(self, procs: list[Any]) -> float:
        total = 0.0
        for proc in procs:
            with contextlib.suppress(Exception):
                times = proc.cpu_times()
                total += times.user + times.system
        return total

    def stop(self) -> dict[str, float]:
        wall = max(time.time() - self.start, 1e-9)
        out = {
            name: 100 * (self._cpu(ps) - self.base[name]) / wall for name, ps in self.procs.items()
        }
        now = self.psutil.cpu_times()
        total = sum(now) - sum(self.sys0)
        idle = (now.idle - self.sys0.idle) + (
            getattr(now, "iowait", 0) - getattr(self.sys0, "iowait", 0)
        )
        out["machine_busy"] = 100 * (1 - idle / total) if total > 0 else math.nan
        ours = sum(out[name] for name in self.procs)
        # Everything else on the machine (other users' tests, ...), in % of one core.
        out["others"] = max(0.0, out["machine_busy"] * (os.cpu_count() or 1) - ours)
        out["wall"] = wall
        return out


class Sender:
    """Questions and votes sent at a steady pace from ``begin``, and what became of them."""

    def __init__(self, driver: OurDriver | BaselineDriver, begin: float) -> None:
        self.driver = driver
        self.begin = begin
        self.sent: dict[int, float] = {}
        self.errors: Counter[str] = Counter()
        self.ask_latency: list[float] = []
        self.lag: list[float] = []
        self.expected: Counter[int] = Counter()
        self.unknown: Counter[int] = Counter()
        self.known: list[int] = []
        self.tasks: set[asyncio.Task[None]] = set()
        self.voted: set[tuple[int, int]] = set()
        self.skipped = 0
        self.rng = random.Random(7)

    async def ask(self, number: int) -> None:
        at = time.time()
        try:
            qid = await self.driver.ask(number, at)
        except Exception as exc:
            self.errors[f"ask: {error_name(exc)} {exc}".strip()] += 1
            return
        self.ask_latency.append(time.time() - at)
        self.sent[qid] = at
        self.known.append(qid)

    async def vote(self, voter: int, qid: int) -> None:
        try:
            await self.driver.vote(voter, qid)
        except httpx.PoolTimeout:
            self.errors["vote: never sent (client pool timeout)"] += 1
            return
        except httpx.TransportError as exc:  # the server may or may not have counted it
            self.errors[f"vote: {error_name(exc)}"] += 1
            self.unknown[qid] += 1
            return
        except Exception as exc:
            self.errors[f"vote: {error_name(exc)} {exc}".strip()] += 1
            return
        self.expected[qid] += 1

    async def paced(self, count: int, per_second: float, start: Callable[[int], None]) -> None:
        for i in range(count):
            delay = self.begin + i / per_second - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            else:
                self.lag.append(-delay)
            start(i)

    def spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def start_vote(self, i: int) -> None:
        voters = len(self.driver.voters)
        known = self.known
        for attempt in range(8):
            voter = (i + attempt) % voters
            if known:
                qid = known[self.rng.randrange(len(known))]
                if (voter, qid) not in self.voted:
                    self.voted.add((voter, qid))
                    self.spawn(self.vote(voter, qid))
                    return
        self.skipped += 1

    def result(self, ended: float) -> dict[str, Any]:
        sent, expected, unknown = self.sent, self.expected, self.unknown
        return {
            "sent": sent,
            "asked": len(sent),
            "errors": dict(self.errors),
            "ask_http": summary(self.ask_latency),
            "sender_lag_max": max(self.lag, default=0.0),
            "votes_ok": sum(expected.values()),
            "votes_skipped": self.skipped,
            "expected_votes": dict(expected),
            "unknown_votes": dict(unknown),
            "votes_unknown": sum(unknown.values()),
            "duration": ended - self.begin,
            "first_sent": min(sent.values(), default=self.begin),
        }


class Bench:
    def __init__(self, kind: str, server: Server, args: argparse.Namespace) -> None:
        self.kind = kind
        self.server = server
        self.args = args
        self.psutil = need_psutil()
        self.proc = self.psutil.Process(server.pid) if server.pid else None
        self.results: Any = None
        self.workers: list[Any] = []
        self.queues: list[Any] = []
        self.command_number = 0
        self.peak_rss = 0
        self.sampler: asyncio.Task[None] | None = None
        self.driver: OurDriver | BaselineDriver | None = None
        self.sent: dict[int, float] = {}
        self.live = 0

    # infrastructure

    def rss(self) -> int:
        if self.proc is None:
            return 0
        with contextlib.suppress(Exception):
            rss: int = self.proc.memory_info().rss
            self.peak_rss = max(self.peak_rss, rss)
            return rss
        return 0

    async def _sample(self) -> None:
        while True:
            self.rss()
            await asyncio.sleep(0.25)

    def _children(self) -> list[Any]:
        with contextlib.suppress(Exception):
            assert self.proc is not None
            children: list[Any] = self.proc.children(recursive=True)
            return children
        return []

    def cpu_window(self) -> CpuWindow:
        procs: dict[str, list[Any]] = {
            # The server and its children: the workers of ``webinar serve --workers N``.
            "server": [self.proc, *self._children()] if self.proc else [],
            "clients": [self.psutil.Process(w.pid) for w in self.workers if w.pid],
            "driver": [self.psutil.Process()],
        }
        if self.kind == "ours" and self.args.db_pid:
            # The PostgreSQL server and its backends (the server's connections are open).
            postmaster = self.psutil.Process(self.args.db_pid)
            procs["database"] = [postmaster, *postmaster.children(recursive=True)]
        return CpuWindow(self.psutil, procs)

    async def counters(self) -> dict[str, float]:
        """Our server's commit and delivery counters from ``/metrics`` ({} otherwise)."""
        if self.kind != "ours":
            return {}
        from prometheus_client.parser import text_string_to_metric_families

        async with httpx.AsyncClient(timeout=30) as client:
            text = (await client.get(f"{self.server.base}/metrics")).text
        wanted = {"webinar_commits", "webinar_changes", "webinar_deliveries"}
        counted = {"at": time.time(), "transaction_seconds": 0.0}
        for family in text_string_to_metric_families(text):
            if family.name in wanted:
                counted[family.name] = sum(sample.value for sample in family.samples)
            elif family.name == "webinar_commit_transaction_seconds":  # BEGIN to COMMIT's end
                counted["transaction_seconds"] = sum(
                    sample.value for sample in family.samples if sample.name.endswith("_sum")
                )
        return counted

    def spawn_workers(self) -> None:
        args = self.args
        ctx = mp.get_context("spawn")
        self.results = ctx.Queue()
        count = min(args.workers, args.clients)
        share, extra = divmod(args.clients, count)
        first = 0
        for wid in range(count):
            n = share + (wid < extra)
            conf = {
                "kind": self.kind,
                "base": self.server.base,
                "ws_url": self.server.ws_url,
                "origin": self.server.base,
                "code": self.server.code,
                "compress": args.compress,
                "concurrency": args.concurrency,
                "first": first,
                "count": n,
                "deadline": time.time() + args.timeout + 30,
            }
            first += n
            commands = ctx.Queue()
            process = ctx.Process(
                target=worker_entry, args=(wid, conf, commands, self.results), daemon=True
            )
            process.start()
            self.workers.append(process)
            self.queues.append(commands)

    async def call(self, name: str, *payload: Any, timeout: float = 120.0) -> list[Any]:
        """Send a command to every worker; their replies, in worker order."""
        self.command_number += 1
        number = self.command_number
        for commands in self.queues:
            commands.put((number, name, payload))
        return await self._replies(number, name, timeout)

    async def _replies(self, number: int, name: str, timeout: float) -> list[Any]:
        loop = asyncio.get_running_loop()
        replies: dict[int, Any] = {}
        deadline = time.time() + timeout
        while len(replies) < len(self.workers):
            left = deadline - time.time()
            if left <= 0:
                raise TimeoutError(f"workers did not answer {name!r} within {timeout:.0f} s")
            try:
                wid, got, kind, reply = await loop.run_in_executor(
                    None, self.results.get, True, min(left, 0.5)
                )
            except queue.Empty:
                continue
            if got != number or kind != name:
                continue
            if isinstance(reply, dict) and "error" in reply:
                raise RuntimeError(f"worker {wid} failed on {name}:\n{reply['error']}")
            replies[wid] = reply
        return [replies[w] for w in sorted(replies)]

    async def shutdown(self) -> None:
        if self.sampler is not None:
            self.sampler.cancel()
        for commands in self.queues:
            with contextlib.suppress(Exception):
                commands.put((0, "close", ()))
        deadline = time.time() + 20
        for process in self.workers:
            process.join(max(0.1, deadline - time.time()))
            if process.is_alive():
                process.terminate()
                process.join(5)
            if process.is_alive():
                process.kill()
        if self.driver is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.driver.close(), 10)

    # the run

    async def run(self) -> dict[str, Any]:
        args = self.args
        res: dict[str, Any] = {
            "server": self.kind,
            "scenario": args.scenario,
            "clients": args.clients,
            "compress": args.compress,
        }
        try:
            rate = max(self.rates())
            if self.kind == "ours":
                askers = 0
                if args.scenario in ("questions", "storm", "saturate"):
                    askers = max(5, math.ceil(rate * 60 / ASKS_PER_MINUTE))
                voters = 0
                if args.scenario == "storm" and args.votes > 0:
                    voters = max(5, math.ceil(args.votes * 60 / VOTES_PER_MINUTE))
                self.driver = OurDriver(self.server, askers, voters, args.text_size)
                res["askers"], res["voters"] = askers, voters
            else:
                self.driver = BaselineDriver(self.server, args.text_size)
            await self.driver.setup()
            await asyncio.sleep(1.0)
            res["rss_none"] = self.rss()
            self.spawn_workers()
            await self._replies(0, "ready", 120)
            self.sampler = asyncio.create_task(self._sample())
            await self.connect_phase(res)
            await asyncio.sleep(2.0)
            res["rss_all"] = self.rss()
            if self.live and res["rss_none"]:
                res["rss_per_attendee"] = (res["rss_all"] - res["rss_none"]) / self.live
            window = self.cpu_window()
            counted = await self.counters()
            print(
                f"  [{self.kind}] {self.live} connected in "
                f"{res['join']['all_connected_s']:.1f} s; {args.scenario} starts now "
                f"(server pid {self.server.pid})",
                flush=True,
            )
            scenario = args.scenario
            if scenario == "storm" and self.kind == "baseline":
                scenario = "questions"  # the baseline has no votes: its questions alone
            await getattr(self, f"scenario_{scenario}")(res)
            if args.scenario != "join":
                res["cpu"] = window.stop()
                res["counters"] = counted and diff(counted, await self.counters())
            res["rss_peak"] = self.peak_rss
            status = await self.call("status")
            res["open_at_end"] = sum(s["open"] for s in status)
        finally:
            await self.shutdown()
        return res

    def rates(self) -> list[float]:
        if self.args.scenario == "saturate":
            steps: list[float] = self.args.steps
            return steps
        if self.args.scenario in ("questions", "storm"):
            return [self.args.rate]
        return [0.0]

    async def connect_phase(self, res: dict[str, Any]) -> None:
        window = self.cpu_window()
        started = time.time()
        replies = await self.call("connect", timeout=self.args.connect_timeout)
        ready = [t for r in replies for t in r["ready"]]
        errors: Counter[str] = Counter()
        for reply in replies:
            errors.update(reply["errors"])
        self.live = sum(r["connected"] for r in replies)
        res["join"] = {
            "connected": self.live,
            "errors": dict(errors),
            "all_connected_s": (max(ready) - started) if ready else math.nan,
            "join_http": summary([t for r in replies for t in r["join"]]),
            "websocket": summary([t for r in replies for t in r["ws"]]),
            "cpu": window.stop(),
        }

    async def wait_arrivals(self, expected_per_client: int, grace: float) -> float:
        """Wait until every live screen has ``expected_per_client`` questions, or ``grace``."""
        deadline = time.time() + grace
        while True:
            status = await self.call("status")
            live = sum(s["live"] for s in status)
            if sum(s["arrivals"] for s in status) >= live * expected_per_client:
                return time.time()
            if time.time() >= deadline:
                return math.nan
            await asyncio.sleep(0.5)

    async def send(self, rate: float, seconds: float, votes: float = 0.0) -> dict[str, Any]:
        """Ask ``rate`` questions a second (and cast ``votes`` a second) for ``seconds``."""
        assert self.driver is not None
        sender = Sender(self.driver, begin=time.time() + 0.1)
        base_number = len(self.sent)
        jobs = [
            sender.paced(
                int(rate * seconds), rate, lambda i: sender.spawn(sender.ask(base_number + i))
            )
        ]
        if votes > 0:
            jobs.append(sender.paced(int(votes * seconds), votes, sender.start_vote))
        await asyncio.gather(*jobs)
        ended = time.time()
        if sender.tasks:
            await asyncio.wait(set(sender.tasks), timeout=60)
        self.sent.update(sender.sent)
        return sender.result(ended)

    async def measure(
        self, sent: dict[int, float], votes: dict[int, int] | None = None
    ) -> dict[str, Any]:
        replies = await self.call("collect", sent, votes, timeout=120)
        per_question: dict[int, list[float]] = {qid: [] for qid in sent}
        event_at: dict[int, float] = {}
        closed: Counter[int] = Counter()
        for reply in replies:
            for qid, raw in reply["latencies"].items():
                per_question[qid].extend(array.array("d", raw))
            for qid, at in reply["event_at"].items():
                event_at[qid] = min(at, event_at.get(qid, at))
            closed.update(reply["closed"])
        latencies = [t for values in per_question.values() for t in values]
        # Split each delivery at the event's commit time ("at", millisecond precision):
        # submit -> commit (HTTP, validation, the write lock, SQLite) and commit -> screen.
        ingress = {q: event_at[q] - sent[q] for q in event_at}
        fanout = [
            t - ingress[q] for q, values in per_question.items() if q in ingress for t in values
        ]
        begin = min(sent.values(), default=0.0)
        timeline = [
            {
                "offset": sent[q] - begin,
                "ingress": ingress.get(q, math.nan),
                **summary(values),
            }
            for q, values in sorted(per_question.items(), key=lambda kv: sent[kv[0]])
        ]
        if self.args.timeline:
            print(
                f"  [{self.kind}] per question: sent at +s (from {begin:.3f}), "
                "submit->stamp, p50, max"
            )
            for row in timeline:
                print(
                    f"    +{row['offset']:6.2f}s  {ms(row['ingress']):>9}  {ms(row['p50']):>9}"
                    f"  {ms(row['max']):>9}"
                )
        delivered = sum(r["delivered"] for r in replies)
        last = max((r["last"] for r in replies), default=0.0)
        first = min(sent.values(), default=math.nan)
        arrivals = sum(r["arrivals"] for r in replies)
        return {
            "latency": summary(latencies),
            "submit_to_commit": summary(list(ingress.values())),
            "commit_to_screen": summary(fanout),
            "live": sum(r["live"] for r in replies),
            "delivered": delivered,
            "deliveries_per_s": delivered / (last - first) if last > first else math.nan,
            "missing": sum(r["missing"] for r in replies),
            "clients_missing": sum(r["clients_missing"] for r in replies),
            "duplicates": sum(r["duplicates"] for r in replies),
            "vote_mismatch_screens": sum(r["vote_mismatch"] for r in replies),
            "event_chars": sum(r["chars"] for r in replies) / arrivals if arrivals else math.nan,
            "frames": sum(r["frames"] for r in replies),
            "closed": {str(k): v for k, v in closed.items()},
        }

    async def check_seqs(self) -> dict[str, Any] | None:
        """Lost, duplicated and out-of-order events per screen, by sequence number.

        The events every screen must get: for our server, those the database logged for
        the audience ``all`` (read from its file); for the baseline, every event some screen
        received (it sends everything to everyone). Each screen is held to those after
        the snapshot it started from.
        """
        if self.kind == "ours":
            if not self.server.db_path:
                return None
            from webinar.storage.db import connect_sync

            conn = connect_sync(self.server.db_path)  # a file or a PostgreSQL URL
            try:
                rows = conn.execute("SELECT seq FROM events WHERE audience = 'all' ORDER BY seq")
                everyone = array.array("q", (row[0] for row in rows))
            finally:
                conn.close()
        else:
            union: set[int] = set()
            for raw in await self.call("seqs", timeout=120):
                union.update(array.array("q", raw))
            everyone = array.array("q", sorted(union))
        replies = await self.call("seqcheck", everyone.tobytes(), timeout=120)
        keys = ("expected", "lost", "clients_lost", "duplicates", "out_of_order")
        return {key: sum(r[key] for r in replies) for key in keys}

    # scenarios

    async def scenario_join(self, res: dict[str, Any]) -> None:
        return None

    def start_probe(self, seconds: float) -> asyncio.Task[dict[str, Any]] | None:
        """Our server only: page loads while the scenario runs (the baseline has no pages)."""
        if isinstance(self.driver, OurDriver):
            return asyncio.create_task(self.driver.probe_pages(seconds))
        return None

    async def scenario_questions(self, res: dict[str, Any]) -> None:
        args = self.args
        # With --pages, also load pages meanwhile (ours only: not in a --baseline comparison).
        probe = self.start_probe(args.duration) if args.pages else None
        sending = await self.send(args.rate, args.duration)
        await self.wait_arrivals(len(self.sent), args.grace)
        res["questions"] = {"rate": args.rate, **_without(sending, "sent", "expected_votes")}
        res["questions"].update(await self.measure(sending["sent"]))
        res["questions"]["seqs"] = await self.check_seqs()
        if probe is not None:
            res["questions"]["pages"] = await probe

    async def scenario_storm(self, res: dict[str, Any]) -> None:
        args = self.args
        assert isinstance(self.driver, OurDriver)
        probe = self.start_probe(args.duration)
        sending = await self.send(args.rate, args.duration, args.votes)
        await self.wait_arrivals(len(self.sent), args.grace)
        await asyncio.sleep(1.5)  # votes are announced at most every 0.5 s
        acked: dict[int, int] = sending["expected_votes"]
        unknown: dict[int, int] = sending["unknown_votes"]
        listed = await self.driver.host.http.get("/api/qa/questions", timeout=120)
        shown = {q["id"]: q for q in listed.json()["questions"]}
        truth = {q: shown[q]["votes"] for q in self.sent if q in shown}
        storm = {"rate": args.rate, "votes_rate": args.votes}
        storm.update(_without(sending, "sent", "expected_votes", "unknown_votes"))
        # Screens are checked against the server's final counts; the server's counts
        # against the votes it acknowledged (plus those whose answer never came back).
        storm.update(await self.measure(sending["sent"], truth))
        storm["seqs"] = await self.check_seqs()
        storm["api_missing_questions"] = sum(1 for q in self.sent if q not in shown)
        storm["api_vote_mismatch"] = sum(
            1
            for q, n in truth.items()
            if not acked.get(q, 0) <= n <= acked.get(q, 0) + unknown.get(q, 0)
        )
        storm["api_votes_total"] = sum(truth.values())
        if probe is not None:
            storm["pages"] = await probe
        res["storm"] = storm

    async def scenario_saturate(self, res: dict[str, Any]) -> None:
        args = self.args
        steps = []
        for rate in args.steps:
            window = self.cpu_window()
            sending = await self.send(rate, args.step_seconds)
            cpu = window.stop()
            await self.wait_arrivals(len(self.sent), args.step_grace)
            step = {"rate": rate, **_without(sending, "sent", "expected_votes", "unknown_votes")}
            step["cpu"] = cpu
            step.update(await self.measure(sending["sent"]))
            step["offered_per_s"] = rate * step["live"]
            behind = (
                step["missing"] > 0
                or sum(step["closed"].values()) > 0
                or bool(sending["errors"])
                or sending["asked"] < int(rate * args.step_seconds)
            )
            step["sustained"] = step["latency"]["p99"] <= args.p99_limit and not behind
            steps.append(step)
            print(
                f"  [{self.kind}] {rate:g} msg/s: p99 {ms(step['latency']['p99'])}, "
                f"{step['deliveries_per_s']:,.0f} deliveries/s, missing {step['missing']}, "
                f"CPU server {cpu['server']:.0f}% clients {cpu['clients']:.0f}% "
                f"others {cpu['others']:.0f}%, "
                f"{'sustained' if step['sustained'] else 'NOT sustained'}",
                flush=True,
            )
            if not step["sustained"]:
                break
        good = [s for s in steps if s["sustained"]]
        res["saturate"] = {
            "steps": steps,
            "max_sustained_rate": max((s["rate"] for s in good), default=0.0),
            "max_sustained_deliveries_per_s": max(
                (s["deliveries_per_s"] for s in good), default=0.0
            ),
        }

    async def scenario_split(self, res: dict[str, Any]) -> None:
        assert isinstance(self.driver, OurDriver)
        host = self.driver.host
        started = await host.act("agenda.start")
        if started.status_code != 200:
            raise RuntimeError(f"agenda/start: {started.status_code} {started.text}")
        await asyncio.sleep(1.0)
        split: dict[str, Any] = {}
        for phase, action, params, key in (
            ("split", "agenda.jump", {"item_id": "lcspr-breakout"}, "split"),
            ("return", "agenda.next", {}, "return"),
        ):
            at = time.time()
            response = await host.act(action, **params)
            request_s = time.time() - at
            if response.status_code != 200:
                raise RuntimeError(f"{action}: {response.status_code} {response.text}")
            deadline = time.time() + self.args.grace + 20
            while time.time() < deadline:
                status = await self.call("status")
                live = sum(s["live"] for s in status)
                if sum(s["marks"].get(key, 0) for s in status) >= live:
                    break
                await asyncio.sleep(0.25)
            replies = await self.call("marks", key, at)
            latencies = [t for r in replies for t in r["latencies"]]
            split[phase] = {
                "host_request": request_s,
                "latency": summary(latencies),
                "missing": sum(r["missing"] for r in replies),
            }
            await asyncio.sleep(2.0)
        res["split"] = split

    async def scenario_survey(self, res: dict[str, Any]) -> None:
        assert isinstance(self.driver, OurDriver)
        opened = await self.driver.host.act("survey.state", state="open")
        if opened.status_code != 200:
            raise RuntimeError(f"survey/state: {opened.status_code} {opened.text}")
        at = time.time()
        replies = await self.call("survey", timeout=self.args.connect_timeout)
        latencies = [t for r in replies for t in r["latencies"]]
        errors: Counter[str] = Counter()
        resent: Counter[str] = Counter()
        for reply in replies:
            errors.update(reply["errors"])
            resent.update(reply["resent"])
        done = max(r["done"] for r in replies)
        res["survey"] = {
            "latency": summary(latencies),
            "errors": dict(errors),
            "resent": dict(resent),
            "all_done_s": done - at,
            "per_s": len(latencies) / (done - at) if done > at else math.nan,
        }


def _without(data: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in keys}


# -- running and reporting -----------------------------------------------------------------


def wait_for_quiet(args: argparse.Namespace) -> float:
    """Wait (at most ``--quiet-wait`` s) until the machine is nearly idle; its busy %."""
    psutil = need_psutil()
    deadline = time.monotonic() + args.quiet_wait
    while True:
        busy: float = psutil.cpu_percent(interval=1.0)
        if busy <= args.quiet_below or time.monotonic() >= deadline:
            if busy > args.quiet_below:
                print(
                    f"warning: the machine is {busy:.0f}% busy before the run "
                    "(other processes); figures will be pessimistic",
                    file=sys.stderr,
                )
            return busy


#: The CPU hog: busy for ``share`` of every 20 ms, asleep the rest, for at most
#: ``seconds`` (it also stops with the run, whichever comes first).
HOG = """
import sys, time
share, seconds = float(sys.argv[1]), float(sys.argv[2])
end = time.monotonic() + seconds
while time.monotonic() < end:
    start = time.monotonic()
    while time.monotonic() - start < 0.02 * share:
        pass
    time.sleep(0.02 * (1 - share))
"""


@contextlib.contextmanager
def cpu_hog(share: float, seconds: float) -> Iterator[None]:
    """Another process taking ``share`` of one core while the block runs (bounded)."""
    if share <= 0:
        yield
        return
    hog = subprocess.Popen([sys.executable, "-c", HOG, str(share), str(seconds)])
    print(f"  CPU hog: pid {hog.pid}, {share:.0%} of one core", flush=True)
    try:
        yield
    finally:
        hog.terminate()
        hog.wait(10)


def run_one(kind: str, args: argparse.Namespace) -> dict[str, Any]:
    background = wait_for_quiet(args)
    server = Server(kind, args)
    server.start()
    try:
        with cpu_hog(args.hog, args.timeout):
            return _run_bench(kind, server, args, background)
    except BaseException:
        tail = server.log_tail()
        if tail:
            print(f"--- last lines of the {kind} server's output ---\n{tail}", file=sys.stderr)
        raise
    finally:
        server.stop()


def _run_bench(
    kind: str, server: Server, args: argparse.Namespace, background: float
) -> dict[str, Any]:
    bench = Bench(kind, server, args)
    try:
        res = asyncio.run(asyncio.wait_for(bench.run(), args.timeout))
    except TimeoutError:
        print(f"[{kind}] hard timeout of {args.timeout:.0f} s reached", file=sys.stderr)
        raise
    res["busy_before"] = background
    return res


def diff(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """How much each counter grew, and over how many seconds (``at``)."""
    return {name: after.get(name, 0.0) - value for name, value in before.items()}


def _cpu_rows(cpu: dict[str, float]) -> list[tuple[str, str]]:
    if not cpu:
        return []
    rows = [
        (
            "CPU in scenario (server/clients/driver)",
            f"{cpu['server']:.0f}% / {cpu['clients']:.0f}% / {cpu['driver']:.0f}% "
            f"(machine {cpu['machine_busy']:.0f}% busy)",
        )
    ]
    if "database" in cpu:
        rows.append(("PostgreSQL's CPU in scenario", f"{cpu['database']:.0f}%"))
    return rows


def _counter_rows(res: dict[str, Any]) -> list[tuple[str, str]]:
    """Commits a second and CPU seconds per 1,000 deliveries (ours: from ``/metrics``)."""
    counted, cpu = res.get("counters"), res.get("cpu")
    if not counted or not cpu or not counted.get("webinar_deliveries"):
        return []
    seconds = counted["at"]
    per_1000 = 1000 / counted["webinar_deliveries"] * cpu["wall"] / 100
    rows = [
        (
            "commits/s (changes/s)",
            f"{counted['webinar_commits'] / seconds:,.1f} "
            f"({counted['webinar_changes'] / seconds:,.1f})",
        ),
        ("server CPU s per 1,000 deliveries", f"{cpu['server'] * per_1000:.3f}"),
        # Near 100%, the one writing connection per event would be the bottleneck.
        (
            "writer in a transaction",
            f"{100 * counted['transaction_seconds'] / seconds:.1f}% of the time",
        ),
    ]
    if "database" in cpu:
        both = (cpu["server"] + cpu["database"]) * per_1000
        rows.append(("server + PostgreSQL CPU s per 1,000 deliveries", f"{both:.3f}"))
    return rows


def mb(n: float) -> str:
    return f"{n / 1e6:,.1f} MB"


def _join_rows(res: dict[str, Any], join: dict[str, Any]) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    rows.append(("attendees connected", f"{join.get('connected', 0)} / {res['clients']}"))
    rows.append(("connect errors", json.dumps(join.get("errors", {})) or "{}"))
    rows.append(("time to all connected", f"{join.get('all_connected_s', math.nan):.2f} s"))
    if join.get("join_http", {}).get("n"):
        j = join["join_http"]
        rows.append(("join HTTP p50/p99", f"{ms(j['p50'])} / {ms(j['p99'])}"))
    w = join.get("websocket", {})
    if w.get("n"):
        rows.append(("socket+snapshot p50/p99", f"{ms(w['p50'])} / {ms(w['p99'])}"))
    jc = join.get("cpu", {})
    if jc:
        rows.append(
            (
                "CPU during joins (server/clients/machine)",
                f"{jc['server']:.0f}% / {jc['clients']:.0f}% / {jc['machine_busy']:.0f}% busy",
            )
        )
    return rows


def _storm_rows(s: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (
            "votes acknowledged / unknown / skipped",
            f"{s['votes_ok']} / {s['votes_unknown']} / {s['votes_skipped']}",
        ),
        ("API: votes counted in total", str(s["api_votes_total"])),
        ("API: acknowledged questions missing", str(s["api_missing_questions"])),
        ("API: counts not matching votes sent", str(s["api_vote_mismatch"])),
        ("screens whose final counts differ", str(s["vote_mismatch_screens"])),
    ]


def _saturate_rows(sat: dict[str, Any]) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    for step in sat["steps"]:
        rows.append(
            (
                f"  {step['rate']:g} msg/s",
                f"p99 {ms(step['latency']['p99'])}, {step['deliveries_per_s']:,.0f}/s, "
                f"missing {step['missing']}, "
                f"{'ok' if step['sustained'] else 'NOT sustained'}",
            )
        )
    rows.append(("max sustained rate", f"{sat['max_sustained_rate']:g} msg/s"))
    rows.append(("max sustained deliveries/s", f"{sat['max_sustained_deliveries_per_s']:,.0f}"))
    return rows


def _split_rows(split: dict[str, Any]) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    for phase, data in split.items():
        lat = data["latency"]
        rows.append(
            (
                f"{phase}: host request / p50 / p99 / max",
                f"{ms(data['host_request'])} / {ms(lat['p50'])} / {ms(lat['p99'])} / "
                f"{ms(lat['max'])} (missing {data['missing']})",
            )
        )
    return rows


def _survey_rows(s: dict[str, Any]) -> list[tuple[str, str]]:
    lat = s["latency"]
    return [
        (
            "survey p50 / p99 / max",
            f"{ms(lat['p50'])} / {ms(lat['p99'])} / {ms(lat['max'])} ({lat['n']} submits)",
        ),
        ("survey errors", json.dumps(s["errors"])),
        ("resent (idle connection closed)", json.dumps(s.get("resent", {}))),
        ("survey all done", f"{s['all_done_s']:.1f} s ({s['per_s']:,.0f}/s)"),
    ]


def report(res: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) rows for one run."""
    join = res.get("join", {})
    rows = _join_rows(res, join)
    if res.get("rss_none"):
        rows.append(("server RSS none / all / peak", _rss_row(res)))
    if "rss_per_attendee" in res:
        rows.append(("server RSS per attendee", f"{res['rss_per_attendee'] / 1024:,.1f} KB"))
    for name in ("questions", "storm"):
        if name in res:
            rows.extend(_delivery_rows(res[name]))
    if "storm" in res:
        rows.extend(_storm_rows(res["storm"]))
    if "saturate" in res:
        rows.extend(_saturate_rows(res["saturate"]))
    if "split" in res:
        rows.extend(_split_rows(res["split"]))
    if "survey" in res:
        rows.extend(_survey_rows(res["survey"]))
    cpu = res.get("cpu", {})
    rows.extend(_cpu_rows(cpu))
    rows.extend(_counter_rows(res))
    rows.append(("screens open at the end", str(res.get("open_at_end", "-"))))
    others = [w["others"] for w in (join.get("cpu"), cpu) if w]
    rows.append(
        (
            "other processes' CPU (before/joins/scenario)",
            f"{res.get('busy_before', math.nan):.0f}% busy / "
            + " / ".join(f"{o:.0f}%" for o in others),
        )
    )
    return rows


def _rss_row(res: dict[str, Any]) -> str:
    return f"{mb(res['rss_none'])} / {mb(res.get('rss_all', 0))} / {mb(res.get('rss_peak', 0))}"


def _delivery_rows(d: dict[str, Any]) -> list[tuple[str, str]]:
    lat = d["latency"]
    return [
        ("questions asked (rate)", f"{d['asked']} ({d['rate']:g}/s)"),
        ("send errors", json.dumps(d["errors"])),
        ("submit HTTP/publish p50/p99", f"{ms(d['ask_http']['p50'])} / {ms(d['ask_http']['p99'])}"),
        (
            "submit-to-stamp p50/p99",
            f"{ms(d['submit_to_commit']['p50'])} / {ms(d['submit_to_commit']['p99'])}",
        ),
        (
            "stamp-to-screen p50/p99",
            f"{ms(d['commit_to_screen']['p50'])} / {ms(d['commit_to_screen']['p99'])}",
        ),
        ("submit-to-screen p50", ms(lat["p50"])),
        ("submit-to-screen p99", ms(lat["p99"])),
        ("submit-to-screen max", ms(lat["max"])),
        ("deliveries/s", f"{d['deliveries_per_s']:,.0f}"),
        ("missing / duplicates", f"{d['missing']} / {d['duplicates']}"),
        ("screens missing any", str(d["clients_missing"])),
        ("mean event size", f"{d['event_chars']:,.0f} chars"),
        (
            "messages per screen (several events may share one)",
            f"{d['frames'] / d['live']:,.0f}" if d.get("live") else "-",
        ),
        ("sockets closed by server", json.dumps(d["closed"])),
        *_seq_rows(d),
        *_page_rows(d),
    ]


def _seq_rows(d: dict[str, Any]) -> list[tuple[str, str]]:
    seqs = d.get("seqs")
    if not seqs:
        return []
    return [
        ("events to all, by seq: expected", f"{seqs['expected']:,}"),
        (
            "  lost / duplicated / out of order",
            f"{seqs['lost']} / {seqs['duplicates']} / {seqs['out_of_order']}"
            f" ({seqs['clients_lost']} screens lost any)",
        ),
    ]


def _page_rows(d: dict[str, Any]) -> list[tuple[str, str]]:
    if "pages" not in d:
        return []
    lat, failures = d["pages"]["latency"], d["pages"]["failures"]
    return [
        (
            "page load /live, /host p50/p99/max",
            f"{ms(lat['p50'])} / {ms(lat['p99'])} / {ms(lat['max'])} ({lat['n']} loads)",
        ),
        ("page load failures", json.dumps(failures)),
    ]


def print_results(results: dict[str, dict[str, Any]]) -> None:
    kinds = list(results)
    tables = {k: report(results[k]) for k in kinds}
    labels: list[str] = []
    for kind in kinds:
        for label, _ in tables[kind]:
            if label not in labels:
                labels.append(label)
    values = {k: dict(tables[k]) for k in kinds}
    width = max(len(label) for label in labels)
    print()
    print(f"{'':{width}}  " + "  ".join(f"{k:<38}" for k in kinds))
    for label in labels:
        cells = "  ".join(f"{values[k].get(label, '-'):<38}" for k in kinds)
        print(f"{label:{width}}  {cells}")
    if "baseline" in results and "ours" in results:
        print()
        for name, ratio in ratios(results["baseline"], results["ours"]).items():
            print(f"{name}: {ratio:.2f}")


def ratios(base: dict[str, Any], ours: dict[str, Any]) -> dict[str, float]:
    out: dict[str, float] = {}
    if "questions" in base and "questions" in ours:
        b, o = base["questions"], ours["questions"]
        out["p50 ours/baseline"] = o["latency"]["p50"] / b["latency"]["p50"]
        out["p99 ours/baseline"] = o["latency"]["p99"] / b["latency"]["p99"]
        out["deliveries/s ours/baseline"] = o["deliveries_per_s"] / b["deliveries_per_s"]
    if "questions" in base and "storm" in ours:  # the baseline's storm is its questions
        b, o = base["questions"], ours["storm"]
        out["storm p50 ours/baseline"] = o["latency"]["p50"] / b["latency"]["p50"]
        out["storm p99 ours/baseline"] = o["latency"]["p99"] / b["latency"]["p99"]
    if "saturate" in base and "saturate" in ours:
        b, o = base["saturate"], ours["saturate"]
        if b["max_sustained_deliveries_per_s"]:
            out["max sustained deliveries/s ours/baseline"] = (
                o["max_sustained_deliveries_per_s"] / b["max_sustained_deliveries_per_s"]
            )
    return out


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Load and latency benchmark of the webinar server (see the module doc).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--scenario", choices=SCENARIOS, default="questions")
    parser.add_argument("--clients", type=int, default=500, help="Simulated attendees.")
    parser.add_argument("--workers", type=int, default=4, help="Client processes.")
    parser.add_argument(
        "--concurrency", type=int, default=64, help="Joins/submits in flight per worker."
    )
    parser.add_argument(
        "--rate", type=float, default=None, help="Questions a second (4; 10 for storm)."
    )
    parser.add_argument("--votes", type=float, default=100.0, help="Votes a second (storm).")
    parser.add_argument("--duration", type=float, default=20.0, help="Seconds of sending.")
    parser.add_argument(
        "--steps",
        type=lambda s: [float(x) for x in s.split(",")],
        default=[2.0, 4.0, 6.0, 8.0, 10.0, 15.0, 20.0],
        help="Saturation rates, messages a second, comma-separated.",
    )
    parser.add_argument("--step-seconds", type=float, default=10.0)
    parser.add_argument("--step-grace", type=float, default=5.0)
    parser.add_argument("--p99-limit", type=float, default=1.0, help="Seconds (saturate).")
    parser.add_argument("--grace", type=float, default=15.0, help="Seconds to wait for stragglers.")
    parser.add_argument("--text-size", type=int, default=160, help="Question length.")
    parser.add_argument("--compress", action="store_true", help="Offer permessage-deflate.")
    parser.add_argument(
        "--pages",
        action="store_true",
        help="questions: also load /live and /host twice a second (the storm always does).",
    )
    parser.add_argument(
        "--baseline",
        action="store_true",
        help="Run bench/baseline.py first (questions, saturate) and compare.",
    )
    parser.add_argument(
        "--baseline-only", action="store_true", help="Only the baseline (to find its ceiling)."
    )
    parser.add_argument(
        "--hog",
        type=float,
        default=0.0,
        help="Start a process that busy-loops this share of one core (0.5: half) during "
        "each run, ours and the baseline's, stopped with the run.",
    )
    parser.add_argument("--url", help="A running server instead of starting one.")
    parser.add_argument(
        "--db",
        help="With --url: its database, to read the secrets. Without: the database our "
        "server serves (an empty one: a PostgreSQL URL, say) instead of a new SQLite file.",
    )
    parser.add_argument(
        "--db-pid",
        type=int,
        help="The PostgreSQL postmaster's pid: its CPU and its backends' are measured too.",
    )
    parser.add_argument("--code", help="With --url: the event code.")
    parser.add_argument("--host-token", help="With --url: the host link's token.")
    parser.add_argument("--server-pid", type=int, help="With --url: its pid, for CPU and RSS.")
    parser.add_argument(
        "--server-source",
        help="Serve the webinar package of this source folder instead of this tree's "
        "(another version, for a same-run comparison).",
    )
    parser.add_argument("--connect-timeout", type=float, default=180.0)
    parser.add_argument(
        "--timeout", type=float, default=None, help="Hard limit per run, seconds (from the plan)."
    )
    parser.add_argument("--json", dest="json_path", help="Write the results as JSON here.")
    parser.add_argument(
        "--timeline", action="store_true", help="Print each question's latencies in turn."
    )
    parser.add_argument(
        "--server-log", help="Keep the server's output as PATH.ours / PATH.baseline."
    )
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=60.0,
        help="Seconds to wait at most, before each run, for the machine to be idle.",
    )
    parser.add_argument(
        "--quiet-below", type=float, default=15.0, help="Machine busy %% that counts as idle."
    )
    args = parser.parse_args(argv)
    if args.rate is None:
        args.rate = 10.0 if args.scenario == "storm" else 4.0
    args.baseline = args.baseline or args.baseline_only
    if args.baseline and args.scenario not in ("questions", "saturate", "storm"):
        parser.error("--baseline applies to the questions, saturate and storm scenarios")
    if not 0 <= args.hog < 1:
        parser.error("--hog is a share of one core, from 0 to below 1 (0.5: half a core)")
    if args.url and args.baseline:
        parser.error("--baseline starts its own servers; leave out --url")
    if args.timeout is None:
        plan = args.duration
        if args.scenario == "saturate":
            plan = len(args.steps) * (args.step_seconds + args.step_grace + 10)
        args.timeout = 120 + args.connect_timeout + 2 * plan + 2 * args.grace
    if args.clients < 1 or args.workers < 1:
        parser.error("--clients and --workers must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    need_psutil()
    kinds = ["baseline", "ours"] if args.baseline else ["ours"]
    if args.baseline_only:
        kinds = ["baseline"]
    results: dict[str, dict[str, Any]] = {}
    for kind in kinds:
        print(
            f"[{kind}] {args.scenario}: {args.clients} attendees on {args.workers} workers"
            f"{', compression on' if args.compress else ''} ...",
            flush=True,
        )
        try:
            results[kind] = run_one(kind, args)
        except TimeoutError:
            print(f"[{kind}] stopped: the run took longer than --timeout", file=sys.stderr)
            return 2
    print_results(results)
    if args.json_path:
        machine = {"nproc": os.cpu_count(), "python": sys.version.split()[0]}
        payload = {"args": vars(args), "machine": machine, "results": results}
        if len(results) == 2:
            payload["ratios"] = ratios(results["baseline"], results["ours"])
        Path(args.json_path).write_text(json.dumps(payload, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
