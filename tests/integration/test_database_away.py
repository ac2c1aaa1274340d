"""While the event's database does not answer (PostgreSQL restarting), a request that
needs it gets a 503 and a plain sentence, never a 500: an action over HTTP or over the
socket, and a read of the questions. (The real restart: test_postgres_restart.py.)"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from helpers import LiveServer, attendee_of
from webinar.storage.postgres import Unreachable

pytestmark = pytest.mark.integration

SENTENCE = "The event's database is not answering at the moment"


def database_away(server: LiveServer) -> None:
    """Every read of the event's database fails as when PostgreSQL cannot be reached."""

    async def away(*args: Any, **kwargs: Any) -> Any:
        raise Unreachable("The PostgreSQL database /webinar cannot be reached: injected")

    server.services.db.fetchone = away
    server.services.db.fetchall = away


async def test_requests_needing_the_database_get_503_with_a_sentence(
    server: LiveServer,
) -> None:
    person = await attendee_of(server, "Ada")
    ws = await person.socket()
    await ws.wait_for(lambda m: m.get("type") == "snapshot")
    database_away(server)

    asked = await person.act("qa.ask", text="Still there?", key=uuid.uuid4().hex)
    listed = await person.http.get("/api/qa/questions")
    await ws.conn.send(
        json.dumps(
            {
                "type": "action",
                "id": "a",
                "name": "qa.ask",
                "params": {"text": "And here?", "key": uuid.uuid4().hex},
            }
        )
    )
    reply = await ws.wait_for(lambda m: m.get("type") == "result")
    await ws.close()
    await person.close()

    assert asked.status_code == 503 and SENTENCE in asked.json()["error"]["message"]
    assert listed.status_code == 503 and SENTENCE in listed.json()["error"]["message"]
    assert listed.headers["Retry-After"] == "5"
    assert reply["status"] == 503 and SENTENCE in reply["error"]["message"]
