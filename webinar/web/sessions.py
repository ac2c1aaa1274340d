"""The session cookie: its settings in one place, and its format owned here.

Pages and the API get their session from Starlette's ``SessionMiddleware``, which writes
the cookie. The live socket skips that middleware (``SocketShortcut`` in ``web/ws.py``),
so it reads the cookie itself, with :class:`SessionCodec`: the session as JSON, in
base64, signed with a timestamp by itsdangerous's ``TimestampSigner``. That is the
format Starlette's middleware writes, so a cookie already in a browser keeps working.
We own the codec rather than borrow the middleware's internals (its ``signer`` and
settings attributes, which upstream is free to change); ``tests/web/test_sessions.py``
checks both ways against the installed Starlette, so an upgrade that changed the format
fails there and not in front of an audience. ``docs/architecture.md`` says why.
"""

from __future__ import annotations

import json
from base64 import b64decode, b64encode
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

from itsdangerous import BadSignature, TimestampSigner
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import cookie_parser
from starlette.types import Scope


class SessionCodec:
    """A session dict to a cookie value and back, signed with ``secret_key``.

    :meth:`decode` gives ``{}`` for a value that is forged, garbled, or older than
    ``max_age`` seconds (``None``: no limit); never an exception.
    """

    def __init__(self, secret_key: str, *, max_age: int | None) -> None:
        self._signer = TimestampSigner(str(secret_key))
        self.max_age = max_age

    def encode(self, session: Mapping[str, Any]) -> str:
        data = b64encode(json.dumps(session).encode("utf-8"))
        return self._signer.sign(data).decode("utf-8")

    def decode(self, value: str) -> dict[str, Any]:
        try:
            data = self._signer.unsign(value.encode("utf-8"), max_age=self.max_age)
            content = json.loads(b64decode(data))
        except (BadSignature, ValueError):  # binascii, JSON and Unicode errors are ValueErrors
            return {}
        return content if isinstance(content, dict) else {}


@dataclass(frozen=True)
class SessionCookie:
    """How the session cookie is made: the writer (:meth:`middleware`) and the reader
    (:meth:`read`) both come from here, so they cannot disagree."""

    #: The cookie's name.
    name: str
    secret_key: str
    #: Seconds a cookie is good for: the event and its survey (``session_lifetime``).
    max_age: int
    #: Mark the cookie Secure: set when users reach the server over HTTPS.
    https_only: bool = False
    same_site: Literal["lax", "strict", "none"] = "lax"

    @cached_property
    def codec(self) -> SessionCodec:
        return SessionCodec(self.secret_key, max_age=self.max_age)

    def middleware(self) -> Middleware:
        """Starlette's session middleware, writing this cookie for pages and the API."""
        return Middleware(
            SessionMiddleware,
            secret_key=self.secret_key,
            session_cookie=self.name,
            max_age=self.max_age,
            same_site=self.same_site,
            https_only=self.https_only,
        )

    def read(self, scope: Scope) -> dict[str, Any]:
        """The session in a request's or socket's cookie; ``{}`` if absent, expired or forged."""
        header = "; ".join(v.decode("latin-1") for k, v in scope["headers"] if k == b"cookie")
        value = cookie_parser(header).get(self.name)
        return {} if value is None else self.codec.decode(value)
