"""Commit, then publish: the one path by which a state change reaches the screens.

A change is written together with its events in one transaction; only after COMMIT are
the events handed to the hub, so no screen ever sees what the database might lose. One
lock spans both steps, so events reach the hub in sequence order.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from webinar.domain import events as event_models
from webinar.realtime.hub import Event, Hub
from webinar.storage import repo
from webinar.storage.db import Database, Fenced, Tx

T = TypeVar("T")

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


@dataclass(slots=True)
class EventChecks:
    """What checks each event before it is written, and each snapshot before it is sent.

    Off in production (no cost on the hot paths). The test suite turns them on for every
    test (``tests/conftest.py``); ``WEBINAR_CHECK_EVENTS=1`` turns them on in ``webinar
    serve``. An event that fails its check refuses the change that made it.
    """

    event: Callable[[str, str, dict[str, Any]], None] | None = None
    snapshot: Callable[[dict[str, Any]], None] | None = None

    def against_models(self) -> None:
        """Check against the models of :mod:`webinar.domain.events` from now on."""
        self.event = event_models.check
        self.snapshot = event_models.check_snapshot


CHECKS = EventChecks()


@dataclass(frozen=True, slots=True)
class Outgoing:
    """An event to append in the current transaction."""

    type: str
    audience: str
    data: dict[str, Any]


Work = Callable[[Tx, datetime], Awaitable[tuple[Any, list[Outgoing]]]]


@dataclass(slots=True)
class _Pending:
    work: Work
    apply: Callable[[Any], None] | None
    done: asyncio.Future[Any]
    #: ``time.perf_counter()`` when the change was handed to :meth:`Committer.commit`.
    submitted: float


#: Told of every COMMIT that held: (seconds from BEGIN to the end of COMMIT, and for each
#: change of the batch, seconds from its submit to the end of that COMMIT).
CommitObserver = Callable[[float, list[float]], None]


#: A change of a batch once written: (change, result, events, None), or refused:
#: (change, None, [], the error).
_Outcome = tuple[_Pending, Any, list[Event], BaseException | None]


class Committer:
    """The database, the hub and the clock, joined by the commit-then-publish rule.

    Group commit: changes that arrive while a transaction is being written wait for it,
    then go together into the next one, each inside its own SAVEPOINT (so one refused
    change rolls back alone), applied to memory in order as they are written. With
    ``synchronous=FULL`` every COMMIT is an fsync; sharing it lets a burst of votes and
    questions cost a few fsyncs a second instead of one each.
    Each change is still acknowledged only after the COMMIT that holds it.
    """

    #: Most changes written in one transaction.
    MAX_BATCH = 256

    def __init__(self, db: Database, hub: Hub, clock: Clock) -> None:
        self.db = db
        self.hub = hub
        self.clock = clock
        self._queue: list[_Pending] = []
        self._writer: asyncio.Task[None] | None = None
        self.commits = 0
        self.changes = 0
        #: Called when a COMMIT fails, to bring in-memory state back to the database's.
        self.reloaders: list[Callable[[], Awaitable[None]]] = []
        #: Called after each COMMIT's events reached the hub, without waiting (the
        #: stream publisher of ``services/fanout.py`` rings here).
        self.published: list[Callable[[], None]] = []
        #: Told how long each COMMIT took (metrics); None: nothing is measured.
        self.observer: CommitObserver | None = None
        #: A COMMIT failed and memory (the services' state, the hub) is not yet brought
        #: back to the database's: done before the next transaction (:meth:`_settle`).
        self.unsettled = False

    @property
    def backlog(self) -> int:
        """Changes waiting for the writer (not yet in a transaction)."""
        return len(self._queue)

    async def load_ring(self, size: int) -> None:
        rows = await repo.recent_events(self.db, size)
        self.hub.load(Event(r.seq, r.type, r.audience, r.data, r.at) for r in rows)
        self.hub.last_seq = max(self.hub.last_seq, await repo.last_seq(self.db))
        self.hub.replay_floor = max(self.hub.replay_floor, await repo.replay_floor(self.db))

    def take_back(self, floor: int) -> None:
        """Apply a floor from ``repo.raise_replay_floor``: no replay from before it."""
        self.hub.replay_floor = max(self.hub.replay_floor, floor)

    async def commit(
        self,
        work: Callable[[Tx, datetime], Awaitable[tuple[T, list[Outgoing]]]],
        apply: Callable[[T], None] | None = None,
    ) -> T:
        """Run ``work(tx, now)`` in a transaction, then publish the events it returned.

        ``work`` returns its result and the events to append; it reads in-memory state
        but never changes it (compute in work, install in apply). ``apply`` installs the
        result in the services' in-memory state; it runs as soon as the change is
        written, inside the transaction, so that the next change of the same batch builds
        on it, and never for a change refused after its work. The events are published
        only after COMMIT, and the caller hears of success only then. If the COMMIT fails,
        the services reload their state from the database (``reloaders``).

        An exception from ``work`` rolls back that change alone and is raised here.
        A caller that stops waiting does not stop its change: it is written or refused.
        """
        done: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.append(_Pending(work, apply, done, time.perf_counter()))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_all(), name="group-commit")
        return await asyncio.shield(done)

    async def flush(self) -> None:
        """Wait until every change handed to :meth:`commit` is written (for shutdown)."""
        while self._writer is not None and not self._writer.done():
            await asyncio.shield(self._writer)

    async def _write_all(self) -> None:
        while self._queue:
            batch, self._queue = self._queue[: self.MAX_BATCH], self._queue[self.MAX_BATCH :]
            await self._write(batch)

    async def _settled(self, batch: list[_Pending]) -> bool:
        """Whether memory matches the database (settled now if a COMMIT failed before);
        when it cannot be settled (the database still away) the batch is refused."""
        if not self.unsettled:
            return True
        try:
            await self._settle()
        except Exception as exc:  # nothing of the batch is written
            self._refuse(batch, exc)
            return False
        return True

    async def _write(self, batch: list[_Pending]) -> None:
        if not await self._settled(batch):
            return
        now = self.clock()
        outcomes: list[_Outcome] = []
        began = time.perf_counter()
        try:
            async with self.db.transaction() as tx:
                for pending in batch:
                    outcomes.append(await self._write_one(tx, pending, now))
        except Exception as exc:  # the COMMIT itself failed: nothing of the batch holds
            await self._commit_failed(batch, exc)
            return
        self.commits += 1
        self.changes += len(batch)
        if self.observer is not None:
            self._observe(batch, began)
        try:
            self.hub.publish_all([event for _, _, events, _ in outcomes for event in events])
        except Exception:  # a bug: the changes hold; screens resync when they reconnect
            log.exception("publishing the events of a commit failed")
        for ring in self.published:
            ring()
        for pending, result, _, error in outcomes:
            if not pending.done.done():
                if error is not None:
                    pending.done.set_exception(error)
                else:
                    pending.done.set_result(result)

    def _observe(self, batch: list[_Pending], began: float) -> None:
        assert self.observer is not None
        ended = time.perf_counter()
        try:
            self.observer(ended - began, [ended - pending.submitted for pending in batch])
        except Exception:  # measuring must never fail a commit
            log.exception("observing a commit failed")

    async def _write_one(self, tx: Tx, pending: _Pending, now: datetime) -> _Outcome:
        """One change of a batch in its own SAVEPOINT; a refused one is undone alone. The
        statement that numbers its events also checks the writer epoch: ``Fenced`` ends
        the whole transaction (this worker no longer writes for the event)."""
        at = iso(now)
        try:
            async with self.db.savepoint(tx):
                result, outgoing = await pending.work(tx, now)
                check = CHECKS.event
                if check is not None:
                    for out in outgoing:
                        check(out.type, out.audience, out.data)
                seqs = await repo.append_events(
                    tx, at, [(out.type, out.audience, out.data) for out in outgoing], self.db
                )
                events = [
                    Event(seq, out.type, out.audience, out.data, at)
                    for seq, out in zip(seqs, outgoing, strict=True)
                ]
                if pending.apply is not None:
                    pending.apply(result)
        except Fenced:
            raise
        except Exception as exc:  # refused: this change alone is undone
            return (pending, None, [], exc)
        return (pending, result, events, None)

    async def _commit_failed(self, batch: list[_Pending], exc: Exception) -> None:
        log.error("a commit failed; reloading state from the database", exc_info=exc)
        self._refuse(batch, exc)
        self.unsettled = True
        try:
            await self._settle()
        except Exception:  # the database away: the next transaction settles first
            log.exception("reload after a failed commit failed")

    @staticmethod
    def _refuse(batch: list[_Pending], exc: Exception) -> None:
        for pending in batch:
            if not pending.done.done():
                pending.done.set_exception(exc)

    async def _settle(self) -> None:
        """Bring memory back to the database after a failed COMMIT. Its outcome may be
        unknown (the connection broke after COMMIT was sent: it may hold), so it is read,
        never run again: the hub is fed what the log has after its last seq (once each,
        in order), then the services reload their state."""
        while rows := await repo.events_after(self.db, self.hub.last_seq, 512):
            # (what another task fed the hub meanwhile, a takeover's catch-up, is skipped)
            fresh = [r for r in rows if r.seq > self.hub.last_seq]
            self.hub.publish_all([Event(r.seq, r.type, r.audience, r.data, r.at) for r in fresh])
            for ring in self.published:
                ring()
        self.hub.replay_floor = max(self.hub.replay_floor, await repo.replay_floor(self.db))
        failed: Exception | None = None
        for reload in self.reloaders:  # each, even after one failed
            try:
                await reload()
            except Exception as exc:
                failed = failed or exc
        if failed is not None:
            raise failed
        self.unsettled = False
