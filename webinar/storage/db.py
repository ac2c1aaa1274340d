"""The embedded SQLite database: connections, durability settings, migrations.

Every SQL statement of the project lives in :mod:`webinar.storage`. One connection
writes, behind a lock, so SQLite never sees two writers; a second connection reads, so a
read never observes half of a transaction that is still being written (WAL mode lets it
read while the writer works).

Durability: ``journal_mode=WAL`` with ``synchronous=FULL``. A write is acknowledged to a
client only after its transaction commits, and with FULL the WAL is fsynced at every
commit, so an acknowledged write survives a process kill *and* a power cut. NORMAL would
survive a process kill only; the cost of FULL is measured in ``docs/benchmarks.md``.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from webinar.storage.schema import MIGRATIONS

PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=5000",
)


def migrate_sync(path: str | Path) -> None:
    """Create the database file if needed and run every pending migration.

    Synchronous, for the CLI before the server's event loop exists.
    """
    conn = sqlite3.connect(str(path), isolation_level=None)
    try:
        for pragma in PRAGMAS:
            conn.execute(pragma)
        _migrate(conn)
    finally:
        conn.close()


def _migrate(conn: sqlite3.Connection) -> None:
    (version,) = conn.execute("PRAGMA user_version").fetchone()
    # Foreign keys off while tables are rebuilt (a DROP would cascade), checked before each
    # COMMIT, on again after: SQLite's own procedure for changing a table's schema.
    conn.execute("PRAGMA foreign_keys=OFF")
    try:
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            conn.execute("BEGIN IMMEDIATE")
            try:
                for statement in script.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                broken = conn.execute("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise sqlite3.IntegrityError(f"migration {number} broke references: {broken}")
                conn.execute(f"PRAGMA user_version = {number}")
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
    finally:
        conn.execute("PRAGMA foreign_keys=ON")


def scope(conn: sqlite3.Connection, webinar_id: int) -> sqlite3.Connection:
    """Bind ``conn`` to one event: its SQL calls ``this_webinar()`` for the event's id.

    Every statement that reads or writes an event's rows says ``webinar_id =
    this_webinar()`` (or inserts ``this_webinar()``), so a handle opened for one event can
    neither see nor touch another's; a connection never scoped fails (no such function)
    rather than guessing. See docs/architecture.md, "Many events in one database".
    """
    conn.create_function("this_webinar", 0, lambda: webinar_id, deterministic=True)
    return conn


async def scope_async(conn: aiosqlite.Connection, webinar_id: int) -> None:
    """:func:`scope` for an aiosqlite connection."""
    await conn.create_function("this_webinar", 0, lambda: webinar_id, deterministic=True)


def connect_sync(path: str | Path, webinar_id: int | None = None) -> sqlite3.Connection:
    """A synchronous connection (for the CLI) with the usual pragmas, scoped to one event
    when ``webinar_id`` is given. Autocommit: the caller says BEGIN."""
    conn = sqlite3.connect(str(path), isolation_level=None)
    for pragma in PRAGMAS:
        conn.execute(pragma)
    return scope(conn, webinar_id) if webinar_id is not None else conn


class Database:
    """Two aiosqlite connections to one file, scoped to one event (``webinar_id``): a
    writer and a reader.

    Several events' handles on one file share one write lock (``write_lock``, from
    :class:`DatabaseFile`), so SQLite still sees one writer at a time.
    """

    def __init__(
        self, path: str | Path, webinar_id: int, write_lock: asyncio.Lock | None = None
    ) -> None:
        self.path = str(path)
        self.webinar_id = webinar_id
        self._writer: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._write_lock = write_lock or asyncio.Lock()

    async def open(self) -> None:
        migrate_sync(self.path)
        self._writer = await self._connect()
        self._reader = await self._connect()

    async def _connect(self) -> aiosqlite.Connection:
        conn = await aiosqlite.connect(self.path, isolation_level=None)
        conn.row_factory = sqlite3.Row
        for pragma in PRAGMAS:
            await conn.execute(pragma)
        await scope_async(conn, self.webinar_id)
        return conn

    async def close(self) -> None:
        for conn in (self._writer, self._reader):
            if conn is not None:
                await conn.close()
        self._writer = self._reader = None

    @property
    def reader(self) -> aiosqlite.Connection:
        if self._reader is None:
            raise RuntimeError("the database is not open")
        return self._reader

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """Yield the writer inside ``BEGIN IMMEDIATE``; commit on exit, roll back on error."""
        if self._writer is None:
            raise RuntimeError("the database is not open")
        async with self._write_lock:
            conn = self._writer
            await conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                await conn.execute("ROLLBACK")
                raise
            else:
                try:
                    await conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:  # never leave the writer inside a transaction
                        await conn.execute("ROLLBACK")
                    raise

    async def fetchone(self, sql: str, params: tuple[Any, ...] = ()) -> sqlite3.Row | None:
        async with self.reader.execute(sql, params) as cursor:
            row: sqlite3.Row | None = await cursor.fetchone()
            return row

    async def fetchall(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        async with self.reader.execute(sql, params) as cursor:
            return list(await cursor.fetchall())

    async def schema_version(self) -> int:
        """The migrations the file has had (a trivial query: readiness checks call it);
        ``RuntimeError`` when the database is closed, ``sqlite3.Error`` when it fails."""
        row = await self.fetchone("PRAGMA user_version")
        return int(row[0]) if row is not None else 0


#: The migration a current database is at.
LATEST_MIGRATION = len(MIGRATIONS)


# -- inside the writer's transaction: one thread round trip per statement -------------------
# Each awaited call on the writer goes to SQLite's thread and back through the event loop;
# under load the loop is busy fanning events out, so every round trip saved shortens the
# time a change waits for its commit. aiosqlite's ``execute_insert`` and ``execute_fetchall``
# run a statement and read its result in one trip (``execute`` + ``fetchone`` + closing
# the cursor is three).


async def insert_id(tx: aiosqlite.Connection, sql: str, params: tuple[Any, ...]) -> int:
    """Run an INSERT; return the new row's id."""
    row = await tx.execute_insert(sql, params)
    if row is None or row[0] is None:  # pragma: no cover - SQLite reports it for an INSERT
        raise RuntimeError(f"no row id after {sql.split('(')[0].strip()}")
    return int(row[0])


async def first_row(
    tx: aiosqlite.Connection, sql: str, params: tuple[Any, ...] = ()
) -> sqlite3.Row | None:
    """Run a statement (a SELECT, or a write with RETURNING); its first row or None."""
    for row in await tx.execute_fetchall(sql, params):
        return row
    return None


# -- one server per database ----------------------------------------------------------------


class InUse(Exception):
    """Another process holds the database exclusively (a running server)."""


@contextmanager
def exclusive(path: str | Path) -> Iterator[None]:
    """Hold ``<database>.lock`` exclusively for the block, or raise :class:`InUse` at once.

    A running server holds it, so that a second server, ``webinar purge`` or ``webinar
    erase`` refuse to work under it (they would change the database behind the server's
    in-memory state, which would write it back). The operating system releases the lock
    when the process ends, however it ends. Where ``fcntl`` does not exist (Windows) there
    is no lock.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not on the platforms we deploy to
        yield
        return
    with open(f"{path}.lock", "a+b") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise InUse(f"{path} is in use by a running server") from None
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
