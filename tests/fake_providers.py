"""Local stand-ins for the video engines, checking what the real ones check.

``FakeJitsi`` answers ``GET /<room>?jwt=<token>`` after verifying the token as Jitsi's
Prosody token module does (``resources/prosody-plugins/token/util.lib.lua``:
``verify_token`` and ``verify_room``): the HS256 signature with the app secret, ``alg``
not empty, ``iss`` one of the accepted issuers (by default the app id), the ``room``
claim present, ``aud`` present and accepted (by default any), ``exp``/``nbf`` as
luajwtjitsi checks them, and the room joined equal to the lower-cased ``room`` claim (or
``*``); with domain verification on, ``sub`` must name the domain.

``FakeBbb`` answers BigBlueButton's API under ``/bigbluebutton/api/`` after checking each
checksum exactly as BBB's API documentation defines it: the query string without its
``checksum`` parameter, prefixed by the call name and followed by the shared secret,
hashed with the algorithm the checksum's length names (40 hex digits: sha1, 64: sha256),
which must be one the server allows.

Both run in a thread on a free loopback port and record what they accepted and refused.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlsplit

import jwt

JITSI_APP_ID = "webinar-test"
JITSI_SECRET = "prosody-app-secret-for-tests-0123456789abcdef"
BBB_SECRET = "639259d4-9dd8-4b25-bf01-95f9567eaf4b"


class TokenRefused(Exception):
    pass


def prosody_verify(
    token: str,
    room: str,
    *,
    secret: str = JITSI_SECRET,
    accepted_issuers: tuple[str, ...] = (JITSI_APP_ID,),
    accepted_audiences: tuple[str, ...] = ("*",),
    domain: str | None = None,
) -> dict[str, Any]:
    """The claims of ``token`` if Prosody would let its holder join ``room``."""
    try:
        header = jwt.get_unverified_header(token)
        claims: dict[str, Any] = jwt.decode(
            token,
            secret,
            algorithms=["HS256"],
            options={"verify_aud": False, "require": ["exp"]},
        )
    except jwt.PyJWTError as exc:
        raise TokenRefused(f"signature or expiry: {exc}") from None
    if header.get("alg") in (None, "", "none"):
        raise TokenRefused("'alg' claim must not be empty")
    if claims.get("iss") is None:
        raise TokenRefused("'iss' claim is missing")
    if claims["iss"] not in accepted_issuers:
        raise TokenRefused("Invalid issuer ('iss' claim)")
    if claims.get("room") is None:
        raise TokenRefused("'room' claim is missing")
    if claims.get("aud") is None:
        raise TokenRefused("'aud' claim is missing")
    if "*" not in accepted_audiences and claims["aud"] not in accepted_audiences:
        raise TokenRefused("Invalid audience ('aud' claim)")
    auth_room = str(claims["room"])
    if auth_room != "*" and room != auth_room.lower():
        raise TokenRefused("room does not match the token's 'room' claim")
    if domain is not None and str(claims.get("sub", "")).lower() not in ("*", domain.lower()):
        raise TokenRefused("domain does not match the token's 'sub' claim")
    return claims


@dataclass
class Visit:
    path: str
    params: dict[str, str]
    status: int
    detail: Any = None


class _Fake:
    """A small threaded HTTP server on a free loopback port."""

    #: Sent with every answer.
    headers: ClassVar[dict[str, str]] = {}

    def __init__(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status, content_type, body = fake.answer(self.path)
                data = body.encode()
                self.send_response(status)
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(len(data)))
                for name, value in fake.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.lock = threading.Lock()
        self.visits: list[Visit] = []
        self.changed = threading.Condition(self.lock)
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port: int = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def answer(self, path: str) -> tuple[int, str, str]:
        raise NotImplementedError

    def record(self, visit: Visit) -> None:
        with self.changed:
            self.visits.append(visit)
            self.changed.notify_all()

    def wait_for(self, predicate: Any, timeout: float = 15.0) -> list[Visit]:
        """Blocks (run it in a thread) until ``predicate(visits)``; the visits then."""
        with self.changed:
            if not self.changed.wait_for(lambda: predicate(self.visits), timeout):
                raise TimeoutError(f"not seen in {timeout} s: {self.visits}")
            return list(self.visits)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=10)


class FakeJitsi(_Fake):
    """``GET /<room>?jwt=...``: 200 and a page naming the room and the user, or 403."""

    def answer(self, path: str) -> tuple[int, str, str]:
        parts = urlsplit(path)
        room = parts.path.strip("/")
        params = dict(parse_qsl(parts.query))
        try:
            claims = prosody_verify(params.get("jwt", ""), room, domain="127.0.0.1")
        except TokenRefused as exc:
            self.record(Visit(parts.path, params, 403, str(exc)))
            return 403, "text/plain", f"refused: {exc}"
        self.record(Visit(parts.path, params, 200, claims))
        user = claims["context"]["user"]
        role = "moderator" if user["moderator"] else "participant"
        page = (
            '<!doctype html><html lang="en"><title>Jitsi</title>'
            f"<main><h1>Room {room}</h1><p id='who'>{user['name']} ({role})</p></main></html>"
        )
        return 200, "text/html; charset=utf-8", page


@dataclass
class Meeting:
    name: str
    running: bool = True
    joined: list[tuple[str, str]] = field(default_factory=list)


class FakeBbb(_Fake):
    """BigBlueButton's create, join and end, each refused unless its checksum is right."""

    ALGORITHMS: ClassVar[dict[int, str]] = {40: "sha1", 64: "sha256", 96: "sha384", 128: "sha512"}

    def __init__(self, secret: str = BBB_SECRET, allowed: tuple[str, ...] = ("sha1",)) -> None:
        super().__init__()
        self.secret = secret
        self.allowed = allowed
        self.meetings: dict[str, Meeting] = {}

    def checksum_ok(self, call: str, query: str) -> bool:
        params = dict(parse_qsl(query, keep_blank_values=True))
        given = params.get("checksum", "")
        stripped = query
        for form in (f"&checksum={given}", f"checksum={given}&", f"checksum={given}"):
            if form in stripped:
                stripped = stripped.replace(form, "", 1)
                break
        algorithm = self.ALGORITHMS.get(len(given))
        if algorithm is None or algorithm not in self.allowed:
            return False
        expected = hashlib.new(algorithm, (call + stripped + self.secret).encode()).hexdigest()
        return expected == given

    @staticmethod
    def xml(code: str, key: str = "", **fields: str) -> str:
        inner = "".join(f"<{k}>{v}</{k}>" for k, v in fields.items())
        message = f"<messageKey>{key}</messageKey>" if key else ""
        return f"<response><returncode>{code}</returncode>{message}{inner}</response>"

    def answer(self, path: str) -> tuple[int, str, str]:
        parts = urlsplit(path)
        call = parts.path.removeprefix("/bigbluebutton/api/")
        params = dict(parse_qsl(parts.query))
        if not parts.path.startswith("/bigbluebutton/api/") or not self.checksum_ok(
            call, parts.query
        ):
            self.record(Visit(call, params, 200, "checksumError"))
            return 200, "text/xml", self.xml("FAILED", "checksumError")
        with self.lock:
            status, kind, body = self._act(call, params)
        self.record(Visit(call, params, status, body))
        return status, kind, body

    def _act(self, call: str, params: dict[str, str]) -> tuple[int, str, str]:
        meeting_id = params.get("meetingID", "")
        meeting = self.meetings.get(meeting_id)
        if call == "create":
            if meeting is not None and meeting.running:
                return 200, "text/xml", self.xml("SUCCESS", "duplicateWarning")
            self.meetings[meeting_id] = Meeting(params.get("name", ""))
            return 200, "text/xml", self.xml("SUCCESS", meetingID=meeting_id)
        if call == "join":
            if meeting is None or not meeting.running:
                return 200, "text/xml", self.xml("FAILED", "notFound")
            meeting.joined.append((params["fullName"], params["role"]))
            page = (
                '<!doctype html><html lang="en"><title>BigBlueButton</title><main>'
                f"<h1>{meeting.name}</h1><p id='who'>{params['fullName']} "
                f"({params['role'].lower()})</p></main></html>"
            )
            return 200, "text/html; charset=utf-8", page
        if call == "end":
            if meeting is None or not meeting.running:
                return 200, "text/xml", self.xml("FAILED", "notFound")
            meeting.running = False
            return 200, "text/xml", self.xml("SUCCESS", "sentEndMeetingRequest")
        return 200, "text/xml", self.xml("FAILED", "unsupportedRequest")


class FakePage(_Fake):
    """Any path: a small page saying which server it came from (a stage to embed)."""

    def answer(self, path: str) -> tuple[int, str, str]:
        self.record(Visit(urlsplit(path).path, {}, 200))
        page = (
            '<!doctype html><html lang="en"><title>Stage</title>'
            f"<main><h1>Stage on port {self.port}</h1></main></html>"
        )
        return 200, "text/html; charset=utf-8", page


class FakeStream(_Fake):
    """An HLS live playlist, readable from other origins (as a stream server must be for
    hls.js); its segment is missing, so a player gets as far as the playlist."""

    headers: ClassVar[dict[str, str]] = {"access-control-allow-origin": "*"}

    def answer(self, path: str) -> tuple[int, str, str]:
        where = urlsplit(path).path
        if where != "/live.m3u8":
            self.record(Visit(where, {}, 404))
            return 404, "text/plain", "no such segment"
        self.record(Visit(where, {}, 200))
        playlist = (
            "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:0\n"
            "#EXTINF:4.0,\nsegment0.ts\n"
        )
        return 200, "application/vnd.apple.mpegurl", playlist
