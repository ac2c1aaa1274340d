"""Group calls: who may join which room, and the address that lets them in.

A breakout item names a provider (:class:`~webinar.domain.video.CallSettings`). A member
of a group asks for their call; this service checks they are in that group of the open
round and answers with the address their browser opens:

- ``jitsi``: the group's room with a short-lived token signed with the server's app
  secret (PyJWT), naming the room, the person's display name, and moderator for the
  group's facilitator only;
- ``bbb``: the meeting is created (checksummed API call) and a join URL made for them,
  moderator for the facilitator; when the breakout returns, every group's meeting is ended;
- ``link``: the template with the group's number.

Room names come from :func:`~webinar.domain.video.room_name` under the server's room key.
Nothing of this is stored: rooms are named again from the key whenever they are needed,
tokens and join URLs are handed out and forgotten.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import jwt

from webinar.domain import video
from webinar.domain.agenda import Agenda
from webinar.domain.breakout_round import Round
from webinar.domain.video import CallSettings
from webinar.services.access import Participant
from webinar.services.bbb_client import BbbClient, BbbError
from webinar.services.breakouts import BreakoutService

log = logging.getLogger(__name__)

#: The event part of room names (many events in one database will give each its own).
EVENT_KEY = "event"


@dataclass(frozen=True)
class CallConfig:
    """The server's secrets for group calls, from its configuration (never the agenda)."""

    jitsi_app_id: str = "webinar"
    jitsi_secret: str = field(default="", repr=False)
    #: The ``aud`` claim; Prosody accepts any unless ``asap_accepted_audiences`` is set.
    jitsi_audience: str = "jitsi"
    bbb_secret: str = field(default="", repr=False)
    bbb_checksum: str = "sha1"


def config_problems(agenda: Agenda, config: CallConfig) -> list[str]:
    """A sentence for each breakout whose provider the server has no secret for."""
    found = []
    for item in agenda.items:
        call = item.breakout.call if item.breakout else None
        if call is None:
            continue
        if call.provider == "jitsi" and not config.jitsi_secret:
            found.append(
                f'The breakout "{item.title}" uses Jitsi group calls, but the server has no '
                "Jitsi app secret: set WEBINAR_JITSI_SECRET or give --jitsi-secret-file "
                "(the app_secret of Prosody's token authentication; see docs/video.md)."
            )
        if call.provider == "bbb" and not config.bbb_secret:
            found.append(
                f'The breakout "{item.title}" uses BigBlueButton group calls, but the server '
                "has no BigBlueButton secret: set WEBINAR_BBB_SECRET or give "
                "--bbb-secret-file (the output of 'bbb-conf --secret'; see docs/video.md)."
            )
    if config.bbb_checksum not in video.BBB_ALGORITHMS:
        found.append(
            f"The BigBlueButton checksum algorithm must be one of "
            f"{', '.join(video.BBB_ALGORITHMS)}, not {config.bbb_checksum!r}."
        )
    return found


class CallError(Exception):
    """A call cannot be joined; ``message`` says why, ``status`` is the HTTP status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class CallService:
    def __init__(
        self,
        agenda: Agenda,
        breakouts: BreakoutService,
        ends_at: Callable[[], datetime | None],
        clock: Callable[[], datetime],
        config: CallConfig,
        room_key: bytes,
    ) -> None:
        self.agenda = agenda
        self.breakouts = breakouts
        self.ends_at = ends_at
        self.clock = clock
        self.config = config
        self._room_key = room_key
        self._bbb: dict[str, BbbClient] = {}
        self._ending: set[asyncio.Task[None]] = set()

    def room(self, rnd: Round, number: int) -> str:
        return video.room_name(self._room_key, EVENT_KEY, rnd.item_id, rnd.id, number)

    def settings_of(self, rnd: Round) -> CallSettings | None:
        settings = self.agenda.item(rnd.item_id).breakout
        if settings is None:
            return None
        if settings.call is None and settings.video_url_template:
            return CallSettings("link", settings.video_url_template)
        return settings.call

    def _bbb_client(self, base: str) -> BbbClient:
        if base not in self._bbb:
            self._bbb[base] = BbbClient(base, self.config.bbb_secret, self.config.bbb_checksum)
        return self._bbb[base]

    async def join_url(self, participant: Participant, round_id: int, number: int) -> str:
        """The address that puts ``participant`` into group ``number``'s call.

        ``CallError``: no such breakout, it has ended, they are not in that group, the
        breakout has no call, or the provider is not set up or does not answer.
        """
        rnd = self.breakouts.round_by_id(round_id)
        if rnd is None or number not in rnd.groups:
            raise CallError("There is no such breakout group.", 404)
        if participant.id not in rnd.groups[number].members:
            raise CallError("You can only join your own group's call.", 403)
        if rnd.ended_at is not None:
            raise CallError(
                "The breakout has ended, and its calls with it: you are back in the main session.",
                409,
            )
        call = self.settings_of(rnd)
        if call is None:
            raise CallError("This breakout has no video call.", 404)
        moderator = rnd.groups[number].facilitator_id == participant.id
        if call.provider == "link":
            return call.url.replace("{group}", str(number))
        if call.provider == "jitsi":
            return self._jitsi(call, rnd, number, participant.name, moderator)
        return await self._bbb_join(call, rnd, number, participant.name, moderator)

    def _jitsi(
        self, call: CallSettings, rnd: Round, number: int, name: str, moderator: bool
    ) -> str:
        if not self.config.jitsi_secret:
            raise CallError("Group calls are not set up on this server; tell the host.", 503)
        now = self.clock()
        room = self.room(rnd, number)
        claims = video.jitsi_claims(
            app_id=self.config.jitsi_app_id,
            audience=self.config.jitsi_audience,
            subject=video.jitsi_subject(call.url),
            room=room,
            name=name,
            moderator=moderator,
            now=now,
            expires=video.token_expiry(now, self.ends_at()),
        )
        token = jwt.encode(claims, self.config.jitsi_secret, algorithm="HS256")
        return f"{video.jitsi_room_url(call.url, room)}?jwt={token}"

    async def _bbb_join(
        self, call: CallSettings, rnd: Round, number: int, name: str, moderator: bool
    ) -> str:
        if not self.config.bbb_secret:
            raise CallError("Group calls are not set up on this server; tell the host.", 503)
        client = self._bbb_client(call.url)
        room = self.room(rnd, number)
        try:
            await client.create(room, f"Breakout group {number}")
        except BbbError as exc:
            raise CallError(str(exc), 502) from None
        return client.join_url(room, name, moderator)

    # -- the end of a breakout ------------------------------------------------------------------

    def round_ended(self, rnd: Round) -> None:
        """Called when a round ends: end its BigBlueButton meetings, without holding up
        the breakout (the calls go on in the background; failures are logged)."""
        call = self.settings_of(rnd)
        if call is None or call.provider != "bbb" or not self.config.bbb_secret:
            return
        task = asyncio.get_running_loop().create_task(self.end_meetings(rnd, call))
        self._ending.add(task)
        task.add_done_callback(self._ending.discard)

    async def end_meetings(self, rnd: Round, call: CallSettings) -> None:
        client = self._bbb_client(call.url)
        await asyncio.gather(*(client.end(self.room(rnd, n)) for n in sorted(rnd.groups)))

    async def close(self) -> None:
        if self._ending:
            await asyncio.gather(*self._ending, return_exceptions=True)
        for client in self._bbb.values():
            await client.close()
