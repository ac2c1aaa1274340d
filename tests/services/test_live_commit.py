"""Group commit: concurrent changes share transactions, each is undone alone if refused."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path

import aiosqlite
import pytest

from webinar.realtime.hub import Event, Hub
from webinar.services.live import Live, Outgoing
from webinar.storage.db import Database

pytestmark = pytest.mark.integration


def encode(event: Event, fmt: str) -> str:
    return f"{event.seq}"


async def make_live(tmp_path: Path) -> Live:
    db = Database(tmp_path / "live.db")
    await db.open()
    return Live(db, Hub(encode))


Work = Callable[[aiosqlite.Connection, datetime], Awaitable[tuple[str, list[Outgoing]]]]


def put(key: str, value: str) -> Work:
    async def work(tx: aiosqlite.Connection, now: datetime) -> tuple[str, list[Outgoing]]:
        await tx.execute("INSERT INTO meta (key, value) VALUES (?, ?)", (key, value))
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
