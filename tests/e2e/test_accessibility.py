"""axe-core on every page, a phone-width layout check, and clean consoles throughout."""

from __future__ import annotations

from typing import Any

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import expect

from helpers import LiveServer, Person

pytestmark = pytest.mark.e2e

BLOCKING = ("serious", "critical")
PHONE = {"width": 390, "height": 844}

axe = Axe()


async def blocking_violations(page: Any) -> list[str]:
    """axe-core's serious and critical violations on the page, one line per node."""
    results = await axe.run(page)
    found = []
    for violation in results.response["violations"]:
        if violation["impact"] not in BLOCKING:
            continue
        targets = [" ".join(map(str, node["target"])) for node in violation["nodes"]]
        found.append(f"{violation['id']} ({violation['impact']}): {violation['help']} -> {targets}")
    return found


async def no_horizontal_scroll(page: Any) -> tuple[int, int]:
    width: int = await page.evaluate("document.scrollingElement.scrollWidth")
    viewport: int = await page.evaluate("window.innerWidth")
    return width, viewport


async def test_every_page_passes_axe(server: LiveServer, new_screen: Any) -> None:
    report: dict[str, list[str]] = {}
    attendee, host, organiser = await new_screen(), await new_screen(), await new_screen()
    base = server.base

    async def check(label: str, page: Any) -> None:
        report[label] = await blocking_violations(page)

    page = attendee.page
    await page.goto(f"{base}/join")
    await check("/join (empty)", page)

    await page.get_by_role("button", name="Join").click()
    await expect(page.get_by_text("Please enter your name.")).to_be_visible()
    await expect(page.get_by_label("Your name")).to_have_attribute("aria-invalid", "true")
    await check("/join (errors)", page)

    await page.get_by_label("Event code").fill(server.secrets["join_code"])
    await page.get_by_label("Your name").fill("Ann Example")
    await page.get_by_role("button", name="Join").click()
    await expect(page).to_have_url(f"{base}/live")
    await expect(page.locator("#connection")).to_have_text("Live")
    await check("/live (before the start)", page)

    await page.goto(f"{base}/host")
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "This page is not available to you"
    )
    await check("403 (attendee on /host)", page)

    await host.page.goto(f"{base}/enter/host/{server.secrets['host_token']}")
    await expect(host.page.locator("#connection")).to_have_text("Live")
    await host.page.get_by_role("button", name="Start the event").click()
    await page.goto(f"{base}/live")
    await expect(page.locator("#agenda-now h2")).to_have_text("Welcome")
    await expect(page.locator("#connection")).to_have_text("Live")
    await check("/live (an item running)", page)
    await check("/host (an item running)", host.page)

    await host.page.goto(f"{base}/projector")
    await expect(host.page.locator("#agenda-now h2")).to_have_text("Welcome")
    await check("/projector", host.page)

    await organiser.page.goto(f"{base}/enter/organiser/{server.secrets['organiser_token']}")
    await expect(organiser.page).to_have_url(f"{base}/organiser")
    await expect(organiser.page.locator("#connection")).to_have_text("Live")
    await check("/organiser", organiser.page)

    failing = {label: found for label, found in report.items() if found}
    assert not failing, "\n".join(
        f"{label}:\n  " + "\n  ".join(found) for label, found in failing.items()
    )

    def expected_status(error: str) -> bool:
        # Chromium logs a page served with an error status; these two are the point.
        return any(
            f"({base}{path}): Failed to load resource: the server responded with a status of "
            f"{status}" in error
            for path, status in (("/join", 400), ("/host", 403))
        )

    screens = (attendee, host, organiser)
    problems = [p for s in screens for p in await s.console.problems(expected_status)]
    assert not problems, "\n".join(problems)


async def test_pages_fit_a_phone_screen(server: LiveServer, new_screen: Any) -> None:
    phone = await new_screen(viewport=PHONE, is_mobile=True, has_touch=True)
    page = phone.page
    await page.goto(f"{server.base}/join")
    width, viewport = await no_horizontal_scroll(page)
    assert width <= viewport, f"/join scrolls sideways: {width} > {viewport}"

    await page.get_by_label("Event code").fill(server.secrets["join_code"])
    await page.get_by_label("Your name").fill("Ann Example")
    await page.get_by_label("Organisation").fill("A Rather Long Safeguarding Partnership Name")
    await page.get_by_role("button", name="Join").click()
    await expect(page).to_have_url(f"{server.base}/live")
    await expect(page.locator("#connection")).to_have_text("Live")
    width, viewport = await no_horizontal_scroll(page)
    assert width <= viewport, f"/live before the start scrolls sideways: {width} > {viewport}"

    host = Person(server.base)
    await host.enter("host", server.secrets["host_token"])
    assert (await host.act("agenda.start")).status_code == 200
    await host.close()
    await expect(page.locator("#agenda-now h2")).to_have_text("Welcome")  # slides shown
    width, viewport = await no_horizontal_scroll(page)
    assert width <= viewport, f"/live while an item runs scrolls sideways: {width} > {viewport}"

    problems = await phone.console.problems()
    assert not problems, "\n".join(problems)
