"""The roster: the host removes someone; who is dealt into a breakout at the split."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

import pytest
from websockets.exceptions import InvalidStatus

from helpers import PATIENCE, LiveServer, Person, Socket, attendee_of, host_of, open_database
from webinar.services.roster import REMOVED

pytestmark = pytest.mark.integration

BREAKOUT_ITEM = "lcspr-breakout"


async def until(condition: Callable[[], bool], timeout: float = PATIENCE) -> None:
    """Wait for the server to have seen something (a socket closing), by polling it."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("the server never got there")
        await asyncio.sleep(0.01)


async def live(person: Person) -> Socket:
    sock = await person.socket()
    await sock.wait_for(lambda m: m["type"] == "snapshot")
    return sock


def group_event(m: dict[str, object]) -> bool:
    return m["type"] == "breakout.group"


async def test_host_removes_a_facilitator_from_roster_group_and_screens(
    server: LiveServer,
) -> None:
    host = await host_of(server)
    people = [await attendee_of(server, f"Person {i}", "Leeds SP") for i in range(3)]
    ids = [(await p.http.get("/api/session")).json()["participant"]["id"] for p in people]
    screens = [await live(p) for p in people]
    second_screen = await live(people[0])  # the one removed has a phone and a laptop open
    host_ws = await live(host)
    await host.act("agenda.start")
    assert (await host.act("agenda.jump", item_id=BREAKOUT_ITEM)).status_code == 200
    for sock in screens:
        await sock.wait_for(group_event)
    assert (await people[0].act("breakout.volunteer")).status_code == 200
    bot = ids[0]

    removed = await host.act("roster.remove", participant_id=bot)

    assert removed.status_code == 200, removed.text
    for sock in (screens[0], second_screen):
        await asyncio.wait_for(sock.conn.wait_closed(), 10)
        assert (sock.conn.close_code, sock.conn.close_reason) == (1008, REMOVED)
    room = await screens[1].wait_for(
        lambda m: group_event(m) and bot not in [x["id"] for x in m["data"]["members"]],
        timeout=10,
    )
    assert sorted(x["id"] for x in room["data"]["members"]) == sorted(ids[1:])
    assert room["data"]["facilitator"] is None  # the seat is free for a volunteer
    count = await host_ws.wait_for(lambda m: m["type"] == "roster.joined")
    assert count["data"]["count"] == 2
    assert await server.services.access.attendee_count() == 2
    # Their session is over: the page, the API and a new socket all treat them as nobody.
    assert (await people[0].http.get("/api/session")).json()["participant"] is None
    assert (await people[0].act("qa.ask", text="Still here?", key="k" * 20)).status_code == 401
    with pytest.raises(InvalidStatus):
        await people[0].connect()
    conn = open_database(server.db_path)
    try:
        assert conn.execute(
            "SELECT removed_at IS NOT NULL FROM participants WHERE id = ?", (bot,)
        ).fetchone() == (1,)
        assert conn.execute(
            "SELECT count(*) FROM sessions WHERE participant_id = ?", (bot,)
        ).fetchone() == (0,)
        assert conn.execute(
            "SELECT count(*) FROM breakout_members WHERE participant_id = ?", (bot,)
        ).fetchone() == (0,)
    finally:
        conn.close()
    # Twice, or someone who is not an attendee: a plain 404.
    again = await host.act("roster.remove", participant_id=bot)
    assert again.status_code == 404
    assert again.json()["error"]["message"] == "There is no attendee with that id on the roster."
    for person in [host, *people]:
        await person.close()


async def test_an_attendee_cannot_remove_anyone(server: LiveServer) -> None:
    ann, bob = await attendee_of(server, "Ann"), await attendee_of(server, "Bob")
    bob_id = (await bob.http.get("/api/session")).json()["participant"]["id"]

    refused = await ann.act("roster.remove", participant_id=bob_id)

    assert refused.status_code == 403
    assert (await bob.http.get("/api/session")).json()["participant"]["id"] == bob_id
    await ann.close()
    await bob.close()


async def test_someone_gone_for_a_while_is_not_dealt_in_but_joins_late(
    server: LiveServer,
) -> None:
    host = await host_of(server)
    here, reconnecting, gone = [await attendee_of(server, n) for n in ("Here", "Phone", "Gone")]
    ids = {}
    for name, person in (("here", here), ("reconnecting", reconnecting), ("gone", gone)):
        ids[name] = (await person.http.get("/api/session")).json()["participant"]["id"]
    here_ws, phone_ws, gone_ws = [await live(p) for p in (here, reconnecting, gone)]
    hub = server.services.hub

    await gone_ws.close()  # three minutes before the split
    await until(lambda: ids["gone"] not in hub.owners())
    server.offset += timedelta(minutes=3)
    await phone_ws.close()  # a phone dropping its connection just before the split
    await until(lambda: ids["reconnecting"] not in hub.owners())
    server.offset += timedelta(seconds=30)
    await host.act("agenda.start")
    assert (await host.act("agenda.jump", item_id=BREAKOUT_ITEM)).status_code == 200
    room = await here_ws.wait_for(group_event)

    # Dealt in: whoever has a screen open, and whoever lost it less than 2 minutes ago.
    assert sorted(m["id"] for m in room["data"]["members"]) == sorted(
        [ids["here"], ids["reconnecting"]]
    )
    phone_back = await live(reconnecting)
    assert phone_back.events[0]["data"]["breakout"]["group"]["number"] == room["data"]["number"]
    # The one gone for longer is placed as a late joiner when they come back.
    gone_back = await live(gone)
    late = gone_back.events[0]["data"]["breakout"]["group"]
    assert late["number"] == room["data"]["number"]
    grown = await here_ws.wait_for(
        lambda m: group_event(m) and ids["gone"] in [x["id"] for x in m["data"]["members"]],
        timeout=10,
    )
    assert len(grown["data"]["members"]) == 3
    for person in (host, here, reconnecting, gone):
        await person.close()
