"""The embedded SQLite database: connections, durability settings, migrations.

Every SQL statement of the project lives in :mod:`webinar.storage`. One connection
writes, behind a lock, so SQLite never sees two writers; a second connection reads, so a
read never observes half of a transaction that is still being written (WAL mode lets it
read while the writer works).

Durability: ``journal_mode=WAL`` with ``synchronous=FULL``. A write is acknowledged to a
client only after its transaction commits, and with FULL the WAL is fsynced at every
commit, so an acknowledged write survives a process kill *and* a power cut. NORMAL would
survive a process kill only; the cost of FULL is measured in ``docs/benchmarks.md``.

A ``postgresql://`` URL instead of a file path opens PostgreSQL (:mod:`.postgres`) behind
the same calls: the types :data:`Tx`, :data:`Row` and :data:`SyncConnection` are either
backend's, and the repositories' SQL is shared.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from webinar.storage import postgres
from webinar.storage.postgres import PgConnection, PgRow, PgSyncConnection
from webinar.storage.schema import MIGRATIONS
from webinar.storage.schema_postgres import MIGRATIONS as POSTGRES_MIGRATIONS

#: A connection repositories run statements on (a transaction's, or a reader).
Tx = aiosqlite.Connection | PgConnection
#: A row, read by index or column name.
Row = sqlite3.Row | PgRow
#: A blocking connection (the CLI's).
SyncConnection = sqlite3.Connection | PgSyncConnection

PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=5000",
)


def database_exists(path: str | Path) -> bool:
    """Whether the database is there to open: the file exists; a PostgreSQL database is
    taken to exist (connecting says if it cannot be reached)."""
    return postgres.is_postgres(path) or Path(path).is_file()


def migrate_sync(path: str | Path) -> None:
    """Create the database file if needed and run every pending migration.

    Synchronous, for the CLI before the server's event loop exists.
    """
    if postgres.is_postgres(path):
        postgres.migrate_sync(str(path))
        return
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


def connect_sync(path: str | Path, webinar_id: int | None = None) -> SyncConnection:
    """A synchronous connection (for the CLI) with the usual pragmas, scoped to one event
    when ``webinar_id`` is given. Autocommit: the caller says BEGIN."""
    if postgres.is_postgres(path):
        return postgres.connect_sync(str(path), webinar_id)
    conn = sqlite3.connect(str(path), isolation_level=None)
    for pragma in PRAGMAS:
        conn.execute(pragma)
    return scope(conn, webinar_id) if webinar_id is not None else conn


async def connect_async(path: str | Path, webinar_id: int | None = None) -> Tx:
    """A connection on the event loop with the usual pragmas (SQLite) or settings
    (PostgreSQL), scoped to one event when ``webinar_id`` is given. Autocommit: the caller
    says BEGIN. The one way this project connects asynchronously."""
    if postgres.is_postgres(path):
        return await postgres.connect_async(str(path), webinar_id)
    conn = await aiosqlite.connect(str(path), isolation_level=None)
    conn.row_factory = sqlite3.Row
    for pragma in PRAGMAS:
        await conn.execute(pragma)
    if webinar_id is not None:
        await scope_async(conn, webinar_id)
    return conn


@asynccontextmanager
async def offline_transaction(path: str | Path, webinar_id: int | None = None) -> AsyncIterator[Tx]:
    """One transaction on a connection of its own (the command line's, with or without a
    server on the same database), scoped to ``webinar_id`` when given; committed on exit,
    rolled back on error. The database must be migrated already."""
    conn = await connect_async(path, webinar_id)
    try:
        await conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            await conn.execute("ROLLBACK")
            raise
        await conn.execute("COMMIT")
    finally:
        await conn.close()


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
        self._writer: Tx | None = None
        self._reader: Tx | None = None
        self._write_lock = write_lock or asyncio.Lock()
        self._reopening = asyncio.Lock()
        #: The writer epoch this handle took (:meth:`take_writing`); None: no fence (one
        #: process serves the database, nobody else writes for the event).
        self.epoch: int | None = None
        #: The epoch the open transaction has yet to check (None: checked, or unfenced).
        self._unchecked: int | None = None

    async def open(self) -> None:
        migrate_sync(self.path)
        self._writer = await connect_async(self.path, self.webinar_id)
        self._reader = await connect_async(self.path, self.webinar_id)

    async def close(self) -> None:
        for conn in (self._writer, self._reader):
            if conn is not None:
                await conn.close()
        self._writer = self._reader = None

    async def _replace_lost(self, conn: Tx) -> Tx:
        """``conn``, or a new connection in its place when PostgreSQL broke it (the server
        restarted), so the event's connections come back by themselves once it answers
        again: :class:`postgres.Unreachable` while it cannot be reached."""
        if not _lost(conn):
            return conn
        await conn.close()
        return await connect_async(self.path, self.webinar_id)

    @property
    def reader(self) -> Tx:
        if self._reader is None:
            raise RuntimeError("the database is not open")
        return self._reader

    @asynccontextmanager
    async def transaction(self, *, fenced: bool = True) -> AsyncIterator[Tx]:
        """Yield the writer inside ``BEGIN IMMEDIATE``; commit on exit, roll back on error.

        After :meth:`take_writing`, a ``fenced`` transaction raises :class:`Fenced` and
        writes nothing once another handle took over. The statement that takes the event's
        next sequence numbers (:meth:`take_seqs`) checks the epoch in its ``WHERE``, so a
        transaction that logs events pays no statement for the check; one that took none
        checks it just before COMMIT."""
        if self._writer is None:
            raise RuntimeError("the database is not open")
        async with self._write_lock:
            conn = await self._begin()
            self._unchecked = self.epoch if fenced else None
            try:
                yield conn
                if self._unchecked is not None:
                    await self._check_epoch(conn, self._unchecked)
            except BaseException:
                if not _lost(conn):  # PostgreSQL ended a lost one's transaction itself
                    await conn.execute("ROLLBACK")
                raise
            else:
                try:
                    await conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:  # never leave the writer inside a transaction
                        await conn.execute("ROLLBACK")
                    raise
            finally:
                self._unchecked = None

    @asynccontextmanager
    async def savepoint(self, conn: Tx) -> AsyncIterator[None]:
        """A part of the open transaction that an exception undoes alone (and raises):
        ``SAVEPOINT``, then ``RELEASE`` or ``ROLLBACK TO``. An epoch check made inside a
        part that is undone counts as not made (PostgreSQL drops the row lock with it)."""
        unchecked = self._unchecked
        await conn.execute("SAVEPOINT part")
        try:
            yield
        except BaseException:
            await conn.execute("ROLLBACK TO part")
            await conn.execute("RELEASE part")
            self._unchecked = unchecked
            raise
        await conn.execute("RELEASE part")

    async def take_seqs(self, conn: Tx, count: int) -> int:
        """:func:`take_seqs` inside this handle's open transaction, checking its writer
        epoch in the same statement when the transaction is fenced and has not checked it
        yet: :class:`Fenced` when it is over (SQLite: ``BEGIN IMMEDIATE`` holds the write
        lock to COMMIT; PostgreSQL: the UPDATE locks the event's row to COMMIT, and a
        takeover's UPDATE waits for it)."""
        last = await take_seqs(conn, count, self._unchecked)
        self._unchecked = None
        return last

    async def _begin(self) -> Tx:
        """``BEGIN IMMEDIATE`` on the writer. A connection PostgreSQL broke while it was
        idle (a restart) is found out only by its next statement: when that is the BEGIN,
        nothing was done, so it is begun once more on a new connection."""
        assert self._writer is not None
        self._writer = await self._replace_lost(self._writer)
        try:
            await self._writer.execute("BEGIN IMMEDIATE")
        except postgres.ConnectionLost:
            self._writer = await self._replace_lost(self._writer)
            await self._writer.execute("BEGIN IMMEDIATE")
        return self._writer

    async def take_writing(self) -> int:
        """Become the event's one writer: raise its ``writer_epoch`` and keep the new value;
        from now on every transaction of this handle checks it (and raises
        :class:`Fenced` once another handle took over). Returns the epoch."""
        async with self.transaction(fenced=False) as conn:
            row = await first_row(
                conn,
                "UPDATE webinars SET writer_epoch = writer_epoch + 1"
                " WHERE id = this_webinar() RETURNING writer_epoch",
            )
            if row is None:
                raise LookupError("this event is not in the database")
        self.epoch = int(row[0])
        return self.epoch

    @staticmethod
    async def _check_epoch(conn: Tx, epoch: int) -> None:
        # At the end of a writing transaction that took no seq. SQLite: BEGIN IMMEDIATE
        # holds the write lock, so no takeover can come between this check and the COMMIT.
        # PostgreSQL: FOR UPDATE locks the event's row until COMMIT, and a takeover's
        # UPDATE waits for it.
        lock = " FOR UPDATE" if isinstance(conn, PgConnection) else ""
        row = await first_row(
            conn, "SELECT writer_epoch FROM webinars WHERE id = this_webinar()" + lock
        )
        if row is None or int(row[0]) != epoch:
            raise Fenced(f"another worker took over writing (epoch {epoch} is over)")

    async def _fresh_reader(self) -> Tx:
        """The reader, opened again first if PostgreSQL broke it (one task reopens it,
        the others wait for that one)."""
        if _lost(self.reader):
            async with self._reopening:
                self._reader = await self._replace_lost(self.reader)
        return self.reader

    async def fetchone(self, sql: str, params: tuple[Any, ...] = ()) -> Row | None:
        reader = await self._fresh_reader()
        if isinstance(reader, PgConnection):
            try:
                return await (await reader.execute(sql, params)).fetchone()
            except postgres.ConnectionLost:  # broken while idle: a read is safe to repeat
                reader = await self._fresh_reader()
                return await (await reader.execute(sql, params)).fetchone()
        async with reader.execute(sql, params) as cursor:
            row: sqlite3.Row | None = await cursor.fetchone()
            return row

    async def fetchall(self, sql: str, params: tuple[Any, ...] = ()) -> list[Row]:
        # One call on either backend (aiosqlite: one trip to SQLite's thread).
        try:
            return list(await (await self._fresh_reader()).execute_fetchall(sql, params))
        except postgres.ConnectionLost:  # broken while idle: a read is safe to repeat
            return list(await (await self._fresh_reader()).execute_fetchall(sql, params))

    async def schema_version(self) -> int:
        """The migrations the file has had (a trivial query: readiness checks call it);
        ``RuntimeError`` when the database is closed, ``sqlite3.Error`` when it fails."""
        if postgres.is_postgres(self.path):
            row = await self.fetchone("SELECT max(version) FROM schema_version")
        else:
            row = await self.fetchone("PRAGMA user_version")
        return int(row[0] or 0) if row is not None else 0

    @property
    def latest_migration(self) -> int:
        """The migration a current database of this backend is at."""
        return len(POSTGRES_MIGRATIONS) if postgres.is_postgres(self.path) else len(MIGRATIONS)


def _lost(conn: Tx) -> bool:
    """Whether ``conn`` is a PostgreSQL connection the server broke."""
    return isinstance(conn, PgConnection) and conn.lost


# -- inside the writer's transaction: one thread round trip per statement -------------------
# Each awaited call on the writer goes to SQLite's thread and back through the event loop;
# under load the loop is busy fanning events out, so every round trip saved shortens the
# time a change waits for its commit. aiosqlite's ``execute_insert`` and ``execute_fetchall``
# run a statement and read its result in one trip (``execute`` + ``fetchone`` + closing
# the cursor is three).


async def insert_id(tx: Tx, sql: str, params: tuple[Any, ...]) -> int:
    """Run an INSERT; return the new row's id."""
    row = await tx.execute_insert(sql, params)
    if row is None or row[0] is None:  # pragma: no cover - SQLite reports it for an INSERT
        raise RuntimeError(f"no row id after {sql.split('(')[0].strip()}")
    return int(row[0])


async def first_row(tx: Tx, sql: str, params: tuple[Any, ...] = ()) -> Row | None:
    """Run a statement (a SELECT, or a write with RETURNING); its first row or None."""
    for row in await tx.execute_fetchall(sql, params):
        return row
    return None


async def take_seqs(tx: Tx, count: int, epoch: int | None = None) -> int:
    """Take the event's next ``count`` sequence numbers inside the open transaction (a
    counter, never a database sequence: no gaps, and the order of commits); return the last
    one. With ``epoch``: only while the event's writer epoch is still that one, else
    :class:`Fenced` (one statement for both). ``LookupError`` when the event is gone."""
    sql = "UPDATE webinars SET last_seq = last_seq + ? WHERE id = this_webinar()"
    if epoch is None:
        row = await first_row(tx, sql + " RETURNING last_seq", (count,))
        if row is None:
            raise LookupError("this event is not in the database")
    else:
        row = await first_row(tx, sql + " AND writer_epoch = ? RETURNING last_seq", (count, epoch))
        if row is None:
            raise Fenced(f"another worker took over writing (epoch {epoch} is over)")
    return int(row[0])


# -- one server per database ----------------------------------------------------------------


class Fenced(Exception):
    """This handle's writer epoch is over: another worker writes for the event now."""


class InUse(Exception):
    """Another process holds the database exclusively (a running server)."""


@contextmanager
def exclusive(path: str | Path, hosts: bool = False) -> Iterator[None]:
    """Hold ``<database>.lock`` exclusively for the block, or raise :class:`InUse` at once.

    ``hosts``: the server of ``webinar serve --workers N``, which may run on several hosts
    on one PostgreSQL database: there the lock is shared among such servers (still refused
    while a one-process server, a purge or an erase holds it, and refusing them). A SQLite
    file is never shared by two servers (the workers of one serve share their
    supervisor's).

    A running server holds it, so that a second server, ``webinar purge`` or ``webinar
    erase`` refuse to work under it (they would change the database behind the server's
    in-memory state, which would write it back). The operating system releases the lock
    when the process ends, however it ends. Where ``fcntl`` does not exist (Windows) there
    is no lock. On PostgreSQL the lock is an advisory lock held by a connection of its own
    (released when the process ends too, as the server then closes the connection).
    """
    if postgres.is_postgres(path):
        with postgres.held(str(path), shared=hosts) as free:
            if not free:
                raise InUse(f"{postgres.shown(str(path))} is in use by a running server")
            yield
        return
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
