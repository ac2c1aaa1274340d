"""/accessibility on a real server: the operator's contact from `webinar serve`, and a
link to the statement in the footer of every page that has one."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from helpers import LiveServer, ServerProcess, host_of

pytestmark = pytest.mark.integration

FOOTER_LINK = '<p><a href="/accessibility">Accessibility statement</a></p>'


async def test_served_statement_names_the_contact_given_to_serve(tmp_path: Path) -> None:
    server = ServerProcess(
        str(tmp_path / "webinar.db"), args=("--accessibility-contact", "access@example.org")
    )
    await asyncio.to_thread(server.start)
    try:
        async with httpx.AsyncClient(base_url=server.base) as client:
            page = await client.get("/accessibility")
            event_page = await client.get("/e/webinar/accessibility")
    finally:
        await asyncio.to_thread(server.stop)

    assert page.status_code == 200
    assert "<h1>Accessibility statement for this webinar service</h1>" in page.text
    assert '<a href="mailto:access@example.org">access@example.org</a>' in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert event_page.status_code == 404  # one statement, for the whole site


async def test_every_page_with_a_footer_links_the_statement(server: LiveServer) -> None:
    host = await host_of(server)
    async with httpx.AsyncClient(base_url=server.base) as visitor:
        pages = {
            "/join": await visitor.get("/join"),
            "/signin": await visitor.get("/signin"),
            "/programme/signin": await visitor.get("/programme/signin"),
            "/accessibility": await visitor.get("/accessibility"),
            "/host": await host.http.get("/host"),
            "/organiser (refused)": await host.http.get("/organiser"),
        }
        projector = await host.http.get("/projector")
    await host.close()

    for label, page in pages.items():
        assert page.status_code in (200, 403), label
        assert '<a href="/accessibility"' in page.text, label
    assert FOOTER_LINK in pages["/join"].text
    # The projector is a picture for a room: no footer, so no link on it.
    assert "<footer" not in projector.text and "<header" not in projector.text
    assert "/accessibility" not in projector.text


async def test_statement_without_a_contact_shows_the_placeholder(server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=server.base) as client:
        page = await client.get("/accessibility")

    assert page.status_code == 200
    assert "No contact address has been set for this service yet." in page.text
