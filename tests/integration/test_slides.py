"""The presenter steps through slides: every screen follows, a restart keeps the place."""

from __future__ import annotations

import re

import pytest

from helpers import LiveServer, attendee_of, host_of

pytestmark = pytest.mark.integration

WELCOME_SLIDES = 3  # the seed's welcome item


async def test_next_slide_reaches_every_screen_and_one_slide_is_shown(server: LiveServer) -> None:
    host = await host_of(server)
    ann = await attendee_of(server, "Ann")
    assert (await host.act("agenda.start")).status_code == 200
    data_socket = await ann.socket()
    await data_socket.wait_for(lambda m: m["type"] == "snapshot")
    page_socket = await ann.socket(fmt="html")

    response = await host.act("agenda.next_slide")
    event = await data_socket.wait_for(lambda m: m.get("type") == "agenda.state")
    html = ""
    while "Slide 2 of" not in html:
        html = await page_socket.conn.recv()  # type: ignore[assignment]

    assert response.status_code == 200
    assert response.json()["agenda"]["slide"] == 1
    assert event["data"]["slide"] == 1
    assert f"Slide 2 of {WELCOME_SLIDES}" in html
    # One slide is on show; the deck stays folded in a disclosure.
    assert len(re.findall(r'<article class="slide', html)) == 1
    assert '<details class="deck" id="slide-deck">' in html
    assert "open" not in re.search(r"<details[^>]*>", html).group(0)  # type: ignore[union-attr]
    # Attendees get no presenter controls.
    assert "/api/agenda/next_slide" not in html
    await data_socket.close()
    await page_socket.close()
    await host.close()
    await ann.close()


async def test_slide_steps_are_refused_in_plain_words_at_the_ends(server: LiveServer) -> None:
    host = await host_of(server)
    before = await host.act("agenda.next_slide")
    await host.act("agenda.start")
    first = await host.act("agenda.previous_slide")
    for _ in range(WELCOME_SLIDES - 1):
        assert (await host.act("agenda.next_slide")).status_code == 200
    last = await host.act("agenda.next_slide")
    ann = await attendee_of(server, "Ann")
    refused = await ann.act("agenda.next_slide")

    assert (before.status_code, before.json()["error"]["message"]) == (
        409,
        "The event has not started yet.",
    )
    assert first.json()["error"]["message"] == 'This is the first slide of "Welcome".'
    assert last.json()["error"]["message"] == 'This is the last slide of "Welcome".'
    assert refused.status_code == 403
    await host.close()
    await ann.close()


async def test_the_slide_survives_a_server_restart(server: LiveServer) -> None:
    host = await host_of(server)
    await host.act("agenda.start")
    await host.act("agenda.next_slide")
    await host.act("agenda.next_slide")
    await host.close()

    await server.stop()
    await server.start()
    host = await host_of(server)
    status = (await host.http.get("/api/agenda")).json()["status"]
    page = await host.http.get("/host")

    assert status["slide"] == 2
    assert f"Slide 3 of {WELCOME_SLIDES}" in page.text
    await host.close()
