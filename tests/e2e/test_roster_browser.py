"""The host removes someone from the roster in a real browser: their page is closed."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import expect

from webinar.services.roster import REMOVED

pytestmark = pytest.mark.e2e


async def test_host_removes_a_person_from_the_host_page(
    new_screen: Any, site: Any, check: Any
) -> None:
    bot_screen, ann_screen = await new_screen(), await new_screen()
    bot = await site.join(bot_screen, "Bot Example", "Nowhere")
    ann = await site.join(ann_screen, "Ann Example", "Leeds Safeguarding Partnership")
    host_screen = await new_screen()
    host = await site.enter(host_screen, "host")
    await expect(host.locator("#attendee-count")).to_have_text("2")

    async def confirm(dialog: Any) -> None:
        assert dialog.message.startswith("Remove this person from the event?")
        await dialog.accept()

    host.once("dialog", confirm)
    await host.get_by_role("tab", name="Links").click()
    await host.get_by_label("Remove someone from the event").select_option(
        label="Bot Example (Nowhere)"
    )
    await host.get_by_role("button", name="Remove", exact=True).click()

    await expect(host.locator("#attendee-count")).to_have_text("1")
    await expect(bot.locator("#connection")).to_have_text(
        f"{REMOVED} Not connected. Reload the page or join again."
    )
    await expect(ann.locator("#connection")).to_have_text("Live")
    await bot.reload()
    await expect(bot).to_have_url(f"{site.server.base}/join")
    await check.not_reloaded(host, ann)
    check.accessible({"host page": await check.violations(host)})
    await check.clean(host_screen, ann_screen, bot_screen)
