"""Live polls in real browsers: the host writes and opens a word-cloud poll, three
attendees answer (one on a phone-sized page with the keyboard only), the projector shows
the words only after the host reveals them. Every page follows over the WebSocket."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import expect

from helpers import LiveServer

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
QUESTION = "One word for how safeguarding feels today?"


async def tab_to(page: Any, element_id: str, most: int = 80) -> None:
    """Press Tab until the element with ``element_id`` has the focus (keyboard only)."""
    for _ in range(most):
        await page.keyboard.press("Tab")
        if await page.evaluate("document.activeElement && document.activeElement.id") == element_id:
            return
    raise AssertionError(f"Tab never reached #{element_id}")


async def write_words_poll(host: Any) -> int:
    await host.get_by_role("tab", name=re.compile(r"^Polls")).click()
    await host.get_by_text("Write a poll now").click()
    await host.get_by_label("Question", exact=True).fill(QUESTION)
    await host.get_by_label("Kind").select_option("words")
    await host.get_by_role("button", name="Add the poll").click()
    card = host.locator("#polls-host-list > li")
    await expect(card).to_have_count(1)
    await expect(card.locator(".poll-question")).to_have_text(QUESTION)
    return int((await card.get_attribute("id") or "").removeprefix("hpoll-"))


async def test_word_cloud_poll_hidden_until_revealed_on_the_projector(
    server: LiveServer, new_screen: Any, site: Any, check: Any
) -> None:
    host_screen = await new_screen()
    host = await site.enter(host_screen, "host")
    projector = await host_screen.context.new_page()
    projector.set_default_timeout(10_000)
    host_screen.console.watch(projector)
    await projector.goto(f"{server.base}/projector")
    await expect(projector.locator("#connection")).to_have_attribute("data-state", "open")
    await check.mark_document(projector)
    screens = [await new_screen(), await new_screen()]
    phone_screen = await new_screen(viewport=PHONE, is_mobile=True, has_touch=True)
    ann, bob = [await site.join(s, n) for s, n in zip(screens, ("Ann", "Bob"), strict=True)]
    cat = await site.join(phone_screen, "Cat")

    poll_id = await write_words_poll(host)
    card = host.locator(f"#hpoll-{poll_id}")
    await card.get_by_role("button", name="Open").click()
    await expect(card.locator(".badge-state")).to_have_text("Open")
    await card.get_by_role("button", name="Show on projector").click()
    await expect(projector.locator(".projector-question")).to_have_text(QUESTION)

    # Two attendees type and click; Cat, on a phone, uses the keyboard only.
    for page, word in ((ann, "Trust"), (bob, "time")):
        await page.get_by_label("Word 1").fill(word)
        await page.get_by_role("button", name="Send my answer").click()
        await expect(page.locator(f"#apoll-{poll_id}-saved")).to_contain_text("saved")
    await tab_to(cat, f"apoll-{poll_id}-w0")
    await cat.keyboard.type("trusts")
    await cat.keyboard.press("Enter")
    await expect(cat.locator(f"#apoll-{poll_id}-saved")).to_contain_text("saved")

    # The host sees the counts; the projector and attendees see none before the reveal.
    await expect(card.locator("tbody tr").first).to_have_text("trust266.7%")
    await expect(projector.locator(f"#ppoll-{poll_id}-results")).to_contain_text(
        "3 answered so far"
    )
    for page in (ann, cat, projector):
        await expect(page.get_by_role("cell", name="trust")).to_have_count(0)

    await card.get_by_role("button", name="Reveal results").click()
    table = projector.locator(f"#ppoll-{poll_id}-results table")
    await expect(table.locator("tbody tr")).to_have_text(["trust266.7%", "time133.3%"])
    await expect(projector.locator(f"#ppoll-{poll_id}-results svg text")).to_have_text(
        ["trust", "time"]
    )
    for page in (ann, cat):
        await expect(page.locator(f"#apoll-{poll_id}-results tbody tr")).to_have_count(2)
    # Cat's own answer stays in her form after the card was replaced by the reveal.
    await expect(cat.locator(f"#apoll-{poll_id}-w0")).to_have_value("trusts")

    await check.not_reloaded(host, projector, ann, bob, cat)
    await check.clean(host_screen, phone_screen, *screens)
    check.accessible(
        {
            "host": await check.violations(host),
            "projector": await check.violations(projector),
            "phone attendee": await check.violations(cat),
        }
    )
    width = await cat.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"/live with a poll scrolls sideways: {width}"
