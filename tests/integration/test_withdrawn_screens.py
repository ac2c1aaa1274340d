"""Screens closed because their event stopped being served (``Site.withdraw``: archived,
purged, given a new agenda) are counted in ``webinar_screens_closed_total`` with the
reason ``event_withdrawn``, and the count outlives the event's own hub."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from helpers import PATIENCE, LiveServer, Person
from postgres_cluster import database
from webinar.domain.agenda_file import parse_agenda
from webinar.services import prepare_event
from webinar.services.agenda_files import SEED_AGENDA
from webinar.web.app import Hosted
from webinar.web.site import Site

pytestmark = pytest.mark.integration

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[LiveServer]:
    """Two events, ``alpha`` (the main one, never withdrawn) and ``beta``."""
    db = database(str(tmp_path / "two.db"))
    text = SEED_AGENDA.read_text(encoding="utf-8")
    beta = parse_agenda(text, "beta.toml", today=date.today())
    _, _, secrets = prepare_event(db, "beta", "beta.toml", text, beta.title)
    live = LiveServer(db, slug="alpha", others=(Hosted("beta", beta, secrets),), aliases=False)
    await live.start()
    yield live
    await live.stop()


def site_of(server: LiveServer) -> Site:
    """The Site the server runs (under uvicorn's own middleware)."""
    assert server._server is not None
    app: Any = server._server.config.loaded_app
    while not isinstance(app, Site):
        app = app.app
    return app


async def scrape(server: LiveServer) -> Samples:
    async with httpx.AsyncClient(base_url=server.base, timeout=PATIENCE) as http:
        response = await http.get("/metrics")
    assert response.status_code == 200, response.text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def closed(samples: Samples, event: str, reason: str) -> float | None:
    key = (("event", event), ("reason", reason))
    return samples.get(("webinar_screens_closed_total", key))


async def test_screens_closed_by_withdrawing_their_event_are_counted(server: LiveServer) -> None:
    secrets = server.others[0].secrets
    people = [Person(f"{server.base}/e/beta") for _ in range(2)]
    sockets = []
    for i, person in enumerate(people):
        await person.join(secrets["join_code"], f"Person {i}", "Org")
        sock = await person.socket()
        await sock.wait_for(lambda m: m["type"] == "snapshot")
        sockets.append(sock)
    before = await scrape(server)

    await site_of(server).withdraw("beta")
    for sock in sockets:  # told to reconnect, as after a restart
        await asyncio.wait_for(sock.conn.wait_closed(), PATIENCE)
    withdrawn = await scrape(server)
    # Opened again by its next visit: a new hub, whose own counters start from 0.
    again = await people[0].socket()
    await again.wait_for(lambda m: m["type"] == "snapshot")
    reopened = await scrape(server)

    assert [sock.conn.close_code for sock in sockets] == [1013, 1013]
    assert closed(before, "beta", "event_withdrawn") == 0
    assert closed(withdrawn, "beta", "event_withdrawn") == 2
    assert closed(withdrawn, "beta", "too_slow") is None  # its hub went with it
    assert closed(reopened, "beta", "event_withdrawn") == 2
    assert closed(reopened, "beta", "too_slow") == 0
    assert closed(reopened, "beta", "for_good") == 0
    assert closed(reopened, "alpha", "event_withdrawn") == 0
    await again.close()
    for person in people:
        await person.close()
