"""For operators: /metrics moves with what happens and answers only allowed addresses;
/readyz says ready, or 503 with the reason when the database or a background task fails."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import ipaddress
import json
import sqlite3
from typing import Any

import httpx
import pytest

from helpers import PATIENCE, LiveServer, attendee_of, scrape, site_of
from webinar.realtime.hub import Event
from webinar.services import DEFAULT_SLUG
from webinar.storage.schema import MIGRATIONS
from webinar.web.ws import MAX_SCREENS

pytestmark = pytest.mark.integration

EVENT = DEFAULT_SLUG
BLOB = "x" * 16000  # big events fill socket buffers after a few hundred
AT = "2026-08-20T10:00:00+00:00"


def value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples[(name, tuple(sorted({"event": EVENT, **labels}.items())))]


async def until_screens(server: LiveServer, count: int) -> None:
    hub = server.services.hub
    deadline = asyncio.get_running_loop().time() + PATIENCE
    while hub.client_count != count:
        assert asyncio.get_running_loop().time() < deadline, "screens never reached the count"
        await asyncio.sleep(0.01)


async def test_metrics_count_screens_deliveries_commits_and_responses(server: LiveServer) -> None:
    before = await scrape(server)
    ann, bob = await attendee_of(server, "Ann"), await attendee_of(server, "Bob")
    screens = [await ann.socket(), await bob.socket()]
    for screen in screens:
        await screen.wait_for(lambda m: m["type"] == "snapshot")
    await until_screens(server, 2)

    asked = await ann.act("qa.ask", text="Will the slides be shared?", key="a" * 32)
    assert asked.status_code == 200, asked.text
    for screen in screens:
        await screen.wait_for(lambda m: m["type"] == "qa.question")
    missing = await ann.http.get("/nothing-here")
    after = await scrape(server)

    assert value(before, "webinar_screens_connected") == 0
    assert value(after, "webinar_screens_connected") == 2
    assert value(before, "webinar_participants_present") == 0
    assert value(after, "webinar_participants_present") == 2  # Ann and Bob
    assert value(after, "webinar_screen_starts_total", kind="snapshot") == 2
    # The question reached both screens (its owner's too): at least one delivery each.
    delivered = value(after, "webinar_deliveries_total") - value(before, "webinar_deliveries_total")
    assert delivered >= 2
    assert value(after, "webinar_commits_total") > value(before, "webinar_commits_total")
    waited = value(after, "webinar_commit_latency_seconds_count") - value(
        before, "webinar_commit_latency_seconds_count"
    )
    assert waited >= 3  # two joins and the question, at least
    assert value(after, "webinar_commit_transaction_seconds_count") >= 1
    assert value(after, "webinar_writer_backlog_changes") == 0
    assert value(after, "webinar_hub_backlog_events") == 0
    assert missing.status_code == 404
    responses = {
        status: after[("webinar_http_responses_total", (("status", status),))]
        - before.get(("webinar_http_responses_total", (("status", status),)), 0.0)
        for status in ("2xx", "4xx")
    }
    assert responses["2xx"] >= 3  # joins and the question (and the first scrape)
    assert responses["4xx"] == 1
    for screen in screens:
        await screen.close()
    await ann.close()
    await bob.close()


async def test_metrics_count_resumes_and_screens_closed_for_good(server: LiveServer) -> None:
    ann = await attendee_of(server, "Ann")
    first = await ann.socket()
    await first.wait_for(lambda m: m["type"] == "snapshot")
    await until_screens(server, 1)
    await first.close()
    await until_screens(server, 0)

    resumed = await ann.socket(last_seq=server.services.hub.last_seq)
    await until_screens(server, 1)
    # Eight screens more: one too many for one person, so the oldest (the resumed one)
    # is closed for good.
    more = [await ann.socket() for _ in range(MAX_SCREENS)]
    for screen in more:
        await screen.wait_for(lambda m: m["type"] == "snapshot")
    await asyncio.wait_for(resumed.conn.wait_closed(), PATIENCE)
    samples = await scrape(server)

    assert resumed.conn.close_code == 1008
    assert value(samples, "webinar_screen_starts_total", kind="resume") == 1
    assert value(samples, "webinar_screen_starts_total", kind="snapshot") == 1 + MAX_SCREENS
    assert value(samples, "webinar_screens_closed_total", reason="for_good") == 1
    assert value(samples, "webinar_screens_connected") == MAX_SCREENS
    for screen in more:
        await screen.close()
    await ann.close()


@pytest.mark.parametrize("folding", [False, True], ids=["event_by_event", "folded_pushes"])
async def test_metrics_count_a_screen_dropped_for_being_too_slow(
    server: LiveServer, folding: bool
) -> None:
    ann = await attendee_of(server, "Ann")
    hub = server.services.hub
    if not folding:
        hub.fold_seconds = 0  # each event offered as it is published
    # Ann's client stops reading once one message is buffered: her backlog (8 here)
    # fills as soon as the socket buffers do.
    stalled = await ann.connect(max_queue=1)
    await stalled.send(json.dumps({"type": "resume", "last_seq": None}))
    await until_screens(server, 1)
    (client,) = hub._clients
    client.limit = 8

    seq = hub.last_seq
    bound = seq + 3000
    while not client.dropped and seq < bound:
        for _ in range(10):
            seq += 1
            hub.publish(Event(seq, "test.blob", "all", {"b": BLOB}, AT))
        if folding:
            hub.push()  # the fold's push, now rather than at the window's end
        await asyncio.sleep(0.002)
    samples = await scrape(server)

    assert client.dropped
    assert value(samples, "webinar_screens_closed_total", reason="too_slow") == 1
    assert value(samples, "webinar_screens_closed_total", reason="for_good") == 0
    await stalled.close()
    await ann.close()


async def test_metrics_are_refused_to_an_address_not_allowed(server: LiveServer) -> None:
    site = site_of(server)
    # As behind a reverse proxy on this computer: the visitor's address comes in
    # X-Forwarded-For (trusted from 127.0.0.1), and it is not this computer's.
    outside = {"X-Forwarded-For": "203.0.113.5"}
    async with httpx.AsyncClient(base_url=server.base, timeout=PATIENCE) as http:
        refused = await http.get("/metrics", headers=outside)
        site.settings = dataclasses.replace(
            site.settings, metrics_allow=(ipaddress.ip_network("203.0.113.0/24"),)
        )
        allowed = await http.get("/metrics", headers=outside)
        elsewhere = await http.get("/metrics", headers={"X-Forwarded-For": "198.51.100.7"})

    assert refused.status_code == 403
    assert refused.text == (
        "Metrics are served only to this computer and to the networks given with "
        "webinar serve --metrics-allow CIDR."
    )
    assert "webinar_screens_connected" not in refused.text
    assert refused.headers["content-security-policy"]
    assert allowed.status_code == 200
    assert "webinar_screens_connected" in allowed.text
    assert elsewhere.status_code == 403


async def readyz(server: LiveServer) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.base, timeout=PATIENCE) as http:
        return await http.get("/readyz")


async def test_readyz_is_ready_when_every_event_answers(server: LiveServer) -> None:
    response = await readyz(server)

    assert response.status_code == 200
    assert response.json() == {"ready": True, "events": [EVENT]}
    assert response.headers["cache-control"] == "no-store"


async def test_readyz_is_503_with_the_reason_when_the_database_is_closed(
    server: LiveServer,
) -> None:
    await server.services.db.close()

    response = await readyz(server)
    async with httpx.AsyncClient(base_url=server.base, timeout=PATIENCE) as http:
        alive = await http.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {
        "ready": False,
        "reasons": [f"event {EVENT}: the database did not answer: the database is not open"],
    }
    assert alive.status_code == 200  # the process still answers: alive, not ready


async def test_readyz_is_503_when_a_background_task_has_stopped(server: LiveServer) -> None:
    services = server.services
    await services.qa.stop()

    stopped = await readyz(server)
    services.qa.start()
    again = await readyz(server)

    assert stopped.status_code == 503
    assert stopped.json()["reasons"] == [f"event {EVENT}: the question vote flusher is not running"]
    assert again.status_code == 200


async def test_readyz_is_503_when_a_background_task_died(server: LiveServer) -> None:
    services = server.services
    flusher = services.polls._flusher
    assert flusher is not None
    flusher.cancel()  # as if it had died: the task is done, nobody restarted it
    with pytest.raises(asyncio.CancelledError):
        await flusher

    response = await readyz(server)

    assert response.status_code == 503
    assert response.json()["reasons"] == [f"event {EVENT}: the poll results flusher is not running"]


async def test_readyz_is_503_while_the_server_is_not_serving(server: LiveServer) -> None:
    site = site_of(server)
    site.serving = False

    response = await readyz(server)
    site.serving = True

    assert response.status_code == 503
    assert response.json() == {"ready": False, "reasons": ["the server is starting or stopping"]}


async def test_readyz_tells_a_visitor_the_status_but_not_the_events_or_reasons(
    server: LiveServer,
) -> None:
    outside = {"X-Forwarded-For": "203.0.113.5"}
    async with httpx.AsyncClient(base_url=server.base, timeout=PATIENCE) as http:
        ready = await http.get("/readyz", headers=outside)
        await server.services.qa.stop()
        stopped = await http.get("/readyz", headers=outside)
        server.services.qa.start()

    assert ready.status_code == 200
    assert ready.json() == {"ready": True}
    assert stopped.status_code == 503
    assert stopped.json() == {
        "ready": False,
        "reasons": [
            "The reasons are shown only to this computer and to the networks given with "
            "webinar serve --metrics-allow CIDR."
        ],
    }


@pytest.mark.sqlite_only(reason="sets SQLite's user_version under the running server")
async def test_readyz_is_503_when_the_database_is_not_at_the_latest_migration(
    server: LiveServer,
) -> None:
    # As if an older release's database had been put in place under the running server.
    latest = len(MIGRATIONS)

    def set_version(version: int) -> None:
        with contextlib.closing(sqlite3.connect(server.db_path, timeout=PATIENCE)) as conn, conn:
            conn.execute(f"PRAGMA user_version = {version}")

    # In a thread: the server shares this test's event loop, and a transaction it has open
    # can only finish (and free the file) while the loop runs.
    await asyncio.to_thread(set_version, latest - 1)

    response = await readyz(server)

    assert response.status_code == 503
    assert response.json()["reasons"] == [
        f"event {EVENT}: the database is at migration {latest - 1}, this server needs {latest}"
    ]
    await asyncio.to_thread(set_version, latest)
    assert (await readyz(server)).status_code == 200
