"""``webinar serve --workers 2 --redis``: real worker processes under uvicorn's supervisor.

One worker writes for the event (it holds the lease; its token names its private address
and pid), the other forwards the event's requests and sockets to it. SIGKILL either
worker mid-storm (attendees asking and voting, staff screens connected through both):
every acknowledged write is stored once, the event log's seqs are contiguous, every
screen resumes with nothing lost, duplicated or out of order, and the supervisor starts
a new worker. Runs on SQLite and, in CI's PostgreSQL pass, on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families
from redis_server import RedisServer
from websockets.asyncio.client import connect as websockets_connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from helpers import PATIENCE, Person, ServerProcess, Socket, open_database, stored_secrets
from postgres_cluster import cluster
from webinar.cli.main import cli
from webinar.domain.accounts import Grant
from webinar.realtime.lease import lease_key
from webinar.realtime.streams import connect
from webinar.services.accounts import add_user
from webinar.services.agenda_files import SEED_AGENDA
from webinar.services.writer import key_prefix
from webinar.storage.webinars import Webinar, list_webinars_sync, save_webinar_sync
from webinar.web.edge import PRESENCE_SECONDS
from webinar.web.forward import peer_proof
from webinar.web.ws import MAX_SCREENS, TOO_MANY_SCREENS

pytestmark = pytest.mark.integration

ATTENDEES = 12
QUESTIONS_EACH = 4  # under the limit of 5 a minute
SCREENS = 8
SEEN_BY_STAFF = ("all", "staff")
ANN = ("ann@example.org", "Ann Organiser", "a long and happy password")


# -- the processes ------------------------------------------------------------------------------


def workers_of(supervisor: int) -> set[int]:
    """The worker processes uvicorn's supervisor runs (its spawned children)."""
    found: set[int] = set()
    for task in Path(f"/proc/{supervisor}/task").iterdir():
        with contextlib.suppress(OSError):
            for pid in (task / "children").read_text().split():
                with contextlib.suppress(OSError):
                    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
                    if b"spawn_main" in cmdline and b"resource_tracker" not in cmdline:
                        found.add(int(pid))
    return found


async def wait_for_workers(
    supervisor: int, count: int, not_these: frozenset[int] = frozenset()
) -> set[int]:
    deadline = time.monotonic() + 2 * PATIENCE
    while time.monotonic() < deadline:
        pids = workers_of(supervisor)
        if len(pids) == count and not pids & not_these:
            return pids
        await asyncio.sleep(0.2)  # polling the process table: no signal to wait on
    raise TimeoutError(f"the supervisor did not run {count} new workers")


@dataclass
class Lease:
    address: str
    pid: int


async def writer_of(redis_url: str, db_path: str, webinar_id: int, not_pid: int = 0) -> Lease:
    """The worker holding the event's lease (waiting for one other than ``not_pid``)."""
    redis = connect(redis_url, timeout=2.0)
    try:
        deadline = time.monotonic() + 2 * PATIENCE
        while time.monotonic() < deadline:
            token = await redis.get(lease_key(key_prefix(db_path), webinar_id))
            if token is not None:
                text = token.decode() if isinstance(token, bytes) else str(token)
                address, pid, _ = text.split(" ")
                if int(pid) != not_pid:
                    return Lease(address, int(pid))
            await asyncio.sleep(0.2)
    finally:
        await redis.aclose()
    raise TimeoutError("no worker took the event's lease")


def socket_owner(server_port: int, client_port: int, pids: set[int]) -> int | None:
    """Which of ``pids`` holds the server side of the loopback TCP connection from
    ``client_port`` to ``server_port`` (from /proc/net/tcp and the processes' fds)."""
    inode = ""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                parts = line.split()
                local, remote = parts[1], parts[2]
                if int(local.rsplit(":", 1)[1], 16) == server_port and (
                    int(remote.rsplit(":", 1)[1], 16) == client_port
                ):
                    inode = parts[9]
    if not inode:
        return None
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    if os.readlink(fd) == f"socket:[{inode}]":
                        return pid
    return None


# -- the screens --------------------------------------------------------------------------------


@dataclass
class Screen:
    """A staff member's live screen that reconnects and resumes from its last seq."""

    person: Person
    socket: Socket | None = None
    seqs: list[int] = field(default_factory=list)
    reconnects: int = 0

    async def open(self) -> None:
        last = self.seqs[-1] if self.seqs else None
        self.socket = await self.person.socket(last_seq=last)

    async def run(self, until: asyncio.Event) -> None:
        """Read events until ``until`` is set; reconnect (any worker) when the socket closes."""
        while not until.is_set():
            assert self.socket is not None
            try:
                message = await self.socket.next_message(timeout=0.5)
            except TimeoutError:
                continue
            except (ConnectionClosed, OSError):
                await self._reconnect()
                continue
            if "seq" in message and message.get("type") != "pong":
                self.seqs.append(int(message["seq"]))

    async def _reconnect(self) -> None:
        self.reconnects += 1
        if self.socket is not None:
            with contextlib.suppress(ConnectionClosed, OSError):
                await self.socket.close()
        deadline = time.monotonic() + 3 * PATIENCE
        while True:
            try:
                await self.open()
                return
            except (ConnectionClosed, OSError, TimeoutError, Exception):
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.2)  # the port refuses while a worker starts


@dataclass
class Storm:
    """Attendees asking (each with its own idempotency key, retried with the same key until
    acknowledged) and voting; what was acknowledged."""

    people: list[tuple[Person, str]]
    asked: dict[str, int] = field(default_factory=dict)  # text -> question id
    votes: set[tuple[int, str]] = field(default_factory=set)  # (question id, voter id)
    retried: int = 0
    progress: asyncio.Event = field(default_factory=asyncio.Event)

    async def ask(self, person: Person, text: str) -> None:
        key = uuid.uuid4().hex
        deadline = time.monotonic() + 4 * PATIENCE
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.TransportError):
                response = await person.act("qa.ask", text=text, key=key)
                if response.status_code == 200:
                    self.asked[text] = int(response.json()["question"]["id"])
                    if len(self.asked) >= ATTENDEES:
                        self.progress.set()
                    return
                assert response.status_code == 503, response.text  # a takeover
            self.retried += 1
            await asyncio.sleep(0.5)  # the client's own back-off before retrying
        raise AssertionError(f"{text!r} was never acknowledged")

    async def vote(self, person: Person, voter: str) -> None:
        for question in list(self.asked.values())[-3:]:
            with contextlib.suppress(httpx.TransportError):
                response = await person.act("qa.vote", question_id=question, on=True)
                if response.status_code == 200:
                    self.votes.add((question, voter))

    async def round(self, n: int) -> None:
        async def one(person: Person, voter: str, i: int) -> None:
            await self.ask(person, f"Question {n}.{i}: what about workers?")
            await self.vote(person, voter)

        await asyncio.gather(*(one(p, v, i) for i, (p, v) in enumerate(self.people)))


# -- the test -----------------------------------------------------------------------------------


@pytest.mark.parametrize("fanout", ["piped", "edge"])
@pytest.mark.parametrize("victim", ["edge", "writer"])
async def test_a_worker_killed_mid_storm_loses_nothing(
    tmp_path: Path, own_redis_server: RedisServer, victim: str, fanout: str
) -> None:
    """``fanout``: the edge worker pipes its screens to the writer, or serves them from
    its own hub, fed by the stream (``--edge-fanout``)."""
    edge_flag = ("--edge-fanout",) if fanout == "edge" else ()
    proc = ServerProcess(
        str(tmp_path / "webinar.db"),
        args=("--workers", "2", "--redis", own_redis_server.url, *edge_flag),
    )
    proc.start()
    screens: list[Screen] = []
    people: list[tuple[Person, str]] = []
    readers: list[asyncio.Task[None]] = []
    done = asyncio.Event()
    try:
        assert proc.proc is not None
        supervisor = proc.proc.pid
        db_path = proc.db_path
        webinar_id = list_webinars_sync(db_path)[0].id
        secrets = stored_secrets(db_path)
        pids = await wait_for_workers(supervisor, 2)
        writer = await writer_of(own_redis_server.url, db_path, webinar_id)
        assert writer.pid in pids
        edge = (pids - {writer.pid}).pop()
        await connect_screens(proc, secrets, pids, writer.pid, edge, screens)
        for n in range(ATTENDEES):
            person = Person(proc.base)
            people.append((person, ""))
            body = await person.join(secrets["join_code"], f"Attendee {n}")
            people[-1] = (person, str(body["participant"]["id"]))
        storm = Storm(people)
        readers = [asyncio.create_task(s.run(done)) for s in screens]
        first = asyncio.create_task(storm.round(0))
        await asyncio.wait_for(storm.progress.wait(), 2 * PATIENCE)
        killed = edge if victim == "edge" else writer.pid
        os.kill(killed, signal.SIGKILL)
        await storm.round(1)
        await first
        new_pids = await wait_for_workers(supervisor, 2, not_these=frozenset({killed}))
        if victim == "writer":
            taken = await writer_of(own_redis_server.url, db_path, webinar_id, not_pid=killed)
            assert taken.pid in new_pids
        await storm.round(2)
        last, staff_seqs, stored, votes = read_log(db_path)
        await asyncio.wait_for(all_reached(screens, staff_seqs[-1]), 2 * PATIENCE)
    finally:
        done.set()
        await asyncio.gather(*readers, return_exceptions=True)
        for screen in screens:
            if screen.socket is not None:
                with contextlib.suppress(Exception):
                    await screen.socket.close()
            await screen.person.close()
        for person, _ in people:
            await person.close()
        proc.stop()

    assert len(storm.asked) == ATTENDEES * 3
    # Every acknowledged question is stored exactly once (retries with one key: once).
    assert sorted(stored) == sorted(storm.asked)
    assert storm.votes <= votes  # every acknowledged vote is stored
    assert [seq for seq, _ in last] == list(range(1, len(last) + 1))  # no seq reused/skipped
    dropped = [s for s in screens if s.reconnects]
    assert dropped, "no screen went through the killed worker"
    for screen in screens:
        assert screen.seqs == sorted(set(screen.seqs)), "a duplicate or reordered event"
        missing = [q for q in staff_seqs if q > screen.seqs[0] and q not in set(screen.seqs)]
        assert not missing, f"a screen missed {missing[:5]}"


async def connect_screens(
    proc: ServerProcess,
    secrets: dict[str, str],
    pids: set[int],
    writer: int,
    edge: int,
    screens: list[Screen],
) -> None:
    """Staff screens into ``screens``, at least two through each worker (the port hands
    connections to either: open more until both have some)."""
    on: dict[int, int] = {writer: 0, edge: 0}
    for _ in range(10 * SCREENS):
        screen = Screen(Person(proc.base))
        screens.append(screen)
        await screen.person.enter("host", secrets["host_token"])
        await screen.open()
        assert screen.socket is not None
        port = screen.socket.conn.local_address[1]
        owner = socket_owner(proc.port, port, pids)
        if owner is not None:
            on[owner] += 1
        if len(screens) >= SCREENS and min(on.values()) >= 2:
            return
    raise AssertionError(f"screens landed on the workers as {on}")


def read_log(db_path: str) -> tuple[list[tuple[int, str]], list[int], list[str], set[Any]]:
    with contextlib.closing(open_database(db_path)) as conn:
        log = [
            (int(s), str(a))
            for s, a in conn.execute("SELECT seq, audience FROM events ORDER BY seq")
        ]
        stored = [str(row[0]) for row in conn.execute("SELECT text FROM questions")]
        votes = {
            (int(q), str(v)) for q, v in conn.execute("SELECT question_id, voter_id FROM votes")
        }
    staff = [seq for seq, audience in log if audience in SEEN_BY_STAFF]
    return log, staff, stored, votes


async def all_reached(screens: list[Screen], seq: int) -> None:
    while any(not s.seqs or s.seqs[-1] < seq for s in screens):
        await asyncio.sleep(0.1)  # the readers append as events arrive


async def test_outsiders_are_refused_the_workers_headers_addresses_and_database(
    tmp_path: Path, own_redis_server: RedisServer
) -> None:
    proc = ServerProcess(
        str(tmp_path / "webinar.db"),
        args=("--workers", "2", "--redis", own_redis_server.url, "--edge-fanout"),
    )
    proc.start()
    attendee = Person(proc.base)
    try:
        webinar_id = list_webinars_sync(proc.db_path)[0].id
        secrets = stored_secrets(proc.db_path)
        writer = await writer_of(own_redis_server.url, proc.db_path, webinar_id)
        proof = peer_proof(secrets)
        await attendee.join(secrets["join_code"], "Eve Outsider")
        # A worker's own requests about its screens: a client's, through either worker
        # (passed on to the writer with the peer proof, or not), is an unknown address.
        edge_paths = [
            await attendee.http.post(
                "/_edge/open", json={"fmt": "json", "worker": "made-up"}, headers=h
            )
            for h in ({}, {}, {}, {}, {"X-Webinar-Edge": "1"})
        ]
        async with httpx.AsyncClient(timeout=PATIENCE) as client:
            # The public port: no one may claim a peer's standing or a client's address.
            for name in ("X-Webinar-Peer", "X-Webinar-Client", "X-Webinar-Host"):
                public = await client.get(f"{proc.base}/join", headers={name: proof.decode()})
                assert public.status_code == 403
                assert "server's own workers" in public.text
            # The private address: only requests with the event's proof.
            private = f"http://{writer.address}"
            bare = await client.get(f"{private}/join")
            wrong = await client.get(f"{private}/join", headers={"X-Webinar-Peer": "guess"})
            site = await client.get(f"{private}/healthz", headers={"X-Webinar-Peer": "x"})
            programme = await client.get(
                f"{private}/programme", headers={"X-Webinar-Peer": proof.decode()}
            )
            peer = await client.get(f"{private}/join", headers={"X-Webinar-Peer": proof.decode()})
            served = await client.get(f"{proc.base}/join")
        with pytest.raises(InvalidStatus):
            await websockets_connect(
                proc.ws_url, additional_headers={"X-Webinar-Peer": proof.decode()}
            )
        with pytest.raises(InvalidStatus):
            await websockets_connect(f"ws://{writer.address}/ws")
        # Nor may a one-process server run beside the workers.
        alone = ServerProcess(proc.db_path)
        with pytest.raises(RuntimeError, match="Another server is already running"):
            alone.start()
    finally:
        await attendee.close()
        proc.stop()

    assert [r.status_code for r in edge_paths] == [404, 404, 404, 404, 403]
    assert [bare.status_code, wrong.status_code, site.status_code] == [403, 403, 403]
    assert programme.status_code == 403  # only an event's requests are forwarded
    assert peer.status_code == 200 and served.status_code == 200


async def readiness_by_worker(proc: ServerProcess, pids: set[int]) -> dict[int, int]:
    """/readyz's status from each worker: raw requests on fresh connections until each
    worker has answered one (the port hands connections to either)."""
    statuses: dict[int, int] = {}
    for _ in range(100):
        reader, writer = await asyncio.open_connection("127.0.0.1", proc.port)
        try:
            writer.write(b"GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            await writer.drain()
            status_line = await asyncio.wait_for(reader.readline(), PATIENCE)
            owner = socket_owner(proc.port, writer.get_extra_info("sockname")[1], pids)
        finally:
            writer.close()
            await writer.wait_closed()
        if owner is not None:
            statuses[owner] = int(status_line.split()[1])
        if len(statuses) == len(pids):
            break
    return statuses


async def test_an_event_added_while_serving_gets_a_writer_and_every_worker_is_ready(
    tmp_path: Path, own_redis_server: RedisServer
) -> None:
    proc = ServerProcess(
        str(tmp_path / "webinar.db"), args=("--workers", "2", "--redis", own_redis_server.url)
    )
    proc.start()
    people: list[Person] = []
    try:
        added = CliRunner().invoke(
            cli, ["events", "add", str(proc.agenda), "--db", proc.db_path, "--slug", "added"]
        )
        assert added.exit_code == 0, added.output
        event = next(e for e in list_webinars_sync(proc.db_path) if e.slug == "added")
        secrets = stored_secrets(proc.db_path, "added")
        # Several attendees: their requests reach both workers, which both open the event.
        for n in range(6):
            person = Person(f"{proc.base}/e/added")
            await person.join(secrets["join_code"], f"Attendee {n}")
            response = await person.act("qa.ask", text=f"Added {n}?", key=uuid.uuid4().hex)
            assert response.status_code == 200, response.text
            people.append(person)
        writer = await writer_of(own_redis_server.url, proc.db_path, event.id)
        # Each worker is ready, whether it writes for an event or forwards it (a worker
        # that forwards runs none of its tickers and is not asked for them).
        assert proc.proc is not None
        pids = await wait_for_workers(proc.proc.pid, 2)
        statuses = await readiness_by_worker(proc, pids)
    finally:
        for person in people:
            await person.close()
        proc.stop()

    assert statuses == {pid: 200 for pid in pids}

    assert proc.proc is None and writer.address
    with contextlib.closing(open_database(proc.db_path)) as conn:
        texts = [
            row[0]
            for row in conn.execute(
                "SELECT text FROM questions WHERE webinar_id = ? ORDER BY id", (event.id,)
            )
        ]
    assert texts == [f"Added {n}?" for n in range(6)]


def test_workers_need_redis(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["serve", "--db", str(tmp_path / "w.db"), "--workers", "2", "--port", "1"]
    )

    assert result.exit_code == 1
    assert "--workers 2 needs --redis URL" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "w.db").exists()  # refused before the database was touched


async def writer_roles(proc: ServerProcess, workers: set[str]) -> dict[tuple[str, str], float]:
    """``webinar_writer`` by (event, worker) from the public /metrics, once it has every
    one of ``workers`` (a worker's series appear once it has joined the others)."""
    async with httpx.AsyncClient(timeout=PATIENCE) as client:
        deadline = time.monotonic() + PATIENCE
        while True:
            response = await client.get(f"{proc.base}/metrics")
            assert response.status_code == 200, response.text
            roles = {
                (sample.labels["event"], sample.labels["worker"]): sample.value
                for family in text_string_to_metric_families(response.text)
                for sample in family.samples
                if sample.name == "webinar_writer"
            }
            if {worker for _, worker in roles} >= workers or time.monotonic() > deadline:
                return roles
            await asyncio.sleep(0.2)  # a worker joins within a renewal: no signal to wait on


async def test_the_workers_share_the_events_and_a_killed_workers_events_get_a_writer(
    tmp_path: Path, own_redis_server: RedisServer
) -> None:
    proc = ServerProcess(
        str(tmp_path / "webinar.db"), args=("--workers", "2", "--redis", own_redis_server.url)
    )
    for slug in ("second", "third", "fourth"):
        added = CliRunner().invoke(
            cli, ["events", "add", str(proc.agenda), "--db", proc.db_path, "--slug", slug]
        )
        assert added.exit_code == 0, added.output
    proc.start()
    try:
        assert proc.proc is not None
        supervisor = proc.proc.pid
        pids = await wait_for_workers(supervisor, 2)
        events = list_webinars_sync(proc.db_path)
        before = {e.id: await writer_of(own_redis_server.url, proc.db_path, e.id) for e in events}
        roles = await writer_roles(proc, {lease.address for lease in before.values()})
        async with httpx.AsyncClient(timeout=PATIENCE) as client:
            private = f"http://{before[events[0].id].address}/_workers/metrics"
            refused = await client.get(private)
            refused_guess = await client.get(private, headers={"X-Webinar-Peer": "guess"})
        victim = before[events[0].id].pid
        os.kill(victim, signal.SIGKILL)
        orphaned = [e for e in events if before[e.id].pid == victim]
        after = {
            e.id: await writer_of(own_redis_server.url, proc.db_path, e.id, not_pid=victim)
            for e in orphaned
        }
        new_pids = await wait_for_workers(supervisor, 2, not_these=frozenset({victim}))
        async with httpx.AsyncClient(timeout=PATIENCE) as client:
            pages = [(await client.get(f"{proc.base}/e/{e.slug}/join")).status_code for e in events]
    finally:
        proc.stop()

    assert len(events) == 4
    # Both workers write, each for its share (the events go round the live workers).
    assert {lease.pid for lease in before.values()} == pids
    assert sorted(sum(lease.pid == pid for lease in before.values()) for pid in pids) == [2, 2]
    # /metrics, from either worker, has both workers' series: each event's writer says 1.
    assert roles == {(e.slug, before[e.id].address): 1.0 for e in events} | {
        (e.slug, other.address): 0.0
        for e in events
        for other in before.values()
        if other.address != before[e.id].address
    }
    assert [refused.status_code, refused_guess.status_code] == [403, 403]
    # The killed worker's events were taken over by a live worker; the others kept theirs.
    assert len(orphaned) == 2
    assert all(lease.pid in new_pids for lease in after.values())
    assert pages == [200] * 4


def renamed_agenda(title: str) -> bytes:
    day = (date.today() + timedelta(days=1)).isoformat()
    text = SEED_AGENDA.read_text(encoding="utf-8").replace('date = "today"', f'date = "{day}"', 1)
    return text.replace(
        'title = "Child Safeguarding Practice Review Panel Webinar"', f'title = "{title}"', 1
    ).encode()


def csrf_of(page: httpx.Response) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, page.text[:300]
    return found.group(1)


async def test_events_made_or_changed_through_the_programme_are_served_by_every_worker(
    tmp_path: Path, own_redis_server: RedisServer
) -> None:
    proc = ServerProcess(
        str(tmp_path / "webinar.db"), args=("--workers", "2", "--redis", own_redis_server.url)
    )
    proc.start()
    pages: dict[str, list[str]] = {}
    client = httpx.AsyncClient(base_url=proc.base, timeout=2 * PATIENCE)
    try:
        await asyncio.to_thread(
            save_webinar_sync,
            proc.db_path,
            "hals",
            title="Hal's",
            agenda_name="h.toml",
            agenda=renamed_agenda("Hal's").decode(),
        )
        await asyncio.to_thread(
            add_user, proc.db_path, *ANN, (Grant("organiser"),), datetime.now(UTC)
        )
        for _ in range(6):  # both workers open the event: one writes, one forwards
            assert (await client.get("/e/hals/join")).status_code == 200
        csrf = csrf_of(await client.get("/programme/signin"))
        signin = await client.post(
            "/programme/signin", data={"email": ANN[0], "password": ANN[2], "csrf_token": csrf}
        )
        assert signin.status_code == 303, signin.text
        for title in ("First rename", "Second rename", "Third rename"):
            csrf = csrf_of(await client.get("/programme/e/hals/agenda"))
            edited = await client.post(
                "/programme/agenda",
                data={"csrf_token": csrf, "event": "hals"},
                files={"file": ("changed.toml", renamed_agenda(title), "application/toml")},
            )
            assert edited.status_code == 303, edited.text
            # Fresh connections: the port hands them to either worker.
            for _ in range(6):
                async with httpx.AsyncClient(base_url=proc.base, timeout=2 * PATIENCE) as one:
                    pages.setdefault(title, []).append((await one.get("/e/hals/join")).text)
        # An event created through the programme is served, by whichever worker.
        csrf = csrf_of(await client.get("/programme/new"))
        created = await client.post(
            "/programme/new",
            data={"csrf_token": csrf, "source": "upload", "slug": "fresh"},
            files={"file": ("fresh.toml", renamed_agenda("Freshly made"), "application/toml")},
        )
        assert created.status_code == 303, created.text
        for _ in range(6):
            async with httpx.AsyncClient(base_url=proc.base, timeout=2 * PATIENCE) as one:
                pages.setdefault("Freshly made", []).append((await one.get("/e/fresh/join")).text)
        fresh = next(e for e in list_webinars_sync(proc.db_path) if e.slug == "fresh")
        fresh_writer = await writer_of(own_redis_server.url, proc.db_path, fresh.id)
    finally:
        await client.aclose()
        proc.stop()

    for title, seen in pages.items():
        assert all(title in page for page in seen), f"a worker served an old agenda for {title}"
    assert len(pages["Freshly made"]) == 6 and fresh_writer.address


@pytest.mark.sqlite_only(reason="two serves share a PostgreSQL database by design (hosts)")
async def test_two_serves_with_workers_on_one_sqlite_file_are_refused(
    tmp_path: Path, own_redis_server: RedisServer
) -> None:
    args = ("--workers", "2", "--redis", own_redis_server.url)
    proc = ServerProcess(str(tmp_path / "webinar.db"), args=args)
    proc.start()
    try:
        second = ServerProcess(proc.db_path, args=args)
        with pytest.raises(RuntimeError, match="Another server is already running"):
            second.start()
    finally:
        proc.stop()


async def test_two_hosts_share_one_postgresql_database(
    tmp_path: Path, own_redis_server: RedisServer
) -> None:
    """Two serves of 2 workers each (two hosts, here on one machine) on one PostgreSQL
    database and one Redis: one worker of the four writes for the event, and every
    question asked through either host is stored once; a one-process server is still
    refused."""
    url = cluster().create("two_hosts")
    args = ("--workers", "2", "--redis", own_redis_server.url)
    hosts = [ServerProcess(url, args=args), ServerProcess(url, args=args)]
    people: list[Person] = []
    try:
        for host in hosts:
            host.start()
        secrets = stored_secrets(url)
        for n in range(8):
            person = Person(hosts[n % 2].base)
            await person.join(secrets["join_code"], f"Attendee {n}")
            response = await person.act("qa.ask", text=f"Host {n % 2} asks {n}?", key=f"{n:016d}")
            assert response.status_code == 200, response.text
            people.append(person)
        webinar_id = list_webinars_sync(url)[0].id
        writer = await writer_of(own_redis_server.url, url, webinar_id)
        supervisors = [host.proc.pid for host in hosts if host.proc is not None]
        workers = [await wait_for_workers(pid, 2) for pid in supervisors]
        alone = ServerProcess(url)
        with pytest.raises(RuntimeError, match="Another server is already running"):
            alone.start()
    finally:
        for person in people:
            await person.close()
        for host in hosts:
            host.stop()

    assert sum(writer.pid in pids for pids in workers) == 1
    with contextlib.closing(open_database(url)) as conn:
        texts = sorted(row[0] for row in conn.execute("SELECT text FROM questions"))
    assert texts == sorted(f"Host {n % 2} asks {n}?" for n in range(8))


async def test_a_writer_whose_lease_was_taken_stops_and_bids_again(
    tmp_path: Path, own_redis_server: RedisServer
) -> None:
    """As when Redis did not answer past the lease's time and another took the lease: the
    writer steps down, stops the event's tickers and bids again; the requests sent while
    the lease's holder cannot be reached wait for the next writer and are applied once."""
    proc = ServerProcess(
        str(tmp_path / "webinar.db"), args=("--workers", "2", "--redis", own_redis_server.url)
    )
    redis = connect(own_redis_server.url, timeout=2.0)
    proc.start()
    people: list[Person] = []
    try:
        webinar_id = list_webinars_sync(proc.db_path)[0].id
        secrets = stored_secrets(proc.db_path)
        before = await writer_of(own_redis_server.url, proc.db_path, webinar_id)
        key = lease_key(key_prefix(proc.db_path), webinar_id)
        # A holder nobody can reach (port 9, pid 1), for 3 s.
        assert await redis.set(key, "127.0.0.1:9 1 stolen", xx=True, px=3000)
        for n in range(4):
            person = Person(proc.base)
            await person.join(secrets["join_code"], f"Attendee {n}")
            response = await person.act("qa.ask", text=f"Meanwhile {n}?", key=f"{n:016d}")
            assert response.status_code == 200, response.text
            people.append(person)
        after = await writer_of(own_redis_server.url, proc.db_path, webinar_id, not_pid=1)
        assert proc.proc is not None
        statuses = await readiness_by_worker(proc, workers_of(proc.proc.pid))
    finally:
        for person in people:
            await person.close()
        await redis.aclose()
        proc.stop()

    assert after.pid in statuses and before.pid in statuses
    assert set(statuses.values()) == {200}
    assert f"worker {before.pid} no longer writes for event" in proc.output
    with contextlib.closing(open_database(proc.db_path)) as conn:
        texts = sorted(row[0] for row in conn.execute("SELECT text FROM questions"))
    assert texts == [f"Meanwhile {n}?" for n in range(4)]


async def test_requests_through_either_worker_survive_redis_stopped_for_10_s(
    tmp_path: Path, own_redis_server: RedisServer
) -> None:
    """Redis SIGSTOPped for 10 s under the workers: a worker that cannot read the lease
    waits (or answers 503, and the client retries with the same key); the writer keeps
    writing; afterwards every question is stored exactly once."""
    proc = ServerProcess(
        str(tmp_path / "webinar.db"), args=("--workers", "2", "--redis", own_redis_server.url)
    )
    proc.start()
    people: list[Person] = []
    try:
        secrets = stored_secrets(proc.db_path)
        for n in range(6):
            person = Person(proc.base)
            await person.join(secrets["join_code"], f"Attendee {n}")
            people.append(person)
        storm = Storm([(person, "") for person in people])
        own_redis_server.pause()
        asking = asyncio.gather(
            *(storm.ask(person, f"While Redis sleeps {n}?") for n, person in enumerate(people))
        )
        await asyncio.sleep(10)  # the fault's length (issue 18), not a wait for anything
        own_redis_server.resume()
        await asking
    finally:
        for person in people:
            await person.close()
        proc.stop()

    with contextlib.closing(open_database(proc.db_path)) as conn:
        texts = sorted(row[0] for row in conn.execute("SELECT text FROM questions"))
    assert texts == sorted(storm.asked) == [f"While Redis sleeps {n}?" for n in range(6)]


# -- the edge fan-out ---------------------------------------------------------------------------


async def socket_on(person: Person, proc: ServerProcess, pids: set[int], worker: int) -> Socket:
    """A socket of ``person`` (starting with a snapshot) through ``worker``: sockets are
    opened until the port hands one to it (a busy machine may hand many in a row to the
    other)."""
    for _ in range(400):
        sock = await person.socket()
        owner = socket_owner(proc.port, sock.conn.local_address[1], pids)
        if owner == worker:
            return sock
        await sock.close()
    raise AssertionError(f"no socket landed on worker {worker}")


async def scrape(proc: ServerProcess, pids: set[int]) -> tuple[int | None, str]:
    """``/metrics`` once, and which of ``pids`` answered it (None: another)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", proc.port)
    try:
        # Kept alive: the worker holds the connection while its owner is looked up.
        writer.write(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), PATIENCE)
        owner = socket_owner(proc.port, writer.get_extra_info("sockname")[1], pids)
        length = re.search(rb"content-length: *(\d+)", head, re.I)
        assert length is not None, head
        body = await asyncio.wait_for(reader.readexactly(int(length.group(1))), PATIENCE)
    finally:
        writer.close()
        await writer.wait_closed()
    return owner, body.decode()


async def screens_by_worker(
    proc: ServerProcess, writer: Lease, edge: int, slug: str
) -> dict[int, float]:
    """Each worker's ``webinar_screens_connected`` for the event (its own hub's screens), by
    pid: ``/metrics`` gathers every worker's, each series labelled ``worker`` (its private
    address); the writer's is known, the other is the edge's."""
    pattern = re.compile(r"^webinar_screens_connected\{(.*)\} (\S+)$", re.M)
    found: dict[int, float] = {}
    for _ in range(100):
        _, text = await scrape(proc, {writer.pid, edge})
        for labels, value in pattern.findall(text):
            worker = re.search(r'worker="([^"]+)"', labels)
            if f'event="{slug}"' in labels and worker is not None:
                found[writer.pid if worker.group(1) == writer.address else edge] = float(value)
        if len(found) == 2:
            return found
    raise AssertionError(f"/metrics named the screens of {sorted(found)}, not both workers")


async def present_at(proc: ServerProcess, writer: Lease, slug: str) -> float:
    """The writer's ``webinar_participants_present`` for the event: from its own
    ``/metrics``, or from its series where ``/metrics`` gathers every worker's, labelled
    ``worker`` (its private address)."""
    pattern = re.compile(r"^webinar_participants_present\{(.*)\} (\S+)$", re.M)
    for _ in range(100):
        owner, text = await scrape(proc, {writer.pid})
        for labels, value in pattern.findall(text):
            by_label = f'worker="{writer.address}"' in labels
            unlabelled = owner == writer.pid and 'worker="' not in labels
            if f'event="{slug}"' in labels and (by_label or unlabelled):
                return float(value)
    raise AssertionError(f"/metrics never answered for the writer {writer.pid}")


async def read_until(sock: Socket, seq: int) -> None:
    while sock.last_seq < seq:
        await sock.next_message(timeout=2 * PATIENCE)


@dataclass
class EdgeServe:
    """``serve --workers 2 --redis URL --edge-fanout`` running on a fresh SQLite file (or
    PostgreSQL database), its one event, which worker writes for it and which does not."""

    proc: ServerProcess
    db_path: str
    found: Webinar
    secrets: dict[str, str]
    pids: set[int]
    writer: Lease
    edge: int


@pytest.fixture
async def serve(tmp_path: Path, own_redis_server: RedisServer) -> AsyncIterator[EdgeServe]:
    proc = ServerProcess(
        str(tmp_path / "webinar.db"),
        args=("--workers", "2", "--redis", own_redis_server.url, "--edge-fanout"),
    )
    proc.start()
    try:
        assert proc.proc is not None
        db_path = proc.db_path
        found = list_webinars_sync(db_path)[0]
        pids = await wait_for_workers(proc.proc.pid, 2)
        writer = await writer_of(own_redis_server.url, db_path, found.id)
        edge = (pids - {writer.pid}).pop()
        yield EdgeServe(proc, db_path, found, stored_secrets(db_path), pids, writer, edge)
    finally:
        proc.stop()  # again after a test that stopped it: no harm


async def test_screens_on_a_worker_that_does_not_write_are_served_from_its_own_hub(
    serve: EdgeServe,
) -> None:
    """With --edge-fanout, a host's and an attendee's screens on the worker that does not
    write are its own hub's (not piped): each gets every event of its audiences once, in
    order; the attendee's question asked through its socket is performed by the writer as
    that attendee, and the question's owner audience reaches her screen through the stream
    before the question's own events (its decline reaches her too)."""
    proc, db_path, found, secrets, pids, writer, edge = (
        serve.proc,
        serve.db_path,
        serve.found,
        serve.secrets,
        serve.pids,
        serve.writer,
        serve.edge,
    )
    host, ann = Person(proc.base), Person(proc.base)
    askers = [Person(proc.base) for _ in range(3)]
    try:
        await host.enter("host", secrets["host_token"])
        ann_id = str((await ann.join(secrets["join_code"], "Ann Edge"))["participant"]["id"])
        staff_screen = await socket_on(host, proc, pids, edge)
        ann_screen = await socket_on(ann, proc, pids, edge)
        for n, asker in enumerate(askers):  # through either worker
            await asker.join(secrets["join_code"], f"Asker {n}")
            response = await asker.act("qa.ask", text=f"Asked over HTTP {n}", key=uuid.uuid4().hex)
            assert response.status_code == 200, response.text
        await ann_screen.conn.send(
            json.dumps(
                {
                    "type": "action",
                    "id": 7,
                    "name": "qa.ask",
                    "params": {"text": "Asked through an edge socket", "key": uuid.uuid4().hex},
                }
            )
        )
        reply = await ann_screen.wait_for(lambda m: m.get("type") == "result")
        assert reply["id"] == 7 and reply["ok"], reply
        # Her screen was given her question's audience (through the stream, in order):
        # the host's decline reaches her, and nobody else's screen.
        mine = int(reply["data"]["question"]["id"])
        declined = await host.act("qa.reject", question_id=mine, reason="other")
        assert declined.status_code == 200, declined.text
        log, staff_seqs, stored, _ = read_log(db_path)
        await read_until(staff_screen, staff_seqs[-1])
        seen_by_ann = [s for s, a in log if a in ("all", f"p:{ann_id}", f"q:{mine}")]
        if seen_by_ann:
            await read_until(ann_screen, seen_by_ann[-1])
        by_worker = await screens_by_worker(proc, writer, edge, found.slug)
    finally:
        for person in (host, ann, *askers):
            await person.close()
        proc.stop()

    assert "Asked through an edge socket" in stored
    owner_events = [e for e in ann_screen.events if e.get("type") == "qa.mine"]
    assert [e["data"]["question"]["state"] for e in owner_events] == ["published", "rejected"]
    assert by_worker[edge] == 2 and by_worker[writer.pid] == 0  # served there, not piped
    for sock, wanted in ((staff_screen, staff_seqs), (ann_screen, seen_by_ann)):
        seqs = [e["seq"] for e in sock.events]
        assert seqs == sorted(set(seqs)), "a duplicate or reordered event"
        start = seqs[0]  # the snapshot's
        assert seqs[1:] == [s for s in wanted if s > start]


async def test_a_breakout_split_reaches_screens_on_a_worker_that_does_not_write(
    serve: EdgeServe,
) -> None:
    """With --edge-fanout, attendees whose screens are on the worker that does not write
    count as present for the split, and each screen is given its group's audience through
    the stream before the group's first event: every event of its group, of everyone and
    of its own reaches it once, in order, and no other group's."""
    proc, db_path, secrets, pids, edge = (
        serve.proc,
        serve.db_path,
        serve.secrets,
        serve.pids,
        serve.edge,
    )
    host = Person(proc.base)
    people: list[tuple[Person, Socket, str]] = []
    try:
        await host.enter("host", secrets["host_token"])
        for n in range(4):
            person = Person(proc.base)
            body = await person.join(secrets["join_code"], f"Member {n}")
            people.append((person, await socket_on(person, proc, pids, edge), ""))
            people[-1] = (person, people[-1][1], str(body["participant"]["id"]))
        assert (await host.act("agenda.start")).status_code == 200
        jumped = await host.act("agenda.jump", item_id="lcspr-breakout")
        assert jumped.status_code == 200, jumped.text
        for _, sock, _ in people:
            await sock.wait_for(lambda m: m["type"] == "breakout.group", timeout=2 * PATIENCE)
        volunteered = await people[0][0].act("breakout.volunteer")
        assert volunteered.status_code == 200, volunteered.text
        log, _, _, _ = read_log(db_path)
        audience_of = dict(log)
        wanted: list[list[int]] = []
        for _, sock, pid in people:
            groups = {audience_of[e["seq"]] for e in sock.events if e["type"] == "breakout.group"}
            assert len(groups) == 1, groups
            mine = ("all", f"p:{pid}", *groups)
            wanted.append([s for s, a in log if a in mine and s > sock.events[0]["seq"]])
            if wanted[-1]:
                await read_until(sock, wanted[-1][-1])
    finally:
        for person, sock, _ in people:
            with contextlib.suppress(Exception):
                await sock.close()
            await person.close()
        await host.close()
        proc.stop()

    assert len({audience_of[s] for w in wanted for s in w if audience_of[s].startswith("g:")}) >= 1
    for (_, sock, _), expected in zip(people, wanted, strict=True):
        seqs = [e["seq"] for e in sock.events]
        assert seqs == sorted(set(seqs)), "a duplicate or reordered event"
        assert seqs[1:] == expected  # its group's from the first, and no other group's


async def test_the_screens_of_a_killed_worker_stop_counting_as_present_at_the_writer(
    serve: EdgeServe,
) -> None:
    """With --edge-fanout, attendees whose screens are on the worker that does not write
    count as present at the writer (the breakout allocator's view); SIGKILL that worker
    (no close reaches the writer) and within the presence time they no longer count,
    while the attendee whose screen is on the writer still does."""
    proc, found, secrets, pids, writer, edge = (
        serve.proc,
        serve.found,
        serve.secrets,
        serve.pids,
        serve.writer,
        serve.edge,
    )
    people = [Person(proc.base) for _ in range(3)]
    try:
        for n, person in enumerate(people):
            await person.join(secrets["join_code"], f"Present {n}")
        on_edge = [await socket_on(p, proc, pids, edge) for p in people[:2]]
        on_writer = await socket_on(people[2], proc, pids, writer.pid)
        for sock in (*on_edge, on_writer):
            await sock.wait_for(lambda m: m["type"] == "snapshot")
        before = await present_at(proc, writer, found.slug)

        killed_at = time.monotonic()
        os.kill(edge, signal.SIGKILL)
        present, after = 3.0, 0.0
        deadline = killed_at + PRESENCE_SECONDS + 2 * PATIENCE
        while present != 1 and time.monotonic() < deadline:
            await asyncio.sleep(0.5)  # polling the writer's count: no signal to wait on
            present = await present_at(proc, writer, found.slug)
            after = time.monotonic() - killed_at
        await on_writer.conn.send('{"type": "ping"}')
        pong = await on_writer.wait_for(lambda m: m["type"] == "pong")
    finally:
        for person in people:
            await person.close()
        proc.stop()

    assert before == 3  # its own attendee's screen and the edge's two
    assert present == 1  # the attendee on the writer, still connected
    assert pong["type"] == "pong"
    assert after > PRESENCE_SECONDS / 2  # forgotten by expiry: no close was sent


async def test_the_screen_cap_closes_a_participants_oldest_screen_on_another_worker(
    serve: EdgeServe,
) -> None:
    """With --edge-fanout, MAX_SCREENS counts a participant's screens on both workers: her
    oldest, on the worker that does not write, is closed with the local cap's policy close
    and reason once she has opened MAX_SCREENS more on the writer (through the stream, as
    an end for that screen only); her newest stays open."""
    proc, secrets, pids, writer, edge = (
        serve.proc,
        serve.secrets,
        serve.pids,
        serve.writer,
        serve.edge,
    )
    cat = Person(proc.base)
    try:
        await cat.join(secrets["join_code"], "Cat Many Screens")
        oldest = await socket_on(cat, proc, pids, edge)
        await oldest.wait_for(lambda m: m["type"] == "snapshot")
        newer = [await socket_on(cat, proc, pids, writer.pid) for _ in range(MAX_SCREENS)]
        await asyncio.wait_for(oldest.conn.wait_closed(), 2 * PATIENCE)
        await newer[-1].conn.send('{"type": "ping"}')
        pong = await newer[-1].wait_for(lambda m: m["type"] == "pong")
    finally:
        await cat.close()
        proc.stop()

    assert oldest.conn.close_code == 1008  # a policy close: browsers do not retry it
    assert oldest.conn.close_reason == TOO_MANY_SCREENS
    assert pong["type"] == "pong"


async def lease_token(redis_url: str, key: str) -> bytes:
    """The event's lease token in Redis, once a worker holds it (not the test's)."""
    redis = connect(redis_url, timeout=2.0)
    try:
        deadline = time.monotonic() + 2 * PATIENCE
        while time.monotonic() < deadline:
            token = await redis.get(key)
            if isinstance(token, bytes) and b"stolen" not in token:
                return token
            await asyncio.sleep(0.1)  # polling the lease: no signal to wait on
    finally:
        await redis.aclose()
    raise TimeoutError("no worker took the event's lease")


async def test_edge_screens_stay_open_when_the_writer_changes_over(
    serve: EdgeServe, own_redis_server: RedisServer
) -> None:
    """With --edge-fanout, a writer that loses its lease and takes the event over again
    (from the database, a new record of remote screens) no longer knows the screens of
    the worker that does not write; that worker opens them there again in place (the
    writer counts them present again) and they keep their sockets: every event of their
    audiences once, in order, across the change, and none closed."""
    proc, db_path, found, secrets, pids, writer, edge = (
        serve.proc,
        serve.db_path,
        serve.found,
        serve.secrets,
        serve.pids,
        serve.writer,
        serve.edge,
    )
    redis = connect(own_redis_server.url, timeout=2.0)
    host, ann = Person(proc.base), Person(proc.base)
    askers = [Person(proc.base) for _ in range(2)]
    try:
        key = lease_key(key_prefix(db_path), found.id)
        await host.enter("host", secrets["host_token"])
        await ann.join(secrets["join_code"], "Ann Stays")
        screens = [await socket_on(p, proc, pids, edge) for p in (host, ann)]
        for sock in screens:
            await sock.wait_for(lambda m: m["type"] == "snapshot")
        await askers[0].join(secrets["join_code"], "Asker before")
        assert (await askers[0].act("qa.ask", text="Before?", key=uuid.uuid4().hex)).is_success

        # The writer's lease taken from it for a moment; the edge worker stopped meanwhile,
        # so that the same writer takes the event over again.
        os.kill(edge, signal.SIGSTOP)
        try:
            assert await redis.set(key, "127.0.0.1:9 1 stolen", xx=True, px=2500)
            again = await lease_token(own_redis_server.url, key)
        finally:
            os.kill(edge, signal.SIGCONT)
        deadline = time.monotonic() + 2 * PATIENCE
        present = 0.0
        while present != 2 and time.monotonic() < deadline:
            present = await present_at(proc, writer, found.slug)
            await asyncio.sleep(0.2)  # polling the writer's count: no signal to wait on
        await askers[1].join(secrets["join_code"], "Asker after")
        assert (await askers[1].act("qa.ask", text="After?", key=uuid.uuid4().hex)).is_success
        log, staff_seqs, _, _ = read_log(db_path)
        await read_until(screens[0], staff_seqs[-1])
        await read_until(screens[1], [s for s, a in log if a == "all"][-1])
        for sock in screens:
            await sock.conn.send('{"type": "ping"}')
            await sock.wait_for(lambda m: m["type"] == "pong")
        codes = [sock.conn.close_code for sock in screens]
    finally:
        for person in (host, ann, *askers):
            await person.close()
        await redis.aclose()
        proc.stop()

    assert int(again.split(b" ")[1]) == writer.pid  # the same worker writes again
    assert present == 2  # the host and Ann, open at the writer again
    assert f"worker {writer.pid} no longer writes for event" in proc.output
    assert codes == [None, None]  # never closed: the same sockets across the change
    for sock, wanted in ((screens[0], staff_seqs), (screens[1], [s for s, a in log if a == "all"])):
        seqs = [e["seq"] for e in sock.events]
        assert seqs == sorted(set(seqs)), "a duplicate or reordered event"
        assert [s for s in seqs[1:] if s in wanted] == [s for s in wanted if s > seqs[0]]
