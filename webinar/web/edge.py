"""Edge fan-out (``webinar serve --workers N --edge-fanout``): a worker that does not write
for an event serves the event's screens itself, from a hub fed by the event's stream.

Without it such a worker pipes each screen's socket to the writer
(``Forwarder.websocket``), so every event is written twice per screen. With it the
worker's own hub is fed by a :class:`~webinar.services.fanout.StreamFollower` and each
screen is a :class:`EdgeConnection` on that hub; what only the writer knows comes through
private requests to the writer's private listener, with the event's peer proof:

- ``open``: the screen's forwarded headers (its session cookie); the writer authenticates
  it as it does a socket, runs ``ensure_member``, counts the screen as present (under the
  calling worker, for as long as that worker renews it) and answers the participant, the
  screen's audiences and a random screen token (held only in memory, on both sides);
- ``snapshot``: the writer renders the screen's snapshot at its seq S;
- ``action``: a socket's action, performed as that screen's participant;
- ``close``; and ``renew``, every third of a lease time, listing the worker's screens: a
  worker that stops renewing (killed) has its screens' presence expire after
  :data:`PRESENCE_SECONDS`.

Audience changes the writer makes later for a remote screen (a breakout group joined, a
question asked, the screen ended) reach it in order through the event's stream
(``streams.Change``, applied by the follower before the next event); when some may have
been missed the follower asks the writer for every screen's audiences (``resync``). The
writer caps a participant's screens here and elsewhere together (``MAX_SCREENS``). When
the writer changes over, an edge screen's next renewal finds its token unknown and the
screen is opened there again in place, or, when it may have missed something, closed
with 1012 (it reconnects and resumes); a worker that becomes the writer closes its edge
screens with 1012 (docs/architecture.md, "Edge fan-out").
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

from webinar.domain import audiences
from webinar.domain.audiences import Role
from webinar.realtime.hub import Client
from webinar.realtime.streams import Change
from webinar.services import Services
from webinar.services.access import Participant
from webinar.services.writer import LEASE_MS, EventWriter
from webinar.web.forward import (
    EDGE_HEADER,
    NOT_WRITER_HEADER,
    TRY_AGAIN_LATER,
    UNAVAILABLE,
    Forwarder,
    _forwarded_headers,
)
from webinar.web.render import Encoder, join_wires
from webinar.web.security import origin_allowed
from webinar.web.sessions import SessionCookie
from webinar.web.ws import (
    CLOSE_POLICY,
    FORMATS,
    MAX_SCREENS,
    TOO_MANY_SCREENS,
    _Connection,
    action_result,
    screen_audiences,
    snapshot_wire,
)

log = logging.getLogger(__name__)

#: The private requests' paths, under the event's (``/e/<slug>``).
PREFIX = "/_edge/"
#: Seconds a worker's screens count as present at the writer without a renewal.
PRESENCE_SECONDS = LEASE_MS / 1000 * 3
#: How long an edge waits for the writer's answer to a resync (``EdgeLink.resync``).
RESYNC_SECONDS = 2.0
#: A screen's token, chosen by its edge (so it can hold the changes for it that come
#: through the stream before the writer's answer), or by the writer when none is given.
TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")
#: Seconds between a worker's renewals of its screens.
RENEW_SECONDS = LEASE_MS / 1000 / 3
#: Close code for an edge screen whose writer no longer knows it: reconnect and resume.
CLOSE_RESTART = 1012
UNKNOWN_SCREEN = "This screen is not open here: reconnect."


# -- the writer's side ----------------------------------------------------------------------


@dataclass
class RemoteScreen:
    """A screen another worker serves, as the writer knows it."""

    participant: Participant
    own: list[int]
    fmt: str
    worker: str
    #: When it was opened (the record's clock).
    opened_at: float = 0.0
    #: Its place among its participant's screens, here and elsewhere (``cap``).
    tick: int = 0


class RemoteScreens:
    """The writer's record of one event's screens on other workers: their participants
    (for snapshots and actions) and their presence (for the breakout allocator, which
    deals only people with a screen open)."""

    def __init__(
        self,
        services: Services,
        cookie: SessionCookie,
        encoder: Encoder,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.services = services
        self.cookie = cookie
        self.encoder = encoder
        self.clock = clock
        self.screens: dict[str, RemoteScreen] = {}
        #: Each participant's remote screens' tokens.
        self.by_owner: dict[str, set[str]] = {}
        #: When each worker last renewed its screens.
        self.renewed: dict[str, float] = {}
        #: Copies an audience change to the event's stream (the writer's publisher's
        #: ``add_change``); None: not copied (tests).
        self.publish: Callable[[Change], None] | None = None
        #: Names this record's counter of changes in the stream.
        self.writer_id = secrets.token_hex(6)
        self.count = 0
        self._at = (0, 0)  # (seq, k) of the last change
        #: The order this record saw each participant's screens on the writer's own hub
        #: open in, against the remote screens' ``tick`` (``cap``).
        self._ticks = 0
        self._local: dict[str, dict[Client, int]] = {}
        services.breakouts.connected = self.connected
        services.hub.audience_changed = self.changed
        services.hub.screen_cap = self.cap

    def changed(self, owner: str, op: str, value: str) -> None:
        """The writer changed a participant's audiences: the same for their screens on
        other workers, through the stream, right after the hub's last event."""
        for token in sorted(self.by_owner.get(owner, ())):
            screen = self.screens[token]
            question = audiences.question_of(value) if op != "end" else None
            if question is not None and op == "add" and question not in screen.own:
                screen.own.append(question)
            elif question is not None and op == "remove" and question in screen.own:
                screen.own.remove(question)
            self._publish(token, op, value)

    def _publish(self, token: str, op: str, value: str) -> None:
        """One screen's change, into the stream right after the hub's last event."""
        seq = self.services.hub.last_seq
        self._at = (seq, self._at[1] + 1 if self._at[0] == seq else 1)
        self.count += 1
        key = screen_key(token, _kind_of(op, value))
        change = Change(seq, self._at[1], key, op, value, self.count, self.writer_id)
        if self.publish is not None:
            self.publish(change)
        if op == "end":
            self.forget(token)

    def cap(self, owner: str) -> None:
        """A screen of ``owner`` opened (here or elsewhere): close their oldest screens,
        wherever they are, beyond ``MAX_SCREENS`` (as one hub does with its own: a policy
        close saying why, so the browser does not retry; the newest is the one in use)."""
        hub = self.services.hub
        local = self._local_ticks(owner)
        ranked: list[tuple[int, Client | str]] = [(tick, c) for c, tick in local.items()]
        ranked += [(self.screens[t].tick, t) for t in self.by_owner.get(owner, ())]
        ranked.sort(key=_first)
        for _, screen in ranked[: max(0, len(ranked) - MAX_SCREENS)]:
            if isinstance(screen, str):
                self._publish(screen, "end", TOO_MANY_SCREENS)
            elif screen.sink is not None:
                screen.sink.end(TOO_MANY_SCREENS)
                hub.ended_screens += 1

    def _local_ticks(self, owner: str) -> dict[Client, int]:
        """The participant's screens on the writer's hub, each with its tick (those not
        seen before are the newest, in the hub's order)."""
        open_now = self.services.hub.screens_of(owner)
        known = self._local.pop(owner, {})
        ticks = {c: known[c] if c in known else self._tick() for c in open_now}
        if ticks:
            self._local[owner] = ticks
        return ticks

    def _tick(self) -> int:
        self._ticks += 1
        return self._ticks

    def connected(self) -> set[str]:
        """Participants with a screen open here or on a worker that keeps renewing."""
        self.expire()
        local = self.services.hub.owners()
        return local | {s.participant.id for s in self.screens.values()}

    def expire(self) -> None:
        """Forget the screens of every worker that stopped renewing them."""
        limit = self.clock() - PRESENCE_SECONDS
        gone = {w for w, at in self.renewed.items() if at < limit}
        if not gone:
            return
        for worker in gone:
            del self.renewed[worker]
        # A killed worker's thousand screens: who is still present is worked out once.
        owners = [self._drop(t) for t, s in list(self.screens.items()) if s.worker in gone]
        self.services.breakouts.screens_closed(o for o in owners if o is not None)

    def forget(self, token: str) -> None:
        owner = self._drop(token)
        if owner is not None:
            self.services.breakouts.screen_closed(owner)

    def _drop(self, token: str) -> str | None:
        """Forget the screen; its participant's id (None when it was not known)."""
        screen = self.screens.pop(token, None)
        if screen is None:
            return None
        owner = screen.participant.id
        tokens = self.by_owner.get(owner, set())
        tokens.discard(token)
        if not tokens:
            self.by_owner.pop(owner, None)
        return owner

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A private request (``scope``: as forwarded by a proven peer)."""
        request = Request(scope, receive)
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            body = None
        if not isinstance(body, dict):
            response: Response = PlainTextResponse("A JSON object is needed.", 400)
        else:
            response = await self._answer(scope["path"].rsplit("/", 1)[-1], scope, body)
        await response(scope, receive, send)

    async def _answer(self, what: str, scope: Scope, body: dict[str, Any]) -> Response:
        if what == "open":
            return await self._open(scope, body)
        if what == "renew":
            return JSONResponse({"unknown": self._renew(body)})
        if what == "resync":
            return JSONResponse({"audiences": self._audiences_of(body.get("tokens"))})
        screen = self.screens.get(str(body.get("token", "")))
        if screen is None:
            return PlainTextResponse(UNKNOWN_SCREEN, 409)
        if what == "snapshot":
            seq, wire = snapshot_wire(
                self.services, self.encoder, screen.participant, screen.own, screen.fmt
            )
            return JSONResponse({"seq": seq, "wire": wire})
        if what == "action":
            return await self._action(scope, screen, body)
        if what == "close":
            self.forget(str(body["token"]))
            return JSONResponse({})
        return PlainTextResponse("No such request.", 404)

    def _renew(self, body: dict[str, Any]) -> list[str]:
        """A worker's renewal, naming all its screens: those it has not named for a
        while (its close request was lost) are forgotten, not one opened since the
        renewal set out; answers the tokens named that are not open here."""
        worker = str(body.get("worker", ""))
        tokens = body.get("tokens")
        named = {str(t) for t in tokens} if isinstance(tokens, list) else set()
        now = self.clock()
        self.renewed[worker] = now
        for token, screen in list(self.screens.items()):
            old = screen.opened_at < now - PRESENCE_SECONDS
            if screen.worker == worker and token not in named and old:
                self.forget(token)
        return sorted(named - set(self.screens))

    def _audiences_of(self, tokens: Any) -> dict[str, list[str] | None]:
        """The current audiences of each screen named (None: not open here)."""
        answer: dict[str, list[str] | None] = {}
        for token in tokens if isinstance(tokens, list) else ():
            screen = self.screens.get(str(token))
            answer[str(token)] = (
                None
                if screen is None
                else sorted(screen_audiences(self.services, screen.participant, screen.own))
            )
        return answer

    async def _open(self, scope: Scope, body: dict[str, Any]) -> Response:
        fmt = body.get("fmt")
        worker = body.get("worker")
        session = self.cookie.read(scope)
        sid = session.get("sid")
        participant = await self.services.access.session(sid) if isinstance(sid, str) else None
        if participant is None or fmt not in ("html", "html-staff", "json") or not worker:
            return PlainTextResponse("Not signed in.", 403)
        if fmt == "html" and participant.is_staff:
            fmt = "html-staff"  # as the edge serves it: the snapshot in the same view
        token = body.get("token", secrets.token_urlsafe(18))
        if not isinstance(token, str) or not TOKEN.fullmatch(token) or token in self.screens:
            return PlainTextResponse("A screen needs a fresh token of its own.", 400)
        own = await self.services.qa.owned(participant, _keys(session))
        await self.services.breakouts.ensure_member(participant)
        self.renewed[str(worker)] = self.clock()  # an open is a sign of life too
        self._local_ticks(participant.id)  # the writer's own screens are older than this
        self.screens[token] = RemoteScreen(
            participant, own, str(fmt), str(worker), self.clock(), self._tick()
        )
        self.by_owner.setdefault(participant.id, set()).add(token)
        self.services.breakouts.screen_opened(participant.id)
        self.cap(participant.id)
        return JSONResponse(
            {
                "token": token,
                "participant": {
                    "id": participant.id,
                    "role": participant.role,
                    "name": participant.name,
                    "organisation": participant.organisation,
                },
                "audiences": sorted(screen_audiences(self.services, participant, own)),
                "seq": self.services.hub.last_seq,
            }
        )

    async def _action(self, scope: Scope, screen: RemoteScreen, body: dict[str, Any]) -> Response:
        name = body.get("name")
        params = body.get("params")
        if not isinstance(name, str) or not isinstance(params, dict):
            return PlainTextResponse("An action needs a name and params.", 400)
        keys = _keys(self.cookie.read(scope))
        result = await action_result(self.services, screen.participant, name, params, keys)
        return JSONResponse(result)


def screen_key(token: str, kind: str) -> str:
    """A screen's key in the stream for one kind of change: derived from its token (which
    never leaves the writer and the screen's worker), different for each kind, so that
    the stream does not link a screen's breakout group to the question it asked."""
    return hmac.new(token.encode(), kind.encode(), hashlib.sha256).hexdigest()[:24]


#: The kinds of change a screen's key is made for.
CHANGE_KINDS = ("group", "question", "staff", "all", "participant", "end", "other")


def _first(ranked: tuple[int, Client | str]) -> int:
    return ranked[0]


def _kind_of(op: str, value: str) -> str:
    if op == "end":
        return "end"
    try:
        return audiences.kind(value)
    except ValueError:
        return "other"


def _keys(session: dict[str, Any]) -> list[str]:
    keys = session.get("own", [])
    return [k for k in keys if isinstance(k, str)] if isinstance(keys, list) else []


# -- the edge worker's side -----------------------------------------------------------------


class WriterGone(Exception):
    """The writer did not answer in time, or no longer knows the screen."""


class EdgeLink:
    """One event's line from an edge worker to its writer: the private requests, and the
    renewal of this worker's screens there."""

    def __init__(self, slug: str, forwarder: Forwarder, writer: EventWriter, proof: bytes) -> None:
        self.slug = slug
        self.forwarder = forwarder
        self.writer = writer
        self.proof = proof
        #: Screen token -> its connection, for the renewals.
        self.tokens: dict[str, EdgeConnection] = {}
        #: Each screen's keys in the stream (``screen_key``) -> its connection, or the
        #: changes that came for it between the writer's answer and its subscription.
        self.keys: dict[str, EdgeConnection | list[Change]] = {}
        #: Screens the writer opened that are not subscribed yet.
        self.expected: set[str] = set()
        self._renewer: asyncio.Task[None] | None = None
        #: How long a resync may take: it runs in the follower's task, which feeds no
        #: screen of the event meanwhile; past it, the screens reconnect and resume.
        self.resync_patience = RESYNC_SECONDS

    async def request(self, what: str, scope: Scope, body: dict[str, Any]) -> httpx.Response:
        """POST a private request to the writer, waiting for one (up to the forwarder's
        patience, ``Forwarder.until_forwarded``); retried only when it cannot have been
        applied. ``WriterGone`` when none answers."""
        headers = _forwarded_headers(scope, self.proof)
        headers = [(k, v) for k, v in headers if k not in (b"content-length", b"content-type")]
        headers.append((EDGE_HEADER, b"1"))
        answers: list[httpx.Response] = []

        async def attempt(address: str) -> bool:
            try:
                response = await self.forwarder.client.post(
                    f"http://{address}/e/{self.slug}{PREFIX}{what}", headers=headers, json=body
                )
            except (httpx.ConnectError, httpx.ConnectTimeout):
                return False  # nothing was sent
            except httpx.HTTPError as exc:
                raise WriterGone(str(exc)) from None
            if response.headers.get(NOT_WRITER_HEADER.decode()) == "1":
                return False
            answers.append(response)
            return True

        if await self.forwarder.until_forwarded(self.writer, attempt) != "forwarded":
            raise WriterGone(UNAVAILABLE)
        if answers[0].status_code == 409:
            raise WriterGone(UNKNOWN_SCREEN)
        return answers[0]

    async def open(self, scope: Scope, fmt: str) -> tuple[str, httpx.Response]:
        """Ask the writer to open a screen under a token chosen here, expected before it
        is asked for (the writer may give the screen an audience that comes through the
        stream before its answer). The token is forgotten again unless the answer is 200;
        ``WriterGone`` when no writer answers."""
        token = secrets.token_urlsafe(18)
        self.expect(token)
        body = {"fmt": fmt, "worker": self.forwarder.own_address, "token": token}
        try:
            answer = await self.request("open", scope, body)
        except BaseException:
            self.closed(token)
            raise
        if answer.status_code != 200:
            self.closed(token)
        return token, answer

    def expect(self, token: str) -> None:
        """The writer opened a screen: keep the changes that come for it until it is
        subscribed to the hub (``opened``)."""
        self.expected.add(token)
        for kind in CHANGE_KINDS:
            self.keys[screen_key(token, kind)] = []

    def opened(self, token: str, connection: EdgeConnection) -> None:
        """The screen is subscribed: apply what came meanwhile, then changes as they come."""
        self.tokens[token] = connection
        self.expected.discard(token)
        early: list[Change] = []
        for kind in CHANGE_KINDS:
            key = screen_key(token, kind)
            held = self.keys.get(key)
            if isinstance(held, list):
                early += held
            self.keys[key] = connection
        for change in sorted(early, key=lambda c: (c.seq, c.k)):
            connection.change(change.op, change.value)
        if self._renewer is None:
            self._renewer = asyncio.create_task(self._renew(), name=f"renew screens {self.slug}")

    def closed(self, token: str) -> None:
        self.tokens.pop(token, None)
        self.expected.discard(token)
        for kind in CHANGE_KINDS:
            self.keys.pop(screen_key(token, kind), None)

    def apply(self, change: Change) -> None:
        """An audience change from the stream, for a screen of this worker's (if it is)."""
        connection = self.keys.get(change.screen)
        if isinstance(connection, list):
            connection.append(change)
        elif connection is not None:
            connection.change(change.op, change.value)

    async def resync(self) -> None:
        """Set every screen's audiences to what the writer says now (changes may have been
        missed); a screen the writer does not know, or all when none answers, reconnects."""
        if not self.tokens:
            return
        scope: Scope = {"type": "http", "headers": [], "scheme": "http", "client": None}
        try:
            asked = self.request("resync", scope, {"tokens": list(self.tokens)})
            answer = await asyncio.wait_for(asked, self.resync_patience)
            current = answer.json()["audiences"]
        except (WriterGone, ValueError, KeyError, TimeoutError) as exc:
            log.warning("resynchronising the screens of %s failed: %s", self.slug, exc)
            current = {}
        for token, connection in list(self.tokens.items()):
            wanted = current.get(token)
            if wanted is None:
                connection.restart()
            else:
                connection.set_audiences(set(wanted))

    async def stop(self) -> None:
        """Close every edge screen (they reconnect and resume) and stop renewing."""
        for connection in list(self.tokens.values()):
            connection.restart()
        if self._renewer is not None:
            self._renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewer
            self._renewer = None

    async def _renew(self) -> None:
        scope: Scope = {"type": "http", "headers": [], "scheme": "http", "client": None}
        while True:
            await asyncio.sleep(RENEW_SECONDS)
            if not self.tokens and not self.expected:
                continue
            tokens = [*self.tokens, *self.expected]
            body = {"worker": self.forwarder.own_address, "tokens": tokens}
            try:
                response = await self.request("renew", scope, body)
                unknown = response.json().get("unknown", [])
            except (WriterGone, ValueError) as exc:
                log.warning("renewing screens of %s failed: %s", self.slug, exc)
                continue
            for token in unknown:  # a new writer, or expired: open them there again
                connection = self.tokens.get(token)
                if connection is not None:
                    connection.reopen()


async def edge_socket(scope: Scope, receive: Receive, send: Send, app: Any, link: EdgeLink) -> None:
    """An event's socket on a worker that does not write for it, served from this worker's
    hub (``app``: the event's app here, whose hub the stream feeds)."""
    ws = WebSocket({**scope, "app": app}, receive, send)
    if not origin_allowed(ws.headers, app.state.allowed_origins):
        await ws.close(code=CLOSE_POLICY)
        return
    fmt = ws.query_params.get("format", "html")
    if fmt not in FORMATS:
        await ws.close(code=CLOSE_POLICY)
        return
    try:
        _, answer = await link.open(scope, fmt)
    except WriterGone:
        await ws.close(code=TRY_AGAIN_LATER)
        return
    if answer.status_code != 200:
        # Not signed in is final; anything else (a writer opening or taking over) is not.
        await ws.close(code=CLOSE_POLICY if answer.status_code == 403 else TRY_AGAIN_LATER)
        return
    opened = answer.json()
    who = opened["participant"]
    role = cast(Role, who["role"])
    participant = Participant(str(who["id"]), role, str(who["name"]), str(who["organisation"]))
    if fmt == "html" and participant.is_staff:
        fmt = "html-staff"
    try:
        await ws.accept()
        connection = EdgeConnection(ws, participant, fmt, send, link, opened)
    except BaseException:
        link.closed(opened["token"])
        raise
    await connection.run()


class EdgeConnection(_Connection):
    """A screen served from an edge worker's hub: snapshots and actions from the writer."""

    __slots__ = ("audiences", "finished", "link", "reopening", "scope", "token")

    def __init__(
        self,
        ws: WebSocket,
        participant: Participant,
        fmt: str,
        send: Send,
        link: EdgeLink,
        opened: dict[str, Any],
    ) -> None:
        super().__init__(ws, participant, fmt, send)
        self.link = link
        self.scope = ws.scope
        self.token: str = opened["token"]
        self.audiences: list[str] = opened["audiences"]
        #: The socket is done with (``_unregister`` ran).
        self.finished = False
        #: Opening this screen again at a new writer (``reopen``), once at a time.
        self.reopening: asyncio.Task[None] | None = None

    async def _register(self) -> Client:
        client = self.services.hub.subscribe(
            self.audiences, self.fmt, owner=self.participant.id, sink=self
        )
        self.link.opened(self.token, self)
        return client

    async def _unregister(self) -> None:
        self.finished = True
        self.link.closed(self.token)
        with contextlib.suppress(WriterGone):
            await self.link.request("close", self.scope, {"token": self.token})

    def change(self, op: str, value: str) -> None:
        """Apply an audience change the writer made (``add``, ``remove``, ``end``)."""
        client = self.client
        if client is None:
            return
        if op == "add":
            self.services.hub.add_audience(client, value)
        elif op == "remove":
            self.services.hub.remove_audience(client, value)
        elif op == "end":
            self.end(value)

    def set_audiences(self, wanted: set[str]) -> None:
        client = self.client
        if client is None:
            return
        hub = self.services.hub
        for audience in client.audiences - wanted:
            hub.remove_audience(client, audience)
        for audience in wanted - client.audiences:
            hub.add_audience(client, audience)

    def reopen(self) -> None:
        """The writer no longer knows this screen (another worker took over, or its
        presence expired): open it there again, keeping the socket (``_reopen``)."""
        if self.closer is None and not self.finished and self.reopening is None:
            self.reopening = asyncio.get_running_loop().create_task(self._reopen())

    async def _reopen(self) -> None:
        """Open this screen again at the writer with its own session, under a new token.
        The socket stays open only when nothing can have been missed: its audiences there
        add none to those it has here (events for an audience added meanwhile went by it)
        and this hub has every event the writer had when it answered; otherwise, and
        when the writer refuses or does not answer, it is closed with 1012 to reconnect
        and resume (a resume replays what it missed)."""
        token = ""
        try:
            token, answer = await self.link.open(self.scope, self.fmt)
            opened = answer.json() if answer.status_code == 200 else None
        except (WriterGone, ValueError):
            opened = None
        finally:
            self.reopening = None
        if self.finished and opened is not None:  # closed meanwhile: not open there either
            with contextlib.suppress(WriterGone):
                await self.link.request("close", self.scope, {"token": token})
        if self.finished or opened is None:
            self.link.closed(token)
            if not self.finished:
                self.restart()
            return
        self.link.closed(self.token)
        self.token = token
        self.link.opened(self.token, self)
        wanted = set(opened["audiences"])
        client = self.client
        behind = self.services.hub.last_seq < int(opened["seq"])
        if client is None or behind or wanted - client.audiences:
            self.restart()
        else:
            self.set_audiences(wanted)

    def restart(self) -> None:
        """Close this screen so that it reconnects and resumes (the writer changed)."""
        if self.closer is None:
            self.attached = False
            self.gone = True
            self.closer = asyncio.get_running_loop().create_task(self._close(CLOSE_RESTART))

    async def _send_snapshot(self) -> None:
        """The writer's snapshot at its seq S, then what this hub has after S (a hub a
        little ahead of the writer's: its follower read the log before the writer's hub
        was fed): events up to S that reach this hub later are left out by ``sent_upto``,
        so the screen gets every event after S once, in order, without waiting."""
        try:
            answer = await self.link.request("snapshot", self.scope, {"token": self.token})
            snap = answer.json()
        except (WriterGone, ValueError):
            self.restart()
            return
        seq = int(snap["seq"])
        self.sent_upto = seq
        await self._send(str(snap["wire"]))
        hub = self.services.hub
        assert self.client is not None
        if seq < hub.last_seq:
            missed = hub.missed(self.client, seq)
            if missed is None:
                self.restart()
                return
            if missed:
                await self._send_many(missed)

    async def _send_many(self, items: list[tuple[int, str]]) -> None:
        await self._send(join_wires(self.fmt, [wire for _, wire in items]))
        self.sent_upto = items[-1][0]

    async def _perform(self, name: str, params: dict[str, Any]) -> dict[str, Any]:
        try:
            answer = await self.link.request(
                "action", self.scope, {"token": self.token, "name": name, "params": params}
            )
        except WriterGone as exc:
            if str(exc) == UNKNOWN_SCREEN:
                self.reopen()
            return {"ok": False, "status": 503, "error": {"message": UNAVAILABLE}}
        if answer.status_code != 200:
            return {"ok": False, "status": answer.status_code, "error": {"message": answer.text}}
        result: dict[str, Any] = answer.json()
        return result
