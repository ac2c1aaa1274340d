"""A small BigBlueButton API client: create and end meetings, make join URLs.

Every call is a GET whose query string carries a checksum (see
:func:`webinar.domain.video.bbb_url`); the answer is XML with a ``returncode``. The shared
secret stays in this object: it is never logged, and a URL holding a checksum is never
logged either.
"""

from __future__ import annotations

import contextlib
import logging
from xml.etree import ElementTree

import httpx

from webinar.domain.video import (
    bbb_create_params,
    bbb_end_params,
    bbb_join_params,
    bbb_url,
)

log = logging.getLogger(__name__)

#: Seconds to wait for BigBlueButton before saying it does not answer.
TIMEOUT = 10.0


class BbbError(Exception):
    """BigBlueButton refused a call or could not be reached; the message is for people."""


class BbbClient:
    def __init__(
        self,
        base: str,
        secret: str,
        algorithm: str = "sha1",
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base = base
        self._secret = secret
        self.algorithm = algorithm
        self._http = httpx.AsyncClient(timeout=TIMEOUT, transport=transport)

    def __repr__(self) -> str:
        return f"BbbClient({self.base!r})"  # never the secret

    def url(self, call: str, params: list[tuple[str, str]]) -> str:
        return bbb_url(self.base, call, params, self._secret, self.algorithm)

    async def _call(self, call: str, params: list[tuple[str, str]]) -> ElementTree.Element:
        try:
            response = await self._http.get(self.url(call, params))
        except httpx.HTTPError as exc:
            log.warning("BigBlueButton %s at %s failed: %s", call, self.base, type(exc).__name__)
            raise BbbError("The video call server does not answer; try again shortly.") from None
        try:
            root = ElementTree.fromstring(response.content)
        except ElementTree.ParseError:
            log.warning(
                "BigBlueButton %s at %s: not XML (HTTP %s)", call, self.base, response.status_code
            )
            raise BbbError("The video call server gave an answer this app cannot read.") from None
        if root.findtext("returncode") != "SUCCESS":
            key = root.findtext("messageKey") or "unknown"
            log.warning("BigBlueButton %s at %s refused: %s", call, self.base, key)
            raise BbbError(f"The video call server refused to {call} the meeting ({key}).")
        return root

    async def create(self, room: str, title: str) -> None:
        """Create the meeting (BigBlueButton answers SUCCESS again if it exists)."""
        await self._call("create", bbb_create_params(room, title))

    async def end(self, room: str) -> None:
        """End the meeting; one that was never created or already ended is no error."""
        # Logged by _call; nothing else to do at the end of a breakout.
        with contextlib.suppress(BbbError):
            await self._call("end", bbb_end_params(room))

    def join_url(self, room: str, name: str, moderator: bool) -> str:
        return self.url("join", bbb_join_params(room, name, moderator))

    async def close(self) -> None:
        await self._http.aclose()
