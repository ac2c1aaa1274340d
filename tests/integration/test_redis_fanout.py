"""`webinar serve --redis`: a real server copies its events to Redis; a follower in another
process (this test) sees every one once, in order, and no acknowledged question is lost,
across a SIGKILL of the writer, a restart of Redis, and Redis stopped for 10 s."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from redis_server import RedisServer
from stream_support import Screen, WatchedHub

from helpers import PATIENCE, Person, ServerProcess, open_database, stored_secrets
from webinar.realtime.streams import EventStream, connect, stream_key
from webinar.services.fanout import StreamFollower
from webinar.services.writer import STREAM_LENGTH, key_prefix
from webinar.storage.db import Database
from webinar.storage.webinars import list_webinars_sync

pytestmark = pytest.mark.integration

ATTENDEES = 20
QUESTIONS_EACH = 4  # under the limit of 5 a minute


Fault = Callable[[ServerProcess, RedisServer], Awaitable[None]]


async def kill_the_writer(proc: ServerProcess, redis: RedisServer) -> None:
    proc.stop(signal.SIGKILL)
    proc.start()  # waits for the dead writer's lease to run out, then takes over


async def restart_redis(proc: ServerProcess, redis: RedisServer) -> None:
    redis.restart()  # everything in it is lost: streams and leases


async def pause_redis(proc: ServerProcess, redis: RedisServer) -> None:
    redis.pause()
    await asyncio.sleep(10)  # the fault's length (issue 18), not a wait for anything
    redis.resume()


@pytest.mark.parametrize(
    "fault", [kill_the_writer, restart_redis, pause_redis], ids=["kill", "restart", "pause"]
)
async def test_no_acknowledged_question_is_lost_and_followers_see_no_gap(
    tmp_path: Path, own_redis_server: RedisServer, fault: Fault
) -> None:
    db_path = str(tmp_path / "webinar.db")
    proc = ServerProcess(db_path, args=("--redis", own_redis_server.url))
    proc.start()
    db_path = proc.db_path  # on PostgreSQL, the test's database's URL
    webinar_id = list_webinars_sync(db_path)[0].id
    redis = connect(own_redis_server.url, timeout=2.0)
    db = Database(db_path, webinar_id)
    await db.open()
    hub = WatchedHub()
    screen = Screen(until=10**9)
    hub.subscribe({"all", "staff"}, "json", sink=screen)
    stream = EventStream(redis, stream_key(key_prefix(db_path), webinar_id), STREAM_LENGTH)
    follower = StreamFollower(hub, stream, db, block_ms=200, retry=0.2)
    follower.start()
    people = [Person(proc.base) for _ in range(ATTENDEES)]
    secrets = stored_secrets(db_path)
    for n, person in enumerate(people):
        await person.join(secrets["join_code"], f"Attendee {n}")
    acknowledged: list[str] = []
    forty = asyncio.Event()

    async def ask(person: Person, text: str) -> None:
        with contextlib.suppress(httpx.TransportError):  # the server was killed under it
            response = await person.act("qa.ask", text=text, key=uuid.uuid4().hex)
            if response.status_code == 200:
                acknowledged.append(text)
                if len(acknowledged) == 40:
                    forty.set()

    async def storm(round_: int) -> None:
        await asyncio.gather(*(ask(p, f"Question {round_}.{n}?") for n, p in enumerate(people)))

    try:
        first = asyncio.create_task(storm(0))
        second = asyncio.create_task(storm(1))
        await asyncio.wait_for(forty.wait(), PATIENCE)
        await fault(proc, own_redis_server)
        await asyncio.gather(first, second)
        await storm(2)
        await storm(3)
        with contextlib.closing(open_database(db_path)) as conn:
            (last,) = conn.execute("SELECT last_seq FROM webinars").fetchone()
            stored = {row[0] for row in conn.execute("SELECT text FROM questions")}
        hub.target = last
        if hub.last_seq < last:
            await asyncio.wait_for(hub.reached.wait(), PATIENCE)
        followed = hub.events_after(0) or []
        copied = await asyncio.wait_for(copied_up_to(stream, last), PATIENCE)
    finally:
        await follower.stop()
        for person in people:
            await person.close()
        await db.close()
        await redis.aclose()
        proc.stop()

    assert 40 <= len(acknowledged) <= ATTENDEES * QUESTIONS_EACH
    assert set(acknowledged) <= stored  # every acknowledged question survived the fault
    assert len(screen.seqs) == len(set(screen.seqs)) and screen.seqs == sorted(screen.seqs)
    assert [event.seq for event in followed] == list(range(1, last + 1))  # no gap, in order
    assert copied == last  # the writer brought the stream up to date


async def copied_up_to(stream: EventStream, seq: int) -> int:
    """Wait (Redis's own XREAD BLOCK, a second at a time) until the stream holds ``seq``;
    returns its last seq."""
    while not await stream.read(seq - 1, block_ms=1000, count=1):
        pass
    return await stream.last_seq()
