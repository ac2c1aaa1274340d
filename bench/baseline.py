"""A minimal broadcast server: the yardstick for ``bench/load.py --baseline``.

It does the least a live-question server can do: no database, no sessions, no audiences,
no per-client queues. Attendees connect to ``/ws`` (any path but ``/publish``), send a
first message (``{"type": "resume", ...}``, ignored) and get a one-line snapshot; a
publisher connects to ``/publish`` and sends ``{"text", "author", "organisation"}``; each
publish is numbered, wrapped in an envelope shaped like the webinar's ``qa.question``
event (same fields, so about the same size) and sent to every attendee with
:func:`websockets.asyncio.server.broadcast`, encoded once, compression off by default.
The publisher gets ``{"id": <seq>}`` back. ``GET /healthz`` answers ``ok``.

``broadcast()`` writes to each connection without waiting; a connection whose write
buffer is above the high-water mark is skipped (the message is lost for it), which the
load tool counts as missing.

Run from the repository root (``bench/load.py`` starts it by itself)::

    python bench/baseline.py --port 8765 [--compress] [--max-seconds 3600]

It stops on SIGTERM or SIGINT, or by itself after ``--max-seconds``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
from datetime import UTC, datetime
from http import HTTPStatus

from websockets.asyncio.server import ServerConnection, broadcast, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

ITEM_ID = "review-qa"


class Broadcaster:
    def __init__(self) -> None:
        self.clients: set[ServerConnection] = set()
        self.seq = 0
        self.published = 0

    async def handler(self, conn: ServerConnection) -> None:
        path = conn.request.path if conn.request is not None else "/"
        if path.startswith("/publish"):
            await self.publisher(conn)
        else:
            await self.attendee(conn)

    async def attendee(self, conn: ServerConnection) -> None:
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(conn.recv(), 10.0)  # the resume message
            now = _iso()
            await conn.send(
                json.dumps({"seq": self.seq, "type": "snapshot", "at": now, "data": {}})
            )
            self.clients.add(conn)
            async for _ in conn:  # nothing is expected; keep reading so pings are answered
                pass
        except ConnectionClosed:
            pass
        finally:
            self.clients.discard(conn)

    async def publisher(self, conn: ServerConnection) -> None:
        try:
            async for raw in conn:
                message = json.loads(raw)
                if message.get("type") == "status":
                    await conn.send(json.dumps({"clients": len(self.clients), "seq": self.seq}))
                    continue
                self.seq += 1
                self.published += 1
                now = _iso()
                question = {
                    "id": self.seq,
                    "item_id": ITEM_ID,
                    "text": message.get("text", ""),
                    "author": message.get("author", ""),
                    "organisation": message.get("organisation", ""),
                    "anonymous": False,
                    "state": "published",
                    "votes": 0,
                    "answered": "",
                    "highlighted": False,
                    "pinned": False,
                    "edited_by_host": False,
                    "created_at": now,
                    "replies": [],
                }
                data = {
                    "question": question,
                    "removed": False,
                    "new": True,
                    "counters": {
                        "received": self.published,
                        "published": self.published,
                        "answered": 0,
                    },
                }
                wire = json.dumps(
                    {"seq": self.seq, "type": "qa.question", "at": now, "data": data},
                    separators=(",", ":"),
                    ensure_ascii=False,
                )
                broadcast(self.clients, wire)
                await conn.send(json.dumps({"id": self.seq}))
        except ConnectionClosed:
            pass


def _iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def healthz(conn: ServerConnection, request: Request) -> Response | None:
    if request.path == "/healthz":
        return conn.respond(HTTPStatus.OK, "ok\n")
    return None


async def main(port: int, host: str, compress: bool, max_seconds: float) -> None:
    server = Broadcaster()
    loop = asyncio.get_running_loop()
    stop: asyncio.Future[None] = loop.create_future()

    def finish() -> None:
        if not stop.done():
            stop.set_result(None)

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, finish)
    async with serve(
        server.handler,
        host,
        port,
        process_request=healthz,
        compression="deflate" if compress else None,
        max_size=64 * 1024,
    ):
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop, max_seconds)


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--compress", action="store_true", help="Offer permessage-deflate.")
    parser.add_argument("--max-seconds", type=float, default=3600.0, help="Stop after this.")
    args = parser.parse_args()
    asyncio.run(main(args.port, args.host, args.compress, args.max_seconds))


if __name__ == "__main__":
    cli()
