"""Screens that keep up get events written at once; one that stops reading falls behind
without slowing anyone, is closed with 1013 and resumes exactly where it stopped."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed

from helpers import LiveServer, Socket, attendee_of
from webinar.realtime.hub import Event

pytestmark = pytest.mark.integration

BLOB = "x" * 16000  # big events fill socket buffers after a few hundred
AT = "2026-08-20T10:00:00+00:00"
#: Stay inside the replay ring (4,096), so that Ann can resume from it.
MOST = 3500


async def read_until(sock: Socket, last: int) -> list[int]:
    seqs: list[int] = []
    while not seqs or seqs[-1] < last:
        message = await sock.next_message(timeout=10)
        if message.get("type") == "test.blob":
            seqs.append(message["seq"])
    return seqs


async def test_a_stalled_screen_is_dropped_and_resumes_while_a_reader_gets_everything(
    server: LiveServer,
) -> None:
    ann, bob = await attendee_of(server, "Ann"), await attendee_of(server, "Bob")
    hub = server.services.hub
    # Ann's client stops reading from the socket once one message is buffered; her
    # backlog may hold 64 events (1,024 in production), so however large this host's
    # socket buffers, she falls that far behind well before MOST events.
    stalled = await ann.connect(max_queue=1)
    await stalled.send(json.dumps({"type": "resume", "last_seq": None}))
    while hub.client_count < 1:
        await asyncio.sleep(0.01)
    (ann_client,) = hub._clients
    ann_client.limit = 64
    reader = await bob.socket()
    await reader.wait_for(lambda m: m["type"] == "snapshot")
    while hub.client_count < 2:
        await asyncio.sleep(0.01)

    first = hub.last_seq + 1
    published = 0
    while published < MOST and not ann_client.dropped:
        for _ in range(10):
            hub.publish(Event(first + published, "test.blob", "all", {"b": BLOB}, AT))
            published += 1
        hub.push()  # out now, as at the end of a fold window (10 events a message)
        await asyncio.sleep(0.002)  # let Bob's client read
    last = first + published - 1
    assert ann_client.dropped and hub.dropped_clients == 1  # Ann, never Bob

    # Bob saw every event exactly once, in order, whatever path each one took.
    assert await read_until(reader, last) == list(range(first, last + 1))

    # Ann now reads what reached her before the drop, then the close: "try again later".
    got: list[int] = []
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            parsed: Any = json.loads(await asyncio.wait_for(stalled.recv(), 10))
            batch: list[dict[str, Any]] = parsed if isinstance(parsed, list) else [parsed]
            got.extend(m["seq"] for m in batch if m["type"] == "test.blob")
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1013
    assert got == list(range(first, first + len(got)))
    assert 0 < len(got) < published

    # She resumes from the last one she saw and gets exactly the rest.
    again = await ann.socket(last_seq=got[-1])
    assert await read_until(again, last) == list(range(got[-1] + 1, last + 1))
    for person in (ann, bob):
        await person.close()
