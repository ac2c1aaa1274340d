"""Both storage backends, SQLite and PostgreSQL, keep the same guarantees: sequence numbers
in commit order, nothing left by a rolled-back transaction, every statement scoped to one
event, and the same schema."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import uuid
from pathlib import Path

import psycopg
import pytest
from psycopg import pq

from helpers import PATIENCE
from postgres_cluster import cluster
from webinar.storage import repo
from webinar.storage.db import Database, Fenced, connect_sync, migrate_sync
from webinar.storage.postgres import (
    PgConnection,
    PgSyncConnection,
    connect_async,
    is_postgres,
    translate,
    try_advisory_lock_async,
)
from webinar.storage.schema_postgres import MIGRATIONS as POSTGRES_MIGRATIONS
from webinar.storage.webinars import save_webinar_sync

pytestmark = pytest.mark.integration

AT = "2026-01-01T10:00:00+00:00"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A new, migrated database on each backend: a file, or a database in the session's
    PostgreSQL cluster (dropped when the test ends)."""
    url = (
        str(tmp_path / "webinar.db")
        if request.param == "sqlite"
        else cluster().create(f"b_{uuid.uuid4().hex[:16]}")
    )
    migrate_sync(url)
    return url


async def opened(url: str, webinar_id: int) -> Database:
    db = Database(url, webinar_id)
    await db.open()
    return db


async def write_events(db: Database, writer: str, count: int) -> None:
    """``count`` transactions, each appending two events and yielding to the other
    writer while it holds its numbers."""
    for n in range(count):
        async with db.transaction() as tx:
            await repo.append_events(
                tx, AT, [("note", "all", {"w": writer, "n": n}), ("note", "all", {"w": writer})]
            )
            await asyncio.sleep(0)


async def follow(db: Database, until: int, seen: list[list[int]]) -> None:
    """Read ``seq > last`` over and over, as a resuming screen does, until ``until``."""
    last = 0
    while last < until:
        rows = await db.fetchall(
            "SELECT seq FROM events WHERE webinar_id = this_webinar() AND seq > ? ORDER BY seq",
            (last,),
        )
        batch = [int(r["seq"]) for r in rows]
        if batch:
            seen.append(batch)
            last = batch[-1]
        await asyncio.sleep(0)


async def test_two_writers_number_events_in_commit_order(db_url: str) -> None:
    event, _ = save_webinar_sync(db_url, "one")
    first = await opened(db_url, event.id)
    second = await opened(db_url, event.id)
    reader = await opened(db_url, event.id)
    try:
        seen: list[list[int]] = []
        await asyncio.wait_for(
            asyncio.gather(
                write_events(first, "a", 40),
                write_events(second, "b", 40),
                follow(reader, 160, seen),
            ),
            timeout=120,
        )
        # A reader of "seq > last" never saw a number before one below it was committed:
        # everything it read, in the order read, is 1..160 with no gap and no repeat.
        assert [seq for batch in seen for seq in batch] == list(range(1, 161))
        assert await repo.last_seq(reader) == 160
    finally:
        for db in (first, second, reader):
            await db.close()


async def test_a_rolled_back_transaction_leaves_nothing(db_url: str) -> None:
    event, _ = save_webinar_sync(db_url, "one")
    db = await opened(db_url, event.id)
    try:
        with pytest.raises(RuntimeError, match="refused"):
            async with db.transaction() as tx:
                await repo.append_events(tx, AT, [("note", "all", {"n": 1})])
                await repo.log_agenda_action(tx, AT, "start", {}, "host")
                raise RuntimeError("refused")
        assert await repo.last_seq(db) == 0
        assert await repo.recent_events(db, 10) == []
        assert await repo.agenda_log(db) == []
        async with db.transaction() as tx:  # the writer is usable again
            assert await repo.append_events(tx, AT, [("note", "all", {"n": 2})]) == [1]
    finally:
        await db.close()


def test_a_connection_never_scoped_is_refused(db_url: str) -> None:
    save_webinar_sync(db_url, "one")
    conn = connect_sync(db_url)
    try:
        with pytest.raises((sqlite3.OperationalError, psycopg.Error)):
            conn.execute("SELECT count(*) FROM meta WHERE webinar_id = this_webinar()")
    finally:
        conn.close()


async def test_a_scoped_handle_sees_only_its_event(db_url: str) -> None:
    one, _ = save_webinar_sync(db_url, "one")
    two, _ = save_webinar_sync(db_url, "two")
    repo.ensure_meta_sync(db_url, one.id, {"code": "111"})
    repo.ensure_meta_sync(db_url, two.id, {"code": "222"})
    db = await opened(db_url, two.id)
    try:
        async with db.transaction() as tx:
            assert await repo.append_events(tx, AT, [("note", "all", {})]) == [1]
        assert await repo.get_meta(db) == {"code": "222"}
        assert repo.ensure_meta_sync(db_url, one.id, {}) == {"code": "111"}
    finally:
        await db.close()
    conn = connect_sync(db_url, one.id)
    try:
        row = conn.execute("SELECT last_seq FROM webinars WHERE id = this_webinar()").fetchone()
        assert row[0] == 0
    finally:
        conn.close()


async def test_rows_read_by_position_and_by_name(db_url: str) -> None:
    event, _ = save_webinar_sync(db_url, "one", title="Briefing")
    db = await opened(db_url, event.id)
    try:
        row = await db.fetchone("SELECT slug, title FROM webinars WHERE id = this_webinar()")
        assert row is not None
        assert (row[0], row["title"], tuple(row)) == ("one", "Briefing", ("one", "Briefing"))
        assert list(row.keys()) == ["slug", "title"]
    finally:
        await db.close()


# -- the schema, written twice ----------------------------------------------------------------


def sqlite_columns(path: str) -> dict[str, list[tuple[str, bool]]]:
    """Each table's and view's columns, in order, with whether they may be NULL (a
    primary key's may not: PostgreSQL says so, SQLite only means it)."""
    with contextlib.closing(sqlite3.connect(path)) as conn:
        names = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type IN ('table', 'view')"
                " AND name NOT LIKE 'sqlite_%'"
            )
        ]
        return {
            name: [
                (column, not (notnull or pk))
                for _, column, _, notnull, _, pk in conn.execute(f"PRAGMA table_info({name})")
            ]
            for name in names
        }


def postgres_columns(url: str) -> dict[str, list[tuple[str, bool]]]:
    conn = connect_sync(url)
    assert isinstance(conn, PgSyncConnection)
    try:
        rows = conn.execute(
            "SELECT table_name, column_name, is_nullable FROM information_schema.columns"
            " WHERE table_schema = 'public' AND table_name != 'schema_version'"
            " ORDER BY table_name, ordinal_position"
        ).fetchall()
    finally:
        conn.close()
    tables: dict[str, list[tuple[str, bool]]] = {}
    for table, column, nullable in rows:
        tables.setdefault(table, []).append((column, nullable == "YES"))
    return tables


def test_both_backends_end_with_the_same_tables_and_columns(tmp_path: Path) -> None:
    path = str(tmp_path / "webinar.db")
    migrate_sync(path)
    url = cluster().create(f"b_{uuid.uuid4().hex[:16]}")
    migrate_sync(url)

    assert postgres_columns(url) == sqlite_columns(path)


def test_migrating_postgresql_twice_changes_nothing() -> None:
    url = cluster().create(f"b_{uuid.uuid4().hex[:16]}")
    migrate_sync(url)
    before = postgres_columns(url)
    migrate_sync(url)
    conn = connect_sync(url)
    try:
        versions = conn.execute("SELECT version FROM schema_version ORDER BY version").fetchall()
    finally:
        conn.close()
    assert (postgres_columns(url), [v[0] for v in versions]) == (
        before,
        list(range(1, len(POSTGRES_MIGRATIONS) + 1)),
    )


# -- the dialect, translated in one place ---------------------------------------------------


@pytest.mark.parametrize(
    ("sqlite", "postgresql"),
    [
        ("SELECT * FROM meta WHERE key = ?", "SELECT * FROM meta WHERE key = %s"),
        (
            "INSERT OR IGNORE INTO votes (a) VALUES (?)",
            "INSERT INTO votes (a) VALUES (%s) ON CONFLICT DO NOTHING",
        ),
        (
            "INSERT OR IGNORE INTO t (a) VALUES (?) RETURNING a",
            "INSERT INTO t (a) VALUES (%s) ON CONFLICT DO NOTHING RETURNING a",
        ),
        ("DELETE FROM s WHERE id IS NOT ?", "DELETE FROM s WHERE id IS DISTINCT FROM %s"),
        ("ORDER BY name COLLATE NOCASE, at", "ORDER BY lower(name), at"),
        ("WHERE json_extract(spec, '$.kind') = 'x'", "WHERE (spec::jsonb ->> 'kind') = 'x'"),
        ("SELECT ifnull(a, 0) WHERE b LIKE '5%'", "SELECT coalesce(a, 0) WHERE b LIKE '5%%'"),
        ("BEGIN IMMEDIATE", "BEGIN"),
    ],
)
def test_sqlite_dialect_becomes_postgresql(sqlite: str, postgresql: str) -> None:
    assert translate(sqlite) == postgresql


async def test_a_nul_in_hostile_input_is_no_error(db_url: str) -> None:
    event, _ = save_webinar_sync(db_url, "one")
    db = await opened(db_url, event.id)
    try:
        found = await db.fetchone(
            "SELECT id FROM participants WHERE id = ? AND webinar_id = this_webinar()",
            ("p\x001",),
        )
        async with db.transaction() as tx:
            await tx.execute(
                "INSERT INTO settings (webinar_id, key, value) VALUES (this_webinar(), ?, ?)",
                ("k", "a\x00b"),
            )
        stored = await db.fetchone("SELECT value FROM settings WHERE key = 'k'")
    finally:
        await db.close()
    assert found is None
    assert stored is not None
    assert stored[0] == ("a\ufffdb" if is_postgres(db_url) else "a\x00b")


async def test_an_advisory_lock_is_held_by_one_connection_until_it_closes() -> None:
    url = cluster().create(f"b_{uuid.uuid4().hex[:16]}")
    first = await connect_async(url)
    second = await connect_async(url)
    try:
        taken = await try_advisory_lock_async(first, 18)
        refused = not await try_advisory_lock_async(second, 18)
        await first.close()  # however a holder ends, its lock goes with its connection
        # The server frees it when it sees the connection gone: wait for it, as a waiting
        # writer would (pg_advisory_lock blocks until the lock is free).
        await asyncio.wait_for(second.raw.execute("SELECT pg_advisory_lock(18)"), PATIENCE)
        held = await (
            await second.raw.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
            )
        ).fetchone()
    finally:
        await first.close()
        await second.close()
    assert (taken, refused, held and held[0]) == (True, True, 1)


async def test_closing_under_a_running_statement_is_an_error_not_a_crash() -> None:
    # psycopg frees a connection closed under a statement that another task is running
    # on it, which crashed the process (a readiness test closes the database under a
    # running server): close now waits for the running statement.
    url = cluster().create(f"b_{uuid.uuid4().hex[:16]}")
    migrate_sync(url)
    event, _ = save_webinar_sync(url, "one")
    db = await opened(url, event.id)
    reader = db.reader
    assert isinstance(reader, PgConnection)
    running = asyncio.create_task(db.fetchone("SELECT pg_sleep(0.2)"))
    while reader.raw.pgconn.transaction_status != pq.TransactionStatus.ACTIVE:
        await asyncio.sleep(0)  # until the statement is at the server
    await db.close()

    assert await running is not None  # it ran to its end before the connection closed
    with pytest.raises(RuntimeError, match="not open"):
        await db.fetchone("SELECT 1")


async def test_a_fenced_transaction_writes_nothing(db_url: str) -> None:
    event, _ = save_webinar_sync(db_url, "one")
    old = await opened(db_url, event.id)
    new = await opened(db_url, event.id)
    try:
        await old.take_writing()
        await new.take_writing()
        with pytest.raises(Fenced):  # the statement taking the seqs checks the epoch
            async with old.transaction() as tx:
                await repo.log_agenda_action(tx, AT, "start", {}, "host")
                await repo.append_events(tx, AT, [("note", "all", {"n": 1})], old)
        with pytest.raises(Fenced):  # no seq taken: checked before COMMIT
            async with old.transaction() as tx:
                await repo.log_agenda_action(tx, AT, "start", {}, "host")
        async with new.transaction() as tx:
            assert await repo.append_events(tx, AT, [("note", "all", {"n": 2})], new) == [1]
        assert await repo.agenda_log(new) == []
    finally:
        await old.close()
        await new.close()


async def pg_fenced_pair() -> tuple[Database, Database]:
    url = cluster().create(f"b_{uuid.uuid4().hex[:16]}")
    migrate_sync(url)
    event, _ = save_webinar_sync(url, "one")
    old, new = await opened(url, event.id), await opened(url, event.id)
    await old.take_writing()
    return old, new


async def test_a_takeover_during_an_open_transaction_fences_it_on_postgresql() -> None:
    # SQLite cannot interleave them (BEGIN IMMEDIATE holds the file's write lock); on
    # PostgreSQL the takeover commits while the old writer's transaction is open, and the
    # old writer's seq UPDATE then finds the epoch over.
    old, new = await pg_fenced_pair()
    try:
        with pytest.raises(Fenced):
            async with old.transaction() as tx:
                await repo.log_agenda_action(tx, AT, "start", {}, "host")
                await asyncio.wait_for(new.take_writing(), PATIENCE)
                await repo.append_events(tx, AT, [("note", "all", {"n": 1})], old)
        assert await repo.agenda_log(new) == []
        assert await repo.last_seq(new) == 0
    finally:
        await old.close()
        await new.close()


async def test_a_takeover_waits_for_a_transaction_that_took_its_seqs_on_postgresql() -> None:
    old, new = await pg_fenced_pair()
    watcher = await connect_async(cluster().url("postgres"))
    try:
        async with old.transaction() as tx:
            assert await repo.append_events(tx, AT, [("note", "all", {"n": 1})], old) == [1]
            takeover = asyncio.create_task(new.take_writing())
            async with asyncio.timeout(PATIENCE):  # until the takeover waits for the row
                while not await waiting_for_a_lock(watcher):
                    await asyncio.sleep(0.02)
            assert not takeover.done()
        assert await asyncio.wait_for(takeover, PATIENCE) == 2
        assert [e.seq for e in await repo.recent_events(new, 10)] == [1]
    finally:
        await watcher.close()
        await old.close()
        await new.close()


async def waiting_for_a_lock(watcher: PgConnection) -> bool:
    row = await (
        await watcher.raw.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
        )
    ).fetchone()
    return bool(row and row[0])
