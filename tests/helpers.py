"""Test support: a real server on a free loopback port, and real clients for it."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import os
import resource
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from ports import free_port as free_port
from prometheus_client.parser import text_string_to_metric_families
from websockets.asyncio.client import ClientConnection, connect

from postgres_cluster import database
from webinar.domain.agenda import Agenda
from webinar.services import DEFAULT_SLUG, prepare_database
from webinar.services.access import AccessLimits
from webinar.services.agenda_files import SEED_AGENDA, load_agenda
from webinar.services.calls import CallConfig
from webinar.storage.db import SyncConnection, connect_sync
from webinar.storage.postgres import is_postgres
from webinar.storage.repo import ensure_meta_sync
from webinar.storage.webinars import list_webinars_sync
from webinar.web.app import Hosted, Settings
from webinar.web.oidc import OidcConfig
from webinar.web.site import Site, create_app

ROOT = Path(__file__).resolve().parents[1]
#: Seconds a test waits for what must happen (a message, a server start, a reply). Waits
#: end as soon as it happens, so this costs nothing when it does; it is long because on a
#: busy machine (two cores shared with other work) a few seconds is not "never".
PATIENCE = 30.0


def open_database(db_path: str) -> SyncConnection:
    """A connection to a test's database (its SQLite file, or on PostgreSQL the database
    made for that path), for the test to look inside; unscoped, each statement committed
    at once. Its SQL is SQLite's dialect, translated for PostgreSQL as the app's is."""
    return connect_sync(database(db_path))


def tables_query(db_path: str) -> str:
    """A query for the names (column ``name``) of the database's own tables, by name, on
    either backend."""
    if is_postgres(db_path):
        return (
            "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'"
            " AND tablename != 'schema_version' ORDER BY name"
        )
    return "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"


def dump_text(db_path: str) -> str:
    """Every row of every table of a test's database, as text (SQLite's ``iterdump``; on
    PostgreSQL each table's rows), to check what the database holds anywhere."""
    if not is_postgres(database(db_path)):
        with contextlib.closing(sqlite3.connect(db_path, timeout=PATIENCE)) as conn, conn:
            return "\n".join(conn.iterdump())
    pg = open_database(db_path)
    try:
        tables = [row[0] for row in pg.execute(tables_query(database(db_path))).fetchall()]
        return "\n".join(
            f"{table}: {row!r}"
            for table in tables
            for row in pg.execute(f"SELECT * FROM {table}").fetchall()
        )
    finally:
        pg.close()


def stored_secrets(db_path: str, slug: str | None = None) -> dict[str, str]:
    """The secrets (code, link tokens) of the event ``slug`` in ``db_path``, or of its
    only (first) event."""
    db_path = database(db_path)
    event = next(e for e in list_webinars_sync(db_path) if slug in (None, e.slug))
    return ensure_meta_sync(db_path, event.id, {})


def seed_agenda() -> Agenda:
    return load_agenda(SEED_AGENDA, today=date.today())


class Loopback:
    """The addresses of a server listening on ``127.0.0.1:port``."""

    port: int

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"


@dataclass
class LiveServer(Loopback):
    """The real app under uvicorn in this event loop, on a free loopback port."""

    db_path: str
    agenda: Agenda = field(default_factory=seed_agenda)
    port: int = field(default_factory=free_port)
    secrets: dict[str, str] = field(default_factory=dict)
    #: Added to the real time the server sees: lets a test jump past a grace period.
    offset: timedelta = field(default_factory=timedelta)
    #: Joins per address and guessing limits (None: the app's defaults).
    access_limits: AccessLimits | None = None
    #: Secrets for group calls (None: none configured).
    calls: CallConfig | None = None
    #: Staff sign-in through an OpenID provider (None: passwords only).
    oidc: OidcConfig | None = None
    #: The main event's short name; more events served beside it; whether the main one
    #: also answers at the short addresses.
    slug: str = DEFAULT_SLUG
    others: tuple[Hosted, ...] = ()
    aliases: bool = True
    _server: uvicorn.Server | None = None
    _task: asyncio.Task[None] | None = None

    def __post_init__(self) -> None:
        self.db_path = database(self.db_path)  # on PostgreSQL, a database of the test's

    async def start(self) -> None:
        self.secrets = prepare_database(self.db_path, self.slug)
        settings = Settings(
            agenda=self.agenda,
            db_path=self.db_path,
            secrets=self.secrets,
            base_url=self.base,
            clock=lambda: datetime.now(UTC) + self.offset,
            slug=self.slug,
            others=self.others,
            aliases=self.aliases,
            access_limits=self.access_limits or AccessLimits(),
            calls=self.calls or CallConfig(),
            oidc=self.oidc,
        )
        config = uvicorn.Config(
            create_app(settings),
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            ws_max_size=64 * 1024,
            ws_per_message_deflate=False,
            lifespan="on",
            # A test's clients sit idle while others act (40 joins on a busy machine take
            # more than uvicorn's 5 s): a keep-alive connection closed under a request
            # that reuses it would fail that request (httpx does not resend a POST).
            timeout_keep_alive=120,
        )
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await self._task
        self._server = self._task = None

    @property
    def services(self) -> Any:
        assert self._server is not None
        app = self._server.config.loaded_app
        while hasattr(app, "app"):
            app = app.app
        return app.state.services


class ServerProcess(Loopback):
    """``python -m webinar serve`` in a subprocess, for restarts and kills."""

    def __init__(
        self,
        db_path: str,
        agenda: Path = SEED_AGENDA,
        port: int | None = None,
        args: tuple[str, ...] = (),
        open_files: int | None = None,
    ) -> None:
        self.db_path = database(db_path)  # on PostgreSQL, a database of the test's
        self.agenda = agenda
        self.port = port or free_port()
        #: More ``serve`` options, like ``("--start", "now")``; change them between starts.
        self.args = args
        #: Soft and hard RLIMIT_NOFILE for the server (it cannot raise it past this).
        self.open_files = open_files
        self.proc: subprocess.Popen[str] | None = None
        self.output = ""
        self._printed: list[str] = []
        self._pump = threading.Thread()

    def _limit_open_files(self) -> None:  # runs in the child, before exec
        if self.open_files is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (self.open_files, self.open_files))

    def start(self, timeout: float = 2 * PATIENCE) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "webinar",
                "serve",
                str(self.agenda),
                "--db",
                self.db_path,
                "--port",
                str(self.port),
                *self.args,
            ],
            cwd=ROOT,
            preexec_fn=self._limit_open_files if self.open_files is not None else None,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        # Read what it prints all the time: a pipe nobody reads fills (64 KiB of access
        # log) and then blocks the server in the middle of a request.
        self._printed = []
        self._pump = threading.Thread(target=self._read_output, args=(self.proc,), daemon=True)
        self._pump.start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self._pump.join(timeout=15)
                raise RuntimeError(f"server exited: {''.join(self._printed)}")
            try:
                if httpx.get(f"{self.base}/healthz", timeout=5.0).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise TimeoutError("server did not start")

    def memory_kib(self, field: str = "VmHWM") -> int:
        """A memory figure of the server from /proc (VmHWM: its peak resident set)."""
        assert self.proc is not None
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
        raise KeyError(field)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is None:
            return
        self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._pump.join(timeout=15)
        self.output += "".join(self._printed)
        self.proc = None

    def _read_output(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        with proc.stdout:
            for line in proc.stdout:
                self._printed.append(line)


class Person:
    """A browser-less user: an HTTP client with a session cookie, plus live sockets."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.http = httpx.AsyncClient(base_url=base, timeout=2 * PATIENCE)
        self.csrf = ""
        self.sockets: list[Socket] = []
        _left_open.add(self)

    async def close(self) -> None:
        _left_open.discard(self)
        for sock in self.sockets:
            await sock.close()
        await self.http.aclose()

    async def join(self, code: str, name: str, organisation: str = "") -> dict[str, Any]:
        response = await self.http.post(
            "/api/join", json={"code": code, "name": name, "organisation": organisation}
        )
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        self.csrf = body["csrf_token"]
        return body

    async def enter(self, role: str, token: str) -> None:
        response = await self.http.get(f"/enter/{role}/{token}")
        assert response.status_code == 303, response.text
        info = (await self.http.get("/api/session")).json()
        assert info["participant"]["role"] == role
        self.csrf = info["csrf_token"]

    async def act(self, name: str, **params: Any) -> httpx.Response:
        area, command = name.split(".", 1)
        return await self.http.post(
            f"/api/{area}/{command}", json=params, headers={"X-CSRF-Token": self.csrf}
        )

    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.http.cookies.items())

    async def connect(
        self, fmt: str = "json", origin: str | None = None, **options: Any
    ) -> ClientConnection:
        """A raw WebSocket to /ws with this person's session cookie."""
        return await connect(
            self.base.replace("http://", "ws://") + f"/ws?format={fmt}",
            additional_headers={"Cookie": self.cookie_header()},
            origin=origin or self.base,  # type: ignore[arg-type]
            compression=None,
            **{"open_timeout": PATIENCE, **options},
        )

    async def socket(
        self,
        last_seq: int | None = None,
        fmt: str = "json",
        origin: str | None = None,
        resume: bool = True,
    ) -> Socket:
        conn = await self.connect(fmt, origin)
        sock = Socket(conn)
        self.sockets.append(sock)
        if resume:
            await conn.send(json.dumps({"type": "resume", "last_seq": last_seq}))
        return sock


#: The people not closed yet: the ``server`` fixtures close those of their address, as a
#: test that failed half-way leaves its people open (collected in the next test, their
#: sockets would fail it with a ResourceWarning).
_left_open: set[Person] = set()


async def close_left_open(base: str) -> None:
    """Close the clients and sockets of every person of ``base`` still open."""
    for person in [p for p in _left_open if p.base == base]:
        await person.close()


class Socket:
    """A live connection that records events by sequence number."""

    def __init__(self, conn: ClientConnection) -> None:
        self.conn = conn
        self.events: list[dict[str, Any]] = []
        self.replies: list[dict[str, Any]] = []
        #: Events of a message that carried several (a JSON array), not yet returned.
        self.unread: collections.deque[dict[str, Any]] = collections.deque()
        #: How many events each message carried, in order of arrival.
        self.batches: list[int] = []

    @property
    def last_seq(self) -> int:
        return max((e["seq"] for e in self.events), default=0)

    async def next_message(self, timeout: float = PATIENCE) -> dict[str, Any]:
        """The next event or reply; the events of a batch (a JSON array) one by one."""
        if not self.unread:
            raw = await asyncio.wait_for(self.conn.recv(), timeout)
            parsed: dict[str, Any] | list[dict[str, Any]] = json.loads(raw)
            batch = parsed if isinstance(parsed, list) else [parsed]
            self.batches.append(len(batch))
            self.unread.extend(batch)
        message = self.unread.popleft()
        if "seq" in message and message.get("type") not in ("pong",):
            self.events.append(message)
        else:
            self.replies.append(message)
        return message

    async def wait_for(self, predicate: Any, timeout: float = PATIENCE) -> dict[str, Any]:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise TimeoutError("no matching message")
            message = await self.next_message(remaining)
            if predicate(message):
                return message

    async def close(self) -> None:
        await self.conn.close()


def site_of(server: LiveServer) -> Site:
    """The Site the server runs (under uvicorn's own middleware)."""
    assert server._server is not None
    app: Any = server._server.config.loaded_app
    while not isinstance(app, Site):
        app = app.app
    return app


async def scrape(server: LiveServer) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of /metrics, by (name, sorted labels)."""
    async with httpx.AsyncClient(base_url=server.base, timeout=PATIENCE) as http:
        response = await http.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


async def host_of(server: LiveServer) -> Person:
    """A browser-less host: entered through the host's magic link."""
    host = Person(server.base)
    await host.enter("host", server.secrets["host_token"])
    return host


async def attendee_of(server: LiveServer, name: str, organisation: str = "") -> Person:
    """A browser-less attendee: joined with the event code."""
    person = Person(server.base)
    await person.join(server.secrets["join_code"], name, organisation)
    return person


def read_until(proc: subprocess.Popen[str], marker: str, timeout: float) -> str:
    """What ``proc`` prints (stdout) up to and including the line holding ``marker``.

    Readiness by signal: returns as soon as that line is printed. ``AssertionError`` with
    everything printed if the process ends, or ``timeout`` seconds pass, first.
    """
    import queue
    import threading

    assert proc.stdout is not None
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        with proc.stdout:  # closed once the process has ended and its output is read
            for line in proc.stdout:
                lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    printed: list[str] = []
    deadline = time.monotonic() + timeout
    while True:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            raise AssertionError(f"no {marker!r} in {timeout} s:\n{''.join(printed)}") from None
        if line is None:
            raise AssertionError(f"exited before {marker!r}:\n{''.join(printed)}")
        printed.append(line)
        if marker in line:
            return "".join(printed)


#: The test OpenID provider: oidc-provider (npm), installed by `npm ci` in this folder.
OIDC_DIR = ROOT / "tests" / "oidc"


def require_oidc_provider() -> None:
    """Skip without Node.js or the provider's modules, except under ``CI=true``, where a
    missing provider is an error (CI installs it: ``.ci/run``)."""
    import shutil

    import pytest

    missing = []
    if shutil.which("node") is None:
        missing.append("Node.js (Debian's nodejs package)")
    if not (OIDC_DIR / "node_modules" / "oidc-provider").is_dir():
        missing.append("its modules (npm ci --prefix tests/oidc)")
    if not missing:
        return
    message = "the test OpenID provider needs " + " and ".join(missing)
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message} (never skipped under CI=true)", pytrace=False)
    pytest.skip(message)


class OidcProvider:
    """A real OpenID provider (``tests/oidc/provider.mjs``) on a free loopback port, with
    one client whose redirect URI is ``redirect_uri``."""

    client_id = "webinar-tests"

    def __init__(self, redirect_uri: str) -> None:
        import secrets

        self.redirect_uri = redirect_uri
        self.port = free_port()
        self.client_secret = secrets.token_urlsafe(24)
        self.proc: subprocess.Popen[str] | None = None

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def config(self) -> OidcConfig:
        return OidcConfig(self.issuer, self.client_id, self.client_secret, "Test provider")

    def start(self, timeout: float = 30.0) -> None:
        """Start it and return once it prints that it listens (readiness by signal)."""
        require_oidc_provider()
        self.proc = subprocess.Popen(
            [
                "node",
                "provider.mjs",
                str(self.port),
                self.client_id,
                self.client_secret,
                self.redirect_uri,
            ],
            cwd=OIDC_DIR,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        read_until(self.proc, f"listening {self.issuer}", timeout)

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None
