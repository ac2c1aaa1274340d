"""Security headers, CSRF tokens and Origin checks.

Starlette and uvicorn check no WebSocket Origin by themselves, so the live endpoint
refuses a handshake whose Origin is not this site. Every state-changing request carries
the session's CSRF token (htmx sends it as a header from ``hx-headers``).
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from webinar.domain.video import Origins
from webinar.web.paths import route_path

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)

SECURITY_HEADERS: list[tuple[bytes, bytes]] = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    # same-origin, not no-referrer: under no-referrer browsers send "Origin: null" on form
    # posts, which the Origin check must refuse. Other sites still get no referrer.
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


def content_security_policy(origins: Origins) -> str:
    """The policy for an agenda's stages and calls: :data:`CSP` plus exactly their origins.

    Framed stages and call providers go in ``frame-src`` (with 'self', which the call's
    frame opens first, ``/breakout/call``); an HLS stream's origin in ``media-src`` and
    ``connect-src`` (hls.js fetches it, then plays it from a ``blob:`` MediaSource).
    """
    policy = CSP
    if origins.streams:
        streams = " ".join(origins.streams)
        policy = policy.replace("connect-src 'self'", f"connect-src 'self' {streams}")
        policy += f"; media-src 'self' blob: {streams}"
    if origins.frames:
        policy += "; frame-src 'self' " + " ".join(origins.frames)
    return policy


def permissions_policy(origins: Origins) -> str:
    """Camera, microphone and screen sharing for the group call providers' frames only:
    never for this site's own pages."""
    if not origins.calls:
        return "camera=(), microphone=(), geolocation=()"
    allowed = "(" + " ".join(f'"{origin}"' for origin in origins.calls) + ")"
    return f"camera={allowed}, microphone={allowed}, display-capture={allowed}, geolocation=()"


def security_headers(origins: Origins) -> list[tuple[bytes, bytes]]:
    """:data:`SECURITY_HEADERS` with the policies made for ``origins``."""
    made = {
        b"content-security-policy": content_security_policy(origins).encode(),
        b"permissions-policy": permissions_policy(origins).encode(),
    }
    return [(name, made.get(name, value)) for name, value in SECURITY_HEADERS]


CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"


class SecurityHeadersMiddleware:
    """Adds the security headers above to every HTTP response."""

    def __init__(self, app: ASGIApp, headers: list[tuple[bytes, bytes]] | None = None) -> None:
        self.app = app
        self.headers = SECURITY_HEADERS if headers is None else headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        # Pages and exports hold names and questions: no browser or proxy keeps a copy.
        # Static files (the same for everyone) may be cached.
        private = not route_path(scope).startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in self.headers if k not in present]
                if private and b"cache-control" not in present:
                    extra.append((b"cache-control", b"no-store"))
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        await self.app(scope, receive, send_with_headers)


def csrf_token(conn: HTTPConnection) -> str:
    """The session's CSRF token, created on first use."""
    token = conn.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        conn.session["csrf"] = token
    return token


def csrf_ok(conn: HTTPConnection, given: str | None) -> bool:
    expected = conn.session.get("csrf")
    if not isinstance(expected, str) or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


def origin_allowed(headers: Headers, allowed: Iterable[str] = ()) -> bool:
    """True when the Origin header is absent (not a browser) or names this site.

    Browsers always send Origin on a WebSocket handshake and on cross-site posts; a page
    on another site therefore cannot ride on the user's cookie.
    """
    origin = headers.get("origin")
    if origin is None:
        return True
    if origin in allowed:
        return True
    host = headers.get("host", "")
    parts = urlsplit(origin)
    return parts.scheme in ("http", "https") and parts.netloc.lower() == host.lower()
