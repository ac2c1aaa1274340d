"""Forwarding an event's requests and sockets to the worker that writes for it.

Under ``webinar serve --workers N`` every worker opens every event, but only the holder of
an event's lease (``webinar.services.writer``) runs its services. A worker that gets a
request for an event it does not write for passes it to the writer's private address (the
lease's token): HTTP through httpx (the response streamed back, every end-to-end header
kept), the event's WebSocket through a websockets client pumping both ways, closing codes
passed through. The writer believes the client's address and scheme sent with it only
when the request carries the event's peer proof (an HMAC of its ``peer_secret``, stored in
the database, so every worker of every host has it), and only on its private listener:
on the public port a request that carries the peer header is refused.

When the writer cannot be reached (killed, its lease not yet run out) the worker waits
for the next one, up to :data:`PATIENCE` (three lease times), retrying only what cannot
have been applied: a connection that failed before the request was sent, or a peer that
answered that it no longer writes (it applied nothing). Otherwise the answer is 503 with
a sentence and ``Retry-After``; the idempotency keys make the client's retry safe. The
writer's address is the lease holder last seen (the bidding loop reads it every second),
not read from Redis for each request: Redis is asked again only when that writer cannot
be reached or answers that it does not write. The
request body is read whole before it is sent (bodies are small: ``web/bodylimit.py``),
so that such a retry can send it again.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import socket
import time
from collections.abc import Awaitable, Callable
from typing import Literal

import httpx
import uvicorn
from redis.exceptions import RedisError
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from webinar.services.writer import LEASE_MS, EventWriter
from webinar.web.server import HEADER_TIMEOUT, WS_MAX_SIZE, guarded_protocol

log = logging.getLogger(__name__)

#: The peer proof: HMAC-SHA256 of the event's ``peer_secret``.
PEER_HEADER = b"x-webinar-peer"
#: The client's address and scheme as the worker that took the request saw them.
CLIENT_HEADER = b"x-webinar-client"
SCHEME_HEADER = b"x-webinar-scheme"
#: The Host the client sent (a WebSocket client writes its own, the writer's address).
HOST_HEADER = b"x-webinar-host"
#: A peer's answer that it does not write for the event (nothing was applied).
NOT_WRITER_HEADER = b"x-webinar-not-writer"
#: A worker's own request to the writer about a screen it serves (``webinar.web.edge``),
#: never a client's request passed on.
EDGE_HEADER = b"x-webinar-edge"
INTERNAL_HEADERS = (
    PEER_HEADER,
    CLIENT_HEADER,
    SCHEME_HEADER,
    HOST_HEADER,
    NOT_WRITER_HEADER,
    EDGE_HEADER,
)
#: Headers of one connection, not of the request (RFC 9110 section 7.6.1).
HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
    }
)
#: Seconds to wait for an event's next writer (three lease times).
PATIENCE = LEASE_MS / 1000 * 3
#: The scope key the private listener sets (no client can set a scope key).
FROM_PEER = "webinar.from_peer"

#: How a request ended: passed to the writer, to be served here, or no writer in time.
Outcome = Literal["forwarded", "here", "unavailable"]

UNAVAILABLE = (
    "This event's server is changing over and did not answer in time. Try again in a "
    "few seconds: nothing you sent twice is counted twice."
)
#: Where a worker asks the writer to withdraw an event (its private listener only).
WITHDRAW_PATH = "/_workers/withdraw"
#: A worker's own metrics, on its private listener, for the worker gathering them.
WORKER_METRICS_PATH = "/_workers/metrics"

#: WebSocket close code: try again later (RFC 6455 section 7.4.1, 1013).
TRY_AGAIN_LATER = 1013


def peer_proof(secrets: dict[str, str]) -> bytes:
    """The value of the peer header for an event with these secrets."""
    key = secrets.get("peer_secret", "").encode()
    return hmac.new(key, b"webinar peer", hashlib.sha256).hexdigest().encode()


def header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None


def internal(scope: Scope) -> bool:
    """Whether a request carries a header only the workers send each other (refused on the
    public port: nobody outside may claim a client address or a peer's standing)."""
    return any(key in INTERNAL_HEADERS for key, _ in scope["headers"])


def proven(scope: Scope, proof: bytes) -> bool:
    """Whether a request on the private listener carries the event's peer proof."""
    given = header(scope, PEER_HEADER)
    return given is not None and hmac.compare_digest(given, proof)


def as_forwarded(scope: Scope) -> Scope:
    """A proven peer's request as the client sent it: the client's address, scheme and Host
    from the peer's headers, the internal headers taken out."""
    client = (header(scope, CLIENT_HEADER) or b"").decode("latin-1")
    scheme = (header(scope, SCHEME_HEADER) or b"").decode("latin-1")
    host = header(scope, HOST_HEADER)
    inner = dict(scope)
    inner["headers"] = [
        (k, v)
        for k, v in scope["headers"]
        if k not in INTERNAL_HEADERS and not (host is not None and k == b"host")
    ]
    if host is not None:
        inner["headers"].append((b"host", host))
    inner["client"] = (client, 0) if client else None
    if scheme in ("http", "https", "ws", "wss"):
        inner["scheme"] = scheme
    return inner


async def not_writer(scope: Scope, receive: Receive, send: Send) -> None:
    """Answer a peer that this worker does not write for the event (nothing applied)."""
    headers = [(NOT_WRITER_HEADER, b"1"), (b"content-type", b"text/plain; charset=utf-8")]
    body = b"This worker does not write for the event."
    if scope["type"] == "websocket":
        await receive()  # websocket.connect
        await send({"type": "websocket.http.response.start", "status": 503, "headers": headers})
        await send({"type": "websocket.http.response.body", "body": body})
        return
    await send({"type": "http.response.start", "status": 503, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class Forwarder:
    """Passes one worker's requests for events it does not write for to their writers."""

    def __init__(self, own_address: str, patience: float = PATIENCE) -> None:
        self.own_address = own_address
        self.patience = patience
        self.client = httpx.AsyncClient(
            timeout=httpx.Timeout(60.0, connect=2.0),
            limits=httpx.Limits(max_connections=512, max_keepalive_connections=64),
        )

    async def close(self) -> None:
        await self.client.aclose()

    async def writer_address(
        self, writer: EventWriter, deadline: float, fresh: bool = False
    ) -> str | None:
        """The address of the event's writer, once one holds the lease and it is not this
        worker; None when this worker writes now, or nobody took the lease by
        ``deadline``. The holder last seen (``writer.lease.seen``, kept by the bidding
        loop) is used without asking Redis, unless ``fresh``."""
        if not fresh and not writer.writing:
            address = _address(writer.lease.seen)
            if address and address != self.own_address:
                return address
        while not writer.writing:
            try:
                holder = await writer.lease.holder()
            except (RedisError, OSError) as exc:  # Redis does not answer: look again
                log.warning("reading %s failed: %s", writer.lease.key, exc)
                holder = None
            address = _address(holder)
            if address and address != self.own_address:
                return address
            if time.monotonic() >= deadline:
                return None
            await asyncio.sleep(writer.lease.ttl_ms / 1000 / 10)
        return None

    async def until_forwarded(
        self, writer: EventWriter, attempt: Callable[[str], Awaitable[bool]]
    ) -> Outcome:
        """Call ``attempt(address)`` with the writer's address until it returns True (it
        passed the request on, or answered it); when it returns False (nothing could have
        been applied: the writer could not be reached, or no longer writes) forget that
        address and try the next writer, up to :attr:`patience`. ``"here"`` when this
        worker became the writer meanwhile, ``"unavailable"`` when none answered in time."""
        deadline = time.monotonic() + self.patience
        while True:
            address = await self.writer_address(writer, deadline)
            if address is None:
                return "here" if writer.writing else "unavailable"
            if await attempt(address):
                return "forwarded"
            writer.lease.forget()
            if time.monotonic() >= deadline:
                return "unavailable"
            await asyncio.sleep(writer.lease.ttl_ms / 1000 / 10)

    async def metrics_of(self, address: str, proof: bytes) -> str | None:
        """Another worker's own metrics (``WORKER_METRICS_PATH``); None when it does not
        answer in time (it died: it drops out of the live workers soon)."""
        try:
            response = await self.client.get(
                f"http://{address}{WORKER_METRICS_PATH}",
                headers={PEER_HEADER.decode(): proof.decode()},
                timeout=2.0,
            )
        except httpx.HTTPError as exc:
            log.warning("reading the metrics of %s failed: %s", address, exc)
            return None
        return response.text if response.status_code == 200 else None

    async def withdraw(self, writer: EventWriter, slug: str, proof: bytes) -> None:
        """Ask the event's writer to withdraw it too (its agenda was changed here): it is
        then opened again from the database, by whichever worker writes for it next."""
        address = await self.writer_address(writer, time.monotonic(), fresh=True)  # one look
        if address is None:
            return  # nobody writes for it: whoever takes it over opens it from the database
        try:
            await self.client.post(
                f"http://{address}{WITHDRAW_PATH}",
                params={"event": slug},
                headers={PEER_HEADER.decode(): proof.decode()},
            )
        except httpx.HTTPError as exc:
            # It died meanwhile: whoever takes over opens the event from the database.
            log.warning("asking %s to withdraw %s failed: %s", address, slug, exc)

    async def http(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        writer: EventWriter,
        proof: bytes,
        local: Callable[[Scope, Receive, Send], Awaitable[None]],
    ) -> None:
        """Forward an HTTP request to the event's writer (or serve it here, if this worker
        became the writer meanwhile)."""
        body = await _read_body(receive)

        async def attempt(address: str) -> bool:
            request = self.client.build_request(
                scope["method"],
                f"http://{address}{_target(scope)}",
                headers=_forwarded_headers(scope, proof),
                content=body,
            )
            try:
                response = await self.client.send(request, stream=True)
            except (httpx.ConnectError, httpx.ConnectTimeout):
                return False  # nothing was sent
            except httpx.HTTPError as exc:
                log.warning("forwarding to %s failed: %s", address, exc)
                await _unavailable(send)
                return True
            if response.headers.get(NOT_WRITER_HEADER.decode()) == "1":
                await response.aclose()
                return False
            await _relay(response, send)
            return True

        outcome = await self.until_forwarded(writer, attempt)
        if outcome == "here":
            await local(scope, _replay(body), send)
        elif outcome == "unavailable":
            await _unavailable(send)

    async def websocket(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        writer: EventWriter,
        proof: bytes,
        local: Callable[[Scope, Receive, Send], Awaitable[None]],
    ) -> None:
        """Proxy the event's WebSocket to its writer, both ways, until either side closes."""

        async def attempt(address: str) -> bool:
            try:
                upstream = await _open_socket(scope, address, proof)
            except (OSError, InvalidHandshake, TimeoutError) as exc:
                if isinstance(exc, InvalidStatus) and not _not_writer(exc):
                    # The writer refused the socket (signed out, wrong origin): so do we.
                    await receive()
                    await send({"type": "websocket.close", "code": 1008})
                    return True
                return False
            await _pump(upstream, receive, send)
            return True

        outcome = await self.until_forwarded(writer, attempt)
        if outcome == "here":
            await local(scope, receive, send)
        elif outcome == "unavailable":
            await receive()  # websocket.connect
            await send({"type": "websocket.close", "code": TRY_AGAIN_LATER})


def _address(holder: str | None) -> str:
    """The private address in a lease's token (``address pid nonce``)."""
    return holder.split(" ", 1)[0] if holder else ""


def _not_writer(exc: InvalidStatus) -> bool:
    return exc.response.headers.get(NOT_WRITER_HEADER.decode()) == "1"


def _target(scope: Scope) -> str:
    path: bytes = scope.get("raw_path") or scope["path"].encode()
    query: bytes = scope.get("query_string", b"")
    return (path + (b"?" + query if query else b"")).decode("latin-1")


def _forwarded_headers(scope: Scope, proof: bytes) -> list[tuple[bytes, bytes]]:
    client = scope.get("client")
    kept = [
        (k, v) for k, v in scope["headers"] if k not in HOP_BY_HOP and k not in INTERNAL_HEADERS
    ]
    return [
        *kept,
        (PEER_HEADER, proof),
        (CLIENT_HEADER, str(client[0]).encode() if client else b""),
        (SCHEME_HEADER, str(scope.get("scheme", "http")).encode()),
        (HOST_HEADER, header(scope, b"host") or b""),
    ]


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes) -> Receive:
    """A ``receive`` giving ``body`` once, then waiting (as for a client that stays)."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()
        return {"type": "http.disconnect"}  # pragma: no cover - never reached

    return receive


async def _relay(response: httpx.Response, send: Send) -> None:
    try:
        headers = [(k.lower(), v) for k, v in response.headers.raw if k.lower() not in HOP_BY_HOP]
        await send(
            {"type": "http.response.start", "status": response.status_code, "headers": headers}
        )
        async for chunk in response.aiter_raw():
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
    finally:
        await response.aclose()


async def _unavailable(send: Send) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"retry-after", b"5"),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": UNAVAILABLE.encode()})


#: Headers the websockets client writes itself.
_WS_OWN = frozenset(
    {
        b"host",
        b"origin",
        b"user-agent",
        b"sec-websocket-key",
        b"sec-websocket-version",
        b"sec-websocket-extensions",
        b"sec-websocket-protocol",
        b"content-length",
    }
)


async def _open_socket(scope: Scope, address: str, proof: bytes) -> ClientConnection:
    headers = [
        (k.decode("latin-1"), v.decode("latin-1"))
        for k, v in _forwarded_headers(scope, proof)
        if k not in _WS_OWN
    ]
    origin = header(scope, b"origin")
    agent = header(scope, b"user-agent")
    return await connect(
        f"ws://{address}{_target(scope)}",
        additional_headers=headers,
        origin=origin.decode("latin-1") if origin else None,  # type: ignore[arg-type]
        user_agent_header=agent.decode("latin-1") if agent else None,
        subprotocols=scope.get("subprotocols") or None,
        compression=None,
        max_size=None,
        open_timeout=5,
        ping_interval=None,
    )


async def _pump(upstream: ClientConnection, receive: Receive, send: Send) -> None:
    """Accept the client's socket as the writer accepted ours, then copy both ways; when
    one side closes, close the other with the same code."""
    first = await receive()
    if first["type"] != "websocket.connect":
        await upstream.close()
        return
    await send({"type": "websocket.accept", "subprotocol": upstream.subprotocol})
    tasks = [
        asyncio.create_task(_to_writer(upstream, receive)),
        asyncio.create_task(_to_client(upstream, send)),
    ]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, ConnectionClosed, OSError):
                await task
        await upstream.close()


async def _to_writer(upstream: ClientConnection, receive: Receive) -> None:
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            await upstream.close(message.get("code", 1000), message.get("reason") or "")
            return
        text = message.get("text")
        await upstream.send(text if text is not None else message["bytes"])


async def _to_client(upstream: ClientConnection, send: Send) -> None:
    with contextlib.suppress(ConnectionClosed):
        async for data in upstream:
            key = "text" if isinstance(data, str) else "bytes"
            await send({"type": "websocket.send", key: data})
    code = upstream.close_code if upstream.close_code is not None else 1011
    if code in (1005, 1006):  # never sent on the wire: the writer went away
        code = 1012  # service restart: reconnect
    await send({"type": "websocket.close", "code": code, "reason": upstream.close_reason or ""})


class PrivateListener:
    """A worker's private HTTP and WebSocket listener, on ``host`` and a free port, in the
    worker's own event loop (a second uvicorn server with no lifespan and no signals)."""

    def __init__(self, app: ASGIApp, host: str) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        port = self.sock.getsockname()[1]
        self.address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        config = uvicorn.Config(
            app,
            lifespan="off",
            interface="asgi3",
            http=guarded_protocol(HEADER_TIMEOUT, 4096),
            ws_max_size=WS_MAX_SIZE,
            ws_per_message_deflate=False,
            log_config=None,
            access_log=False,
            # The client's address and scheme come from the proven peer headers only.
            proxy_headers=False,
            timeout_graceful_shutdown=2,
        )
        self.server = uvicorn.Server(config)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        # Server._serve is serve() without taking over the process's signal handlers,
        # which belong to the worker's public server.
        self._task = asyncio.create_task(self.server._serve([self.sock]), name="private listener")
        while not self.server.started:
            if self._task.done():
                await self._task  # raises what stopped it
                raise RuntimeError("the private listener stopped as it started")
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        self.server.should_exit = True
        if self._task is not None:
            await self._task
            self._task = None
        self.sock.close()
