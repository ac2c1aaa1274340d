"""The event's PostgreSQL connections come back by themselves when the server ends them
(a restart ends every session): the next read and the next transaction run on new ones.
Needs PostgreSQL whatever ``WEBINAR_TEST_DB`` says (never skipped under ``CI=true``)."""

from __future__ import annotations

import contextlib
from pathlib import Path

import psycopg
import pytest

from postgres_cluster import cluster, require_postgres
from webinar.storage.db import Database
from webinar.storage.postgres import ConnectionLost, PgConnection, connect_async
from webinar.storage.webinars import save_webinar_sync

pytestmark = pytest.mark.integration


def end_sessions(url: str) -> int:
    """Terminate every other session on the database (as a restart does); how many."""
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid != pg_backend_pid()"
        ).fetchall()
    return len(rows)


async def open_event(tmp_path: Path) -> tuple[str, Database]:
    require_postgres()
    url = cluster().create("t_reconnect_" + tmp_path.name.replace("-", "_")[-20:])
    event, _ = save_webinar_sync(url, "live")
    db = Database(url, event.id)
    await db.open()
    return url, db


async def test_reads_and_transactions_reopen_connections_the_server_ended(
    tmp_path: Path,
) -> None:
    url, db = await open_event(tmp_path)
    try:
        assert end_sessions(url) == 2  # the event's writer and reader
        version = await db.schema_version()  # the reader: reopened, the read repeated
        async with db.transaction() as tx:  # the writer: BEGIN again on a new one
            await tx.execute(
                "INSERT INTO meta (webinar_id, key, value) VALUES (this_webinar(), 'k', 'v')"
            )
        rows = await db.fetchall("SELECT value FROM meta WHERE key = 'k'")
    finally:
        await db.close()
    assert version == db.latest_migration
    assert [row[0] for row in rows] == ["v"]


async def test_a_statement_on_a_connection_the_server_ended_says_connection_lost(
    tmp_path: Path,
) -> None:
    url, db = await open_event(tmp_path)
    await db.close()
    conn = await connect_async(url)
    try:
        end_sessions(url)
        with pytest.raises(ConnectionLost, match="connection to PostgreSQL broke"):
            await conn.execute("SELECT 1")
        assert isinstance(conn, PgConnection) and conn.lost and not conn.in_transaction
    finally:
        with contextlib.suppress(Exception):
            await conn.close()
