"""Fan-out through a real Redis Stream: the writer's commits reach another hub once each,
in order, whatever Redis does (refuses a repeat, restarts empty, stops answering)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from uuid import uuid4

import pytest
from redis.asyncio import Redis
from redis_server import PATIENCE, RedisServer
from stream_support import Screen, change, encode

from webinar.realtime.hub import Event, Hub
from webinar.realtime.streams import Change as StreamChange
from webinar.realtime.streams import EventStream, connect
from webinar.services.commit import CHECKS, Committer, utcnow
from webinar.services.fanout import StreamFollower, StreamPublisher
from webinar.storage.db import Database, migrate_sync
from webinar.storage.webinars import save_webinar_sync

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def events_match_their_models() -> Iterator[None]:
    """These tests drive the commit machinery with a made-up event type (``n``)."""
    CHECKS.event = CHECKS.snapshot = None
    yield


@dataclass
class Pair:
    """A writer (committer, hub, publisher) and a follower (its own hub and handle) of one
    event in one database file, joined by one stream."""

    writer: Committer
    publisher: StreamPublisher
    follower: StreamFollower
    stream: EventStream

    async def commit_many(self, first: int, count: int) -> None:
        await asyncio.gather(*(self.writer.commit(change(n)) for n in range(first, first + count)))

    def screen(self, until: int) -> Screen:
        screen = Screen(until)
        self.follower.hub.subscribe({"all"}, "json", sink=screen)
        return screen


async def open_pair(tmp_path: Path, redis: Redis, maxlen: int = 4096) -> Pair:
    path = str(tmp_path / "fanout.db")
    migrate_sync(path)
    event, _ = save_webinar_sync(path, "fanout")
    writer_db, follower_db = Database(path, event.id), Database(path, event.id)
    await writer_db.open()
    await follower_db.open()
    stream = EventStream(redis, f"test:{uuid4().hex}", maxlen)
    committer = Committer(writer_db, Hub(encode), utcnow)
    publisher = StreamPublisher(committer, stream, retry=0.1)
    follower = StreamFollower(Hub(encode), stream, follower_db, block_ms=200, retry=0.1)
    return Pair(committer, publisher, follower, stream)


async def close_pair(pair: Pair) -> None:
    await pair.follower.stop()
    await pair.publisher.stop()
    await pair.writer.db.close()
    await pair.follower.db.close()


def numbered(first: int, last: int) -> list[Event]:
    return [
        Event(n, "n", "all", {"n": n}, "2026-01-01T00:00:00.000+00:00")
        for n in range(first, last + 1)
    ]


async def test_append_refuses_a_repeated_seq_and_keeps_the_order(redis: Redis) -> None:
    stream = EventStream(redis, f"test:{uuid4().hex}", 100)

    first = await stream.append(numbered(1, 3), floor=0)
    retried = await stream.append(numbered(2, 5), floor=0)  # 2 and 3 again: refused
    again = await stream.append(numbered(1, 5), floor=0)

    entries = await stream.read(0, block_ms=None)
    assert (first, retried, again) == (3, 2, 0)
    assert [e.event.seq for e in entries] == [1, 2, 3, 4, 5]
    assert [e.event.data for e in entries] == [{"n": n} for n in range(1, 6)]
    assert await stream.last_seq() == 5


async def test_a_follower_feeds_every_event_once_in_order(tmp_path: Path, redis: Redis) -> None:
    pair = await open_pair(tmp_path, redis)
    screen = pair.screen(until=300)
    pair.publisher.start()
    pair.follower.start()

    await pair.commit_many(1, 300)
    await asyncio.wait_for(screen.done.wait(), PATIENCE)

    assert screen.seqs == list(range(1, 301))
    assert pair.follower.from_stream == 300
    assert pair.follower.from_log == 0
    assert await pair.stream.last_seq() == 300
    await close_pair(pair)


async def test_a_follower_fills_a_gap_in_the_stream_from_the_log(
    tmp_path: Path, redis: Redis
) -> None:
    pair = await open_pair(tmp_path, redis)
    screen = pair.screen(until=60)
    await pair.commit_many(1, 60)  # logged, never copied: the publisher is not running
    await pair.stream.append(pair.writer.hub.events_after(50) or [], floor=0)  # 51..60 only

    pair.follower.start()
    await asyncio.wait_for(screen.done.wait(), PATIENCE)

    assert screen.seqs == list(range(1, 61))
    assert pair.follower.from_log == 60  # it started behind: the log first
    await close_pair(pair)


async def test_a_gap_found_in_the_stream_is_read_from_the_log(tmp_path: Path, redis: Redis) -> None:
    pair = await open_pair(tmp_path, redis)
    screen = pair.screen(until=60)
    pair.follower.start()
    await pair.commit_many(1, 60)  # logged, not copied
    await pair.stream.append(pair.writer.hub.events_after(50) or [], floor=0)

    await asyncio.wait_for(screen.done.wait(), PATIENCE)

    assert screen.seqs == list(range(1, 61))
    await close_pair(pair)


async def test_a_new_publisher_first_copies_what_the_stream_missed(
    tmp_path: Path, redis: Redis
) -> None:
    pair = await open_pair(tmp_path, redis, maxlen=1000)
    await pair.commit_many(1, 40)  # no publisher yet: a writer that just took over
    await pair.stream.append((pair.writer.hub.events_after(0) or [])[:10], floor=0)

    pair.publisher.start()
    await pair.commit_many(41, 10)
    await pair.publisher.stop()

    entries = await pair.stream.read(0, block_ms=None)
    assert [e.event.seq for e in entries] == list(range(1, 51))
    await close_pair(pair)


async def test_screens_get_every_event_across_a_redis_restart(
    tmp_path: Path, own_redis_server: RedisServer
) -> None:
    redis = connect(own_redis_server.url, timeout=1.0)
    pair = await open_pair(tmp_path, redis, maxlen=30)
    screen = pair.screen(until=200)
    pair.publisher.start()
    pair.follower.start()
    await pair.commit_many(1, 100)

    own_redis_server.restart()  # everything in the stream is lost
    await pair.commit_many(101, 100)
    await asyncio.wait_for(screen.done.wait(), PATIENCE)

    assert screen.seqs == list(range(1, 201))
    await pair.publisher.stop()
    entries = await pair.stream.read(0, block_ms=None)
    assert [e.event.seq for e in entries][-1] == 200  # copied again, trimmed to ~30
    await close_pair(pair)
    await redis.aclose()


async def test_screens_keep_getting_events_while_redis_does_not_answer(
    tmp_path: Path, own_redis_server: RedisServer
) -> None:
    redis = connect(own_redis_server.url, timeout=1.0)
    pair = await open_pair(tmp_path, redis)
    paused_screen = pair.screen(until=80)
    screen = pair.screen(until=120)
    pair.publisher.start()
    pair.follower.start()
    await pair.commit_many(1, 40)

    own_redis_server.pause()
    paused_at = asyncio.get_running_loop().time()
    await pair.commit_many(41, 40)
    await asyncio.wait_for(paused_screen.done.wait(), PATIENCE)  # from the log
    # The fault lasts 10 s (issue 18): longer than every client timeout here.
    await asyncio.sleep(max(0.0, paused_at + 10.0 - asyncio.get_running_loop().time()))
    own_redis_server.resume()
    await pair.commit_many(81, 40)
    await asyncio.wait_for(screen.done.wait(), PATIENCE)

    assert screen.seqs == list(range(1, 121))
    assert pair.follower.failures >= 1
    assert pair.follower.from_log >= 40
    await pair.publisher.stop()
    assert await pair.stream.last_seq() == 120  # the publisher caught up after SIGCONT
    await close_pair(pair)
    await redis.aclose()


async def test_a_follower_takes_the_writers_replay_floor(tmp_path: Path, redis: Redis) -> None:
    pair = await open_pair(tmp_path, redis)
    screen = pair.screen(until=20)
    pair.publisher.start()
    pair.follower.start()
    await pair.commit_many(1, 10)
    pair.writer.take_back(7)  # as a hidden reply does, inside its commit

    await pair.commit_many(11, 10)
    await asyncio.wait_for(screen.done.wait(), PATIENCE)

    assert pair.follower.hub.replay_floor == 7
    assert screen.seqs == list(range(1, 21))
    await close_pair(pair)


async def test_a_stream_ahead_of_the_database_is_emptied_first(
    tmp_path: Path, redis: Redis
) -> None:
    pair = await open_pair(tmp_path, redis)
    await pair.stream.append(numbered(1, 50), floor=0)  # another database's history
    await pair.commit_many(1, 5)

    pair.publisher.start()
    await pair.publisher.stop()

    entries = await pair.stream.read(0, block_ms=None)
    assert [e.event.data["n"] for e in entries] == sorted(
        e.data["n"] for e in pair.writer.hub.events_after(0) or []
    )
    assert [e.event.seq for e in entries] == [1, 2, 3, 4, 5]
    await close_pair(pair)


# -- audience changes of screens on other workers (webinar.web.edge) ---------------------------


def audience_change(seq: int, k: int, n: int, writer: str = "w1") -> StreamChange:
    return StreamChange(seq, k, "screen-key", "add", f"g:1:{n}", n, writer)


@dataclass
class Applied:
    """What a follower's callbacks saw: each change with its hub's last seq then, and the
    resyncs it asked for."""

    follower: StreamFollower
    changes: list[tuple[int, StreamChange]] = field(default_factory=list)
    resyncs: int = 0
    enough: asyncio.Event = field(default_factory=asyncio.Event)
    wanted: int = 0

    def __post_init__(self) -> None:
        self.follower.on_change = self.apply
        self.follower.on_resync = self.resync

    def apply(self, change: StreamChange) -> None:
        self.changes.append((self.follower.hub.last_seq, change))
        if len(self.changes) >= self.wanted:
            self.enough.set()

    async def resync(self) -> None:
        self.resyncs += 1


async def test_audience_changes_reach_the_follower_between_their_events(
    tmp_path: Path, redis: Redis
) -> None:
    pair = await open_pair(tmp_path, redis)
    applied = Applied(pair.follower, wanted=5)
    screen = pair.screen(until=40)
    pair.publisher.start()
    pair.follower.start()
    made: list[StreamChange] = []

    for round_ in range(5):
        # Each change made at the writer hub's last seq S, then more commits at once:
        # the publisher, lagging, must put it after event S and before S + 1.
        await pair.commit_many(round_ * 8 + 1, 8)
        seq = pair.writer.hub.last_seq
        made.append(audience_change(seq, 1, round_ + 1))
        pair.publisher.add_change(made[-1])
    await asyncio.wait_for(applied.enough.wait(), PATIENCE)
    await asyncio.wait_for(screen.done.wait(), PATIENCE)

    assert [change for _, change in applied.changes] == made
    assert [at for at, _ in applied.changes] == [c.seq for c in made]  # before S + 1
    assert applied.resyncs == 0
    assert screen.seqs == list(range(1, 41))
    await close_pair(pair)


async def test_a_follower_asks_for_a_resync_after_the_log_or_a_gap_in_the_changes(
    tmp_path: Path, redis: Redis
) -> None:
    pair = await open_pair(tmp_path, redis)
    applied = Applied(pair.follower)
    follower = pair.follower
    await pair.commit_many(1, 3)

    await follower.catch_up_from_log()  # events from the log: changes went unseen
    await follower.resync_if_needed()
    follower.apply(audience_change(3, 1, 1))
    follower.apply(audience_change(3, 1, 1))  # read again: applied once
    await follower.resync_if_needed()
    follower.apply(audience_change(3, 2, 3))  # n jumps from 1 to 3: one was lost
    await follower.resync_if_needed()
    follower.apply(audience_change(3, 3, 1, writer="w2"))  # a new writer's counter
    follower.apply(audience_change(2, 1, 2, writer="w2"))  # before the mark: old news
    await follower.resync_if_needed()
    follower.change_mark = (0, 0)
    follower.apply(audience_change(1, 1, 2, writer="w2"))  # the hub went past event 1
    await follower.resync_if_needed()

    assert [c.n for _, c in applied.changes] == [1, 3, 1]
    assert applied.resyncs == 3  # after the log, after the gap, after the missed place
    await close_pair(pair)


async def test_the_stream_keeps_changes_apart_from_events(redis: Redis) -> None:
    stream = EventStream(redis, f"test:{uuid4().hex}", 100)
    await stream.append(numbered(1, 2), floor=0)
    await stream.append_changes([audience_change(2, 1, 1), audience_change(2, 2, 2)])
    refused = await stream.append_changes([audience_change(2, 1, 1)])  # already there
    await stream.append(numbered(3, 3), floor=0)

    items = await stream.read_with_changes((0, 0), block_ms=None)
    after_first = await stream.read_with_changes((2, 1), block_ms=None)

    assert refused == 0
    assert [(type(i).__name__, getattr(i, "k", 0)) for i in items] == [
        ("Entry", 0),
        ("Entry", 0),
        ("Change", 1),
        ("Change", 2),
        ("Entry", 0),
    ]
    assert [e.event.seq for e in await stream.read(0, block_ms=None)] == [1, 2, 3]
    assert len(after_first) == 2 and await stream.last_seq() == 3
