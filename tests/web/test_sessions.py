"""The session cookie codec against the installed Starlette's SessionMiddleware, both
ways: what Starlette writes we read, what we write Starlette reads, and both refuse the
same forged, garbled and expired cookies. A Starlette upgrade that changed the format
fails here."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.middleware.sessions import SessionMiddleware
from starlette.responses import PlainTextResponse
from starlette.types import Receive, Scope, Send

from webinar.web.app import SESSION_COOKIE
from webinar.web.sessions import SessionCodec, SessionCookie

pytestmark = pytest.mark.unit

SECRET = "s3cret-for-the-parity-test"
COOKIE = SessionCookie(SESSION_COOKIE, SECRET, max_age=3600)

#: Sessions as the app keeps them, and JSON of every kind besides.
SESSIONS = st.dictionaries(
    st.text(max_size=8),
    st.recursive(
        st.none()
        | st.booleans()
        | st.integers(-(2**53), 2**53)
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(max_size=20),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner),
        max_leaves=8,
    ),
    max_size=5,
)


def starlette(cookie: SessionCookie = COOKIE) -> Any:
    """The session middleware ``cookie`` makes, around an app that records the session it
    was given and stores ``scope["store"]`` in it."""
    seen: list[dict[str, Any]] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(dict(scope["session"]))
        scope["session"].update(scope.get("store", {}))
        await PlainTextResponse("ok")(scope, receive, send)

    made: Any = cookie.middleware()  # Starlette's Middleware: (cls, args, kwargs)
    assert made.cls is SessionMiddleware
    return made.cls(app, *made.args, **made.kwargs), seen


async def call(middleware: Any, *, cookie: str | None = None, store: Any = None) -> list[str]:
    """One request through ``middleware``; the Set-Cookie headers of its answer."""
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    headers = [] if cookie is None else [(b"cookie", f"{SESSION_COOKIE}={cookie}".encode())]
    scope = {"type": "http", "method": "GET", "path": "/", "headers": headers}
    if store is not None:
        scope["store"] = store
    await middleware(scope, receive, send)
    return [v.decode() for k, v in sent[0]["headers"] if k == b"set-cookie"]


async def written_by_starlette(content: dict[str, Any]) -> str:
    middleware, _ = starlette()
    (header,) = await call(middleware, store=content)
    return header.split(";")[0].split("=", 1)[1]


async def read_by_starlette(value: str, cookie: SessionCookie = COOKIE) -> dict[str, Any]:
    middleware, seen = starlette(cookie)
    await call(middleware, cookie=value)
    session: dict[str, Any] = seen[0]
    return session


def scope_with(value: str) -> dict[str, Any]:
    return {"headers": [(b"cookie", f"other=1; {SESSION_COOKIE}={value}".encode())]}


@settings(max_examples=100, deadline=None)
@given(content=SESSIONS.filter(bool))
async def test_what_starlette_writes_the_codec_reads(content: dict[str, Any]) -> None:
    value = await written_by_starlette(content)

    assert COOKIE.codec.decode(value) == content
    assert COOKIE.read(scope_with(value)) == content


@settings(max_examples=100, deadline=None)
@given(content=SESSIONS)
async def test_what_the_codec_writes_starlette_reads(content: dict[str, Any]) -> None:
    value = COOKIE.codec.encode(content)

    assert await read_by_starlette(value) == content


async def test_the_app_s_own_session_reads_the_same_both_ways() -> None:
    content = {"sid": "abc", "own": ["k1", "k2"], "survey": "key-1", "name": "Zoë نور"}

    ours = COOKIE.codec.encode(content)
    theirs = await written_by_starlette(content)

    assert COOKIE.codec.decode(theirs) == await read_by_starlette(ours) == content


async def test_both_refuse_a_forged_garbled_or_foreign_cookie() -> None:
    good = COOKIE.codec.encode({"sid": "abc"})
    refused = [
        good[:-2] + ("AA" if not good.endswith("AA") else "BB"),  # signature changed
        "not-a-cookie",
        "eyJzaWQiOiAiYWJjIn0=.forged.sig",
        SessionCodec("another-secret", max_age=3600).encode({"sid": "abc"}),
    ]

    for value in refused:
        assert COOKIE.codec.decode(value) == {}
        assert await read_by_starlette(value) == {}


async def test_both_refuse_an_expired_cookie() -> None:
    expired = SessionCookie(SESSION_COOKIE, SECRET, max_age=-1)
    value = COOKIE.codec.encode({"sid": "abc"})

    assert expired.codec.decode(value) == {}
    assert await read_by_starlette(value, expired) == {}


def test_a_signed_value_that_is_not_a_session_reads_as_none() -> None:
    # Only someone holding the secret could sign these; still no exception.
    signer = COOKIE.codec._signer
    for data in (b"!!", b"bm90IGpzb24=", b"WzEsIDJd"):  # not base64, not JSON, a list
        assert COOKIE.codec.decode(signer.sign(data).decode()) == {}


async def test_the_cookie_starlette_writes_has_the_settings_given() -> None:
    cookie = SessionCookie(SESSION_COOKIE, SECRET, max_age=900, https_only=True)
    middleware, _ = starlette(cookie)

    (header,) = await call(middleware, store={"sid": "abc"})

    assert header.startswith(f"{SESSION_COOKIE}=")
    assert "; path=/; Max-Age=900; httponly; samesite=lax; secure" in header
