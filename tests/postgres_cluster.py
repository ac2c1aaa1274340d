"""A PostgreSQL cluster of the test session's own, and a fresh database per test.

``WEBINAR_TEST_DB=postgresql`` runs the suite on PostgreSQL: every database a test names
by a file path (``tmp_path / "webinar.db"``) and hands to :class:`helpers.LiveServer`,
:class:`helpers.ServerProcess` or :func:`database` becomes a database of its own in a
cluster this module starts (``initdb`` into a temporary directory, ``pg_ctl start`` as an
unprivileged user, on a unix socket only), made from a migrated template
(``CREATE DATABASE ... TEMPLATE``). The cluster stops when the session ends.

The binaries are found on PATH, in /usr/local/bin, or in Debian's
/usr/lib/postgresql/<version>/bin.
"""

from __future__ import annotations

import atexit
import glob
import hashlib
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from ports import free_port

from webinar.storage.db import migrate_sync
from webinar.storage.postgres import is_postgres

#: Which backend the suite runs on: "sqlite" (the default) or "postgresql".
BACKEND = os.environ.get("WEBINAR_TEST_DB", "sqlite").strip().lower() or "sqlite"
if BACKEND not in ("sqlite", "postgresql"):
    raise SystemExit(f"WEBINAR_TEST_DB must be 'sqlite' or 'postgresql', not {BACKEND!r}")

TEMPLATE = "webinar_template"
USER = "webinar"


def binary(name: str) -> str:
    """The path of PostgreSQL's program ``name``; ``FileNotFoundError`` saying where it
    was looked for."""
    found = shutil.which(name) or shutil.which(name, path="/usr/local/bin")
    if found:
        return found
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version, reverse=True)
    for folder in versions:
        if os.access(Path(folder) / name, os.X_OK):
            return str(Path(folder) / name)
    raise FileNotFoundError(
        f"PostgreSQL's {name} is not on PATH, in /usr/local/bin or /usr/lib/postgresql/*/bin:"
        " install Debian's postgresql package"
    )


def _version(folder: str) -> int:
    part = Path(folder).parent.name
    return int(part) if part.isdigit() else 0


def _as_owner(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run ``command`` as the ``postgres`` user then."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


@dataclass
class Cluster:
    """One PostgreSQL server in a temporary directory, reached on a unix socket."""

    folder: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="webinar-pg-")))
    port: int = 5432
    made: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    running: bool = False

    @property
    def data(self) -> Path:
        return self.folder / "data"

    def url(self, name: str) -> str:
        return f"postgresql://{USER}@/{name}?host={self.folder}&port={self.port}"

    def start(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        self.folder.chmod(0o755)
        subprocess.run(
            _as_owner(
                [
                    binary("initdb"),
                    "-D",
                    str(self.data),
                    "-U",
                    USER,
                    "--auth=trust",
                    "--no-locale",
                    "-E",
                    "UTF8",
                    "--no-sync",
                ]
            ),
            check=True,
            capture_output=True,
        )
        self._pg_ctl("start")
        self.running = True
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {TEMPLATE}")
        migrate_sync(self.url(TEMPLATE))

    @property
    def options(self) -> str:
        return (
            f"-k {self.folder} -p {self.port} -c listen_addresses='' -c max_connections=300"
            " -c shared_buffers=32MB"
        )

    def _pg_ctl(self, command: str, *more: str) -> None:
        """``pg_ctl <command>``, waiting until it is done (``-w``: for a start, until the
        server accepts connections)."""
        subprocess.run(
            _as_owner(
                [
                    binary("pg_ctl"),
                    "-D",
                    str(self.data),
                    "-o",
                    self.options,
                    "-l",
                    str(self.folder / "log"),
                    "-w",
                    *more,
                    command,
                ]
            ),
            check=True,
            capture_output=True,
        )

    def restart(self, mode: str = "fast") -> None:
        """``pg_ctl restart -m <mode>`` (``fast``: sessions ended, a clean shutdown;
        ``immediate``: no shutdown, crash recovery at the start); returns once it accepts
        connections again."""
        self._pg_ctl("restart", "-m", mode)

    def stop_server(self, mode: str = "fast") -> None:
        """``pg_ctl stop -m <mode>``: ``fast`` ends every session and shuts down cleanly;
        ``immediate`` ends at once, as a crash (recovery from the WAL at the next start)."""
        self._pg_ctl("stop", "-m", mode)

    def start_server(self) -> None:
        """``pg_ctl start``; returns once it accepts connections."""
        self._pg_ctl("start")

    def create(self, name: str, *, keep: bool = False) -> str:
        """A fresh database ``name`` made from the migrated template; its URL. Dropped
        at the end of the test unless ``keep`` (a module's fixture's)."""
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
        (self.kept if keep else self.made).append(name)
        return self.url(name)

    def drop_made(self) -> None:
        """Drop the databases made since the last call (a test's), closing their
        connections."""
        if not self.made:
            return
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            for name in self.made:
                conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        self.made.clear()

    def stop(self) -> None:
        if self.running:
            subprocess.run(
                _as_owner([binary("pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"]),
                check=False,
                capture_output=True,
            )
            self.running = False
        shutil.rmtree(self.folder, ignore_errors=True)


_cluster: Cluster | None = None


def require_postgres() -> None:
    """Skip the test without PostgreSQL's programs, except under ``CI=true``, where that
    is an error: CI must never pass by skipping them."""
    import pytest

    try:
        binary("pg_ctl")
    except FileNotFoundError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{exc} (tests needing PostgreSQL never skip under CI=true)")
        pytest.skip(str(exc))


def cluster() -> Cluster:
    """The session's cluster, started on first use and stopped at exit."""
    global _cluster
    if _cluster is None:
        started = Cluster(port=free_port())
        atexit.register(started.stop)
        started.start()
        _cluster = started
    return _cluster


def database(path: str | Path, *, keep: bool = False) -> str:
    """The database a test means by ``path``: the path itself on SQLite; on PostgreSQL, a
    database of its own for that path (made fresh the first time it is named in a test,
    the same one after), by URL. A URL is returned as it is. ``keep``: not dropped at the
    end of the test (for a fixture shared by a module's tests)."""
    if BACKEND == "sqlite" or is_postgres(path):
        return str(path)
    name = "t_" + hashlib.sha1(str(Path(path).resolve()).encode()).hexdigest()[:20]
    live = cluster()
    if name in live.made or name in live.kept:
        return live.url(name)
    return live.create(name, keep=keep)


def end_of_test() -> None:
    """Drop the databases the test made (each test starts from none)."""
    if _cluster is not None:
        _cluster.drop_made()
