"""Redis restarted, and Redis stopped (SIGSTOP) for 10 s then SIGCONT, under a running
`webinar serve --redis` in the middle of a storm of questions and votes.

The database is the record: the writer acknowledges writes throughout (none refused, none
lost), keeps its lease or takes it again (its writer epoch unchanged: no second writer),
and fills the stream in afterwards; a follower in this process (a `StreamFollower`
feeding a hub, as another worker's) ends with every event once, in seq order, no gap;
a live screen (a real WebSocket client) gets every event of its audiences once, in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from fault_support import QUESTIONS_EACH, Screen, Tally, attend, until
from redis_server import RedisServer
from stream_support import WatchedHub

from helpers import PATIENCE, Person, ServerProcess, open_database, stored_secrets
from webinar.realtime.lease import Lease, lease_key
from webinar.realtime.streams import EventStream, connect, stream_key
from webinar.services.fanout import StreamFollower
from webinar.services.writer import LEASE_MS, STREAM_LENGTH, key_prefix
from webinar.storage.db import Database
from webinar.storage.webinars import list_webinars_sync

pytestmark = pytest.mark.integration

ATTENDEES = 12
#: The audiences of the host's screen.
HOST_SEES = {"all", "staff"}

Fault = Callable[[RedisServer, Tally], Awaitable[str]]
#: Writes the server must acknowledge while Redis is down, before it is started again.
WHILE_DOWN = 20


async def restart_redis(redis: RedisServer, tally: Tally) -> str:
    """Kill Redis (streams and lease lost), see the server acknowledge writes without it,
    then start an empty one on the same port."""
    began = time.monotonic()
    await asyncio.to_thread(redis.stop)
    await until(
        lambda: tally.acknowledged_between(began, time.monotonic()) >= WHILE_DOWN,
        "writes acknowledged while Redis is down",
    )
    await asyncio.to_thread(redis.start)
    return f"killed, down {time.monotonic() - began:.2f} s, started again empty"


async def pause_redis(redis: RedisServer, tally: Tally) -> str:
    redis.pause()
    await asyncio.sleep(10)  # the fault's length (issue 18), not a wait for anything
    redis.resume()
    return "stopped (SIGSTOP) for 10 s, then SIGCONT"


def logged(db_path: str) -> tuple[int, int, list[tuple[int, str]]]:
    """The event's last seq, writer epoch, and its log's (seq, audience), in seq order."""
    with contextlib.closing(open_database(db_path)) as conn:
        last, epoch = conn.execute("SELECT last_seq, writer_epoch FROM webinars").fetchone()
        rows = conn.execute("SELECT seq, audience FROM events ORDER BY seq").fetchall()
    return int(last), int(epoch), [(int(row[0]), str(row[1])) for row in rows]


async def stream_reaches(stream: EventStream, seq: int) -> float:
    """Seconds until the stream holds ``seq`` (Redis's own XREAD BLOCK, a second at a
    time, retried while Redis does not answer yet)."""
    began = time.monotonic()
    while True:
        with contextlib.suppress(OSError, ConnectionError, TimeoutError):
            if await stream.read(seq - 1, block_ms=1000, count=1):
                return time.monotonic() - began


@pytest.mark.parametrize("fault", [restart_redis, pause_redis], ids=["restart", "pause"])
async def test_a_redis_fault_loses_nothing_and_the_stream_is_filled_in(
    tmp_path: Path, own_redis_server: RedisServer, fault: Fault
) -> None:
    proc = ServerProcess(str(tmp_path / "webinar.db"), args=("--redis", own_redis_server.url))
    proc.start()
    db_path = proc.db_path  # on PostgreSQL, the test's database's URL
    webinar_id = list_webinars_sync(db_path)[0].id
    redis = connect(own_redis_server.url, timeout=2.0)
    stream = EventStream(redis, stream_key(key_prefix(db_path), webinar_id), STREAM_LENGTH)
    lease = Lease(redis, lease_key(key_prefix(db_path), webinar_id), LEASE_MS)
    db = Database(db_path, webinar_id)
    await db.open()
    hub = WatchedHub()
    follower = StreamFollower(hub, stream, db, block_ms=200, retry=0.2)
    follower.start()
    secrets = stored_secrets(db_path)
    host, people = Person(proc.base), [Person(proc.base) for _ in range(ATTENDEES)]
    tally, stop = Tally(), asyncio.Event()
    tally.back.set()
    tasks: list[asyncio.Task[None]] = []
    try:
        await host.enter("host", secrets["host_token"])
        ids = [
            (await p.join(secrets["join_code"], f"Attendee {n}"))["participant"]["id"]
            for n, p in enumerate(people)
        ]
        screen = Screen(host)
        tasks.append(asyncio.create_task(screen.follow()))
        tasks += [
            asyncio.create_task(attend(p, ids[n], n, tally, stop)) for n, p in enumerate(people)
        ]
        await until(lambda: len(tally.asked) >= ATTENDEES and len(tally.votes) >= 10, "a storm")
        _, epoch_before, _ = await asyncio.to_thread(logged, db_path)
        began = time.monotonic()
        what = await fault(own_redis_server, tally)
        ended = time.monotonic()
        during = tally.acknowledged_between(began, ended)
        at_the_end, _, _ = await asyncio.to_thread(logged, db_path)
        filled_in = await asyncio.wait_for(stream_reaches(stream, at_the_end), PATIENCE)
        await until(lambda: len(tally.asked) == ATTENDEES * QUESTIONS_EACH, "every question")
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks[1:]), PATIENCE)
        last, epoch_after, log = await asyncio.to_thread(logged, db_path)
        with contextlib.closing(open_database(db_path)) as conn:
            stored = {row[0] for row in conn.execute("SELECT text FROM questions")}
            voted = {
                (str(row[0]), int(row[1]))
                for row in conn.execute("SELECT voter_id, question_id FROM votes")
            }
        hub.target = last
        if hub.last_seq < last:
            await asyncio.wait_for(hub.reached.wait(), PATIENCE)
        followed = [event.seq for event in hub.events_after(0) or []]
        audiences = dict(log)
        screen.target = max(seq for seq, audience in log if audience in HOST_SEES)
        await asyncio.wait_for(tasks[0], PATIENCE)
        await asyncio.wait_for(stream_reaches(stream, last), PATIENCE)
        holder = await lease.holder()
    finally:
        stop.set()
        for task in tasks:
            task.cancel()
        await follower.stop()
        for person in [host, *people]:
            await person.close()
        await db.close()
        await redis.aclose()
        proc.stop(signal.SIGTERM)

    print(
        f"\nRedis {what} (mid-storm): {during} writes acknowledged during the fault; the "
        f"stream held seq {at_the_end} {filled_in:.2f} s after it; "
        f"{len(tally.asked)} questions and {len(tally.votes)} votes acknowledged; answers "
        f"{dict(sorted(tally.statuses.items()))}; {last} events; follower: "
        f"{follower.from_stream} from the stream, {follower.from_log} from the log, "
        f"{follower.failures} failed reads; screen resumed {screen.resumes} times"
    )
    assert set(tally.statuses) <= {200, 429}  # never refused for Redis
    assert during > 0  # the writer kept acknowledging while Redis was away
    assert set(tally.asked) <= stored and len(stored) == len(tally.asked)  # each once
    assert tally.votes <= voted
    assert [seq for seq, _ in log] == list(range(1, last + 1))
    assert epoch_after == epoch_before and holder is not None  # kept or retaken, no other
    assert followed == list(range(1, last + 1))  # the follower: once each, in order, no gap
    assert len(screen.snapshots) == 1 and screen.seqs == sorted(set(screen.seqs))
    assert [s for s in screen.seqs if s <= last and audiences[s] in HOST_SEES] == [
        seq for seq, audience in log if audience in HOST_SEES and seq > screen.snapshots[0]
    ]
