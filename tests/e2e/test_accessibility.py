"""axe-core on every page, a phone-width layout check, and clean consoles throughout."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import expect

from helpers import LiveServer, host_of

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}


async def no_horizontal_scroll(page: Any) -> tuple[int, int]:
    width: int = await page.evaluate("document.scrollingElement.scrollWidth")
    viewport: int = await page.evaluate("window.innerWidth")
    return width, viewport


async def test_every_page_passes_axe(
    server: LiveServer, new_screen: Any, site: Any, check: Any
) -> None:
    report: dict[str, list[str]] = {}
    attendee, host, organiser = await new_screen(), await new_screen(), await new_screen()
    base = server.base

    async def audit(label: str, page: Any) -> None:
        report[label] = await check.violations(page)

    page = attendee.page
    await page.goto(f"{base}/join")
    await audit("/join (empty)", page)

    await page.get_by_role("button", name="Join").click()
    await expect(page.get_by_text("Please enter your name.")).to_be_visible()
    await expect(page.get_by_label("Your name")).to_have_attribute("aria-invalid", "true")
    await audit("/join (errors)", page)

    await page.get_by_label("Event code").fill(server.secrets["join_code"])
    await page.get_by_label("Your name").fill("Ann Example")
    await page.get_by_role("button", name="Join").click()
    await expect(page).to_have_url(f"{base}/live")
    await expect(page.locator("#connection")).to_have_text("Live")
    await audit("/live (before the start)", page)

    await page.goto(f"{base}/host")
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "This page is not available to you"
    )
    await audit("403 (attendee on /host)", page)

    await site.enter(host, "host")
    await host.page.get_by_role("button", name="Start the event").click()
    await page.goto(f"{base}/live")
    await expect(page.locator("#agenda-now h2")).to_have_text("Welcome")
    await expect(page.locator("#connection")).to_have_text("Live")
    await audit("/live (an item running)", page)
    await audit("/host (an item running)", host.page)

    await host.page.goto(f"{base}/projector")
    await expect(host.page.locator("#agenda-now h2")).to_have_text("Welcome")
    await audit("/projector", host.page)

    await site.enter(organiser, "organiser")
    await audit("/organiser", organiser.page)

    check.accessible(report)

    def expected_status(error: str) -> bool:
        # Chromium logs a page served with an error status; these two are the point.
        return any(
            f"({base}{path}): Failed to load resource: the server responded with a status of "
            f"{status}" in error
            for path, status in (("/join", 400), ("/host", 403))
        )

    await check.clean(attendee, host, organiser, allowed=expected_status)


async def test_pages_fit_a_phone_screen(server: LiveServer, new_screen: Any, check: Any) -> None:
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

    host = await host_of(server)
    assert (await host.act("agenda.start")).status_code == 200
    await host.close()
    await expect(page.locator("#agenda-now h2")).to_have_text("Welcome")  # slides shown
    width, viewport = await no_horizontal_scroll(page)
    assert width <= viewport, f"/live while an item runs scrolls sideways: {width} > {viewport}"

    await check.clean(phone)
