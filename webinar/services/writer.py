"""One writer per event among the workers: take over with the lease, the epoch and the log.

A worker that gets an event's lease (``realtime/lease.py``) becomes its writer the way a
server restarts: it raises the event's writer epoch in the database (so a former writer
that wakes up can no longer commit), stops following the stream, brings its hub up to
the end of the database's log, reloads the services' state from the database, and starts
copying to the stream, first what the stream missed. Sequence numbers come from the
database (``webinars.last_seq``) in the writing transaction, so none is reused or skipped
whoever writes.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import time
from collections.abc import Awaitable, Callable

from redis.asyncio import Redis
from redis.exceptions import RedisError

from webinar.domain.placement import should_bid
from webinar.realtime.lease import Lease, Membership, lease_key
from webinar.realtime.streams import EventStream, stream_key
from webinar.services.commit import Committer
from webinar.services.fanout import StreamFollower, StreamPublisher, logged_after
from webinar.storage import repo
from webinar.storage.postgres import is_postgres

log = logging.getLogger(__name__)

#: How long a writer's lease lasts unless renewed: a worker that dies without giving it up
#: holds its events this long.
LEASE_MS = 5000
#: Seconds a lease stays free before a worker that is not the event's preferred writer
#: bids for it (``webinar.domain.placement``): two of the preferred worker's bids.
GRACE = LEASE_MS / 1000 / 5 * 2
#: Entries a stream keeps (about the replay ring's length).
STREAM_LENGTH = 4096


def key_prefix(db_path: str) -> str:
    """The Redis keys' prefix for one database (a file, by its real path, or a PostgreSQL
    URL as given), so servers of different databases can share one Redis (event ids
    start at 1 in each), and a server finds the same keys from any working directory."""
    name = db_path if is_postgres(db_path) else os.path.realpath(db_path)
    digest = hashlib.sha256(name.encode()).hexdigest()[:16]
    return f"webinar:{digest}"


async def catch_up_hub(committer: Committer) -> None:
    """Bring the hub to the database's log and replay floor (a new writer's first step,
    as :meth:`Committer.load_ring` at a start): every logged event after its last seq fed
    in order, and no replay from before the floor, so a screen resuming from before a
    change that took something back gets a snapshot."""
    committer.take_back(await repo.replay_floor(committer.db))
    while events := await logged_after(committer.db, committer.hub.last_seq):
        committer.hub.publish_all(events)


class EventWriter:
    """This worker's bid to write for one event.

    ``take_over`` returns True once this worker is the writer; the lease is then renewed
    every third of its time to live (``renewed`` is set at each renewal). When another
    worker holds the lease, the writer
    steps down: it stops publishing, and its epoch, raised by whoever took over, refuses
    any transaction it still tries. While Redis does not answer it keeps writing (the
    database is the record; followers read its log) and keeps trying.
    """

    def __init__(
        self,
        committer: Committer,
        lease: Lease,
        stream: EventStream,
        follower: StreamFollower | None = None,
    ) -> None:
        self.committer = committer
        self.lease = lease
        self.follower = follower
        self.publisher = StreamPublisher(committer, stream)
        self.writing = False
        self.renewed = asyncio.Event()
        self._renewer: asyncio.Task[None] | None = None
        #: Called once this writer stepped down because another holds the lease (a
        #: worker then stops the event's tickers and bids again).
        self.lost: Callable[[], Awaitable[None]] | None = None

    def serve(self, committer: Committer) -> None:
        """Write, once this worker takes over, for ``committer`` instead: the event opened
        again from the database (its agenda may have changed since this worker opened it)."""
        if self.writing:
            raise RuntimeError("a writer keeps its event's handle while it writes")
        self.committer = committer
        self.publisher = StreamPublisher(committer, self.publisher.stream, self.publisher.retry)

    async def take_over(self) -> bool:
        """Become the writer if the lease is free; True when this worker writes now."""
        if self.writing:
            return True
        if not await self.lease.acquire():
            return False
        if self.follower is not None:
            await self.follower.stop()
        await self.committer.db.take_writing()
        await catch_up_hub(self.committer)
        for reload in self.committer.reloaders:
            await reload()
        self.publisher.start()
        self.writing = True
        self._renewer = asyncio.create_task(self._renew(), name=f"lease {self.lease.key}")
        return True

    async def step_down(self) -> None:
        """Stop writing: stop renewing and publishing, give the lease up if still held."""
        self.writing = False
        if self._renewer is not None and self._renewer is not asyncio.current_task():
            self._renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewer
        self._renewer = None
        await self.publisher.stop()
        with contextlib.suppress(RedisError, OSError):
            await self.lease.release()

    async def _renew(self) -> None:
        every = self.lease.ttl_ms / 3000
        while self.writing:
            await asyncio.sleep(every)
            try:
                # Renew; or, when it ran out while Redis did not answer and nobody took
                # it, take it again (whoever took it meanwhile raised the epoch, which then
                # refuses this writer's transactions).
                held = await self.lease.renew() or await self.lease.acquire()
            except (RedisError, OSError) as exc:
                log.warning("renewing %s failed (%s); trying again", self.lease.key, exc)
                continue
            if not held:
                log.warning("lost the lease %s: no longer writing", self.lease.key)
                await self.step_down()
                if self.lost is not None:
                    await self.lost()
                return
            self.renewed.set()


def event_writer(
    committer: Committer, redis: Redis, prefix: str, token: str | None = None
) -> EventWriter:
    """This worker's (not yet writing) writer for the event of ``committer``; ``token``
    names the worker in the lease (its private address, for the others to forward to)."""
    webinar_id = committer.db.webinar_id
    return EventWriter(
        committer,
        Lease(redis, lease_key(prefix, webinar_id), LEASE_MS, token),
        EventStream(redis, stream_key(prefix, webinar_id), STREAM_LENGTH),
    )


async def keep_bidding(
    lease: Lease,
    won: Callable[[], Awaitable[None]],
    bid: Callable[[float], bool] = lambda free_for: True,
) -> None:
    """Look at ``lease`` every fifth of its time until this worker holds it, then run
    ``won``, which takes over (``take_over``: the lease is this worker's already) and
    starts the event's tickers. A held lease is never bid for; a free one when
    ``bid(seconds seen free)`` says so (``webinar.domain.placement.should_bid``: at once
    for the event's preferred worker, after a grace period for the others). Each look
    leaves the holder in ``lease.seen`` for the forwarder. A worker of ``webinar serve
    --workers N`` runs one per event it does not write for."""
    free_since: float | None = None
    while True:
        try:
            holder = await lease.holder()
            if holder is None:
                free_since = time.monotonic() if free_since is None else free_since
                if bid(time.monotonic() - free_since) and await lease.acquire():
                    break
            elif holder == lease.token:
                break
            else:
                free_since = None
        except (RedisError, OSError) as exc:
            log.warning("bidding for %s failed (%s); trying again", lease.key, exc)
        await asyncio.sleep(lease.ttl_ms / 1000 / 5)
    await won()


def bidding(membership: Membership, webinar_id: int) -> Callable[[float], bool]:
    """``keep_bidding``'s choice for event ``webinar_id`` by the worker of ``membership``
    among the live workers as last renewed (``webinar.domain.placement``)."""

    def bid(free_for: float) -> bool:
        return should_bid(webinar_id, membership.member, membership.live, free_for, GRACE)

    return bid


async def join(membership: Membership, expected: int, patience: float) -> None:
    """Become a live worker, and wait (up to ``patience`` seconds) until ``expected``
    workers are (the others of this serve starting beside this one), so that the events'
    first leases are spread over all of them rather than taken by the first one up."""
    deadline = time.monotonic() + patience
    while len(await membership.renew()) < expected and time.monotonic() < deadline:
        await asyncio.sleep(0.05)


async def stay_member(membership: Membership) -> None:
    """Renew ``membership`` every third of its time to live, for as long as the worker runs."""
    while True:
        await asyncio.sleep(membership.ttl_ms / 3000)
        try:
            await membership.renew()
        except (RedisError, OSError) as exc:
            log.warning("renewing %s failed (%s); trying again", membership.key, exc)


async def write_for(
    committer: Committer, redis: Redis, prefix: str, patience: float = LEASE_MS / 1000 * 3
) -> EventWriter:
    """This worker's writer for the event of ``committer``, once it holds the lease: it
    waits for a lease left by a worker that died to run out (up to ``patience`` seconds;
    ``RuntimeError`` saying so after that: another worker is alive and writing)."""
    webinar_id = committer.db.webinar_id
    writer = event_writer(committer, redis, prefix)
    try:
        async with asyncio.timeout(patience):
            while not await writer.take_over():
                await asyncio.sleep(LEASE_MS / 1000 / 5)
    except TimeoutError:
        raise RuntimeError(
            f"another server writes for event {webinar_id} (it holds {writer.lease.key} in "
            "Redis): stop it first, or give this one its own --db"
        ) from None
    return writer
