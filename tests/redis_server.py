"""A real ``redis-server`` for the tests: on a free loopback port, nothing saved to disk.

Ready when it says so on its output (never a sleep). Without the binary the tests that
need it are skipped, except under ``CI=true``, where that is an error: CI must never pass
by skipping them.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

import pytest
from ports import free_port
from redis.asyncio import Redis

from webinar.realtime.streams import connect

READY = "Ready to accept connections"
#: As ``helpers.PATIENCE`` (not imported: the domain tests load no web stack).
PATIENCE = 30.0


def redis_binary() -> str:
    """The path of ``redis-server``; skips the test (fails under CI=true) without it."""
    found = shutil.which("redis-server")
    if found is None:
        message = "redis-server is not installed (apt-get install redis-server)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}: tests needing Redis never skip under CI=true")
        pytest.skip(message)
    return found


@dataclass
class RedisServer:
    """One ``redis-server`` process; ``restart`` starts a fresh, empty one on the same port."""

    binary: str
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[str] | None = None
    reader: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        ready = threading.Event()
        process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.process = process

        def drain() -> None:
            assert process.stdout is not None
            for line in process.stdout:
                if READY in line:
                    ready.set()

        self.reader = threading.Thread(target=drain, daemon=True)
        self.reader.start()
        if not ready.wait(PATIENCE):
            self.stop()
            raise RuntimeError(f"redis-server on port {self.port} did not become ready")

    def stop(self) -> None:
        """Kill it (SIGKILL: it keeps nothing anyway) and reap it."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(PATIENCE)
        if self.reader is not None:
            self.reader.join(PATIENCE)  # it ends at the output's end
        if self.process is not None and self.process.stdout is not None:
            self.process.stdout.close()
        self.process = None

    def restart(self) -> None:
        """Kill it and start an empty one on the same port (everything in it is lost)."""
        self.stop()
        self.start()

    def pause(self) -> None:
        """SIGSTOP: the port stays open, nothing answers."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """One Redis for the whole session (tests keep apart by their keys)."""
    server = RedisServer(redis_binary())
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def own_redis_server() -> Iterator[RedisServer]:
    """A Redis of the test's own, for tests that kill, restart or pause it."""
    server = RedisServer(redis_binary())
    server.start()
    try:
        yield server
    finally:
        if server.process is not None:
            server.resume()  # a paused server cannot be reaped
        server.stop()


@pytest.fixture
async def redis(redis_server: RedisServer) -> AsyncIterator[Redis]:
    """A client of the session's Redis (as the server makes them), closed after the test."""
    client = connect(redis_server.url, timeout=2.0)
    yield client
    await client.aclose()
