"""An event's live log in a Redis Stream: the fan-out between the workers of a server.

The writing worker appends each committed event with the stream ID ``<seq>-0``; Redis
refuses an ID that is not above the stream's last one, so a retried or repeated append is
refused and harmless, and the stream's order is the sequence order. The stream is trimmed
to about the replay ring's length (``MAXLEN ~``). Other workers read it from the last
sequence number their hub has (``XREAD BLOCK``). The database's log stays the system of
record: whatever the stream lost or never got is read back from there
(``webinar/services/fanout.py``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from webinar.realtime.hub import Event

#: Redis's answer to an XADD whose ID is not above the stream's last one.
_NOT_ABOVE = "equal or smaller"


@dataclass(frozen=True, slots=True)
class Entry:
    """One event read from a stream, with the replay floor its writer had then."""

    event: Event
    floor: int


@dataclass(frozen=True, slots=True)
class Change:
    """A change the writer made to the audiences of one screen another worker serves
    (``webinar.web.edge``), with the stream ID ``<seq>-<k>``: after event ``seq``, before
    ``seq + 1``. ``screen`` is the screen's key for this kind of change (random, known to
    the writer and to the screen's worker only; a different key per kind, so that entries
    do not link a screen's group to its question); ``op`` is ``add``, ``remove`` or ``end``
    (``value``: an audience, or the reason the screen is closed); ``n`` counts the writer's
    changes (a gap: some were lost), ``writer`` names that counter."""

    seq: int
    k: int
    screen: str
    op: str
    value: str
    n: int
    writer: str


def connect(url: str, timeout: float = 5.0) -> Redis:
    """A client for the Redis at ``url`` (``redis://host:port/db``). A call that gets no
    answer in ``timeout`` seconds (more than a follower's ``XREAD BLOCK``) raises
    ``redis.TimeoutError``, so a Redis that hangs is noticed like one that is down."""
    client: Redis = Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
    return client


def stream_key(prefix: str, webinar_id: int) -> str:
    """The stream of one event (``prefix`` names the database, so that two servers on
    two databases can share one Redis)."""
    return f"{prefix}:event:{webinar_id}:log"


class EventStream:
    """One event's stream: append with ID = seq, read after a seq, its last seq."""

    def __init__(self, redis: Redis, key: str, maxlen: int) -> None:
        self.redis = redis
        self.key = key
        self.maxlen = maxlen

    async def append(self, events: Sequence[Event], floor: int) -> int:
        """Append events in sequence order (one round trip); returns how many were new.

        An event already in the stream (its seq not above the stream's last) is refused
        by Redis and skipped: appending is idempotent. Other errors raise
        ``redis.RedisError``.
        """
        if not events:
            return 0
        async with self.redis.pipeline(transaction=False) as pipe:
            for event in events:
                pipe.xadd(
                    self.key,
                    _fields(event, floor),
                    id=f"{event.seq}-0",
                    maxlen=self.maxlen,
                    approximate=True,
                )
            results = await pipe.execute(raise_on_error=False)
        return _count_added(results)

    async def append_changes(self, changes: Sequence[Change]) -> int:
        """Append audience changes with IDs ``<seq>-<k>`` (one round trip); one whose ID is
        not above the stream's last (already there, or too late) is refused and skipped.
        Returns how many were new."""
        if not changes:
            return 0
        async with self.redis.pipeline(transaction=False) as pipe:
            for change in changes:
                pipe.xadd(
                    self.key,
                    {
                        "op": change.op,
                        "s": change.screen,
                        "v": change.value,
                        "n": change.n,
                        "w": change.writer,
                    },
                    id=f"{change.seq}-{change.k}",
                    maxlen=self.maxlen,
                    approximate=True,
                )
            results = await pipe.execute(raise_on_error=False)
        return _count_added(results)

    async def last_seq(self) -> int:
        """The seq of the stream's newest entry (0 for a stream that does not exist)."""
        entries: Any = await self.redis.xrevrange(self.key, count=1)
        if not entries:
            return 0
        return _seq(entries[0][0])

    async def read(self, after: int, block_ms: int | None, count: int = 512) -> list[Entry]:
        """Entries after seq ``after``, oldest first; waits up to ``block_ms`` for the
        first (``None``: do not wait). Raises ``redis.RedisError`` when Redis fails."""
        items = await self.read_with_changes((after, 0), block_ms, count)
        return [item for item in items if isinstance(item, Entry)]

    async def read_with_changes(
        self, after: tuple[int, int], block_ms: int | None, count: int = 512
    ) -> list[Entry | Change]:
        """Events and audience changes after the stream ID ``after`` (seq, k), in order."""
        start = f"{after[0]}-{after[1]}"
        reply: Any = await self.redis.xread({self.key: start}, count=count, block=block_ms)
        if not reply:
            return []
        # One stream asked for: [[key, [(id, fields), ...]]] (RESP2, redis-py's default).
        return [_entry(stream_id, fields) for stream_id, fields in reply[0][1]]


def _count_added(results: list[Any]) -> int:
    added = 0
    for result in results:
        if isinstance(result, ResponseError):
            if _NOT_ABOVE not in str(result):
                raise result
        elif isinstance(result, Exception):
            raise result
        else:
            added += 1
    return added


def _fields(event: Event, floor: int) -> dict[Any, Any]:  # redis-py types its fields loosely
    return {
        "t": event.type,
        "a": event.audience,
        "d": json.dumps(event.data, separators=(",", ":"), ensure_ascii=False),
        "at": event.at,
        "f": floor,
    }


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _seq(stream_id: bytes | str) -> int:
    return int(_text(stream_id).partition("-")[0])


def _entry(stream_id: bytes | str, fields: dict[bytes | str, bytes | str]) -> Entry | Change:
    values = {_text(k): _text(v) for k, v in fields.items()}
    if "op" in values:
        seq, _, k = _text(stream_id).partition("-")
        return Change(
            int(seq), int(k), values["s"], values["op"], values["v"], int(values["n"]), values["w"]
        )
    event = Event(_seq(stream_id), values["t"], values["a"], json.loads(values["d"]), values["at"])
    return Entry(event, int(values["f"]))
