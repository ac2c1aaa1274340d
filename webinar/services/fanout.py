"""Fan-out between workers: the writer copies its commits to the event's Redis Stream,
every other worker follows the stream into its own hub.

The database's log is the system of record and Redis only carries it: an event is
acknowledged when its COMMIT is done, whether or not Redis took it. The publisher copies
every logged event after the stream's last ID, in order, so one that comes back after
Redis failed (or a new writer) first fills in what the stream missed. A follower feeds
its hub exactly the events after the hub's last seq, in order: when the stream skips
some (Redis restarted and lost them, or they were trimmed away), or while Redis does not
answer, it reads them from the database's log instead. So a hub fed by a follower sees
what the writer's hub sees, and replay, the replay floor, snapshots and slow screens
work on every worker as on one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence

from webinar.realtime.hub import Event, Hub
from webinar.realtime.streams import Change, Entry, EventStream
from webinar.services.commit import Committer
from webinar.storage import repo
from webinar.storage.db import Database

log = logging.getLogger(__name__)

#: Most events copied or fed in one step.
BATCH = 512
#: Most audience changes waiting for the stream (Redis down): past it they are dropped,
#: and the followers, seeing the gap in their counter, ask the writer instead.
MAX_CHANGES = 10_000


async def logged_after(db: Database, seq: int, limit: int = BATCH) -> list[Event]:
    """Events of the database's log after ``seq``, oldest first."""
    rows = await repo.events_after(db, seq, limit)
    return [Event(r.seq, r.type, r.audience, r.data, r.at) for r in rows]


class StreamPublisher:
    """The writer's side: after each COMMIT, copy the hub's new events to the stream.

    Never on the commit's path: a commit rings (``Committer.published``) and this task
    copies when it can. When Redis fails it forgets where the stream stands, waits
    ``retry`` seconds and asks again, then copies everything the stream lacks.
    """

    def __init__(self, committer: Committer, stream: EventStream, retry: float = 0.5) -> None:
        self.committer = committer
        self.stream = stream
        self.retry = retry
        #: The stream's last seq as far as this publisher knows; None: ask Redis.
        self.published: int | None = None
        self.failures = 0
        #: Audience changes of screens on other workers, in order, not yet in the stream
        #: (``add_change``; each goes right after the event its ``seq`` names).
        self.changes: deque[Change] = deque()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def add_change(self, change: Change) -> None:
        """Copy an audience change to the stream, after event ``change.seq``."""
        if len(self.changes) >= MAX_CHANGES:
            self.changes.clear()  # the followers see the gap in ``n`` and ask the writer
        self.changes.append(change)
        self._wake.set()

    def start(self) -> None:
        self._stopping = False
        self.committer.published.append(self._wake.set)
        self._wake.set()  # a new writer first copies what the stream missed
        self._task = asyncio.create_task(self._run(), name=f"publish {self.stream.key}")

    async def stop(self) -> None:
        """Stop copying; one last attempt copies what is left (Redis may be down)."""
        self._stopping = True  # as StreamFollower.stop
        with contextlib.suppress(ValueError):
            self.committer.published.remove(self._wake.set)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        try:
            await asyncio.wait_for(self.catch_up(), self.retry * 4)
        except Exception as exc:  # Redis down, or the database closed: the log has them
            log.warning("%s not brought up to date at stop (%s)", self.stream.key, exc)

    async def _run(self) -> None:
        while not self._stopping:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self.catch_up()
            except Exception as exc:  # Redis failing (or the log): never end copying
                if self._stopping:
                    return
                self.failures += 1
                self.published = None
                log.warning("copying events to %s failed (%s); retrying", self.stream.key, exc)
                await asyncio.sleep(self.retry)
                self._wake.set()

    async def catch_up(self) -> None:
        """Copy every committed event after the stream's last one, in order."""
        hub = self.committer.hub
        if self.published is None:
            self.published = await self.stream.last_seq()
            if self.published > hub.last_seq:
                # Ahead of the database: another history (a database restored from a
                # backup, or replaced). Its entries must not reach anyone.
                log.warning("%s is ahead of the database's log: emptied", self.stream.key)
                await self.stream.redis.delete(self.stream.key)
                self.published = 0
        while True:
            await self._copy_changes()
            if self.published >= hub.last_seq:
                return
            # What the trimmed stream would not keep anyway is not worth copying.
            after = max(self.published, hub.last_seq - self.stream.maxlen)
            events = hub.events_after(after)
            if events is None:
                events = await logged_after(self.committer.db, after)
            if not events:  # pragma: no cover - the log always holds up to last_seq
                return
            batch = events[:BATCH]
            if self.changes:  # stop at the event the next change comes after
                batch = [e for e in batch if e.seq <= self.changes[0].seq] or batch[:1]
            await self.stream.append(batch, hub.replay_floor)
            self.published = batch[-1].seq

    async def _copy_changes(self) -> None:
        """Copy the changes that come after the stream's last event (one made after an
        event the stream already went past is refused by Redis: the followers see the
        gap in ``n``)."""
        assert self.published is not None
        due: list[Change] = []
        while self.changes and self.changes[0].seq <= self.published:
            due.append(self.changes[0])
            self.changes.popleft()
        if due:
            try:
                await self.stream.append_changes(due)
            except BaseException:
                self.changes.extendleft(reversed(due))  # tried again with the events
                raise


class StreamFollower:
    """Another worker's side: feed the hub every event after its last seq, in order.

    Reads the stream with ``XREAD BLOCK`` (``block_ms``); fills a gap from the database's
    log, and while Redis fails, reads the log every ``retry`` seconds instead, so screens
    keep getting events (later, but none lost) until Redis answers again.
    """

    def __init__(
        self,
        hub: Hub,
        stream: EventStream,
        db: Database,
        *,
        block_ms: int | None = 2000,
        retry: float = 0.5,
    ) -> None:
        self.hub = hub
        self.stream = stream
        self.db = db
        self.block_ms = block_ms
        self.retry = retry
        self.from_log = 0
        self.from_stream = 0
        self.failures = 0
        #: Applies an audience change of a screen of this worker's (``webinar.web.edge``);
        #: None: changes are not read.
        self.on_change: Callable[[Change], None] | None = None
        #: Asks the writer for the current audiences of all this worker's screens: called
        #: when changes may have been missed (events read from the log, a gap in ``n``).
        self.on_resync: Callable[[], Awaitable[None]] | None = None
        #: The stream ID (seq, k) of the last change applied.
        self.change_mark = (0, 0)
        #: (writer, n) of the last change applied.
        self._counter: tuple[str, int] | None = None
        self._resync = False
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name=f"follow {self.stream.key}")

    async def stop(self) -> None:
        # A flag as well as the cancel: redis-py may turn a cancelled read into its
        # TimeoutError, which the loop would take for a failing Redis.
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        await self._read_log()
        while not self._stopping:
            try:
                await self.step()
            except Exception as exc:  # Redis failing (or the log): never end following
                if self._stopping:
                    return
                self.failures += 1
                log.warning("following %s failed (%s); reading the log", self.stream.key, exc)
                await self._read_log()
                await asyncio.sleep(self.retry)

    async def _read_log(self) -> None:
        try:
            await self.catch_up_from_log()
            await self.resync_if_needed()
        except Exception:  # the database (or the writer) failing: the next round tries again
            log.exception("reading the log for %s failed", self.stream.key)

    async def step(self) -> None:
        """Read what the stream has after the hub's last seq (waiting up to ``block_ms``)
        and feed it, gap filled from the log. Raises ``redis.RedisError``."""
        if self.on_change is None:
            entries = await self.stream.read(self.hub.last_seq, self.block_ms, BATCH)
            await self.feed(entries)
            return
        last = self.hub.last_seq
        after = self.change_mark if self.change_mark[0] == last else (last, 0)
        items = await self.stream.read_with_changes(after, self.block_ms, BATCH)
        await self.feed_with_changes(items)

    async def feed_with_changes(self, items: Sequence[Entry | Change]) -> None:
        """Feed events and apply audience changes in stream order: a change right after
        the event it names, before the next; then ask the writer for every screen's
        audiences if some may have been missed."""
        run: list[Entry] = []
        for item in items:
            if isinstance(item, Entry):
                run.append(item)
                continue
            if run:
                await self.feed(run)
                run = []
            self.apply(item)
        if run:
            await self.feed(run)
        await self.resync_if_needed()

    def apply(self, change: Change) -> None:
        """Apply one change, if it is the next one; note a resync when one was missed."""
        if (change.seq, change.k) <= self.change_mark:
            return  # applied already
        self.change_mark = (change.seq, change.k)
        counter = self._counter
        self._counter = (change.writer, change.n)
        if change.seq != self.hub.last_seq:
            self._resync = True  # the hub went past it (events from the log)
            return
        if counter is not None and counter[0] == change.writer and change.n != counter[1] + 1:
            self._resync = True  # some were lost (Redis restarted, dropped while down)
        assert self.on_change is not None
        self.on_change(change)

    async def resync_if_needed(self) -> None:
        if self._resync and self.on_resync is not None:
            self._resync = False  # on_resync never raises: it closes what it cannot set
            await self.on_resync()

    async def feed(self, entries: Sequence[Entry]) -> None:
        """Feed stream entries to the hub in order: what the hub has is skipped, what is
        missing before them is read from the log first."""
        fresh = [entry for entry in entries if entry.event.seq > self.hub.last_seq]
        if not fresh:
            return
        if fresh[0].event.seq != self.hub.last_seq + 1:
            await self.catch_up_from_log(upto=fresh[0].event.seq - 1)
            fresh = [entry for entry in fresh if entry.event.seq > self.hub.last_seq]
            if not fresh or fresh[0].event.seq != self.hub.last_seq + 1:
                return  # the log is behind the stream: next read starts from the hub
        self.hub.replay_floor = max(self.hub.replay_floor, max(e.floor for e in fresh))
        self.hub.publish_all([entry.event for entry in fresh])
        self.from_stream += len(fresh)

    async def catch_up_from_log(self, upto: int | None = None) -> None:
        """Feed the hub what the database's log has after its last seq (up to ``upto``)."""
        while upto is None or self.hub.last_seq < upto:
            events = await logged_after(self.db, self.hub.last_seq)
            if upto is not None:
                events = [event for event in events if event.seq <= upto]
            if not events:
                return
            self.hub.replay_floor = max(self.hub.replay_floor, await repo.replay_floor(self.db))
            self.hub.publish_all(events)
            self.from_log += len(events)
            self._resync = True  # audience changes between these events went unseen
