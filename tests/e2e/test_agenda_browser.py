"""The live agenda in real browsers: the host's buttons move the attendee's page.

Each test runs the real app (``LiveServer``) and drives Chromium through Playwright:
an attendee joins through the form, the host uses the console (or the API), and the
attendee's page follows over the WebSocket without a reload.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from helpers import LiveServer, host_of, seed_agenda
from webinar.domain.agenda import shifted

pytestmark = pytest.mark.e2e

MMSS = re.compile(r"^\d+:[0-5]\d$")
#: What a page logs while its server is down: Chromium's refused WebSocket handshake, and
#: htmx's ``htmx:wsError`` (logged by htmx as the bare Event object).
OUTAGE_NOISE = re.compile(
    r"WebSocket connection to 'ws://127\.0\.0\.1:\d+/ws' failed|\): \[object Event\]$"
)


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[LiveServer]:
    """A server whose seed agenda is moved so that its first item is planned to start now.

    Drift is measured against the planned times, so with the real seed times a test run at
    3 pm would show "running 5 h late"; planned for now, starting is on time and an
    extension of 3 minutes reads "running 3 min late" whenever the test runs.
    """
    agenda = shifted(seed_agenda(), datetime.now(UTC))
    live = LiveServer(str(tmp_path / "webinar.db"), agenda=agenda)
    await live.start()
    try:
        yield live
    finally:
        await live.stop()


def seconds(mmss: str) -> int:
    minutes, secs = mmss.split(":")
    return int(minutes) * 60 + int(secs)


async def test_host_next_moves_the_attendee_page(new_screen: Any, site: Any, check: Any) -> None:
    attendee, host = await new_screen(), await new_screen()
    page = await site.join(attendee, "Ann Example", "Leeds Safeguarding")
    now = page.locator("#agenda-now")
    await expect(now.get_by_role("heading", level=2)).to_have_text("Starting soon")

    console = await site.enter(host, "host")
    await console.get_by_role("button", name="Start the event").click()

    await expect(now.get_by_role("heading", level=2)).to_have_text("Welcome")
    await expect(page.locator("#connection")).to_have_text("Live")
    timer = now.locator(".timer")
    await expect(timer).to_have_text(MMSS)
    first = await timer.text_content() or ""
    # The countdown ticks by itself (every 500 ms): wait for the next value, no fixed sleep.
    await expect(timer).not_to_have_text(first)
    second = await timer.text_content() or ""
    assert MMSS.match(second), second
    assert 0 < seconds(first) - seconds(second) <= 3, (first, second)

    await console.get_by_role("button", name="Next item").click()

    await expect(now.get_by_role("heading", level=2)).to_have_text("National Review Updates")
    await expect(page.locator("#schedule li[aria-current='step'] .item-title")).to_have_text(
        "National Review Updates"
    )
    await expect(page.locator("#connection")).to_have_text("Live")
    await check.not_reloaded(page)
    await check.clean(attendee, host)


async def test_attendee_page_reconnects_after_a_server_restart(
    server: LiveServer, new_screen: Any, site: Any, check: Any
) -> None:
    attendee = await new_screen()
    page = await site.join(attendee, "Bob Example", "")
    host = await host_of(server)
    assert (await host.act("agenda.start")).status_code == 200
    heading = page.locator("#agenda-now").get_by_role("heading", level=2)
    await expect(heading).to_have_text("Welcome")

    errors = attendee.console.errors
    before_outage = len(errors)
    await server.stop()
    await expect(page.locator("#connection")).to_have_text("Reconnecting…")
    await expect(page.locator("#connection")).to_have_attribute("data-state", "closed")
    await server.start()  # same port, same database: sessions and events survive

    await host.close()
    host = await host_of(server)
    assert (await host.act("agenda.next")).status_code == 200

    # Full-jitter backoff: a few tries at up to 1, 2, 4 s each while the server was down.
    await expect(page.locator("#connection")).to_have_text("Live")
    after_outage = len(errors)
    await expect(heading).to_have_text("National Review Updates")
    await check.not_reloaded(page)
    await host.close()

    # While the server is down each refused handshake is logged twice: by Chromium, and by
    # htmx's ws extension (``htmx:wsError``, which logs the bare Event as "[object Event]").
    outage = errors[before_outage:after_outage]
    unexpected = [e for e in outage if not OUTAGE_NOISE.search(e)]
    assert not unexpected, "\n".join(unexpected)
    del errors[before_outage:after_outage]
    await check.clean(attendee)


async def test_extend_shows_drift_and_errors_reach_the_host(
    new_screen: Any, site: Any, check: Any
) -> None:
    attendee, host = await new_screen(), await new_screen()
    page = await site.join(attendee, "Cat Example", "Trust")
    console = await site.enter(host, "host")
    await console.get_by_role("button", name="Start the event").click()
    now = page.locator("#agenda-now")
    await expect(now.get_by_role("heading", level=2)).to_have_text("Welcome")
    await expect(now.locator(".flag-drift")).to_have_text(re.compile("on time", re.I))

    await console.get_by_label("Extend the current item by").fill("3")
    await console.get_by_role("button", name="Extend", exact=True).click()

    await expect(now.locator(".flag-drift")).to_have_text(re.compile(r"running 3 min late", re.I))
    await expect(now.locator(".flag-drift")).to_have_attribute("data-late", "yes")
    flash = console.locator("#flash")
    await expect(flash).to_be_empty()

    await console.get_by_role("button", name="Resume").click()

    await expect(flash).to_have_text("The clock is not paused.")
    await expect(flash).to_have_attribute("data-kind", "error")
    await expect(flash).to_have_attribute("role", "status")
    # A successful command clears the message again.
    await console.get_by_role("button", name="Pause").click()
    await expect(flash).to_be_empty()
    await expect(now.locator(".flag-paused")).to_have_text("Paused")
    await check.not_reloaded(page)

    def refused_resume(error: str) -> bool:
        # htmx logs every error response with console.error ("Response Status Error Code
        # 409 from /api/agenda/resume"); this refusal is what the step is testing.
        return "409" in error and "/api/agenda/resume" in error

    await check.clean(attendee, host, allowed=refused_resume)


async def test_every_live_page_follows_without_console_errors(
    server: LiveServer, new_screen: Any, site: Any, check: Any
) -> None:
    """Every live page gets every fragment of an event; none may log an error for it."""
    host, projector, organiser = await new_screen(), await new_screen(), await new_screen()
    console = await site.enter(host, "host")
    screen = await site.enter(projector, "host")
    await screen.goto(f"{server.base}/projector")
    await expect(screen.locator("#agenda-now h2")).to_have_text("Starting soon")
    await expect(screen.locator("#connection")).to_have_attribute("data-state", "open")
    await site.enter(organiser, "organiser")

    attendee = await new_screen()
    page = await site.join(attendee, "Dan Example", "")
    await expect(console.locator("#attendee-count")).to_have_text("1")
    await expect(organiser.page.locator("#attendee-count")).to_have_text("1")
    await console.get_by_role("button", name="Start the event").click()
    # Next only once the start has landed: sent while it is in flight, it is refused.
    await expect(console.locator("#agenda-now h2")).to_have_text("Welcome")
    await console.get_by_role("button", name="Next item").click()

    current = "#schedule li[aria-current='step'] .item-title"
    for where in (console, page, organiser.page):
        await expect(where.locator(current)).to_have_text("National Review Updates")
    for where in (console, page, screen):
        await expect(where.locator("#agenda-now h2")).to_have_text("National Review Updates")
    await check.clean(host, projector, organiser, attendee)
