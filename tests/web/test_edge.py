"""The writer's side of the edge fan-out (``webinar.web.edge.RemoteScreens``), against the
real app's services: a screen another worker serves is opened for a signed-in session
only, gets its snapshot and performs actions as its participant, and counts as present
only while its worker renews it (a fixed clock: no sleeping)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from starlette.types import Message

from helpers import LiveServer, Person, site_of
from webinar.web.edge import PRESENCE_SECONDS, RemoteScreens

pytestmark = pytest.mark.integration


async def ask(
    remote: RemoteScreens, what: str, body: dict[str, Any], cookie: str = ""
) -> tuple[int, Any]:
    """A private request to ``remote`` as the private listener hands it over."""
    raw = json.dumps(body).encode()
    scope: dict[str, Any] = {
        "type": "http",
        "method": "POST",
        "path": f"/_edge/{what}",
        "raw_path": f"/_edge/{what}".encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"cookie", cookie.encode()), (b"content-type", b"application/json")],
        "client": ("127.0.0.1", 1),
        "scheme": "http",
        "http_version": "1.1",
    }
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": raw, "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await remote.handle(scope, receive, send)
    status = int(sent[0]["status"])
    payload = b"".join(m.get("body", b"") for m in sent[1:])
    try:
        return status, json.loads(payload)
    except ValueError:
        return status, payload.decode()


async def test_a_remote_screen_is_opened_served_and_forgotten_when_its_worker_stops(
    server: LiveServer,
) -> None:
    event = site_of(server).events[server.slug]
    services = event.services
    now = [0.0]
    remote = RemoteScreens(
        services, event.app.state.cookie, event.app.state.encoder, clock=lambda: now[0]
    )
    person = Person(server.base)
    try:
        joined = await person.join(server.secrets["join_code"], "Ann Attendee")
        pid = str(joined["participant"]["id"])
        cookie = person.cookie_header()

        refused, _ = await ask(remote, "open", {"fmt": "json", "worker": "w1"})
        status, opened = await ask(remote, "open", {"fmt": "json", "worker": "w1"}, cookie)
        assert refused == 403  # a visitor with no session gets no screen
        assert status == 200
        assert opened["participant"]["id"] == pid
        assert {"all", f"p:{pid}"} <= set(opened["audiences"])
        assert "staff" not in opened["audiences"]
        token = opened["token"]
        assert pid in services.breakouts.connected()  # present, though not in this hub
        assert pid not in services.hub.owners()

        status, snap = await ask(remote, "snapshot", {"token": token})
        assert status == 200
        assert snap["seq"] == services.hub.last_seq
        assert json.loads(snap["wire"])["type"] == "snapshot"

        status, result = await ask(
            remote,
            "action",
            {
                "token": token,
                "name": "qa.ask",
                "params": {"text": "Edge?", "key": uuid.uuid4().hex},
            },
            cookie,
        )
        assert status == 200 and result["ok"], result
        asked = services.qa.questions[int(result["data"]["question"]["id"])]
        assert asked.author_name == "Ann Attendee"  # performed as the screen's participant

        # Renewed in time it stays; a worker that stops renewing loses its screens.
        now[0] = PRESENCE_SECONDS - 1
        status, renewed = await ask(remote, "renew", {"worker": "w1", "tokens": [token, "x"]})
        assert status == 200 and renewed == {"unknown": ["x"]}
        now[0] = 2 * PRESENCE_SECONDS - 2
        assert pid in services.breakouts.connected()
        now[0] = 2 * PRESENCE_SECONDS
        assert pid not in services.breakouts.connected()
        gone, _ = await ask(remote, "snapshot", {"token": token})
        assert gone == 409  # its worker is told to reconnect the screen
    finally:
        await person.close()
