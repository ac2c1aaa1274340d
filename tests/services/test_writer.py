"""One writer per event: the lease has one holder, a writer whose epoch is over commits
nothing, and a takeover loses no acknowledged change and reuses or skips no seq."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from uuid import uuid4

import aiosqlite
import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis_server import PATIENCE
from stream_support import Screen, change, encode

from postgres_cluster import database
from webinar.realtime.hub import Hub
from webinar.realtime.lease import Lease, Membership
from webinar.realtime.streams import EventStream
from webinar.services.commit import CHECKS, Committer, Outgoing, Work, utcnow
from webinar.services.fanout import StreamFollower
from webinar.services.writer import (
    GRACE,
    EventWriter,
    bidding,
    event_writer,
    join,
    keep_bidding,
    key_prefix,
    stay_member,
    write_for,
)
from webinar.storage import repo
from webinar.storage.db import Database, Fenced, Tx, migrate_sync
from webinar.storage.webinars import save_webinar_sync

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def events_match_their_models() -> Iterator[None]:
    """These tests drive the commit machinery with a made-up event type (``n``)."""
    CHECKS.event = CHECKS.snapshot = None
    yield


@pytest.fixture
async def handles(tmp_path: Path) -> AsyncIterator[tuple[Committer, Committer]]:
    """Two workers' committers for one event in one database (a file, or a database of
    the session's PostgreSQL cluster with ``WEBINAR_TEST_DB=postgresql``), closed after."""
    path = database(tmp_path / "writer.db")
    migrate_sync(path)
    event, _ = save_webinar_sync(path, "writer")
    committers = []
    for _ in range(2):
        db = Database(path, event.id)
        await db.open()
        committers.append(Committer(db, Hub(encode), utcnow))
    yield committers[0], committers[1]
    for committer in committers:
        await committer.db.close()


async def logged(committer: Committer) -> list[tuple[int, int]]:
    rows = await committer.db.fetchall(
        "SELECT seq, json_extract(data, '$.n') FROM events WHERE webinar_id = this_webinar()"
        " ORDER BY seq"
    )
    return [(int(r[0]), int(r[1])) for r in rows]


async def test_the_lease_has_one_holder_at_a_time(redis: Redis) -> None:
    key = f"test:{uuid4().hex}"
    first, second = Lease(redis, key, 10_000), Lease(redis, key, 10_000)

    assert await first.acquire()
    assert not await second.acquire()
    assert await first.renew()
    assert not await second.renew()
    await second.release()  # not its lease: nothing happens
    assert await first.holder() == first.token
    await first.release()
    assert await second.acquire()
    assert not await first.renew()
    assert await second.holder() == second.token


async def test_a_writer_whose_epoch_is_over_commits_nothing(
    handles: tuple[Committer, Committer],
) -> None:
    old, new = handles
    await old.db.take_writing()
    await asyncio.gather(*(old.commit(change(n)) for n in range(1, 11)))

    await new.db.take_writing()
    with pytest.raises(Fenced):
        await old.commit(change(11))
    await new.commit(change(12))

    assert await logged(new) == [(seq, seq if seq <= 10 else 12) for seq in range(1, 12)]
    await old.db.close()
    await new.db.close()


def quiet(n: int) -> Work:
    """A change that writes a row but logs no event (it takes no seq)."""

    async def work(tx: Tx, now: datetime) -> tuple[int, list[Outgoing]]:
        await repo.log_agenda_action(tx, now.isoformat(), "quiet", {"n": n}, "host")
        return n, []

    return work


def taking_back(n: int) -> Work:
    """A change that takes back what earlier events showed: it raises the replay floor."""

    async def work(tx: Tx, now: datetime) -> tuple[int, list[Outgoing]]:
        return await repo.raise_replay_floor(tx), [Outgoing("n", "all", {"n": n})]

    return work


async def test_a_fenced_writer_writes_nothing_even_without_events(
    handles: tuple[Committer, Committer],
) -> None:
    old, new = handles
    await old.db.take_writing()
    await new.db.take_writing()

    with pytest.raises(Fenced):  # checked before COMMIT: no statement took a seq
        await old.commit(quiet(1))
    outcomes = await asyncio.gather(
        old.commit(quiet(2)), old.commit(change(3)), return_exceptions=True
    )
    await new.commit(change(4))

    assert [type(o) for o in outcomes] == [Fenced, Fenced]
    assert await repo.agenda_log(new.db) == []
    assert await logged(new) == [(1, 4)]
    await old.db.close()
    await new.db.close()


@pytest.mark.sqlite_only("traces the SQLite writer's statements")
async def test_a_fenced_commit_costs_no_statement_more_than_an_unfenced_one(
    handles: tuple[Committer, Committer],
) -> None:
    unfenced, fenced = handles
    await fenced.db.take_writing()
    traced: list[str] = []
    for committer in (unfenced, fenced):
        writer = committer.db._writer
        assert isinstance(writer, aiosqlite.Connection)
        await writer.set_trace_callback(lambda sql: traced.append(sql.split()[0].upper()))

    await unfenced.commit(change(1))
    unfenced_statements, traced[:] = list(traced), []
    await fenced.commit(change(2))
    fenced_statements, traced[:] = list(traced), []
    with pytest.raises(RuntimeError, match="refused"):  # its seq (and check) undone with it
        await fenced.commit(change(3), refuse)
    undone_statements = list(traced)

    expected = ["BEGIN", "SAVEPOINT", "UPDATE", "INSERT", "RELEASE", "COMMIT"]
    assert unfenced_statements == expected
    assert fenced_statements == expected
    # The check went with the change's SAVEPOINT: made again, on its own, before COMMIT.
    assert undone_statements == [
        "BEGIN",
        "SAVEPOINT",
        "UPDATE",
        "INSERT",
        "ROLLBACK",
        "RELEASE",
        "SELECT",
        "COMMIT",
    ]
    await unfenced.db.close()
    await fenced.db.close()


def refuse(result: int) -> None:
    """An ``apply`` that refuses the change after its events were numbered."""
    raise RuntimeError(f"change {result} refused")


async def test_a_screen_resuming_from_before_the_floor_after_a_takeover_gets_a_snapshot(
    handles: tuple[Committer, Committer], redis: Redis
) -> None:
    old, new = handles
    prefix = f"test:{uuid4().hex}"
    stream = EventStream(redis, f"{prefix}:log", 4096)
    old_writer = EventWriter(old, Lease(redis, f"{prefix}:writer", 10_000), stream)
    new_writer = EventWriter(new, Lease(redis, f"{prefix}:writer", 10_000), stream)
    assert await old_writer.take_over()
    for n in range(1, 6):
        await old.commit(change(n))
    floor = await old.commit(taking_back(6), old.take_back)
    await old_writer.step_down()

    assert await new_writer.take_over()
    screen = new.hub.subscribe({"all"}, "json")

    assert floor == 5
    assert new.hub.last_seq == 6
    assert new.hub.missed(screen, 3) is None  # from before the floor: a snapshot
    assert new.hub.missed(screen, 5) == [(6, "6")]
    await new_writer.step_down()
    await old.db.close()
    await new.db.close()


async def test_a_takeover_keeps_every_acknowledged_change_and_every_seq(
    handles: tuple[Committer, Committer], redis: Redis
) -> None:
    old, new = handles
    prefix = f"test:{uuid4().hex}"
    stream = EventStream(redis, f"{prefix}:log", 4096)
    follower = StreamFollower(new.hub, EventStream(redis, stream.key, 4096), new.db, block_ms=200)
    old_writer = EventWriter(old, Lease(redis, f"{prefix}:writer", 10_000), stream)
    new_writer = EventWriter(new, Lease(redis, f"{prefix}:writer", 10_000), stream, follower)
    screen = Screen(until=10**9)
    new.hub.subscribe({"all"}, "json", sink=screen)
    assert await old_writer.take_over()
    assert not await new_writer.take_over()
    follower.start()

    acknowledged: list[int] = []
    fifty = asyncio.Event()

    async def submit(n: int) -> None:
        await old.commit(change(n))
        acknowledged.append(n)
        if len(acknowledged) == 50:
            fifty.set()

    storm = [asyncio.create_task(submit(n)) for n in range(1, 301)]
    await asyncio.wait_for(fifty.wait(), PATIENCE)
    await redis.delete(old_writer.lease.key)  # the old writer's lease ran out (it hung)
    assert await new_writer.take_over()
    outcomes = await asyncio.gather(*storm, return_exceptions=True)
    await asyncio.gather(*(new.commit(change(n)) for n in range(1001, 1051)))
    await new_writer.publisher.stop()

    refused = [o for o in outcomes if isinstance(o, BaseException)]
    rows = await logged(new)
    assert all(isinstance(o, Fenced) for o in refused)
    assert len(acknowledged) + len(refused) == 300
    assert [seq for seq, _ in rows] == list(range(1, len(rows) + 1))  # none reused, none skipped
    assert sorted(n for _, n in rows) == sorted(acknowledged) + list(range(1001, 1051))
    assert screen.seqs == list(range(1, len(rows) + 1))  # followed, then written: no gap
    stored = await stream.read(0, block_ms=None, count=10_000)
    assert [e.event.seq for e in stored] == list(range(1, len(rows) + 1))
    await old_writer.step_down()
    await new_writer.step_down()
    await old.db.close()
    await new.db.close()


async def test_a_writer_takes_its_lease_again_when_it_ran_out_unclaimed(
    handles: tuple[Committer, Committer], redis: Redis
) -> None:
    committer, other = handles
    prefix = f"test:{uuid4().hex}"
    writer = EventWriter(
        committer,
        Lease(redis, f"{prefix}:writer", 600),
        EventStream(redis, f"{prefix}:log", 4096),
    )
    assert await writer.take_over()

    await redis.delete(writer.lease.key)  # ran out while Redis did not answer, say
    writer.renewed.clear()
    await asyncio.wait_for(writer.renewed.wait(), PATIENCE)
    await committer.commit(change(1))

    assert writer.writing
    assert await writer.lease.holder() == writer.lease.token
    assert await logged(committer) == [(1, 1)]
    await writer.step_down()
    assert await writer.lease.holder() is None
    await committer.db.close()
    await other.db.close()


async def test_a_second_server_is_told_another_writes_for_the_event(
    handles: tuple[Committer, Committer], redis: Redis
) -> None:
    first, second = handles
    prefix = f"test:{uuid4().hex}"
    writer = await write_for(first, redis, prefix)

    with pytest.raises(RuntimeError, match="another server writes for event"):
        await write_for(second, redis, prefix, patience=0.5)

    assert second.db.epoch is None  # it never took the epoch
    await writer.step_down()
    await first.db.close()
    await second.db.close()


def test_the_key_prefix_of_a_database_is_the_same_from_any_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = "postgresql://webinar@db.internal:5432/webinar"
    (tmp_path / "a").mkdir()
    monkeypatch.chdir(tmp_path)
    from_here = (key_prefix(url), key_prefix("a/../webinar.db"))
    monkeypatch.chdir(tmp_path / "a")
    from_a = (key_prefix(url), key_prefix("../webinar.db"))

    assert from_here == from_a
    assert key_prefix(url) != key_prefix("postgresql://webinar@db.internal:5432/other")


class CountedLease(Lease):
    """A lease that says when it has been seen held by another twice, and counts its bids."""

    held_by_other = 0
    bids = 0
    twice = asyncio.Event()

    async def holder(self) -> str | None:
        token = await super().holder()
        if token is not None and token != self.token:
            self.held_by_other += 1
            if self.held_by_other == 2:
                self.twice.set()
        return token

    async def acquire(self) -> bool:
        self.bids += 1
        return await super().acquire()


async def test_a_bidder_wins_once_the_holder_gives_the_lease_up(redis: Redis) -> None:
    key = f"test:{uuid4().hex}"
    holder = Lease(redis, key, 10_000)
    bidder = CountedLease(redis, key, 500, token="w2 2 nonce")
    bidder.twice = asyncio.Event()
    assert await holder.acquire()
    won = asyncio.Event()

    async def on_win() -> None:
        won.set()

    bidding = asyncio.create_task(keep_bidding(bidder, on_win))
    try:
        await asyncio.wait_for(bidder.twice.wait(), PATIENCE)  # it keeps looking
        assert not won.is_set()
        assert bidder.bids == 0  # a lease that is held is never bid for
        await holder.release()
        await asyncio.wait_for(won.wait(), PATIENCE)
        await bidding
    finally:
        bidding.cancel()
    assert await bidder.holder() == "w2 2 nonce"


async def test_a_writer_steps_down_and_says_so_when_its_lease_is_taken(
    handles: tuple[Committer, Committer], redis: Redis
) -> None:
    first, second = handles
    prefix = f"test:{uuid4().hex}"
    writer = event_writer(first, redis, prefix, token="w1 1 nonce")
    writer.lease.ttl_ms = 600  # renewed every 0.2 s
    told = asyncio.Event()

    async def lost() -> None:
        told.set()

    writer.lost = lost
    try:
        assert await writer.take_over()
        with pytest.raises(RuntimeError):
            writer.serve(second)  # a writer keeps its handle while it writes
        await redis.set(writer.lease.key, "w9 9 other", xx=True, px=10_000)
        await asyncio.wait_for(told.wait(), PATIENCE)
        assert not writer.writing
        writer.serve(second)  # not writing now: it writes for the fresh handle next time
        assert writer.committer is second and writer.publisher.committer is second
    finally:
        await writer.step_down()
        await first.db.close()
        await second.db.close()


async def test_a_bidder_that_is_not_preferred_waits_for_the_grace_period(redis: Redis) -> None:
    key = f"test:{uuid4().hex}"
    holder = Lease(redis, key, 10_000, token="w1 1 nonce")
    bidder = CountedLease(redis, key, 500, token="w2 2 nonce")
    asked: list[float] = []

    def after_grace(free_for: float) -> bool:
        asked.append(free_for)
        return free_for >= 0.3

    assert await holder.acquire()
    won = asyncio.Event()

    async def on_win() -> None:
        won.set()

    bidding_task = asyncio.create_task(keep_bidding(bidder, on_win, after_grace))
    try:
        await asyncio.wait_for(bidder.twice.wait(), PATIENCE)
        assert asked == []  # held: not even asked
        assert bidder.seen == "w1 1 nonce"  # the holder last seen, for the forwarder
        await holder.release()
        await asyncio.wait_for(won.wait(), PATIENCE)
        await bidding_task
    finally:
        bidding_task.cancel()
    assert asked[0] < 0.3  # seen free: not bid for at first
    assert asked[-1] >= 0.3
    assert bidder.bids == 1  # one bid, once the grace period was over
    assert await bidder.holder() == "w2 2 nonce"


async def test_the_workers_see_each_other_and_one_that_leaves_or_dies_drops_out(
    redis: Redis,
) -> None:
    key = f"test:{uuid4().hex}"
    first = Membership(redis, key, "10.0.0.1:4001", 10_000)
    second = Membership(redis, key, "10.0.0.2:4002", 300)

    await join(first, 1, PATIENCE)
    joining = asyncio.create_task(join(first, 2, PATIENCE))  # waits for the second
    await second.renew()
    await asyncio.wait_for(joining, PATIENCE)
    assert first.live == ("10.0.0.1:4001", "10.0.0.2:4002")

    # The second stops renewing (killed): it drops out once its time runs out.
    async with asyncio.timeout(PATIENCE):
        while len(await first.renew()) > 1:
            await asyncio.sleep(0.05)
    assert list(first.live) == ["10.0.0.1:4001"]

    await second.renew()
    await second.leave()  # a worker that stops leaves at once
    assert second.live == ()
    assert await first.renew() == ("10.0.0.1:4001",)


async def test_joining_gives_up_waiting_for_workers_that_do_not_come(redis: Redis) -> None:
    alone = Membership(redis, f"test:{uuid4().hex}", "10.0.0.1:4001", 10_000)

    await asyncio.wait_for(join(alone, 3, 0.2), PATIENCE)

    assert alone.live == ("10.0.0.1:4001",)


async def test_a_worker_bids_at_once_only_for_its_share_of_the_events(redis: Redis) -> None:
    key = f"test:{uuid4().hex}"
    mine = Membership(redis, key, "10.0.0.1:4001", 10_000)
    other = Membership(redis, key, "10.0.0.2:4002", 10_000)
    await other.renew()
    await mine.renew()

    at_once = [n for n in range(1, 5) if bidding(mine, n)(0.0)]
    after_grace = [n for n in range(1, 5) if bidding(mine, n)(GRACE)]

    assert at_once == [2, 4]
    assert after_grace == [1, 2, 3, 4]


class FlakyLease(Lease):
    """A lease whose first look fails as when Redis does not answer."""

    failed = False

    async def holder(self) -> str | None:
        if not self.failed:
            self.failed = True
            raise RedisConnectionError("Redis went away")
        return await super().holder()


async def test_a_bidder_keeps_bidding_through_a_redis_error_and_wins_a_lease_it_holds(
    redis: Redis,
) -> None:
    key = f"test:{uuid4().hex}"
    bidder = FlakyLease(redis, key, 500, token="w2 2 nonce")
    await redis.set(key, "w2 2 nonce", px=10_000)  # its own (taken by its first bid)
    won = asyncio.Event()

    async def on_win() -> None:
        won.set()

    await asyncio.wait_for(keep_bidding(bidder, on_win, lambda free_for: False), PATIENCE)

    assert bidder.failed and won.is_set()


class FlakyMembership(Membership):
    """A membership whose renewals after the first fail once (Redis did not answer)."""

    renewals = 0

    async def renew(self) -> tuple[str, ...]:
        self.renewals += 1
        if self.renewals == 2:
            raise RedisConnectionError("Redis went away")
        return await super().renew()


async def test_a_worker_stays_a_member_and_sees_others_join_through_a_redis_error(
    redis: Redis,
) -> None:
    key = f"test:{uuid4().hex}"
    mine = FlakyMembership(redis, key, "10.0.0.1:4001", 300)  # renewed every 0.1 s
    await mine.renew()
    staying = asyncio.create_task(stay_member(mine))
    try:
        await Membership(redis, key, "10.0.0.2:4002", 10_000).renew()
        async with asyncio.timeout(PATIENCE):
            while len(mine.live) < 2:
                await asyncio.sleep(0.05)
        assert mine.renewals >= 3  # the failed renewal was followed by more
    finally:
        staying.cancel()
    # Past its time to live it would have gone: it is still a member.
    assert "10.0.0.1:4001" in await Membership(redis, key, "10.0.0.2:4002", 10_000).renew()
