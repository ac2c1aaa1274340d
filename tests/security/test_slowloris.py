"""Partial requests cannot take the server down, and the log stays small and private.

The attack (issue 11): under ``ulimit -n 1024``, 1,100-1,200 connections sending a partial
request header made every new request time out, the server spin at 85 % CPU and log "Too
many open files" 531,662 times in 65 s.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import resource

import httpx
import pytest

from helpers import Person, ServerProcess
from postgres_cluster import database
from webinar.services import prepare_database
from webinar.web.server import PrivateAccessLog, RateLimitedLog, connection_cap, private_path

pytestmark = pytest.mark.integration

PARTIAL = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "


@pytest.fixture
def many_files() -> None:
    """This test process holds hundreds of sockets: let it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4096)), hard))


async def open_partial(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 30)
    writer.write(PARTIAL)
    await writer.drain()
    return reader, writer


async def closed_by_server(reader: asyncio.StreamReader, timeout: float) -> bool:
    with contextlib.suppress(ConnectionError):
        return await asyncio.wait_for(reader.read(), timeout) == b""
    return True


def test_partial_requests_over_the_open_files_limit_leave_the_event_running(
    tmp_path: object, many_files: None
) -> None:
    db = database(str(tmp_path) + "/slow.db")
    secrets = prepare_database(db)
    server = ServerProcess(db, open_files=256, args=("--header-timeout", "3"))
    server.start()
    cap = connection_cap(256)

    async def scenario() -> tuple[bool, int]:
        partial = [await open_partial(server.port) for _ in range(400)]  # > 256 descriptors
        host = Person(server.base)
        await host.enter("host", secrets["host_token"])
        attendee = Person(server.base)
        await attendee.join(secrets["join_code"], "Ann", "Leeds SP")
        sock = await attendee.socket()
        await sock.wait_for(lambda m: m["type"] == "snapshot", timeout=30)
        started = await host.act("agenda.start")
        assert started.status_code == 200, started.text
        event = await sock.wait_for(lambda m: m.get("type") == "agenda.state", timeout=30)
        # Every partial request is closed by the server: made room for, or timed out.
        closed = await asyncio.gather(*(closed_by_server(r, 60) for r, _ in partial))
        for _, writer in partial:
            writer.close()
        await sock.close()
        await host.close()
        await attendee.close()
        return all(closed), event["seq"]

    try:
        all_closed, seq = asyncio.run(scenario())
        health = httpx.get(f"{server.base}/healthz", timeout=30)
    finally:
        server.stop()

    assert all_closed
    assert seq > 0
    assert health.status_code == 200
    assert cap < 256
    assert "Too many open files" not in server.output
    assert len(server.output.splitlines()) < 60, server.output[-3000:]


def test_the_access_log_names_no_client_and_no_secret(tmp_path: object) -> None:
    db = database(str(tmp_path) + "/log.db")
    secrets = prepare_database(db)
    server = ServerProcess(db)
    server.start()

    async def scenario() -> tuple[str, str]:
        host = Person(server.base)
        token, code = secrets["host_token"], secrets["join_code"]
        await host.enter("host", token)
        await host.act("agenda.start")
        ann = Person(server.base)
        await ann.http.get(f"/join?code={code}")
        await ann.join(code, "Ann")
        asked = await ann.act(
            "qa.ask", text="An anonymous question?", anonymous=True, key="key-0123456789abcdef"
        )
        assert asked.status_code == 200, asked.text
        sock = await ann.socket()
        await sock.wait_for(lambda m: m["type"] == "snapshot", timeout=30)
        await sock.close()
        await host.close()
        await ann.close()
        return token, code

    try:
        token, code = asyncio.run(scenario())
    finally:
        server.stop()

    banner, _, log = server.output.partition("Application startup complete.")
    assert '"POST /api/join HTTP/1.1" 201' in log
    assert '"POST /api/qa/ask HTTP/1.1" 200' in log
    assert '"GET /enter/host/[token] HTTP/1.1" 303' in log
    assert '"GET /join?[query] HTTP/1.1" 200' in log
    assert '"WebSocket /ws?[query]" [accepted]' in log
    assert token not in log
    assert code not in log
    assert re.search(r"\d+\.\d+\.\d+\.\d+:\d+ - ", log) is None  # uvicorn's "addr:port - "
    assert token in banner  # the operator's own links, printed once at start


@pytest.mark.parametrize(
    ("path", "shown"),
    [
        ("/enter/host/s3cr3t", "/enter/host/[token]"),
        ("/e/briefing/enter/host/s3cr3t", "/e/briefing/enter/host/[token]"),
        ("/e/briefing/join?code=ABCDEFGH", "/e/briefing/join?[query]"),
        ("/enter/organiser/abc?x=1", "/enter/organiser/[token]?[query]"),
        ("/join?code=ABCDEFGH", "/join?[query]"),
        ("/api/qa/ask", "/api/qa/ask"),
        ("/live", "/live"),
    ],
)
def test_private_path_leaves_out_tokens_and_queries(path: str, shown: str) -> None:
    assert private_path(path) == shown


def test_private_access_log_drops_the_client_address() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("10.1.2.3:5555", "GET", "/enter/host/tok", "1.1", 303),
        None,
    )

    assert PrivateAccessLog().filter(record)

    assert record.getMessage() == '- - "GET /enter/host/[token] HTTP/1.1" 303'


def test_repeated_log_messages_are_rate_limited() -> None:
    limiter = RateLimitedLog(burst=3, period=3600)
    records = [
        logging.LogRecord("asyncio", logging.ERROR, __file__, 1, "accept failed", (), None)
        for _ in range(1000)
    ]

    other = logging.LogRecord("asyncio", logging.ERROR, __file__, 1, "another", (), None)

    shown = [r for r in records if limiter.filter(r)]

    assert len(shown) == 3
    assert limiter.filter(other)
