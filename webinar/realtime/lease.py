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


def lease_key(prefix: str, webinar_id: int) -> str:
    return f"{prefix}:event:{webinar_id}:writer"


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
        self._renew = redis.register_script(_RENEW)
        self._release = redis.register_script(_RELEASE)

    async def acquire(self) -> bool:
        """Take the lease if nobody holds it; True if this holder has it now."""
        taken = await self.redis.set(self.key, self.token, nx=True, px=self.ttl_ms)
        return bool(taken) or await self.holder() == self.token

    async def renew(self) -> bool:
        """Extend the lease by ``ttl_ms``; False if this holder no longer has it."""
        return bool(await self._renew(keys=[self.key], args=[self.token, self.ttl_ms]))

    async def release(self) -> None:
        """Give the lease up (only if this holder still has it), so another takes it now."""
        await self._release(keys=[self.key], args=[self.token])

    async def holder(self) -> str | None:
        """The token of whoever holds the lease, or None."""
        value = await self.redis.get(self.key)
        if value is None:
            return None
        return value.decode() if isinstance(value, bytes) else str(value)
