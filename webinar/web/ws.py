"""The WebSocket endpoint: one connection per screen, resumable by sequence number.

Protocol (``docs/events.md``): after the handshake the client sends
``{"type": "resume", "last_seq": N}`` (or ``null``/nothing for a fresh start). The server
answers with exactly the events after N that the client may see, or with a snapshot when
N is too old, then streams live events. Clients may also send ``ping`` and ``action``
messages; each gets a reply.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Iterator, Sequence
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from webinar.domain import audiences
from webinar.realtime.hub import Client
from webinar.services import Services
from webinar.services.access import Participant
from webinar.services.commit import CHECKS, iso
from webinar.web import eager
from webinar.web.actions import ActionError, perform
from webinar.web.api import own_keys, parse_json
from webinar.web.auth import current_participant, services_of
from webinar.web.paths import route_path
from webinar.web.render import Encoder, encode_json, join_wires
from webinar.web.security import origin_allowed
from webinar.web.sessions import SessionCookie

RESUME_TIMEOUT = 10.0
FORMATS = ("html", "json")  # "html" becomes "html-staff" for hosts and organisers
#: Close code for a client dropped for being too slow: "try again later", so it resumes.
CLOSE_TOO_SLOW = 1013
CLOSE_POLICY = 1008
#: Most screens open at once per participant (tabs, a phone, a laptop, a reconnecting
#: screen whose old socket has not timed out yet). One more closes the *oldest* with
#: ``CLOSE_POLICY`` and ``TOO_MANY_SCREENS``: the screen just opened is the one in use,
#: and a policy close is not retried by the browser (no ping-pong between two tabs).
MAX_SCREENS = 8
TOO_MANY_SCREENS = f"Opened on more than {MAX_SCREENS} screens: this, the oldest, was closed."
#: Where screens open their socket (the router's route and SocketShortcut both use it).
#: The characters of missed events sent in one message on a resume, at most (an event
#: longer than this goes alone).
CATCH_UP_BYTES = 256_000
SOCKET_PATH = "/ws"


class SocketShortcut:
    """ASGI middleware: ``/ws`` goes straight to :func:`socket_endpoint`.

    A screen's socket lives for hours, every event written to it passes through each
    layer between the endpoint and the server, and every layer's frame and closures stay
    in memory as long as the socket. The HTTP middleware (security headers, error pages),
    the session middleware and the router do nothing for a socket once it is open, so it
    skips them: the session cookie is read here, by the same :class:`SessionCookie` the
    session middleware is made from, into a plain dict. Put it outermost; the router keeps
    a ``/ws`` route to the same endpoint, the map of the app.
    """

    def __init__(self, app: ASGIApp, cookie: SessionCookie) -> None:
        self.app = app
        self.cookie = cookie

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and route_path(scope) == SOCKET_PATH:
            scope["session"] = self.cookie.read(scope)
            await socket_endpoint(WebSocket(scope, receive, send), send)
        else:
            await self.app(scope, receive, send)


async def socket_endpoint(ws: WebSocket, send: Send | None = None) -> None:
    """The live socket. ``send``: the server's own ASGI send, for writing events past
    Starlette's checks (SocketShortcut passes it); by default the socket's checked send."""
    app_state = ws.app.state
    if not origin_allowed(ws.headers, app_state.allowed_origins):
        await ws.close(code=CLOSE_POLICY)  # before accept: the handshake gets HTTP 403
        return
    participant = await current_participant(ws)
    fmt = ws.query_params.get("format", "html")
    if participant is None or fmt not in FORMATS:
        await ws.close(code=CLOSE_POLICY)
        return
    if fmt == "html" and participant.is_staff:
        fmt = "html-staff"
    await ws.accept()
    connection = _Connection(ws, participant, fmt, send or ws.send)
    await connection.run()


class _Connection:
    """One screen's socket: the hub's sink while it is live, and the action handler.

    Sending has one rule: one message at a time, in order. A send in progress holds
    ``send_lock`` (a catch-up, a reply, a backlog being drained) or sits in ``pending`` (a
    direct write that had to wait for the transport); meanwhile, and while events are
    queued, new events queue behind it and a drain task sends them. Otherwise an event is
    written at once from the hub's ``publish_all`` (no task, no wake-up).
    """

    __slots__ = (
        "attached",
        "client",
        "closer",
        "drainer",
        "encoder",
        "fmt",
        "gone",
        "own",
        "participant",
        "pending",
        "raw_send",
        "send_lock",
        "sent_upto",
        "services",
        "ws",
    )

    def __init__(self, ws: WebSocket, participant: Participant, fmt: str, send: Send) -> None:
        self.ws = ws
        self.participant = participant
        self.fmt = fmt
        self.services = services_of(ws)
        self.encoder: Encoder = ws.app.state.encoder
        self.send_lock = asyncio.Lock()
        #: Events go straight to the server's send (skipping Starlette's state checks:
        #: ``attached`` and ``gone`` stand for them); replies and the rest use ``ws``.
        self.raw_send = send
        self.sent_upto = 0
        self.own: list[int] = []
        self.client: Client | None = None
        #: True once the catch-up is sent: from then on events may be written directly.
        self.attached = False
        #: The socket failed under a direct write: the receive loop is about to end.
        self.gone = False
        #: A direct write that had to wait for the transport, finishing in a task.
        self.pending: asyncio.Future[None] | None = None
        #: The task draining the backlog, while there is one.
        self.drainer: asyncio.Task[None] | None = None
        #: The task closing the socket for good (``end``), once asked.
        self.closer: asyncio.Task[None] | None = None

    async def run(self) -> None:
        hub = self.services.hub
        client = self.client = await self._register()
        try:
            await self._start(client)
            await self._receive_forever()
        except WebSocketDisconnect:
            pass
        finally:
            self.attached = False
            hub.unsubscribe(client)
            await self._unregister()
            for task in (self.drainer, self.pending, self.closer):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task

    async def _register(self) -> Client:
        """Subscribe this screen to the hub with its audiences; count it as present."""
        hub = self.services.hub
        self.own = await self.services.qa.owned(self.participant, own_keys(self.ws))
        await self.services.breakouts.ensure_member(self.participant)
        client = hub.subscribe(
            screen_audiences(self.services, self.participant, self.own),
            self.fmt,
            owner=self.participant.id,
            sink=self,
        )
        if hub.screen_cap is None:
            hub.end_screens(self.participant.id, TOO_MANY_SCREENS, keep=MAX_SCREENS)
        else:
            hub.screen_cap(self.participant.id)
        self.services.breakouts.screen_opened(self.participant.id)
        return client

    async def _unregister(self) -> None:
        self.services.breakouts.screen_closed(self.participant.id)

    async def _start(self, client: Client) -> None:
        """Resume (or snapshot), go live, and handle a first message that was not a resume.

        A method of its own so that what it reads is freed when it returns, not kept in
        the frame of ``run`` for the hours the socket stays open.
        """
        resume, early = await self._first_message()
        await self._catch_up(client, resume)
        self.attached = True
        if client.queue or client.dropped:  # what arrived during the catch-up
            self.wake()
        if early is not None:
            await self._handle(early)

    # -- the hub's sink ------------------------------------------------------------------------

    def write_now(self, seq: int, wire: str) -> bool:
        """Write an event at once if nothing is being sent; False to queue it instead."""
        if not self._idle():
            return False
        if self.gone or seq <= self.sent_upto:
            return True  # nothing to do: the socket is closing, or it was in the catch-up
        return self._write(wire, seq)

    def write_many(self, items: Sequence[tuple[int, str]]) -> bool:
        """Write events at once, as one message, if nothing is being sent; False to
        queue them instead. Events the catch-up already sent are left out."""
        if not self._idle():
            return False
        upto = self.sent_upto
        fresh = [wire for seq, wire in items if seq > upto]
        if self.gone or not fresh:
            return True  # nothing to do: the socket is closing, or it was in the catch-up
        return self._write(join_wires(self.fmt, fresh), items[-1][0])

    def _idle(self) -> bool:
        """Nothing is being sent, nothing waits: an event may be written directly."""
        # The drain task may hold an event it took from the queue while it waits for the
        # lock (a released lock looks free before its next holder runs): nothing may pass
        # it, so while it exists, everything queues behind it.
        return (
            self.attached
            and self.drainer is None
            and self.pending is None
            and not self.send_lock.locked()
        )

    def _write(self, text: str, last_seq: int) -> bool:
        """Start sending ``text`` (events up to ``last_seq``); a transport that cannot take
        it now finishes it in a task, and the rest waits for that."""
        try:
            pending = eager.start(self.raw_send({"type": "websocket.send", "text": text}))
        except Exception:  # the socket is gone; the receive loop sees it and ends
            self.gone = True
            return True
        self.sent_upto = last_seq
        if pending is not None:  # the transport is full: the rest waits for it to drain
            self.pending = pending
            pending.add_done_callback(self._written)
        return True

    def _written(self, task: asyncio.Future[None]) -> None:
        self.pending = None
        if not task.cancelled() and task.exception() is not None:
            self.gone = True
        client = self.client
        if client is not None and (client.queue or client.dropped):
            self.wake()

    def end(self, reason: str) -> None:
        """Close this screen for good (``CLOSE_POLICY``: the browser does not retry)."""
        if self.closer is None:
            self.attached = False  # nothing more is written to it
            self.gone = True
            self.closer = asyncio.get_running_loop().create_task(self._close(CLOSE_POLICY, reason))

    def wake(self) -> None:
        """Events are waiting (or the client was dropped): start draining, once."""
        if self.attached and self.drainer is None and self.pending is None:
            self.drainer = asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        client = self.client
        assert client is not None
        try:
            while True:
                if client.dropped:
                    await self._close(CLOSE_TOO_SLOW)
                    return
                queue = client.queue
                if not queue:
                    client.queue = None  # the backlog is sent: free it
                    return
                # Everything waiting goes as one message (what the catch-up sent left out).
                items = list(queue)
                queue.clear()
                upto = self.sent_upto
                fresh = [wire for seq, wire in items if seq > upto]
                if fresh:
                    await self._send(join_wires(self.fmt, fresh))
                self.sent_upto = max(upto, items[-1][0])
        except Exception:  # the socket is gone; the receive loop sees it and ends
            self.gone = True
        finally:
            self.drainer = None

    # -- the first messages --------------------------------------------------------------------

    async def _first_message(
        self,
    ) -> tuple[dict[str, Any] | None, dict[str, Any] | str | None]:
        """(the resume request, or None; a first message that was something else)."""
        try:
            text = await asyncio.wait_for(self.ws.receive_text(), RESUME_TIMEOUT)
        except TimeoutError:
            return None, None
        except KeyError:  # a binary frame: receive_text finds no "text"
            return None, "Messages must be JSON text."
        message = _parse(text)
        if isinstance(message, str) or message.get("type") != "resume":
            return None, message  # start fresh, then handle it like any other message
        return message, None

    async def _catch_up(self, client: Client, resume: dict[str, Any] | None) -> None:
        hub = self.services.hub
        last = resume.get("last_seq") if resume else None
        missed = None
        if isinstance(last, int) and not isinstance(last, bool) and last >= 0:
            missed = hub.missed(client, last)
        if missed is None:
            hub.snapshots += 1
            await self._send_snapshot()
        else:
            hub.resumes += 1
            # Missed events go as few messages, as a fold's do (join_wires), each kept
            # under CATCH_UP_BYTES (clients refuse a message over 1 MB).
            for chunk in _chunks(missed, CATCH_UP_BYTES):
                await self._send(join_wires(self.fmt, [wire for _, wire in chunk]))
                self.sent_upto = chunk[-1][0]
            self.sent_upto = max(self.sent_upto, last if isinstance(last, int) else 0)

    async def _send_snapshot(self) -> None:
        seq, wire = snapshot_wire(self.services, self.encoder, self.participant, self.own, self.fmt)
        self.sent_upto = seq
        await self._send(wire)

    async def _receive_forever(self) -> None:
        while True:
            try:
                text = await self.ws.receive_text()
            except (WebSocketDisconnect, RuntimeError):
                return
            except KeyError:  # a binary frame: receive_text finds no "text"
                await self._reply({"type": "error", "message": "Messages must be JSON text."})
                continue
            await self._handle(_parse(text))

    async def _handle(self, message: dict[str, Any] | str) -> None:
        if isinstance(message, str):
            await self._reply({"type": "error", "message": message})
            return
        kind = message.get("type")
        if kind == "ping":
            await self._reply(
                {
                    "type": "pong",
                    "seq": max(self.services.hub.last_seq, self.sent_upto),
                    "now": iso(self.services.committer.clock()),
                }
            )
        elif kind == "resume":
            await self._reply({"type": "error", "message": "Resume only as the first message."})
        elif kind == "action":
            await self._action(message)
        else:
            await self._reply({"type": "error", "message": f"Unknown message type {kind!r}."})

    async def _action(self, message: dict[str, Any]) -> None:
        ref = message.get("id")
        name = message.get("name")
        params = message.get("params", {})
        if not isinstance(name, str) or not isinstance(params, dict):
            await self._reply(
                {
                    "type": "result",
                    "id": ref,
                    "ok": False,
                    "status": 400,
                    "error": {"message": "An action needs a 'name' and an object of 'params'."},
                }
            )
            return
        await self._reply({"type": "result", "id": ref, **await self._perform(name, params)})

    async def _perform(self, name: str, params: dict[str, Any]) -> dict[str, Any]:
        return await action_result(self.services, self.participant, name, params, own_keys(self.ws))

    async def _reply(self, payload: dict[str, Any]) -> None:
        await self._send(json.dumps(payload, separators=(",", ":"), ensure_ascii=False))

    async def _send(self, text: str) -> None:
        async with self.send_lock:
            if self.pending is not None:  # a direct write still waiting for the transport
                await asyncio.wait({self.pending})
            if self.gone:  # closed (or closing) under us: nothing more can go out
                return
            try:
                await self.ws.send_text(text)
            except (RuntimeError, OSError):
                # The socket closed under the send (the server closed it for an oversize
                # message, the peer went away): the receive loop ends it, quietly.
                self.gone = True
                raise WebSocketDisconnect(1006) from None

    async def _close(self, code: int, reason: str | None = None) -> None:
        self.gone = True  # no direct write after the close
        if self.ws.application_state != WebSocketState.DISCONNECTED:
            with contextlib.suppress(Exception):
                await self.ws.close(code=code, reason=reason)


def screen_audiences(services: Services, participant: Participant, own: list[int]) -> set[str]:
    """The audiences a participant's screen sees, who owns the questions ``own``."""
    return (
        audiences.of(participant.id, participant.role)
        | {audiences.question_owner(qid) for qid in own}
        | services.breakouts.audiences_for(participant)
    )


def snapshot_wire(
    services: Services, encoder: Encoder, participant: Participant, own: list[int], fmt: str
) -> tuple[int, str]:
    """(seq, the snapshot's wire in ``fmt``): the state exactly at that sequence number."""
    # Read the sequence number and the state with no await in between, so the
    # snapshot is exactly the state at that sequence number.
    seq = services.hub.last_seq
    state: dict[str, Any] = {
        "agenda": services.agenda_service.snapshot(),
        "qa": services.qa.snapshot(participant.role, own),
        "breakout": services.breakouts.snapshot(participant),
        "polls": services.polls.snapshot(participant.role),
    }
    if CHECKS.snapshot is not None:
        CHECKS.snapshot(state)
    at = state["agenda"]["now"]
    if fmt == "json":
        return seq, encode_json(seq, "snapshot", state, at)
    return seq, encoder.snapshot_html(seq, at, state, fmt)


async def action_result(
    services: Services,
    participant: Participant,
    name: str,
    params: dict[str, Any],
    keys: list[str],
) -> dict[str, Any]:
    """A socket's action performed: the reply's fields but its ``id``."""
    try:
        data, _ = await perform(services, participant, name, params, keys)
    except ActionError as exc:
        return {"ok": False, "status": exc.status, **exc.as_json()}
    return {"ok": True, "data": data}


def _parse(text: str) -> dict[str, Any] | str:
    """A client message as a dict, or a plain sentence saying what is wrong with it."""
    try:
        message = parse_json(text)
    except ValueError:
        return "That message is not valid JSON."
    if not isinstance(message, dict):
        return "A message must be a JSON object."
    if not isinstance(message.get("type"), str):
        return "A message needs a 'type'."
    return message


def _chunks(items: list[tuple[int, str]], limit: int) -> Iterator[list[tuple[int, str]]]:
    """``items`` (seq, wire) in order, in runs whose wires add up to ``limit`` at most."""
    chunk: list[tuple[int, str]] = []
    size = 0
    for seq, wire in items:
        if chunk and size + len(wire) > limit:
            yield chunk
            chunk, size = [], 0
        chunk.append((seq, wire))
        size += len(wire)
    if chunk:
        yield chunk
