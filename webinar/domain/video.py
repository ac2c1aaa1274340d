"""Seeing and hearing: the main stage and each breakout group's call, as pure data.

Nothing here sends or fetches anything. The agenda names a *stage* (a player or meeting
to embed, or a link that opens in a new tab) and a breakout's *call provider*; this module
checks their web addresses, says which origins the Content-Security-Policy must allow,
names each group's room from a secret, builds the claims of a Jitsi token and the
checksummed URLs of BigBlueButton's API. Signing, HTTP and who may join which room are the
services' business (:mod:`webinar.services.calls`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

#: Kinds of stage: embedded in a frame, played in a <video>, or opened in a new tab.
FRAME_KINDS = ("youtube", "vimeo", "jitsi", "bbb")
VIDEO_KINDS = ("hls",)
LINK_KINDS = ("teams", "zoom", "link")
STAGE_KINDS = FRAME_KINDS + VIDEO_KINDS + LINK_KINDS
#: Names people read for each kind ("Watch in Microsoft Teams").
STAGE_NAMES = {
    "youtube": "YouTube",
    "vimeo": "Vimeo",
    "jitsi": "Jitsi Meet",
    "bbb": "BigBlueButton",
    "hls": "the live stream",
    "teams": "Microsoft Teams",
    "zoom": "Zoom",
    "link": "the live stream",
}
#: Group call providers: a Jitsi Meet with JWT auth, BigBlueButton's API, or a plain link.
CALL_PROVIDERS = ("jitsi", "bbb", "link")
#: BigBlueButton checksum algorithms this app can sign with (BBB accepts any it is set to).
BBB_ALGORITHMS = ("sha1", "sha256")
#: A Jitsi token is good from a little before it is made (clocks drift) ...
TOKEN_LEEWAY = timedelta(seconds=30)
#: ... until the breakout ends plus this, and never less or more than these.
TOKEN_AFTER_END = timedelta(minutes=5)
TOKEN_SHORTEST = timedelta(minutes=5)
TOKEN_LONGEST = timedelta(hours=3)


@dataclass(frozen=True, slots=True)
class Stage:
    """What attendees watch during an item: ``kind`` (one of :data:`STAGE_KINDS`), the
    web address, an accessible title and an optional live-captioning (CART) link."""

    kind: str
    url: str
    title: str = ""
    captions: str = ""

    @property
    def mode(self) -> str:
        """``frame``, ``video`` or ``link``: how the page shows it."""
        if self.kind in FRAME_KINDS:
            return "frame"
        if self.kind in VIDEO_KINDS:
            return "video"
        return "link"

    @property
    def origin(self) -> str:
        return origin_of(self.url)

    @property
    def label(self) -> str:
        return self.title or f"Main stage: {STAGE_NAMES.get(self.kind, self.kind)}"

    @property
    def key(self) -> str:
        """Same key, same stage: a page keeps a playing stage while the key is unchanged."""
        return f"{self.kind}|{self.url}|{self.captions}"


#: An item's ``stage = false``: no stage during it, whatever the event names.
NO_STAGE = Stage("off", "")


@dataclass(frozen=True, slots=True)
class CallSettings:
    """A breakout's group calls: ``provider`` and its public address (for ``link``, a
    template in which ``{group}`` becomes the group number)."""

    provider: str
    url: str

    @property
    def origin(self) -> str:
        return origin_of(self.url)


# -- web addresses ----------------------------------------------------------------------------


def is_loopback_host(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def address_problem(url: str, example: str) -> str | None:
    """Why ``url`` cannot be a stage or call address, in a sentence; ``None`` if it can.

    It must be ``https://`` with a host; ``http://`` only for this computer (127.0.0.1,
    ``localhost``), for tests and rehearsals, because a page served over HTTPS may not
    embed plain HTTP and a stream sent in the clear can be watched or changed on the way.
    """
    text = url.strip()
    try:
        parts = urlsplit(text)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return f'is "{text}", which is not a web address; give one like "{example}".'
    if any(ch.isspace() for ch in text) or not host or parts.scheme not in ("https", "http"):
        return f'should be a web address starting with "https://", like "{example}".'
    if parts.username or parts.password:
        return (
            "should not hold a user name or password (anyone who sees the page could read "
            f'them); give the address alone, like "{example}".'
        )
    if parts.scheme == "http" and not is_loopback_host(host):
        return (
            f'starts with "http://", which is only allowed for this computer (127.0.0.1 or '
            f'localhost, for tests and rehearsals); use "https://", like "{example}".'
        )
    return None


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of a checked address, lower-case, as CSP writes origins."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    default = {"https": 443, "http": 80}.get(parts.scheme.lower())
    suffix = f":{port}" if port is not None and port != default else ""
    return f"{parts.scheme.lower()}://{host}{suffix}"


# -- which stage, which origins -------------------------------------------------------------------


def stage_for(event_stage: Stage | None, item_stage: Stage | None, kind: str) -> Stage | None:
    """The stage shown during an item: its own, else the event's, except that a breakout
    shows none unless it names one (people are in their group's call) and ``stage =
    false`` shows none."""
    if item_stage is not None:
        return None if item_stage.kind == NO_STAGE.kind else item_stage
    if kind == "breakout":
        return None
    return event_stage


@dataclass(frozen=True, slots=True)
class Origins:
    """The origins the pages' policy must allow, each sorted and unique."""

    #: frame-src: embedded stages and group call providers.
    frames: tuple[str, ...] = ()
    #: media-src and connect-src: HLS streams (hls.js fetches them and plays them from MSE).
    streams: tuple[str, ...] = ()
    #: camera, microphone, display-capture: the group call providers only.
    calls: tuple[str, ...] = ()


def origins_of(stages: Iterable[Stage], calls: Iterable[CallSettings]) -> Origins:
    """Exactly the origins the configured stages and call providers need; no others."""
    stage_list = list(stages)
    call_list = [c for c in calls if c.provider in ("jitsi", "bbb")]
    frames = {s.origin for s in stage_list if s.mode == "frame"}
    frames |= {c.origin for c in call_list}
    return Origins(
        frames=tuple(sorted(frames)),
        streams=tuple(sorted({s.origin for s in stage_list if s.mode == "video"})),
        calls=tuple(sorted({c.origin for c in call_list})),
    )


# -- rooms ---------------------------------------------------------------------------------------


def room_name(key: bytes, event: str, item_id: str, round_id: int, group: int) -> str:
    """A group's room name: 26 lower-case letters and digits (130 bits) of an HMAC of the
    event, item, round and group under the server's room key.

    Without the key nobody can name another group's room (or any room of this event), and
    the event code is not in it. Lower-case, because Jitsi compares room names lower-cased.
    """
    message = "\x1f".join((event, item_id, str(round_id), str(group))).encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return "wb" + base64.b32encode(digest).decode().lower().rstrip("=")[:26]


# -- Jitsi ---------------------------------------------------------------------------------------


def jitsi_room_url(base: str, room: str) -> str:
    return base.rstrip("/") + "/" + room


def jitsi_subject(base: str) -> str:
    """The ``sub`` claim Prosody expects: the tenant (``https://host/tenant``), lower-case,
    or else the domain."""
    parts = urlsplit(base)
    tenant = parts.path.strip("/").split("/")[0]
    return (tenant or parts.hostname or "").lower()


def token_expiry(now: datetime, breakout_ends: datetime | None) -> datetime:
    """When a call token expires: a little after the breakout's end, within bounds."""
    wanted = (breakout_ends or now) + TOKEN_AFTER_END
    return min(max(wanted, now + TOKEN_SHORTEST), now + TOKEN_LONGEST)


def jitsi_claims(
    *,
    app_id: str,
    audience: str,
    subject: str,
    room: str,
    name: str,
    moderator: bool,
    now: datetime,
    expires: datetime,
) -> dict[str, Any]:
    """The claims of one person's Jitsi token, as Prosody's token module reads them:
    ``iss`` (the app id), ``aud``, ``sub`` (domain or tenant), ``room``, ``exp``, and
    ``context.user`` with the display name and whether they moderate. No id or e-mail:
    Jitsi learns the display name only."""
    return {
        "iss": app_id,
        "aud": audience,
        "sub": subject,
        "room": room,
        "iat": int(now.timestamp()),
        "nbf": int((now - TOKEN_LEEWAY).timestamp()),
        "exp": int(expires.timestamp()),
        "context": {
            "user": {
                "name": name,
                "moderator": moderator,
                "affiliation": "owner" if moderator else "member",
            }
        },
    }


# -- BigBlueButton -------------------------------------------------------------------------------


def bbb_checksum(call: str, query: str, secret: str, algorithm: str = "sha1") -> str:
    """BigBlueButton's checksum: the hex digest of call name + query string + secret."""
    if algorithm not in BBB_ALGORITHMS:
        raise ValueError(f"unknown checksum algorithm {algorithm!r}")
    return hashlib.new(algorithm, (call + query + secret).encode()).hexdigest()


def bbb_url(
    api_base: str,
    call: str,
    params: Sequence[tuple[str, str]],
    secret: str,
    algorithm: str = "sha1",
) -> str:
    """The full URL of an API call, its query string URL-encoded and checksummed."""
    query = urlencode(list(params))
    checksum = bbb_checksum(call, query, secret, algorithm)
    joined = f"{query}&checksum={checksum}" if query else f"checksum={checksum}"
    return f"{bbb_api(api_base)}{call}?{joined}"


def bbb_api(base: str) -> str:
    """The API root: ``https://host/bigbluebutton/api/`` from the server's address, with
    or without the ``/bigbluebutton/`` or ``/api`` part."""
    root = base.rstrip("/")
    if root.endswith("/api"):
        return root + "/"
    if not root.endswith("/bigbluebutton"):
        root += "/bigbluebutton"
    return root + "/api/"


def bbb_create_params(room: str, title: str) -> list[tuple[str, str]]:
    return [("name", title), ("meetingID", room), ("record", "false")]


def bbb_join_params(room: str, name: str, moderator: bool) -> list[tuple[str, str]]:
    return [
        ("fullName", name),
        ("meetingID", room),
        ("role", "MODERATOR" if moderator else "VIEWER"),
        ("redirect", "true"),
    ]


def bbb_end_params(room: str) -> list[tuple[str, str]]:
    return [("meetingID", room)]
