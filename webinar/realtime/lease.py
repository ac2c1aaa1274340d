"""Which worker writes for an event: a lease in Redis (``SET key token NX PX``).

The holder renews it well within its time to live; a worker that dies or stops
renewing loses it when it runs out, and another takes it. A lease alone cannot stop a
holder that was paused past its expiry from writing once it wakes: the database's writer
epoch does (``Database.take_writing``): whoever takes the lease raises the epoch, and a
transaction under an older epoch is refused.
"""

from __future__ import annotations

import secrets

from redis.asyncio import Redis

#: Renew (or release) only a lease this holder still has: compare, then act, atomically.
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""
#: Renew one worker's membership (its expiry by Redis's clock) and say who is live.
_JOIN = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 2)
return redis.call('ZRANGE', KEYS[1], 0, -1)
"""


def lease_key(prefix: str, webinar_id: int) -> str:
    return f"{prefix}:event:{webinar_id}:writer"


def members_key(prefix: str) -> str:
    return f"{prefix}:workers"


class Lease:
    """One worker's claim to write for one event, ``ttl_ms`` long unless renewed.

    ``token`` says who holds it (a worker's private address, so that the others know
    where to forward the event's actions). Calls raise ``redis.RedisError`` when Redis
    fails; a holder that cannot renew must act as if it lost the lease.
    """

    def __init__(self, redis: Redis, key: str, ttl_ms: int, token: str | None = None) -> None:
        self.redis = redis
        self.key = key
        self.ttl_ms = ttl_ms
        self.token = token or secrets.token_hex(16)
        #: The holder's token as last read (None: free, or not known): whoever forwards
        #: to the writer uses it instead of asking Redis each time (``forget`` it when
        #: that writer cannot be reached or answers that it does not write).
        self.seen: str | None = None
        self._renew = redis.register_script(_RENEW)
        self._release = redis.register_script(_RELEASE)

    async def acquire(self) -> bool:
        """Take the lease if nobody holds it; True if this holder has it now."""
        taken = await self.redis.set(self.key, self.token, nx=True, px=self.ttl_ms)
        if taken:
            self.seen = self.token
            return True
        return await self.holder() == self.token

    async def renew(self) -> bool:
        """Extend the lease by ``ttl_ms``; False if this holder no longer has it."""
        return bool(await self._renew(keys=[self.key], args=[self.token, self.ttl_ms]))

    async def release(self) -> None:
        """Give the lease up (only if this holder still has it), so another takes it now."""
        await self._release(keys=[self.key], args=[self.token])

    async def holder(self) -> str | None:
        """The token of whoever holds the lease, or None."""
        value = await self.redis.get(self.key)
        self.seen = None if value is None else _text(value)
        return self.seen

    def forget(self) -> None:
        """The holder last seen is wrong (it cannot be reached, or no longer writes)."""
        self.seen = None


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class Membership:
    """One worker's membership of the live workers (a sorted set in Redis, each member
    with its expiry by Redis's clock): renewed every third of ``ttl_ms``, a worker that
    dies drops out when it runs out. ``live`` is the members seen at the last renewal."""

    def __init__(self, redis: Redis, key: str, member: str, ttl_ms: int) -> None:
        self.redis = redis
        self.key = key
        self.member = member
        self.ttl_ms = ttl_ms
        self.live: tuple[str, ...] = ()
        self._join = redis.register_script(_JOIN)

    async def renew(self) -> tuple[str, ...]:
        """Stay a member ``ttl_ms`` more; the live members (this one included)."""
        members = await self._join(keys=[self.key], args=[self.member, self.ttl_ms])
        self.live = tuple(sorted(_text(m) for m in members))
        return self.live

    async def leave(self) -> None:
        """Stop being a member now (a worker that stops), so the others prefer themselves."""
        await self.redis.zrem(self.key, self.member)
        self.live = ()
