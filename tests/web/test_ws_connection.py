"""One socket's sends: events leave once each, in sequence order, whichever path they take
(written at once, queued behind a reply, behind a write that waits for the transport)."""

from __future__ import annotations

import asyncio
from collections.abc import MutableMapping
from types import SimpleNamespace
from typing import Any

import pytest

from webinar.realtime.hub import Event, Hub
from webinar.services.access import Participant
from webinar.web.ws import _Connection

pytestmark = pytest.mark.unit


class Socket:
    """Stands in for the WebSocket: replies go through ``send_text``, events through the
    raw ``send``. ``hold`` makes the next send of that text wait for a gate."""

    def __init__(self) -> None:
        self.app = SimpleNamespace(state=SimpleNamespace(services=None, encoder=None))
        self.wire: list[str] = []
        self.gates: dict[str, asyncio.Future[None]] = {}

    def hold(self, text: str) -> asyncio.Future[None]:
        gate = asyncio.get_running_loop().create_future()
        self.gates[text] = gate
        return gate

    async def send_text(self, text: str) -> None:
        await self._through(text)

    async def raw_send(self, message: MutableMapping[str, Any]) -> None:
        await self._through(message["text"])

    async def _through(self, text: str) -> None:
        gate = self.gates.pop(text, None)
        if gate is not None:
            await gate
        self.wire.append(text)


def event(seq: int) -> Event:
    return Event(seq, "x", "all", {}, "2026-08-20T10:00:00+00:00")


async def settle() -> None:
    for _ in range(10):
        await asyncio.sleep(0)


def connect(hub: Hub, sock: Socket) -> _Connection:
    ann = Participant("ann", "attendee", "Ann", "")
    conn = _Connection(sock, ann, "json", sock.raw_send)  # type: ignore[arg-type]
    conn.client = hub.subscribe({"all"}, "json", owner="ann", sink=conn)
    conn.attached = True
    return conn


async def test_an_event_published_as_a_reply_finishes_cannot_overtake_a_queued_one() -> None:
    loop = asyncio.get_running_loop()
    hub = Hub(lambda ev, fmt: f"ev{ev.seq}")
    sock = Socket()
    conn = connect(hub, sock)
    gate = sock.hold("reply")

    reply = asyncio.create_task(conn._send("reply"))
    await settle()  # the reply holds the send lock, waiting for the transport
    hub.publish(event(1))  # queued; the drain task takes it and waits for the lock
    await settle()
    # The reply finishes; in the same loop turn, before the drain task runs, event 2
    # is published (a commit's wake-up was ready too).
    gate.set_result(None)
    loop.call_soon(hub.publish, event(2))
    await reply
    await settle()

    assert sock.wire == ["reply", "ev1", "ev2"]


async def test_events_behind_a_write_that_waits_for_the_transport_keep_their_order() -> None:
    hub = Hub(lambda ev, fmt: f"ev{ev.seq}")
    sock = Socket()
    conn = connect(hub, sock)
    gate = sock.hold("ev2")

    hub.publish(event(1))  # written at once
    hub.publish(event(2))  # the transport is full: this write waits
    hub.publish(event(3))  # and these queue behind it
    hub.publish(event(4))
    assert sock.wire == ["ev1"]
    assert conn.pending is not None
    gate.set_result(None)
    await settle()
    hub.publish(event(5))  # idle again: written at once
    await settle()

    # The backlog goes as one message (a JSON array in the JSON format), in order.
    assert sock.wire == ["ev1", "ev2", "[ev3,ev4]", "ev5"]
    assert conn.drainer is None and conn.pending is None
    assert conn.client is not None and not conn.client.queue


async def test_a_socket_that_failed_takes_no_more_writes() -> None:
    hub = Hub(lambda ev, fmt: f"ev{ev.seq}")
    sock = Socket()
    conn = connect(hub, sock)

    async def broken(message: MutableMapping[str, Any]) -> None:
        raise ConnectionResetError("peer gone")

    conn.raw_send = broken
    hub.publish(event(1))
    conn.raw_send = sock.raw_send
    hub.publish(event(2))

    assert conn.gone is True
    assert sock.wire == []


class ClosedSocket(Socket):
    """A socket the server has already closed (as after an oversize message)."""

    async def send_text(self, text: str) -> None:
        raise RuntimeError('Cannot call "send" once a close message has been sent.')


async def test_a_reply_to_a_socket_closed_under_it_ends_the_connection_quietly() -> None:
    from starlette.websockets import WebSocketDisconnect

    hub = Hub(lambda ev, fmt: f"ev{ev.seq}")
    sock = ClosedSocket()
    conn = connect(hub, sock)

    with pytest.raises(WebSocketDisconnect) as ended:
        await conn._send("reply")
    await conn._send("another")  # once gone, a send is skipped: no error, nothing written

    assert ended.value.code == 1006
    assert conn.gone
    assert sock.wire == []


async def test_a_fold_partly_sent_by_the_catch_up_sends_only_the_rest_as_one_message() -> None:
    hub = Hub(lambda ev, fmt: f"ev{ev.seq}")
    sock = Socket()
    conn = connect(hub, sock)
    conn.sent_upto = 2  # the catch-up (a resume, a snapshot) already had events 1 and 2

    hub.publish_all([event(1), event(2), event(3), event(4)])
    hub.publish_all([event(5)])
    await settle()

    assert sock.wire == ["[ev3,ev4]", "ev5"]
    assert conn.sent_upto == 5


async def test_one_event_goes_out_as_encoded_and_not_again_after_the_catch_up() -> None:
    wires: dict[int, str] = {}
    hub = Hub(lambda ev, fmt: wires.setdefault(ev.seq, f"ev{ev.seq}"))
    sock = Socket()
    conn = connect(hub, sock)
    conn.sent_upto = 1  # the catch-up already had event 1

    hub.publish(event(1))  # skipped: that screen has it
    hub.publish(event(2))  # written as the hub encoded it: no list, no join, no copy
    await settle()

    assert sock.wire == ["ev2"]
    assert sock.wire[0] is wires[2]
    assert conn.sent_upto == 2
