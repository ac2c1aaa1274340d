"""Leaving on a shared computer: signed out, and the browser keeps nothing of the person."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import expect

pytestmark = pytest.mark.e2e


async def test_leave_signs_out_and_clears_what_the_browser_kept(
    new_screen: Any, site: Any, check: Any
) -> None:
    screen = await new_screen(viewport={"width": 390, "height": 844})
    page = await site.join(screen, "Ann", "Leeds SP")
    await page.evaluate(
        """() => {
            localStorage.setItem("webinar-draft:g1-t0", JSON.stringify({text: "a name"}));
            localStorage.setItem("webinar-survey-key:x", "k");
            localStorage.setItem("other-site", "kept");
        }"""
    )

    await page.get_by_role("button", name="Leave and sign out").click()

    await expect(page).to_have_url(f"{site.server.base}/join")
    await expect(page.get_by_text("On a shared computer, choose")).to_be_visible()
    kept = await page.evaluate("() => Object.keys(localStorage).sort()")
    assert kept == ["other-site"]
    await page.goto(f"{site.server.base}/live")
    await expect(page).to_have_url(f"{site.server.base}/join")  # the session is over
    check.accessible({"join after leaving": await check.violations(page)})
    await check.clean(screen)
