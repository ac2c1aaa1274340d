"""Commit, then publish: the one path by which a state change reaches the screens.

A change is written together with its events in one transaction; only after COMMIT are
the events handed to the hub, so no screen ever sees what the database might lose. One
lock spans both steps, so events reach the hub in sequence order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import aiosqlite

from webinar.realtime.hub import Event, Hub
from webinar.storage import repo
from webinar.storage.db import Database

T = TypeVar("T")

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True, slots=True)
class Outgoing:
    """An event to append in the current transaction."""

    type: str
    audience: str
    data: dict[str, Any]


class Live:
    """The database, the hub and the clock, joined by the commit-then-publish rule."""

    def __init__(self, db: Database, hub: Hub, clock: Clock = utcnow) -> None:
        self.db = db
        self.hub = hub
        self.clock = clock
        self._lock = asyncio.Lock()

    async def load_ring(self, size: int) -> None:
        rows = await repo.recent_events(self.db, size)
        self.hub.load(Event(r.seq, r.type, r.audience, r.data, r.at) for r in rows)
        self.hub.last_seq = max(self.hub.last_seq, await repo.last_seq(self.db))

    async def commit(
        self,
        work: Callable[[aiosqlite.Connection, datetime], Awaitable[tuple[T, list[Outgoing]]]],
        after_commit: Callable[[T], None] | None = None,
    ) -> T:
        """Run ``work(tx, now)`` in one transaction, then publish the events it returned.

        ``work`` returns its result and the events to append. ``after_commit`` runs after
        COMMIT and before publishing (to update in-memory state, so a snapshot taken at
        the new sequence number already shows the change). Exceptions from ``work`` roll
        everything back and publish nothing.
        """
        async with self._lock:
            now = self.clock()
            at = iso(now)
            events: list[Event] = []
            async with self.db.transaction() as tx:
                result, outgoing = await work(tx, now)
                for out in outgoing:
                    seq = await repo.append_event(tx, at, out.type, out.audience, out.data)
                    events.append(Event(seq, out.type, out.audience, out.data, at))
            if after_commit is not None:
                after_commit(result)
            for event in events:
                self.hub.publish(event)
            return result
