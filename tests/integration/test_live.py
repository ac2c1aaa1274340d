"""The live spine against the real server: uvicorn on loopback, real WebSocket clients."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import InvalidStatus

from helpers import LiveServer, Person, attendee_of, host_of
from webinar.services.access import AccessLimits
from webinar.web.ws import MAX_SCREENS, TOO_MANY_SCREENS

pytestmark = pytest.mark.integration


def is_state(current: str | None) -> Any:
    return lambda m: m.get("type") == "agenda.state" and m["data"]["current"] == current


async def test_next_reaches_two_attendees_within_a_second(server: LiveServer) -> None:
    host = await host_of(server)
    ann, bob = await attendee_of(server, "Ann"), await attendee_of(server, "Bob")
    ann_ws, bob_ws = await ann.socket(), await bob.socket()
    await ann_ws.wait_for(lambda m: m["type"] == "snapshot")
    await bob_ws.wait_for(lambda m: m["type"] == "snapshot")
    assert (await host.act("agenda.start")).status_code == 200

    loop = asyncio.get_running_loop()
    sent = loop.time()
    response = await host.act("agenda.next")
    assert response.status_code == 200
    first = await ann_ws.wait_for(is_state("national-review-updates"))
    second = await bob_ws.wait_for(is_state("national-review-updates"))

    assert loop.time() - sent < 1.0
    assert first["seq"] == second["seq"]
    assert first["data"]["schedule"][0]["state"] == "done"
    for person in (host, ann, bob):
        await person.close()


async def test_resume_delivers_exactly_the_missed_events(server: LiveServer) -> None:
    host = await host_of(server)
    ann = await attendee_of(server, "Ann")
    ws = await ann.socket()
    snapshot = await ws.wait_for(lambda m: m["type"] == "snapshot")
    await host.act("agenda.start")
    seen = await ws.wait_for(is_state("welcome"))
    await ws.close()

    for command in ("agenda.next", "agenda.next", "agenda.extend"):
        params = {"minutes": 2} if command == "agenda.extend" else {}
        assert (await host.act(command, **params)).status_code == 200

    again = await ann.socket(last_seq=seen["seq"])
    replayed = [await again.next_message() for _ in range(3)]
    # Nothing more: the replay is written before the socket reads its next message, so a
    # ping's pong comes right after it (a barrier, not a wait for silence).
    await again.conn.send('{"type": "ping"}')
    after = await again.next_message()
    assert after["type"] == "pong"

    seqs = [m["seq"] for m in replayed]
    assert seqs == sorted(set(seqs))
    assert seqs[0] > seen["seq"] > snapshot["seq"]
    assert [m["data"]["current"] for m in replayed] == [
        "national-review-updates",
        "review-qa",
        "review-qa",
    ]
    assert [m["type"] for m in replayed] == ["agenda.state"] * 3
    await again.close()
    await host.close()
    await ann.close()


async def test_resume_with_unknown_sequence_gets_a_snapshot(server: LiveServer) -> None:
    ann = await attendee_of(server, "Ann")
    ws = await ann.socket(last_seq=10_000)

    message = await ws.next_message()

    assert message["type"] == "snapshot"
    assert message["seq"] == server.services.hub.last_seq
    assert message["data"]["agenda"]["phase"] == "before"
    await ws.close()
    await ann.close()


async def test_attendee_is_refused_every_host_action(server: LiveServer) -> None:
    from webinar.web.actions import REGISTRY

    ann = await attendee_of(server, "Ann")
    ws = await ann.socket()
    await ws.wait_for(lambda m: m["type"] == "snapshot")
    refused_http, refused_ws = [], []
    for name, action in sorted(REGISTRY.items()):
        if "attendee" in action.roles:
            continue
        response = await ann.act(name)
        refused_http.append((name, response.status_code))
        await ws.conn.send(f'{{"type":"action","id":"{name}","name":"{name}","params":{{}}}}')
        reply = await ws.wait_for(lambda m: m.get("type") == "result")
        refused_ws.append((name, reply["status"]))

    assert refused_http == [(name, 403) for name, _ in refused_http]
    assert refused_ws == [(name, 403) for name, _ in refused_ws]
    assert len(refused_http) == len([a for a in REGISTRY.values() if "attendee" not in a.roles])
    assert server.services.agenda_service.state.started_at is None
    for page in ("/host", "/organiser", "/projector"):
        assert (await ann.http.get(page)).status_code == 403
    await ws.close()
    await ann.close()


async def test_visitor_without_session_is_refused(server: LiveServer) -> None:
    visitor = Person(server.base)

    api = await visitor.act("agenda.start")
    agenda = await visitor.http.get("/api/agenda")
    live = await visitor.http.get("/live")

    assert api.status_code == 401
    assert agenda.status_code == 401
    assert (live.status_code, live.headers["location"]) == (303, "/join")
    with pytest.raises(InvalidStatus) as refused:
        await visitor.socket()
    assert refused.value.response.status_code == 403
    await visitor.close()


async def test_socket_from_a_foreign_origin_is_refused(server: LiveServer) -> None:
    ann = await attendee_of(server, "Ann")

    with pytest.raises(InvalidStatus) as refused:
        await ann.socket(origin="https://evil.example")

    assert refused.value.response.status_code == 403
    ok = await ann.socket()
    assert (await ok.next_message())["type"] == "snapshot"
    await ok.close()
    await ann.close()


async def test_post_without_csrf_token_is_refused(server: LiveServer) -> None:
    host = await host_of(server)

    response = await host.http.post("/api/agenda/start", json={})

    assert response.status_code == 403
    assert response.json()["error"]["message"].startswith("Your session token")
    assert server.services.agenda_service.state.started_at is None
    await host.close()


async def test_post_from_a_foreign_origin_is_refused(server: LiveServer) -> None:
    host = await host_of(server)

    response = await host.http.post(
        "/api/agenda/start",
        json={},
        headers={"X-CSRF-Token": host.csrf, "Origin": "https://evil.example"},
    )

    assert response.status_code == 403
    assert server.services.agenda_service.state.started_at is None
    await host.close()


@pytest.mark.parametrize(
    ("body", "content_type", "status", "message"),
    [
        (b"{not json", "application/json", 400, "The request body is not valid JSON."),
        (b"[1, 2]", "application/json", 400, "The request body must be a JSON object."),
        (b'{"minutes": "lots"}', "application/json", 400, "'minutes' must be a whole number."),
        (b'{"minutes": 0}', "application/json", 400, None),
        (
            b'{"minutes": 3, "x": 1}',
            "application/json",
            400,
            "'x' is not something this action takes.",
        ),
        (b"{}", "application/json", 400, "Please give 'minutes'."),
        (b"minutes=3", "text/plain", 415, "Send JSON or form data."),
        (b'{"minutes": 3}', "application/json", 409, None),
    ],
)
async def test_bad_api_input_gets_a_clear_message_and_changes_nothing(
    server: LiveServer, body: bytes, content_type: str, status: int, message: str | None
) -> None:
    host = await host_of(server)
    before = server.services.hub.last_seq

    response = await host.http.post(
        "/api/agenda/extend",
        content=body,
        headers={"X-CSRF-Token": host.csrf, "Content-Type": content_type},
    )

    assert response.status_code == status
    text = response.json()["error"]["message"]
    assert text == message if message else text.endswith(".")
    assert server.services.hub.last_seq == before
    await host.close()


async def test_oversized_body_is_refused(server: LiveServer) -> None:
    host = await host_of(server)

    response = await host.http.post(
        "/api/agenda/start",
        content=b'{"a": "' + b"x" * 70_000 + b'"}',
        headers={"X-CSRF-Token": host.csrf, "Content-Type": "application/json"},
    )

    assert response.status_code == 413
    await host.close()


async def test_malformed_socket_messages_get_errors_and_keep_the_connection(
    server: LiveServer,
) -> None:
    ann = await attendee_of(server, "Ann")
    ws = await ann.socket()
    await ws.wait_for(lambda m: m["type"] == "snapshot")
    replies = []
    for raw in ("not json", "[1]", '{"no": "type"}', '{"type": "dance"}', b"\x00\x01"):
        await ws.conn.send(raw)
        replies.append((await ws.wait_for(lambda m: m.get("type") == "error"))["message"])
    await ws.conn.send('{"type": "ping"}')
    pong = await ws.wait_for(lambda m: m.get("type") == "pong")

    assert replies == [
        "That message is not valid JSON.",
        "A message must be a JSON object.",
        "A message needs a 'type'.",
        "Unknown message type 'dance'.",
        "Messages must be JSON text.",
    ]
    assert datetime.fromisoformat(pong["now"]).tzinfo is not None
    await ws.close()
    await ann.close()


async def test_join_refuses_bad_input_and_stores_nothing(server: LiveServer) -> None:
    visitor = Person(server.base)
    code = server.secrets["join_code"]
    cases = [
        ({"code": code, "name": "   "}, "name", "Please enter your name."),
        ({"code": code, "name": "x" * 81}, "name", "Name can be at most 80 characters long."),
        ({"code": "WRONG", "name": "Ann"}, "code", None),
        ({"code": code, "name": "Ann\x07"}, "name", "Name cannot contain control characters."),
        ({"code": code, "name": "Ann", "organisation": "o" * 121}, "organisation", None),
        ({"code": code, "name": 5}, "name", "'name' must be text."),
        ({"code": code, "name": "Ann", "role": "host"}, "role", None),
    ]
    for body, field, message in cases:
        response = await visitor.http.post("/api/join", json=body)
        assert response.status_code == 400, body
        error = response.json()["error"]
        assert error["field"] == field
        if message:
            assert error["message"] == message
    assert await server.services.access.attendee_count() == 0
    await visitor.close()


async def test_join_keeps_unicode_names_intact(server: LiveServer) -> None:
    visitor = Person(server.base)

    body = await visitor.join(server.secrets["join_code"], "Zoë <b>Ünal</b> نور", "Trust")

    assert body["participant"]["name"] == "Zoë <b>Ünal</b> نور"
    page = (await visitor.http.get("/live")).text
    assert "Zoë &lt;b&gt;Ünal&lt;/b&gt; نور" in page
    await visitor.close()


async def test_code_guessing_is_slowed_down(server: LiveServer) -> None:
    guesser = Person(server.base)

    statuses = [
        (
            await guesser.http.post("/api/join", json={"code": f"GUESS{i:03d}", "name": "X"})
        ).status_code
        for i in range(8)
    ]
    slowed = await guesser.http.post("/api/join", json={"code": "GUESS999", "name": "X"})

    # Five free wrong guesses, a sixth that starts a wait, then 429 while it lasts.
    assert statuses == [400] * 6 + [429] * 2
    assert slowed.status_code == 429
    assert int(slowed.headers["Retry-After"]) >= 1
    assert slowed.json()["error"]["message"].startswith(
        "That event code is not right. Check the invitation. Too many wrong ones have come "
        "from your network: please wait"
    )
    assert await server.services.access.attendee_count() == 0
    await guesser.close()


async def test_one_persons_wrong_codes_never_lock_out_the_right_code(server: LiveServer) -> None:
    # Two browsers on one address (127.0.0.1): a council office behind one NAT.
    typist, colleague = Person(server.base), Person(server.base)
    for i in range(20):
        await typist.http.post("/api/join", json={"code": f"TYPO{i:04d}", "name": "T"})
    still_wrong = await typist.http.post("/api/join", json={"code": "TYPO9999", "name": "T"})

    joined = await colleague.http.post(
        "/api/join", json={"code": server.secrets["join_code"], "name": "Colleague"}
    )
    typist_fixed = await typist.http.post(
        "/api/join", json={"code": server.secrets["join_code"].lower(), "name": "Typist"}
    )
    host = await typist.http.get(f"/enter/host/{server.secrets['host_token']}")
    wrong_link = await colleague.http.get("/enter/organiser/not-the-link")

    assert still_wrong.status_code == 429
    assert joined.status_code == 201, joined.text
    assert typist_fixed.status_code == 201, typist_fixed.text
    assert host.status_code == 303  # and the host's link is counted apart from codes
    assert host.headers["location"] == "/host"
    assert wrong_link.status_code == 403
    assert await server.services.access.attendee_count() == 2
    await typist.close()
    await colleague.close()


async def test_wrong_links_are_slowed_apart_from_codes(server: LiveServer) -> None:
    guesser = Person(server.base)

    links = [(await guesser.http.get(f"/enter/host/wrong{i}")).status_code for i in range(8)]
    code = await guesser.http.post("/api/join", json={"code": "WRONG123", "name": "X"})
    right = await guesser.http.get(f"/enter/organiser/{server.secrets['organiser_token']}")

    assert links == [403] * 6 + [429] * 2
    assert code.status_code == 400  # wrong links do not slow attendees' codes
    assert right.status_code == 303
    await guesser.close()


async def test_joins_from_one_address_are_limited_to_a_burst_and_a_rate(tmp_path: Path) -> None:
    server = LiveServer(
        str(tmp_path / "webinar.db"),
        access_limits=AccessLimits(join_burst=3, joins_per_minute=30),
    )
    await server.start()
    code = server.secrets["join_code"]
    people = [Person(server.base) for _ in range(5)]
    try:
        first = [
            (await p.http.post("/api/join", json={"code": code, "name": f"P{i}"})).status_code
            for i, p in enumerate(people[:4])
        ]
        refused = await people[3].http.post("/api/join", json={"code": code, "name": "P3"})
        server.offset += timedelta(seconds=2)  # one token back at 30 a minute
        later = await people[4].http.post("/api/join", json={"code": code, "name": "P4"})

        assert first == [201, 201, 201, 429]
        assert refused.status_code == 429
        assert refused.headers["Retry-After"] == "2"
        assert refused.json()["error"]["message"] == (
            "Many people have just joined from your network. Please try again in 2 seconds."
        )
        assert later.status_code == 201, later.text
        assert await server.services.access.attendee_count() == 4
    finally:
        for person in people:
            await person.close()
        await server.stop()


async def test_a_ninth_screen_on_one_session_closes_the_oldest(server: LiveServer) -> None:
    ann = await attendee_of(server, "Ann")
    screens = []
    for _ in range(MAX_SCREENS):
        sock = await ann.socket()
        await sock.wait_for(lambda m: m["type"] == "snapshot")
        screens.append(sock)

    newest = await ann.socket()
    await newest.wait_for(lambda m: m["type"] == "snapshot")
    await asyncio.wait_for(screens[0].conn.wait_closed(), 10)
    pongs = []
    for sock in [*screens[1:], newest]:
        await sock.conn.send('{"type": "ping"}')
        pongs.append((await sock.wait_for(lambda m: m["type"] == "pong"))["type"])

    assert screens[0].conn.close_code == 1008  # a policy close: browsers do not retry it
    assert screens[0].conn.close_reason == TOO_MANY_SCREENS
    assert pongs == ["pong"] * MAX_SCREENS
    assert len(server.services.hub.screens_of(server.services.hub.owners().pop())) == MAX_SCREENS
    for sock in [*screens[1:], newest]:
        await sock.close()
    await ann.close()


async def test_leaving_ends_the_session_on_the_server(server: LiveServer) -> None:
    ann = await attendee_of(server, "Ann")
    cookie = ann.cookie_header()

    left = await ann.http.post("/leave", data={"csrf_token": ann.csrf})
    copied = Person(server.base)
    copied.http.headers["Cookie"] = cookie
    after = await copied.http.get("/api/session")

    assert left.status_code == 303
    assert after.json()["participant"] is None
    await ann.close()
    await copied.close()


async def test_unknown_api_addresses_answer_in_json(server: LiveServer) -> None:
    visitor = Person(server.base)

    missing = await visitor.http.get("/api/a/b/c")
    wrong_method = await visitor.http.get("/api/agenda/next")

    assert (missing.status_code, missing.json()["error"]["message"]) == (
        404,
        "There is nothing at this address.",
    )
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"]["message"] == "This address does not take that method."
    await visitor.close()


async def test_pong_tells_the_servers_clock_not_the_machines(server: LiveServer) -> None:
    server.offset = timedelta(hours=3)  # the services' clock: what countdowns follow
    ann = await attendee_of(server, "Ann")
    ws = await ann.socket()
    await ws.wait_for(lambda m: m["type"] == "snapshot")

    await ws.conn.send('{"type": "ping"}')
    pong = await ws.wait_for(lambda m: m.get("type") == "pong")

    told = datetime.fromisoformat(pong["now"])
    assert abs(told - (datetime.now(UTC) + timedelta(hours=3))) < timedelta(minutes=1)
    await ws.close()
    await ann.close()
