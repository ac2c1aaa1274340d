"""Shared fixtures for the security tests: a cast of principals on a real server.

The tests under ``tests/security`` run against the real app under uvicorn on loopback
(``helpers.LiveServer``) with real HTTP and WebSocket clients. This module gives them:

* ``cast``: a started server with a host, an organiser and a visitor (no session);
* ``breakout_cast``: the same plus twelve attendees connected by WebSocket, the event
  started and jumped to the ``lcspr-breakout`` item (two groups of six), with a member of
  group 1 made its facilitator;
* ``db_check``: ``PRAGMA integrity_check`` and ``PRAGMA foreign_key_check`` on the
  server's database file;
* ``sample_params``: minimal valid-looking parameters for any registered action.

Helpers live here (not in a module of their own) and reach the tests through fixtures.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import typing
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import annotated_types
import anyio
import pytest
from pydantic import BaseModel
from starlette.routing import BaseRoute
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from helpers import PATIENCE, LiveServer, Person
from webinar.storage.db import connect_sync
from webinar.storage.postgres import is_postgres

# anyio loads some submodules on first use, and pytest rewrites anyio's modules (it is a
# pytest plugin). Done deep inside a request handler on CPython 3.11.7, that rewrite can fail
# with "SystemError: AST constructor recursion depth mismatch" (a test-harness artefact, not
# the app's), so load the one static files need here, at import time.
_ = anyio.open_file

ORGS = ["Leeds SP", "West Yorkshire Police", "NHS Trust", "Kirklees SP"]
BREAKOUT_ITEM = "lcspr-breakout"
FOREIGN_ORIGIN = "https://evil.example"


# -- live sockets ------------------------------------------------------------------------------


class LiveSocket:
    """A WebSocket whose messages are read all the time by a background task.

    Every message is recorded (so a test can check what a screen never received), and
    ``act`` sends an ``action`` message and waits for the ``result`` with its id.
    """

    def __init__(self, conn: ClientConnection) -> None:
        self.conn = conn
        self.messages: list[dict[str, Any]] = []
        self.closed_code: int | None = None
        self._changed = asyncio.Event()
        self._task = asyncio.create_task(self._read())

    @classmethod
    async def open(
        cls,
        person: Person,
        *,
        origin: str | None = None,
        fmt: str = "json",
        resume: Any = None,
        send_resume: bool = True,
    ) -> LiveSocket:
        conn = await person.connect(fmt, origin, max_size=None)
        sock = cls(conn)
        if send_resume:
            await conn.send(json.dumps({"type": "resume", "last_seq": resume}))
        return sock

    async def _read(self) -> None:
        try:
            async for raw in self.conn:
                text = raw if isinstance(raw, str) else raw.decode("utf-8", "replace")
                try:
                    parsed = json.loads(text)
                except ValueError:
                    parsed = {"type": "<not json>", "raw": text}
                # Several events in one message (folded, or a backlog): a JSON array.
                self.messages.extend(parsed if isinstance(parsed, list) else [parsed])
                self._changed.set()
        except ConnectionClosed:
            pass
        finally:
            self.closed_code = self.conn.close_code
            self._changed.set()

    @property
    def done(self) -> bool:
        return self._task.done()

    async def wait_for(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float = PATIENCE, start: int = 0
    ) -> dict[str, Any]:
        """The first message (from index ``start``) matching ``predicate``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        seen = start
        while True:
            for message in self.messages[seen:]:
                if predicate(message):
                    return message
            seen = len(self.messages)
            if self.done:
                raise ConnectionError(f"socket closed ({self.closed_code}) before a match")
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError("no matching message")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)

    async def act(self, name: str, params: Any, timeout: float = PATIENCE) -> dict[str, Any]:
        ref = uuid.uuid4().hex
        start = len(self.messages)
        await self.conn.send(
            json.dumps({"type": "action", "id": ref, "name": name, "params": params})
        )
        return await self.wait_for(
            lambda m: m.get("type") == "result" and m.get("id") == ref, timeout, start
        )

    async def ping(self, timeout: float = PATIENCE) -> dict[str, Any]:
        start = len(self.messages)
        await self.conn.send('{"type": "ping"}')
        return await self.wait_for(lambda m: m.get("type") == "pong", timeout, start)

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.conn.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._task, 2)


# -- principals --------------------------------------------------------------------------------


@dataclass(repr=False)
class Principal:
    """Someone calling the server: a role, an HTTP client, maybe a socket and a group."""

    key: str
    person: Person
    participant_id: str | None = None
    #: The breakout group number this principal puts in ``group`` parameters.
    group: int | None = None
    live: LiveSocket | None = None

    def __repr__(self) -> str:
        return f"Principal({self.key})"


@dataclass(repr=False)
class Cast:
    server: LiveServer
    host: Person
    organiser: Person
    visitor: Person
    people: list[Person] = field(default_factory=list)
    sockets: list[LiveSocket] = field(default_factory=list)
    #: participant id -> (person, socket) of the attendees who joined through the cast.
    attendees: dict[str, tuple[Person, LiveSocket]] = field(default_factory=dict)
    #: participant id -> group number, when a breakout is running.
    rooms: dict[str, int] = field(default_factory=dict)
    facilitator_id: str = ""
    principals: dict[str, Principal] = field(default_factory=dict)

    async def person(self) -> Person:
        """A new client with no session (it is closed with the cast)."""
        person = Person(self.server.base)
        self.people.append(person)
        return person

    async def join(self, name: str, organisation: str = "") -> tuple[Person, str]:
        person = await self.person()
        body = await person.join(self.server.secrets["join_code"], name, organisation)
        return person, body["participant"]["id"]

    async def connect(self, person: Person, **kwargs: Any) -> LiveSocket:
        sock = await LiveSocket.open(person, **kwargs)
        self.sockets.append(sock)
        return sock

    async def enter(self, role: str) -> Person:
        person = await self.person()
        await person.enter(role, self.server.secrets[f"{role}_token"])
        return person

    def __repr__(self) -> str:  # short, for hypothesis' falsifying examples
        return f"Cast({self.server.base})"

    def members(self, number: int) -> list[str]:
        return [pid for pid, n in self.rooms.items() if n == number]

    async def close(self) -> None:
        for sock in self.sockets:
            await sock.close()
        for person in self.people:
            await person.close()


async def make_cast(server: LiveServer) -> Cast:
    visitor = Person(server.base)
    cast = Cast(server, host=visitor, organiser=visitor, visitor=visitor, people=[visitor])
    cast.host = await cast.enter("host")
    cast.organiser = await cast.enter("organiser")
    return cast


async def open_breakout(cast: Cast, attendees: int = 12) -> None:
    """Connect attendees, start the event, jump to the breakout; group 1 gets a facilitator."""
    for i in range(attendees):
        person, pid = await cast.join(f"Person {i:02d}", ORGS[i % len(ORGS)])
        sock = await cast.connect(person)
        await sock.wait_for(lambda m: m["type"] == "snapshot")
        cast.attendees[pid] = (person, sock)
    assert (await cast.host.act("agenda.start")).status_code == 200
    jumped = await cast.host.act("agenda.jump", item_id=BREAKOUT_ITEM)
    assert jumped.status_code == 200, jumped.text
    for pid, (_, sock) in cast.attendees.items():
        room = await sock.wait_for(lambda m: m["type"] == "breakout.group")
        cast.rooms[pid] = room["data"]["number"]
    if attendees >= 12:  # groups of six: two of them
        assert sorted(cast.rooms.values()) == [1] * 6 + [2] * 6, cast.rooms
    facilitator = cast.members(1)[0]
    volunteered = await cast.attendees[facilitator][0].act("breakout.volunteer")
    assert volunteered.status_code == 200, volunteered.text
    cast.facilitator_id = facilitator


def principals_of(cast: Cast) -> dict[str, Principal]:
    """The principals of the authorization matrix (needs ``open_breakout``)."""
    facilitator = cast.facilitator_id
    member = next(pid for pid in cast.members(1) if pid != facilitator)
    f_person, f_sock = cast.attendees[facilitator]
    m_person, m_sock = cast.attendees[member]
    return {
        "visitor": Principal("visitor", cast.visitor),
        # A plain member of group 1 (which has a facilitator already).
        "attendee": Principal("attendee", m_person, member, 1, m_sock),
        # The facilitator of group 1 (A) acting on group 2 (B).
        "facilitator_on_b": Principal("facilitator_on_b", f_person, facilitator, 2, f_sock),
        # The same facilitator acting on their own group: the control case.
        "facilitator_on_a": Principal("facilitator_on_a", f_person, facilitator, 1, f_sock),
        "host": Principal("host", cast.host, None, 1),
        "organiser": Principal("organiser", cast.organiser, None, 1),
    }


@pytest.fixture
async def cast(server: LiveServer) -> AsyncIterator[Cast]:
    crew = await make_cast(server)
    try:
        yield crew
    finally:
        await crew.close()


@pytest.fixture
async def breakout_cast(cast: Cast) -> Cast:
    await open_breakout(cast)
    cast.principals = principals_of(cast)
    for key in ("host", "organiser"):
        live = await cast.connect(cast.principals[key].person)
        cast.principals[key].live = live
        await live.wait_for(lambda m: m["type"] == "snapshot")
    return cast


@pytest.fixture
async def fuzz_cast(cast: Cast) -> Cast:
    """A running breakout with one group of two; its facilitator is the attendee who
    fuzzes; the survey is open. ``principals`` has "host", "attendee" and "organiser",
    each with a JSON socket for ``action`` messages."""
    await open_breakout(cast, attendees=2)
    opened = await cast.host.act("survey.state", state="open")
    assert opened.status_code == 200, opened.text
    facilitator_person, facilitator_sock = cast.attendees[cast.facilitator_id]
    cast.principals = {
        "host": Principal("host", cast.host, None, 1),
        "attendee": Principal(
            "attendee", facilitator_person, cast.facilitator_id, 1, facilitator_sock
        ),
        "organiser": Principal("organiser", cast.organiser, None, 1),
    }
    for key in ("host", "organiser"):
        live = await cast.connect(cast.principals[key].person)
        cast.principals[key].live = live
        await live.wait_for(lambda m: m["type"] == "snapshot")
    return cast


# -- the app's routes --------------------------------------------------------------------------


def app_of(server: LiveServer) -> Any:
    """The Starlette app of the server's main event (unwrapping uvicorn's middleware and
    the site that dispatches to each event's app)."""
    assert server._server is not None
    app = server._server.config.loaded_app
    while hasattr(app, "app"):
        app = app.app
    return app.events[server.slug].app


def route_keys(app: Any) -> list[str]:
    """One key per (method, path) of the app: "GET /live", "WS /ws", "MOUNT /static"."""
    from starlette.routing import Mount, Route, WebSocketRoute

    keys: list[str] = []
    for route in app.routes:
        assert isinstance(route, BaseRoute)
        if isinstance(route, Route):
            methods = sorted((route.methods or {"GET"}) - {"HEAD"})
            keys += [f"{method} {route.path}" for method in methods]
        elif isinstance(route, WebSocketRoute):
            keys.append(f"WS {route.path}")
        elif isinstance(route, Mount):
            keys.append(f"MOUNT {route.path}")
        else:  # pragma: no cover - a new kind of route must be classified by hand
            keys.append(f"{type(route).__name__} {getattr(route, 'path', '?')}")
    return keys


@pytest.fixture
def routes_of() -> Callable[[LiveServer], list[str]]:
    return lambda server: route_keys(app_of(server))


# -- the database ------------------------------------------------------------------------------


def check_database(path: str) -> None:
    """The database is intact and has no dangling foreign keys (no partial rows).

    PostgreSQL checks every foreign key as a row is written: there, every foreign key
    constraint must be in force (none added NOT VALID or left unvalidated)."""
    if is_postgres(path):
        conn = connect_sync(path)
        try:
            unchecked = conn.execute(
                "SELECT conname FROM pg_constraint WHERE contype = 'f' AND NOT convalidated"
            ).fetchall()
            (keys,) = conn.execute(
                "SELECT count(*) FROM pg_constraint WHERE contype = 'f'"
            ).fetchone()
        finally:
            conn.close()
        assert (unchecked, keys > 0) == ([], True)
        return
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        integrity = conn.execute("PRAGMA integrity_check").fetchall()
        dangling = conn.execute("PRAGMA foreign_key_check").fetchall()
    finally:
        conn.close()
    assert integrity == [("ok",)], integrity
    assert dangling == [], dangling


@pytest.fixture
def db_check(server: LiveServer) -> Callable[[], None]:
    return lambda: check_database(server.db_path)


# -- action parameters -------------------------------------------------------------------------


def _constraint(metadata: list[Any], kind: type, attr: str) -> Any:
    for item in metadata:
        if isinstance(item, kind):
            return getattr(item, attr)
    return None


def sample_value(name: str, info: Any) -> Any:
    """A valid-looking value for one pydantic field."""
    annotation = info.annotation
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) is Literal:
        return typing.get_args(annotation)[0]
    if args and typing.get_origin(annotation) is not Literal:
        annotation = args[0]  # an optional field: its non-None type
        if typing.get_origin(annotation) is Literal:
            return typing.get_args(annotation)[0]
    if annotation is bool:
        return True
    if annotation is int:
        low = _constraint(info.metadata, annotated_types.Ge, "ge")
        return 1 if low is None else max(low, 0)
    if annotation is str:
        if name == "key":
            return uuid.uuid4().hex
        low = _constraint(info.metadata, annotated_types.MinLen, "min_length") or 1
        return ("Security check " + name).ljust(low, "x")
    raise AssertionError(f"no sample for field {name}: {annotation!r}")


def sample_params(model: type[BaseModel], **overrides: Any) -> dict[str, Any]:
    """Minimal valid params: every required field (and every overridden one)."""
    params: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if name in overrides:
            params[name] = overrides[name]
        elif info.is_required():
            params[name] = sample_value(name, info)
    model.model_validate(params)  # the sample itself must be valid
    return params


@pytest.fixture
def params_for() -> Callable[..., dict[str, Any]]:
    return sample_params
