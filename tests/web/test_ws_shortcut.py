"""SocketShortcut: the live socket skips the HTTP middleware and router, and reads the
session cookie exactly as Starlette's SessionMiddleware writes it (the codec itself is
checked against Starlette in test_sessions.py)."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.responses import PlainTextResponse
from starlette.types import Message, Receive, Scope, Send

from webinar.web.paths import route_path as _route_path
from webinar.web.sessions import SessionCookie
from webinar.web.ws import SocketShortcut

pytestmark = pytest.mark.unit

COOKIE = SessionCookie("sess", "s3cret", max_age=3600)
SESSIONS: Any = COOKIE.middleware()  # Starlette's Middleware: (cls, args, kwargs)


def shortcut(calls: list[str], cookie: SessionCookie = COOKIE) -> SocketShortcut:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        calls.append(f"{scope['type']} {scope['path']}")

    return SocketShortcut(app, cookie=cookie)


async def cookie_from_starlette(content: dict[str, Any]) -> str:
    """A session cookie written by a real SessionMiddleware."""

    async def login(scope: Scope, receive: Receive, send: Send) -> None:
        scope["session"].update(content)
        await PlainTextResponse("ok")(scope, receive, send)

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    scope: Scope = {"type": "http", "method": "GET", "path": "/", "headers": []}
    await SESSIONS.cls(login, *SESSIONS.args, **SESSIONS.kwargs)(scope, receive, send)
    header: str = next(v for k, v in sent[0]["headers"] if k == b"set-cookie").decode()
    return header.split(";")[0].split("=", 1)[1]


async def no_receive() -> Message:
    raise AssertionError("nothing is read from a connection that is only routed")


async def no_send(message: Message) -> None:
    raise AssertionError("nothing is sent on a connection that is only routed")


def ws_scope(cookie: str | None) -> dict[str, Any]:
    headers = [(b"host", b"example.org")]
    if cookie is not None:
        headers.append((b"cookie", f"other=1; sess={cookie}".encode()))
    return {"type": "websocket", "path": "/ws", "headers": headers}


@pytest.mark.parametrize(
    "scope",
    [
        {"type": "websocket", "path": "/ws/other"},
        {"type": "websocket", "path": "/site/ws/other", "root_path": "/site"},
        {"type": "http", "path": "/ws"},
    ],
)
async def test_everything_but_the_live_socket_goes_to_the_app(scope: dict[str, Any]) -> None:
    calls: list[str] = []

    await shortcut(calls)(scope, no_receive, no_send)

    assert calls == [f"{scope['type']} {scope['path']}"]


@pytest.mark.parametrize(
    ("path", "root_path", "route"),
    [("/ws", "", "/ws"), ("/site/ws", "/site", "/ws"), ("/ws", "/w", "/ws"), ("/s", "/s", "")],
)
def test_the_route_path_drops_the_root_path_only_at_a_segment_boundary(
    path: str, root_path: str, route: str
) -> None:
    assert _route_path({"path": path, "root_path": root_path}) == route


async def test_the_session_is_read_as_starlette_wrote_it() -> None:
    content = {"sid": "abc", "own": ["k1", "k2"], "csrf": "t"}
    cookie = await cookie_from_starlette(content)

    assert shortcut([]).cookie.read(ws_scope(cookie)) == content


async def test_a_missing_forged_or_expired_cookie_gives_an_empty_session() -> None:
    cookie = await cookie_from_starlette({"sid": "abc"})
    forged = cookie[:-2] + ("AA" if not cookie.endswith("AA") else "BB")

    expired = SessionCookie("sess", "s3cret", max_age=-1)

    assert shortcut([]).cookie.read(ws_scope(None)) == {}
    assert shortcut([]).cookie.read(ws_scope(forged)) == {}
    assert shortcut([]).cookie.read(ws_scope("not-a-cookie")) == {}
    assert shortcut([], expired).cookie.read(ws_scope(cookie)) == {}
