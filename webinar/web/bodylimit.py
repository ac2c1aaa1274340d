"""Request bodies are read as a stream and refused at their limit, chunked or not.

Starlette reads a body whole (``request.body()``, ``request.form()``) before any handler
can look at its size, and a body sent with ``Transfer-Encoding: chunked`` has no
Content-Length to check first. This middleware sits in front of every HTTP route: a
declared length over the limit is answered 413 before anything is read; otherwise it
counts the bytes as the app receives them and, the moment the count passes the limit,
stops handing them on and answers 413 itself, whatever the app was about to reply. The
server never holds more than one limit's worth of a body.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Mapping

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from webinar.web.paths import route_path

#: Every action, join and page form: small JSON or form fields.
DEFAULT_LIMIT = 64 * 1024
#: Past the limit, up to this much more is read and thrown away before the 413, so that a
#: client which overshot a little reads the reply instead of a connection reset (a socket
#: closed with unread data resets). Beyond it the connection is closed.
DISCARD_MAX = 1024 * 1024
DISCARD_SECONDS = 5.0


class BodyTooLarge(Exception):
    """Raised into the app from ``receive`` when a body passes its limit."""


def too_large_message(limit: int) -> str:
    kib = limit // 1024
    size = f"{kib // 1024} MB" if kib >= 1024 and kib % 1024 == 0 else f"{kib} KB"
    return f"That request is too large: at most {size}."


class BodyLimitMiddleware:
    """Refuse HTTP request bodies over a per-path limit with 413, reading at most the limit.

    ``limits`` maps an exact path to its own limit (an upload); every other path gets
    ``default``. The 413 is JSON under ``/api/`` (as every API error) and plain text
    elsewhere, and closes the connection: the rest of the body is not read.
    """

    def __init__(
        self, app: ASGIApp, default: int = DEFAULT_LIMIT, limits: Mapping[str, int] | None = None
    ) -> None:
        self.app = app
        self.default = default
        self.limits = dict(limits or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = route_path(scope)
        limit = self.limits.get(path, self.default)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            if declared - limit <= DISCARD_MAX:
                await _discard(receive, DISCARD_MAX)
            await _refuse(send, path, limit)
            return
        guard = _Guard(receive, send, limit)
        try:
            await self.app(scope, guard.receive, guard.send)
        except BodyTooLarge:
            pass
        except Exception:
            if not guard.exceeded:
                raise
        if guard.exceeded and not guard.started:
            if guard.more_body:
                await _discard(receive, DISCARD_MAX)
            await _refuse(send, path, limit)


class _Guard:
    """One request's body, counted as the app reads it: past the limit ``receive`` raises
    :class:`BodyTooLarge`, and ``send`` drops the app's reply (the 413 goes instead)."""

    def __init__(self, receive: Receive, send: Send, limit: int) -> None:
        self._receive = receive
        self._send = send
        self.limit = limit
        self.received = 0
        self.exceeded = False
        self.started = False
        self.more_body = True

    async def receive(self) -> Message:
        if self.exceeded:
            raise BodyTooLarge
        message = await self._receive()
        if message["type"] == "http.request":
            self.more_body = message.get("more_body", False)
            self.received += len(message.get("body", b""))
            if self.received > self.limit:
                self.exceeded = True
                raise BodyTooLarge
        else:
            self.more_body = False
        return message

    async def send(self, message: Message) -> None:
        if self.exceeded:
            return  # the app's reply to a body it never fully got: ours goes instead
        if message["type"] == "http.response.start":
            self.started = True
        await self._send(message)


def _content_length(scope: Scope) -> int | None:
    """The declared body length; a value that is not a number counts as too large."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() else 1 << 62
    return None


async def _discard(receive: Receive, budget: int) -> None:
    """Read and drop what is left of a body, up to ``budget`` bytes or a few seconds."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(DISCARD_SECONDS):
            while budget > 0:
                message = await receive()
                if message["type"] != "http.request":
                    return
                budget -= len(message.get("body", b""))
                if not message.get("more_body", False):
                    return


async def _refuse(send: Send, path: str, limit: int) -> None:
    message = too_large_message(limit)
    if path.startswith("/api/"):
        body = json.dumps({"error": {"message": message}}).encode()
        media = b"application/json"
    else:
        body = message.encode()
        media = b"text/plain; charset=utf-8"
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", media),
                (b"content-length", str(len(body)).encode()),
                # The rest of the body is never read: the connection cannot be reused.
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
