"""PostgreSQL, the second storage backend (``--db postgresql://...``), through psycopg 3.

The repositories' SQL is written once, in SQLite's dialect; :func:`translate` turns it
into PostgreSQL's in this one place (``?`` placeholders, ``INSERT OR IGNORE``, ``IS NOT
?``, ``ifnull``, ``COLLATE NOCASE``, ``json_extract``, ``BEGIN IMMEDIATE``; PRAGMAs do
nothing). The connections here offer the calls the repositories make on an aiosqlite or
sqlite3 connection (``execute``, ``executemany``, ``execute_fetchall``,
``execute_insert``, ``in_transaction``), and rows behave like ``sqlite3.Row`` (by index
and by column name), so a repository function runs on either backend unchanged.

Scoping: ``this_webinar()`` is a SQL function reading the setting ``webinar.id``, which a
connection opened for one event sets for its whole session; an unscoped connection has no
such setting, and every statement calling ``this_webinar()`` fails, as on SQLite.

Sequence numbers come from ``webinars.last_seq``, taken with ``UPDATE ... RETURNING`` in
the writing transaction: the row stays locked until COMMIT, so a second writer of the
same event waits and commit order and seq order agree (see docs/architecture.md).
Durability: ``synchronous_commit`` stays on (PostgreSQL's default), so an acknowledged
write is in the WAL on disk before COMMIT returns.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any, ClassVar, SupportsIndex, overload

import psycopg
from psycopg import pq
from psycopg.adapt import Dumper
from psycopg.rows import RowMaker

from webinar.storage.schema_postgres import MIGRATIONS

SCHEMES = ("postgresql://", "postgres://")


def is_postgres(db: object) -> bool:
    """Whether ``db`` (a ``--db`` value) names a PostgreSQL database rather than a file."""
    return str(db).startswith(SCHEMES)


class Unreachable(Exception):
    """The PostgreSQL server cannot be reached or refuses the connection."""


class ConnectionLost(Unreachable):
    """A connection broke under a statement (the server restarted, or went away). What
    the statement did is unknown when it was a COMMIT: the caller settles that by reading
    the database once it answers again, never by running it a second time."""


def _lost(conn: psycopg.AsyncConnection[Any], exc: psycopg.OperationalError) -> Exception:
    """``exc`` raised by a statement on ``conn``: :class:`ConnectionLost` when the
    connection is gone with it (psycopg marks it closed), else ``exc`` itself (a lock
    timeout, a cancelled statement: the connection still works)."""
    if not conn.closed:
        return exc
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return ConnectionLost(f"The connection to PostgreSQL broke: {reason}")


# -- SQL: SQLite's dialect to PostgreSQL's, in one place -------------------------------------

_REWRITES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"%"), "%%"),  # a literal % in psycopg's placeholder syntax
    (re.compile(r"\?"), "%s"),
    (re.compile(r"\bIS NOT %s"), "IS DISTINCT FROM %s"),
    (re.compile(r"\bifnull\("), "coalesce("),
    (re.compile(r"(\w+) COLLATE NOCASE"), r"lower(\1)"),
    (re.compile(r"json_extract\((\w+), '\$\.(\w+)'\)"), r"(\1::jsonb ->> '\2')"),
    (re.compile(r"^\s*BEGIN IMMEDIATE\s*$"), "BEGIN"),
)
_IGNORE = re.compile(r"\bINSERT OR IGNORE INTO\b")
_RETURNING = re.compile(r"\sRETURNING\s")


@lru_cache(maxsize=1024)
def translate(sql: str) -> str:
    """``sql`` (SQLite's dialect, ``?`` placeholders) as PostgreSQL runs it (``%s``)."""
    for pattern, replacement in _REWRITES:
        sql = pattern.sub(replacement, sql)
    if _IGNORE.search(sql):
        sql = _IGNORE.sub("INSERT INTO", sql)
        found = _RETURNING.search(sql)
        at = found.start() if found else len(sql)
        sql = f"{sql[:at]} ON CONFLICT DO NOTHING{sql[at:]}"
    return sql


def _params(params: Iterable[Any] | None) -> tuple[Any, ...]:
    """Parameters as PostgreSQL takes them. Its text cannot hold NUL, which SQLite's can: a
    NUL in a value (only ever in hostile input: the app's own text never has one) becomes
    U+FFFD, so a lookup by it finds nothing and a write of it stores the replacement
    character, where PostgreSQL would refuse the statement."""
    values = tuple(params or ())
    if any(isinstance(v, str) and "\x00" in v for v in values):
        return tuple(v.replace("\x00", "\ufffd") if isinstance(v, str) else v for v in values)
    return values


def _skipped(sql: str) -> bool:
    """SQLite's PRAGMAs have no meaning here (durability and foreign keys are the server's)."""
    return sql.lstrip().upper().startswith("PRAGMA")


# -- rows like sqlite3.Row ------------------------------------------------------------------


class PgRow(tuple[Any, ...]):
    """A row read by index or by column name, as ``sqlite3.Row`` is."""

    __slots__ = ()
    _index: ClassVar[dict[str, int]] = {}

    @overload
    def __getitem__(self, key: str, /) -> Any: ...
    @overload
    def __getitem__(self, key: SupportsIndex, /) -> Any: ...
    @overload
    def __getitem__(self, key: slice, /) -> tuple[Any, ...]: ...
    def __getitem__(self, key: str | SupportsIndex | slice, /) -> Any:
        if isinstance(key, str):
            return tuple.__getitem__(self, self._index[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._index)


@lru_cache(maxsize=512)
def _row_class(names: tuple[str, ...]) -> type[PgRow]:
    index = {name: i for i, name in enumerate(names)}
    return type("PgRow", (PgRow,), {"__slots__": (), "_index": index})


def _rows(cursor: psycopg.Cursor[Any] | psycopg.AsyncCursor[Any]) -> RowMaker[PgRow]:
    names = tuple(column.name for column in cursor.description or ())
    return _row_class(names)


class _BoolAsInteger(Dumper):
    """Flags are INTEGER 0/1 columns on both backends; Python's bools are stored so."""

    oid = psycopg.postgres.types["int8"].oid

    def dump(self, obj: bool) -> bytes:
        return b"1" if obj else b"0"


def _adapt(conn: psycopg.Connection[Any] | psycopg.AsyncConnection[Any]) -> None:
    conn.adapters.register_dumper(bool, _BoolAsInteger)


# -- cursors and connections ----------------------------------------------------------------


class _Result:
    """What a statement left: its rows (if it returned any) and how many rows it touched."""

    def __init__(self, rows: list[PgRow], rowcount: int) -> None:
        self._rows = rows
        self._rowcount = rowcount

    @property
    def rowcount(self) -> int:
        return self._rowcount


class PgCursor(_Result):
    """A statement's result, read as from a sqlite3 cursor."""

    def fetchone(self) -> Any:  # as sqlite3's: a row, or None
        return self._rows[0] if self._rows else None

    def fetchall(self) -> list[Any]:  # as sqlite3's
        return list(self._rows)

    def __iter__(self) -> Iterator[PgRow]:
        return iter(self._rows)


class PgAsyncCursor(_Result):
    """A statement's result, read as from an aiosqlite cursor."""

    async def fetchone(self) -> PgRow | None:
        return self._rows[0] if self._rows else None

    async def fetchall(self) -> list[PgRow]:
        return list(self._rows)

    async def close(self) -> None:
        self._rows = []


async def _run_async(
    conn: psycopg.AsyncConnection[PgRow], sql: str, params: Iterable[Any] | None
) -> PgAsyncCursor:
    if _skipped(sql):
        return PgAsyncCursor([], -1)
    try:
        async with conn.cursor() as cursor:
            await cursor.execute(translate(sql), _params(params))
            rows = await cursor.fetchall() if cursor.description is not None else []
            return PgAsyncCursor(rows, cursor.rowcount)
    except psycopg.OperationalError as exc:
        raise _lost(conn, exc) from exc


class PgConnection:
    """An async connection offering the calls repositories make on an aiosqlite one."""

    def __init__(self, conn: psycopg.AsyncConnection[PgRow]) -> None:
        self.raw = conn

    async def execute(self, sql: str, parameters: Iterable[Any] | None = None) -> PgAsyncCursor:
        return await _run_async(self.raw, sql, parameters)

    async def executemany(self, sql: str, parameters: Iterable[Iterable[Any]]) -> PgAsyncCursor:
        batch = [_params(p) for p in parameters]
        if not batch:
            return PgAsyncCursor([], 0)
        try:
            async with self.raw.cursor() as cursor:
                await cursor.executemany(translate(sql), batch)
                return PgAsyncCursor([], cursor.rowcount)
        except psycopg.OperationalError as exc:
            raise _lost(self.raw, exc) from exc

    async def execute_fetchall(
        self, sql: str, parameters: Iterable[Any] | None = None
    ) -> list[PgRow]:
        return (await _run_async(self.raw, sql, parameters))._rows

    async def execute_insert(
        self, sql: str, parameters: Iterable[Any] | None = None
    ) -> PgRow | None:
        """Run an INSERT into a table with an ``id`` column; its new row's ``(id,)``."""
        rows = (await _run_async(self.raw, f"{sql} RETURNING id", parameters))._rows
        return rows[0] if rows else None

    @property
    def in_transaction(self) -> bool:
        # A lost connection has no transaction left to end (the server rolled it back,
        # or committed it: see ConnectionLost).
        return not self.raw.closed and (
            self.raw.info.transaction_status != pq.TransactionStatus.IDLE
        )

    @property
    def lost(self) -> bool:
        """Whether the connection is gone (broken by the server, or closed): a new one
        must be opened."""
        return self.raw.closed

    async def close(self) -> None:
        # psycopg's close() frees the connection at once, even under a statement another
        # task is running on it (a crash of the process, not an error): wait for the
        # connection's lock, which every statement holds while it runs. A transaction
        # between two statements then fails on its next one, as on SQLite.
        async with self.raw.lock:
            await self.raw.close()


class PgSyncConnection:
    """A blocking connection offering the calls the CLI makes on a sqlite3 one."""

    def __init__(self, conn: psycopg.Connection[PgRow]) -> None:
        self.raw = conn

    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> PgCursor:
        if _skipped(sql):
            return PgCursor([], -1)
        with self.raw.cursor() as cursor:
            cursor.execute(translate(sql), _params(parameters))
            rows = cursor.fetchall() if cursor.description is not None else []
            return PgCursor(rows, cursor.rowcount)

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> PgCursor:
        batch = [_params(p) for p in parameters]
        if not batch:
            return PgCursor([], 0)
        with self.raw.cursor() as cursor:
            cursor.executemany(translate(sql), batch)
            return PgCursor([], cursor.rowcount)

    @property
    def in_transaction(self) -> bool:
        return self.raw.info.transaction_status != pq.TransactionStatus.IDLE

    def __enter__(self) -> PgSyncConnection:
        return self

    def __exit__(self, kind: object, value: object, traceback: object) -> None:
        """As sqlite3's ``with conn``: end an open transaction (commit, or roll back on an
        error); the connection stays open."""
        if self.in_transaction:
            self.raw.execute("ROLLBACK" if kind is not None else "COMMIT")

    def close(self) -> None:
        self.raw.close()


# -- opening --------------------------------------------------------------------------------

_SCOPE = "SELECT set_config('webinar.id', %s, false)"


def shown(url: str) -> str:
    """``url`` without its user and password, to name it in a message."""
    return re.sub(r"//[^@/]*@", "//", url)


def _unreachable(url: str, exc: psycopg.OperationalError) -> Unreachable:
    where = shown(url)
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return Unreachable(f"The PostgreSQL database {where} cannot be reached: {reason}")


def connect_sync(url: str, webinar_id: int | None = None) -> PgSyncConnection:
    """A blocking autocommit connection (the caller says BEGIN), scoped to one event when
    ``webinar_id`` is given. :class:`Unreachable` if the server cannot be reached."""
    try:
        conn = psycopg.connect(url, autocommit=True, row_factory=_rows)
    except psycopg.OperationalError as exc:
        raise _unreachable(url, exc) from None
    _adapt(conn)
    if webinar_id is not None:
        conn.execute(_SCOPE, (str(webinar_id),))
    return PgSyncConnection(conn)


#: Seconds a connection attempt of the server may take, unless the URL says
#: ``connect_timeout``: a server that does not answer must not hang a request.
CONNECT_TIMEOUT = 5


async def connect_async(url: str, webinar_id: int | None = None) -> PgConnection:
    """:func:`connect_sync`, for the event loop."""
    timeout: dict[str, Any] = (
        {} if "connect_timeout" in url else {"connect_timeout": CONNECT_TIMEOUT}
    )
    try:
        conn = await psycopg.AsyncConnection.connect(
            url, autocommit=True, row_factory=_rows, **timeout
        )
        _adapt(conn)
        if webinar_id is not None:
            await conn.execute(_SCOPE, (str(webinar_id),))
    except psycopg.OperationalError as exc:
        raise _unreachable(url, exc) from None
    return PgConnection(conn)


# -- migrations -----------------------------------------------------------------------------

#: Taken by every migrating process, so two starting at once do not both migrate.
_MIGRATION_LOCK = 0x77656269  # "webi"


def migrate_sync(url: str) -> None:
    """Run every pending migration of :mod:`webinar.storage.schema_postgres`, each in its
    own transaction, with the version in ``schema_version``."""
    conn = connect_sync(url)
    raw = conn.raw
    try:
        raw.execute("SELECT pg_advisory_lock(%s)", (_MIGRATION_LOCK,))
        raw.execute("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)")
        row = raw.execute("SELECT max(version) FROM schema_version").fetchone()
        version = int(row[0]) if row and row[0] is not None else 0
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            with raw.transaction():
                raw.execute(script.encode())
                raw.execute("INSERT INTO schema_version (version) VALUES (%s)", (number,))
        raw.execute("SELECT pg_advisory_unlock(%s)", (_MIGRATION_LOCK,))
    finally:
        conn.close()


# -- advisory locks -------------------------------------------------------------------------


def try_advisory_lock(
    conn: PgSyncConnection | psycopg.Connection[Any], key: int, shared: bool = False
) -> bool:
    """Take PostgreSQL's session advisory lock ``key`` on ``conn`` if free (``shared``: if
    nobody holds it exclusively); whether it was taken. It is held until released or until
    the connection ends (however it ends)."""
    raw = conn.raw if isinstance(conn, PgSyncConnection) else conn
    function = "pg_try_advisory_lock_shared" if shared else "pg_try_advisory_lock"
    row = raw.execute(f"SELECT {function}(%s)", (key,)).fetchone()
    return bool(row and row[0])


async def try_advisory_lock_async(conn: PgConnection, key: int) -> bool:
    """:func:`try_advisory_lock` on an async connection (for a writer's lease)."""
    cursor = await conn.raw.execute("SELECT pg_try_advisory_lock(%s)", (key,))
    row = await cursor.fetchone()
    return bool(row and row[0])


#: The advisory lock a running server holds on its database (see ``db.exclusive``).
SERVER_LOCK = 0x73657276  # "serv"


@contextmanager
def held(url: str, key: int = SERVER_LOCK, shared: bool = False) -> Iterator[bool]:
    """Hold advisory lock ``key`` on a connection of its own for the block; yields whether
    it was free (when not, nothing is held)."""
    conn = connect_sync(url)
    try:
        yield try_advisory_lock(conn, key, shared)
    finally:
        conn.close()
