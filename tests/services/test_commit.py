"""Group commit: concurrent changes share transactions, each is undone alone if refused."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from postgres_cluster import database
from webinar.domain import events
from webinar.realtime.hub import Event, Hub
from webinar.services.commit import CHECKS, Committer, Outgoing, utcnow
from webinar.storage.db import Database, Row, Tx, migrate_sync
from webinar.storage.postgres import ConnectionLost, Unreachable
from webinar.storage.webinars import save_webinar_sync

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def events_match_their_models() -> Iterator[None]:
    """Replaces the suite's check: these tests drive the commit machinery with made-up
    event types (``meta.put``), which no event model describes."""
    CHECKS.event = CHECKS.snapshot = None
    yield


def encode(event: Event, fmt: str) -> str:
    return f"{event.seq}"


async def make_live(tmp_path: Path) -> Committer:
    path = database(str(tmp_path / "live.db"))
    migrate_sync(path)
    event, _ = save_webinar_sync(path, "live")
    db = Database(path, event.id)
    await db.open()
    return Committer(db, Hub(encode), utcnow)


Work = Callable[[Tx, datetime], Awaitable[tuple[str, list[Outgoing]]]]


def put(key: str, value: str) -> Work:
    async def work(tx: Tx, now: datetime) -> tuple[str, list[Outgoing]]:
        await tx.execute(
            "INSERT INTO meta (webinar_id, key, value) VALUES (this_webinar(), ?, ?)", (key, value)
        )
        return key, [Outgoing("meta.put", "all", {"key": key})]

    return work


async def test_concurrent_changes_share_commits_and_keep_their_order(tmp_path: Path) -> None:
    live = await make_live(tmp_path)
    client = live.hub.subscribe({"all"}, "json")

    results = await asyncio.gather(*(live.commit(put(f"k{i}", "v")) for i in range(200)))

    stored = await live.db.fetchall("SELECT key FROM meta ORDER BY key")
    assert results == [f"k{i}" for i in range(200)]
    assert len(stored) == 200
    assert live.changes == 200
    assert live.commits < 200  # shared fsyncs
    seqs = [seq for seq, _ in client.queue or ()]
    assert seqs == list(range(1, 201))
    await live.db.close()


async def test_a_refused_change_is_undone_alone(tmp_path: Path) -> None:
    live = await make_live(tmp_path)
    await live.commit(put("taken", "1"))

    outcomes = await asyncio.gather(
        live.commit(put("a", "1")),
        live.commit(put("taken", "2")),  # primary key clash: refused
        live.commit(put("b", "1")),
        return_exceptions=True,
    )

    assert outcomes[0] == "a" and outcomes[2] == "b"
    assert isinstance(outcomes[1], Exception)
    stored = await live.db.fetchall("SELECT key, value FROM meta ORDER BY key")
    assert [tuple(r) for r in stored] == [("a", "1"), ("b", "1"), ("taken", "1")]
    assert live.hub.last_seq == 3  # the refused change published nothing
    await live.db.close()


async def test_a_caller_that_stops_waiting_does_not_stop_its_change(tmp_path: Path) -> None:
    live = await make_live(tmp_path)

    waiter = asyncio.ensure_future(live.commit(put("kept", "1")))
    await asyncio.sleep(0)
    waiter.cancel()
    await live.flush()

    stored = await live.db.fetchall("SELECT key FROM meta")
    assert [r[0] for r in stored] == ["kept"]
    await live.db.close()


async def test_an_event_that_fails_its_check_refuses_its_change_alone(tmp_path: Path) -> None:
    live = await make_live(tmp_path)
    CHECKS.against_models()
    try:

        async def good(tx: Tx, now: datetime) -> tuple[str, list[Outgoing]]:
            await tx.execute(
                "INSERT INTO meta (webinar_id, key, value) VALUES (this_webinar(), 'good', '1')"
            )
            return "good", [Outgoing("roster.joined", "staff", {"count": 1})]

        async def bad(tx: Tx, now: datetime) -> tuple[str, list[Outgoing]]:
            await tx.execute(
                "INSERT INTO meta (webinar_id, key, value) VALUES (this_webinar(), 'bad', '1')"
            )
            return "bad", [Outgoing("roster.joined", "staff", {"count": "1"})]

        results = await asyncio.gather(live.commit(good), live.commit(bad), return_exceptions=True)
    finally:
        CHECKS.event = CHECKS.snapshot = None
    stored = await live.db.fetchall("SELECT key FROM meta WHERE key IN ('good', 'bad')")
    await live.db.close()

    assert results[0] == "good"
    assert isinstance(results[1], events.EventMismatch)
    assert [row[0] for row in stored] == ["good"]
    assert live.hub.last_seq == 1


async def test_the_observer_hears_each_commit_and_each_change_wait(tmp_path: Path) -> None:
    live = await make_live(tmp_path)
    heard: list[tuple[float, list[float]]] = []
    live.observer = lambda transaction, waits: heard.append((transaction, waits))

    await asyncio.gather(*(live.commit(put(f"k{i}", "v")) for i in range(20)))

    assert sum(len(waits) for _, waits in heard) == 20  # every change, once
    assert len(heard) == live.commits
    for transaction, waits in heard:
        # A change waits at least for the transaction that holds it.
        assert transaction > 0
        assert all(wait >= transaction for wait in waits)
    await live.db.close()


async def test_a_failing_observer_never_fails_the_change(tmp_path: Path) -> None:
    live = await make_live(tmp_path)

    def broken(transaction: float, waits: list[float]) -> None:
        raise RuntimeError("metrics are broken")

    live.observer = broken

    assert await live.commit(put("k", "v")) == "k"
    assert await live.db.fetchall("SELECT key FROM meta") != []
    await live.db.close()


async def test_the_writer_backlog_counts_changes_not_yet_in_a_transaction(tmp_path: Path) -> None:
    live = await make_live(tmp_path)
    assert live.backlog == 0
    pending = [asyncio.ensure_future(live.commit(put(f"k{i}", "v"))) for i in range(5)]
    # One turn of the loop: the five changes are queued; the writer task they started
    # runs only on the next turn, after this test (FIFO), so none is taken yet.
    await asyncio.sleep(0)

    queued = live.backlog
    await asyncio.gather(*pending)

    assert queued == 5
    assert live.backlog == 0
    await live.db.close()


def commit_then_lose_the_connection(live: Committer) -> list[int]:
    """From now on each COMMIT is done, then the connection breaks before its answer
    arrives (as when PostgreSQL restarts at that moment): the caller cannot know that it
    held. Returns a list counting the COMMITs so lost."""
    transaction = live.db.transaction
    lost: list[int] = []

    @contextlib.asynccontextmanager
    async def losing(*, fenced: bool = True) -> AsyncIterator[Tx]:
        async with transaction(fenced=fenced) as tx:
            yield tx
        lost.append(1)
        raise ConnectionLost("injected: the connection broke after COMMIT was sent")

    live.db.transaction = losing  # type: ignore[method-assign]
    return lost


async def test_a_commit_whose_outcome_is_unknown_is_settled_from_the_log(tmp_path: Path) -> None:
    live = await make_live(tmp_path)
    client = live.hub.subscribe({"all"}, "json")
    await live.commit(put("before", "1"))
    restore = live.db.transaction
    lost = commit_then_lose_the_connection(live)

    outcome = await asyncio.gather(live.commit(put("unknown", "1")), return_exceptions=True)
    live.db.transaction = restore  # type: ignore[method-assign]
    await live.commit(put("after", "1"))
    stored = await live.db.fetchall("SELECT key FROM meta ORDER BY key")
    await live.db.close()

    assert lost == [1] and isinstance(outcome[0], ConnectionLost)  # the caller hears 503
    assert [row[0] for row in stored] == ["after", "before", "unknown"]  # it held, once
    # Read from the log, not run again: every committed event once, in order.
    assert [seq for seq, _ in client.queue or ()] == [1, 2, 3]
    assert not live.unsettled


async def test_while_the_database_is_away_nothing_is_written_and_then_it_settles(
    tmp_path: Path,
) -> None:
    live = await make_live(tmp_path)
    client = live.hub.subscribe({"all"}, "json")
    restore_transaction, restore_fetchall = live.db.transaction, live.db.fetchall
    commit_then_lose_the_connection(live)

    async def away(sql: str, params: tuple[Any, ...] = ()) -> list[Row]:
        raise Unreachable("injected: the PostgreSQL database cannot be reached")

    live.db.fetchall = away  # type: ignore[method-assign]
    first = await asyncio.gather(live.commit(put("unknown", "1")), return_exceptions=True)
    live.db.transaction = restore_transaction  # type: ignore[method-assign]
    during = await asyncio.gather(live.commit(put("during", "1")), return_exceptions=True)
    unsettled = live.unsettled
    live.db.fetchall = restore_fetchall  # type: ignore[method-assign]
    await live.commit(put("back", "1"))
    stored = await live.db.fetchall("SELECT key FROM meta ORDER BY key")
    await live.db.close()

    assert isinstance(first[0], ConnectionLost) and isinstance(during[0], Unreachable)
    assert unsettled  # memory not yet brought back to the database: nothing was written
    assert [row[0] for row in stored] == ["back", "unknown"]
    assert [seq for seq, _ in client.queue or ()] == [1, 2]  # the unknown one, then back
