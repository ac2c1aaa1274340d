"""Request bodies are refused at their limit while they stream in, chunked or not.

The attack (issue 11): ``POST /api/join`` with ``Transfer-Encoding: chunked`` and 300
chunks of 1 MiB took the server from 52 to 653 MiB before the 413, because the whole body
was read before its size was looked at.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import httpx
import pytest

from helpers import LiveServer, ServerProcess, host_of

pytestmark = pytest.mark.integration

MIB = 1024 * 1024


async def chunked_post(
    port: int, path: str, chunks: int, chunk_size: int = MIB, content_type: str = "application/json"
) -> tuple[bytes, int]:
    """Send a chunked body of ``chunks`` chunks; return (the server's reply, bytes sent).

    Stops sending as soon as the server answers or closes, as a real client would.
    """
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Content-Type: {content_type}\r\nTransfer-Encoding: chunked\r\n\r\n"
        ).encode()
    )
    chunk = f"{chunk_size:x}\r\n".encode() + b"x" * chunk_size + b"\r\n"
    reply = asyncio.create_task(reader.read(65536))
    sent = 0
    try:
        for _ in range(chunks):
            if reply.done():
                break
            writer.write(chunk)
            drain = asyncio.create_task(writer.drain())
            done, _ = await asyncio.wait({drain, reply}, return_when=asyncio.FIRST_COMPLETED)
            if drain in done:
                drain.result()
                sent += chunk_size
            else:
                drain.cancel()
                with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                    await drain
        else:
            writer.write(b"0\r\n\r\n")
            with contextlib.suppress(ConnectionError):
                await writer.drain()
    except ConnectionError:
        pass  # the server closed the connection under us: its reply is already on the way
    answer = await asyncio.wait_for(reply, 30)
    writer.close()
    with contextlib.suppress(ConnectionError):
        await writer.wait_closed()
    return answer, sent


async def test_chunked_join_over_the_limit_is_refused_without_reading_it(
    server: LiveServer,
) -> None:
    answer, sent = await chunked_post(server.port, "/api/join", chunks=300)

    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413 ")
    assert b'"message": "That request is too large: at most 64 KB."' in body
    # The reply came long before the 300 MiB were sent (kernel buffers take a few MiB).
    assert sent < 64 * MIB


@pytest.mark.parametrize(
    ("content_type", "path"),
    [
        ("application/json", "/api/agenda/start"),
        ("application/x-www-form-urlencoded", "/api/agenda/start"),
        ("multipart/form-data; boundary=xyz", "/api/agenda/start"),
        ("application/x-www-form-urlencoded", "/join"),
    ],
)
async def test_every_kind_of_body_is_limited_when_chunked(
    server: LiveServer, content_type: str, path: str
) -> None:
    host = await host_of(server)
    before = server.services.hub.last_seq

    async def body() -> AsyncIterator[bytes]:  # 1 MiB in all: the reply is read, not reset
        for _ in range(8):
            yield b"a" * (128 * 1024)

    response = await host.http.post(
        path, content=body(), headers={"X-CSRF-Token": host.csrf, "Content-Type": content_type}
    )

    assert response.status_code == 413
    assert "That request is too large" in response.text
    assert server.services.hub.last_seq == before
    await host.close()


async def test_a_declared_length_over_the_limit_is_refused_before_the_body(
    server: LiveServer,
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(
        b"POST /api/join HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 999999999\r\n\r\n"
    )
    await writer.drain()

    answer = await asyncio.wait_for(reader.read(65536), 30)

    assert answer.startswith(b"HTTP/1.1 413 ")
    writer.close()
    with contextlib.suppress(ConnectionError):
        await writer.wait_closed()


async def test_the_preassignment_upload_has_its_own_stated_limit(server: LiveServer) -> None:
    host = await host_of(server)
    small = "name,group\n" + "".join(f"Person {i},{i % 9 + 1}\n" for i in range(8000))
    assert 64 * 1024 < len(small) < 2 * MIB

    accepted = await host.http.post(
        "/api/breakout/preassign",
        content=small.encode(),
        headers={"X-CSRF-Token": host.csrf, "Content-Type": "text/csv"},
    )
    refused = await host.http.post(
        "/api/breakout/preassign",
        content=b"name,group\n" + b"Somebody,1\n" * 200_000,
        headers={"X-CSRF-Token": host.csrf, "Content-Type": "text/csv"},
    )

    assert accepted.status_code == 200, accepted.text
    assert refused.status_code == 413
    assert refused.json()["error"]["message"] == "That request is too large: at most 2 MB."
    await host.close()


def test_peak_memory_stays_near_idle_under_the_chunked_attack(tmp_path: object) -> None:
    server = ServerProcess(str(tmp_path) + "/attack.db")
    server.start()
    try:
        # Warm up the paths the attack takes, so what is measured is the attack itself.
        for _ in range(3):
            httpx.post(f"{server.base}/api/join", json={"code": "nope", "name": "x"}, timeout=30)
        idle = server.memory_kib("VmHWM")

        async def attack() -> list[tuple[bytes, int]]:
            return await asyncio.gather(
                *(chunked_post(server.port, "/api/join", chunks=300) for _ in range(2))
            )

        answers = asyncio.run(attack())
        peak = server.memory_kib("VmHWM")
    finally:
        server.stop()

    assert all(a.startswith(b"HTTP/1.1 413 ") for a, _ in answers)
    # Before the fix the peak grew by about 600 MiB; a few MiB of buffers are allowed.
    print(f"VmHWM idle {idle} KiB, after the attack {peak} KiB")
    assert peak - idle < 8 * 1024, (idle, peak)
