"""The forwarder of a worker of ``webinar serve --workers N``, in this process: real
listeners on loopback (``PrivateListener``) for an edge worker and for two writers, a
real Redis holding the lease. It finds the writer from the holder last seen (Redis is
read again only when that writer cannot be reached or says it no longer writes), waits
for the next writer, serves here when this worker became the writer, and answers 503 (or
closes a socket with 1013) when no writer came in time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import cast
from uuid import uuid4

import httpx
import pytest
from redis.asyncio import Redis
from redis_server import PATIENCE
from starlette.types import Receive, Scope, Send
from websockets.asyncio.client import connect as websockets_connect
from websockets.exceptions import InvalidStatus

from webinar.realtime.lease import Lease
from webinar.realtime.streams import connect
from webinar.services.writer import EventWriter
from webinar.web.forward import (
    PEER_HEADER,
    UNAVAILABLE,
    Forwarder,
    PrivateListener,
    header,
    not_writer,
)

pytestmark = pytest.mark.integration

PROOF = b"the event's proof"


class CountedLease(Lease):
    """A lease that counts its reads of the holder (a GET each)."""

    reads = 0

    async def holder(self) -> str | None:
        self.reads += 1
        return await super().holder()


@dataclass
class Writer:
    """What the forwarder reads of a worker's writer role for one event."""

    lease: CountedLease
    writing: bool = False


@dataclass
class Upstream:
    """A writer's private listener: answers (or says it does not write) with its name."""

    name: str
    writing: bool = True
    seen: list[str] = field(default_factory=list)
    listener: PrivateListener | None = None
    #: Cleared: it answers once this is set (a writer that takes too long).
    slow: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self.slow.set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.writing:
            await not_writer(scope, receive, send)
        elif header(scope, b"x-refuse") is not None:
            await receive()
            await send({"type": "websocket.http.response.start", "status": 403, "headers": []})
            await send({"type": "websocket.http.response.body", "body": b"no"})
        elif scope["type"] == "websocket":
            await self.echo(receive, send)
        else:
            await self.answer(scope, receive, send)

    async def answer(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = (await receive()).get("body", b"")
        self.seen.append(f"{scope['method']} {scope['path']} {body.decode()}")
        await self.slow.wait()
        proof = (header(scope, PEER_HEADER) or b"").decode()
        text = f"{self.name} {scope['path']} {body.decode()} {proof}"
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": text.encode()})

    async def echo(self, receive: Receive, send: Send) -> None:
        await receive()  # websocket.connect
        await send({"type": "websocket.accept"})
        while (message := await receive())["type"] == "websocket.receive":
            await send({"type": "websocket.send", "text": f"{self.name}: {message['text']}"})

    @property
    def address(self) -> str:
        assert self.listener is not None
        return self.listener.address


@dataclass
class Edge:
    """An edge worker's listener forwarding every request of one event."""

    forwarder: Forwarder
    writer: Writer
    listener: PrivateListener
    served_here: list[str] = field(default_factory=list)

    @property
    def base(self) -> str:
        return f"http://{self.listener.address}"


@pytest.fixture
async def upstreams() -> AsyncIterator[tuple[Upstream, Upstream]]:
    pair = (Upstream("first"), Upstream("second"))
    for upstream in pair:
        upstream.listener = PrivateListener(upstream, "127.0.0.1")
        await upstream.listener.start()
    yield pair
    for upstream in pair:
        if upstream.listener is not None:
            await upstream.listener.stop()  # again for one a test stopped: no harm


EdgeMaker = Callable[..., Awaitable[Edge]]


@pytest.fixture
async def edge(redis: Redis) -> AsyncIterator[EdgeMaker]:
    """Makes the edge worker (with the forwarder's patience given), its event's lease held
    by the upstream given, if any."""
    made: list[Edge] = []

    async def make(patience: float = PATIENCE, held_by: Upstream | None = None) -> Edge:
        lease = CountedLease(redis, f"test:{uuid4().hex}", 600)
        if held_by is not None:
            await hold(redis, lease, held_by.address)
        writer = Writer(lease)
        forwarder = Forwarder("127.0.0.1:1", patience)
        served_here: list[str] = []

        async def here(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "websocket":
                await receive()  # websocket.connect
                await send({"type": "websocket.accept"})
                await send({"type": "websocket.send", "text": "here"})
                return
            body = (await receive()).get("body", b"")
            served_here.append(body.decode())
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"here"})

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            role = cast(EventWriter, writer)
            if scope["type"] == "websocket":
                await forwarder.websocket(scope, receive, send, role, PROOF, here)
            else:
                await forwarder.http(scope, receive, send, role, PROOF, here)

        listener = PrivateListener(app, "127.0.0.1")
        await listener.start()
        made.append(Edge(forwarder, writer, listener, served_here))
        return made[-1]

    yield make
    for each in made:
        await each.listener.stop()
        await each.forwarder.close()


async def hold(redis: Redis, lease: Lease, address: str) -> None:
    """``address``'s worker holds the lease (as its token says)."""
    await redis.set(lease.key, f"{address} 4242 nonce", px=60_000)


async def test_a_steady_stream_of_requests_reads_the_writer_from_redis_once(
    upstreams: tuple[Upstream, Upstream], edge: EdgeMaker
) -> None:
    first, _ = upstreams
    worker = await edge(PATIENCE, held_by=first)

    async with httpx.AsyncClient(timeout=PATIENCE) as client:
        answers = [await client.post(f"{worker.base}/e/x/act", content=f"n={n}") for n in range(40)]

    assert [a.status_code for a in answers] == [200] * 40
    assert answers[7].text == f"first /e/x/act n=7 {PROOF.decode()}"
    assert worker.writer.lease.reads == 1  # the first request's; the others used it
    assert len(first.seen) == 40


async def test_the_holder_the_bidding_loop_saw_is_used_without_reading_redis(
    upstreams: tuple[Upstream, Upstream], edge: EdgeMaker
) -> None:
    first, _ = upstreams
    worker = await edge(PATIENCE, held_by=first)
    await worker.writer.lease.holder()  # as keep_bidding does every fifth of the lease
    reads = worker.writer.lease.reads

    async with httpx.AsyncClient(timeout=PATIENCE) as client:
        answer = await client.get(f"{worker.base}/e/x/join")

    assert answer.status_code == 200
    assert worker.writer.lease.reads == reads


async def test_a_writer_that_died_is_replaced_by_the_one_redis_names(
    redis: Redis, upstreams: tuple[Upstream, Upstream], edge: EdgeMaker
) -> None:
    first, second = upstreams
    worker = await edge(PATIENCE, held_by=first)
    async with httpx.AsyncClient(timeout=PATIENCE) as client:
        before = await client.post(f"{worker.base}/e/x/act", content="before")
        assert first.listener is not None
        await first.listener.stop()  # killed
        await hold(redis, worker.writer.lease, second.address)  # the next writer
        after = [await client.post(f"{worker.base}/e/x/act", content=f"a{n}") for n in range(5)]

    assert before.text.startswith("first ")
    assert [a.text.split(" ")[0] for a in after] == ["second"] * 5
    assert second.seen == [f"POST /e/x/act a{n}" for n in range(5)]  # each sent once
    assert worker.writer.lease.reads == 2  # once at first, once when the writer moved


async def test_a_writer_that_no_longer_writes_is_asked_no_more(
    redis: Redis, upstreams: tuple[Upstream, Upstream], edge: EdgeMaker
) -> None:
    first, second = upstreams
    worker = await edge(PATIENCE, held_by=first)
    async with httpx.AsyncClient(timeout=PATIENCE) as client:
        await client.get(f"{worker.base}/e/x/join")
        first.writing = False  # it lost the lease: it says so, applying nothing
        await hold(redis, worker.writer.lease, second.address)
        moved = await client.post(f"{worker.base}/e/x/act", content="moved")
        again = await client.post(f"{worker.base}/e/x/act", content="again")

    assert moved.text.startswith("second /e/x/act moved")
    assert again.text.startswith("second /e/x/act again")
    assert first.seen == ["GET /e/x/join "]
    assert worker.writer.lease.reads == 2


async def test_with_no_writer_in_time_the_answer_is_503_with_a_sentence(
    upstreams: tuple[Upstream, Upstream], edge: EdgeMaker
) -> None:
    worker = await edge(0.3)  # nobody holds the lease

    async with httpx.AsyncClient(timeout=PATIENCE) as client:
        answer = await client.post(f"{worker.base}/e/x/act", content="lost?")

    assert answer.status_code == 503
    assert answer.text == UNAVAILABLE
    assert answer.headers["retry-after"] == "5"
    assert answer.headers["cache-control"] == "no-store"
    assert worker.writer.lease.reads >= 2  # it kept looking until its patience ran out


async def test_a_dead_writer_still_named_in_redis_gets_a_503_when_patience_runs_out(
    upstreams: tuple[Upstream, Upstream], edge: EdgeMaker
) -> None:
    first, _ = upstreams
    worker = await edge(0.5, held_by=first)
    assert first.listener is not None
    await first.listener.stop()  # killed, its lease not run out

    async with httpx.AsyncClient(timeout=PATIENCE) as client:
        answer = await client.post(f"{worker.base}/e/x/act", content="lost?")

    assert answer.status_code == 503
    assert answer.text == UNAVAILABLE


async def test_a_request_waiting_for_a_writer_is_served_here_when_this_worker_takes_over(
    upstreams: tuple[Upstream, Upstream], edge: EdgeMaker
) -> None:
    worker = await edge(PATIENCE)  # nobody holds the lease yet
    async with httpx.AsyncClient(timeout=PATIENCE) as client:
        waiting = asyncio.create_task(client.post(f"{worker.base}/e/x/act", content="body"))
        async with asyncio.timeout(PATIENCE):
            while worker.writer.lease.reads < 2:  # it is waiting for a writer
                await asyncio.sleep(0.02)
        worker.writer.writing = True  # this worker took the lease
        answer = await waiting

    assert answer.text == "here"
    assert worker.served_here == ["body"]  # the body read for forwarding, given again


async def test_a_socket_is_piped_to_the_writer_both_ways(
    redis: Redis, upstreams: tuple[Upstream, Upstream], edge: EdgeMaker
) -> None:
    first, second = upstreams
    worker = await edge(PATIENCE, held_by=first)
    first.writing = False  # says it does not write: the socket goes to the next writer
    await hold(redis, worker.writer.lease, second.address)
    worker.writer.lease.seen = f"{first.address} 1 stale"

    async with websockets_connect(f"ws://{worker.listener.address}/e/x/ws") as socket:
        await socket.send("hello")
        echoed = await asyncio.wait_for(socket.recv(), PATIENCE)

    assert echoed == "second: hello"


async def test_a_socket_the_writer_refuses_is_refused_at_once(
    upstreams: tuple[Upstream, Upstream], edge: EdgeMaker
) -> None:
    first, _ = upstreams
    worker = await edge(PATIENCE, held_by=first)

    with pytest.raises(InvalidStatus) as refused:
        await websockets_connect(
            f"ws://{worker.listener.address}/e/x/ws", additional_headers={"X-Refuse": "1"}
        )

    assert refused.value.response.status_code == 403
    assert worker.writer.lease.reads == 1  # not retried: the writer meant it


async def test_a_socket_with_no_writer_in_time_is_refused_after_waiting(
    upstreams: tuple[Upstream, Upstream], edge: EdgeMaker
) -> None:
    worker = await edge(0.3)

    with pytest.raises(InvalidStatus) as refused:
        await websockets_connect(f"ws://{worker.listener.address}/e/x/ws")

    assert refused.value.response.status_code == 403  # closed before it was accepted
    assert worker.writer.lease.reads >= 2  # it waited for a writer first


async def test_another_workers_metrics_are_read_with_the_proof_and_a_dead_one_is_left_out(
    upstreams: tuple[Upstream, Upstream], edge: EdgeMaker
) -> None:
    first, second = upstreams
    worker = await edge(PATIENCE)
    assert second.listener is not None
    await second.listener.stop()  # died

    alive = await worker.forwarder.metrics_of(first.address, PROOF)
    dead = await worker.forwarder.metrics_of(second.address, PROOF)
    first.writing = False  # answers 503 (as a refusal would be 403): no metrics from it
    refused = await worker.forwarder.metrics_of(first.address, PROOF)

    assert alive == f"first /_workers/metrics  {PROOF.decode()}"
    assert dead is None and refused is None


async def test_the_writer_is_asked_to_withdraw_an_event_changed_elsewhere(
    redis: Redis, upstreams: tuple[Upstream, Upstream], edge: EdgeMaker
) -> None:
    first, second = upstreams
    worker = await edge(PATIENCE)
    role = cast(EventWriter, worker.writer)

    await worker.forwarder.withdraw(role, "x", PROOF)  # nobody writes: nobody to ask
    await hold(redis, worker.writer.lease, first.address)
    await worker.forwarder.withdraw(role, "x", PROOF)
    await hold(redis, worker.writer.lease, second.address)
    assert second.listener is not None
    await second.listener.stop()
    await worker.forwarder.withdraw(role, "x", PROOF)  # it died meanwhile: no error

    assert first.seen == ["POST /_workers/withdraw "]


async def test_while_redis_does_not_answer_the_forwarder_keeps_looking_then_answers_503(
    edge: EdgeMaker,
) -> None:
    worker = await edge(0.3)
    nowhere = connect("redis://127.0.0.1:1/0", timeout=0.2)
    worker.writer.lease = CountedLease(nowhere, worker.writer.lease.key, 600)
    try:
        async with httpx.AsyncClient(timeout=PATIENCE) as client:
            answer = await client.post(f"{worker.base}/e/x/act", content="lost?")
    finally:
        await nowhere.aclose()

    assert answer.status_code == 503
    assert worker.writer.lease.reads >= 2


async def test_a_writer_that_fails_after_the_request_was_sent_is_not_asked_again(
    redis: Redis, upstreams: tuple[Upstream, Upstream], edge: EdgeMaker
) -> None:
    first, _ = upstreams
    worker = await edge(PATIENCE)
    await worker.forwarder.client.aclose()
    worker.forwarder.client = httpx.AsyncClient(timeout=httpx.Timeout(0.3, connect=2.0))
    await hold(redis, worker.writer.lease, first.address)
    first.slow.clear()

    async with httpx.AsyncClient(timeout=PATIENCE) as client:
        answer = await client.post(f"{worker.base}/e/x/act", content="maybe applied")
    first.slow.set()

    assert answer.status_code == 503  # it may have been applied: the client retries
    assert first.seen == ["POST /e/x/act maybe applied"]  # sent once, not again


async def test_a_socket_is_served_here_when_this_worker_writes(edge: EdgeMaker) -> None:
    worker = await edge(PATIENCE)
    worker.writer.writing = True  # it took the lease as the socket came in

    async with websockets_connect(f"ws://{worker.listener.address}/e/x/ws") as socket:
        greeting = await asyncio.wait_for(socket.recv(), PATIENCE)

    assert greeting == "here"
    assert worker.writer.lease.reads == 0  # a writer does not look for another
