"""What the accessibility statement claims, checked in Chromium: the main pages reflow at
320 CSS pixels (WCAG 1.4.10), their targets are at least 24 x 24 px or spaced as 2.5.8
allows, joining works with the keyboard alone, and axe finds nothing serious on a phone.
``tests/web/test_accessibility_statement.py`` maps each claim to these tests."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from playwright.async_api import expect

from helpers import LiveServer, host_of

pytestmark = pytest.mark.e2e

REFLOW = {"width": 320, "height": 640}
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}

#: Pages anyone reaches without signing in (the attendee's come after joining).
OPEN_PAGES = ("/accessibility", "/join", "/signin", "/programme/signin")
ATTENDEE_PAGES = ("/live", "/survey")

#: Targets under 24 x 24 px that 2.5.8 does not excuse: not a link inside a sentence, and
#: a 24 px square on its centre overlaps another target.
SMALL_TARGETS = """() => {
  const targets = [...document.querySelectorAll(
    "a[href], button, input:not([type=hidden]), select, textarea, summary, [role=button]"
  )].filter((e) => e.getClientRects().length && getComputedStyle(e).visibility !== "hidden");
  const boxes = targets.map((e) => e.getBoundingClientRect());
  const inSentence = (e) => {
    if (e.tagName !== "A" || getComputedStyle(e).display !== "inline") return false;
    const words = (e.parentElement.textContent || "").replace(e.textContent || "", "");
    return words.trim().length > 0;
  };
  const clear = (i) => {
    const b = boxes[i], cx = b.left + b.width / 2, cy = b.top + b.height / 2;
    const square = { left: cx - 12, right: cx + 12, top: cy - 12, bottom: cy + 12 };
    return boxes.every((o, j) => j === i || o.right <= square.left || o.left >= square.right
      || o.bottom <= square.top || o.top >= square.bottom);
  };
  return targets.flatMap((e, i) => {
    const b = boxes[i];
    if ((b.width >= 24 && b.height >= 24) || inSentence(e) || clear(i)) return [];
    const name = (e.getAttribute("aria-label") || e.textContent || e.id || e.tagName).trim();
    const size = `${Math.round(b.width)}x${Math.round(b.height)}`;
    return [`${e.tagName.toLowerCase()} "${name.slice(0, 40)}" ${size}`];
  });
}"""


async def horizontal_overflow(page: Any) -> int:
    """How many CSS pixels the page is wider than the window (0: it scrolls only down)."""
    extra: int = await page.evaluate(
        "document.scrollingElement.scrollWidth - document.documentElement.clientWidth"
    )
    return extra


async def joined(page: Any, server: LiveServer) -> None:
    await page.goto(f"{server.base}/join")
    await page.get_by_label("Event code").fill(server.secrets["join_code"])
    await page.get_by_label("Your name").fill("Ann Example")
    await page.get_by_label("Organisation").fill("Leeds Safeguarding Children Partnership")
    await page.get_by_role("button", name="Join").click()
    await expect(page).to_have_url(f"{server.base}/live")


async def each_page(
    server: LiveServer, screen: Any, visit: Callable[[str, Any], Awaitable[None]]
) -> None:
    """``visit(label, page)`` on the open pages, then on the attendee's with an item running."""
    page = screen.page
    for path in OPEN_PAGES:
        await page.goto(f"{server.base}{path}")
        await expect(page.locator("h1")).to_be_visible()
        await visit(path, page)
    host = await host_of(server)
    assert (await host.act("agenda.start")).status_code == 200
    await host.close()
    await joined(page, server)
    for path in ATTENDEE_PAGES:
        await page.goto(f"{server.base}{path}")
        await expect(page.locator("h1").first).to_be_attached()
        await visit(f"{path} (an item running)", page)


async def test_main_pages_reflow_at_320_css_pixels(
    server: LiveServer, new_screen: Any, check: Any
) -> None:
    screen = await new_screen(viewport=REFLOW)
    overflow: dict[str, int] = {}

    async def visit(label: str, page: Any) -> None:
        overflow[label] = await horizontal_overflow(page)

    await each_page(server, screen, visit)

    assert len(overflow) == len(OPEN_PAGES) + len(ATTENDEE_PAGES)
    assert {label: px for label, px in overflow.items() if px > 0} == {}
    await check.clean(screen)


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["1280x800", "390x844"])
async def test_targets_on_the_main_pages_are_at_least_24_px(
    server: LiveServer, new_screen: Any, check: Any, size: dict[str, int]
) -> None:
    screen = await new_screen(viewport=size)
    small: dict[str, list[str]] = {}
    counted: list[int] = []

    async def visit(label: str, page: Any) -> None:
        counted.append(await page.locator("a[href], button, input, select, textarea").count())
        found = await page.evaluate(SMALL_TARGETS)
        if found:
            small[label] = found

    await each_page(server, screen, visit)

    assert all(counted) and len(counted) == len(OPEN_PAGES) + len(ATTENDEE_PAGES)
    assert small == {}
    await check.clean(screen)


async def test_main_pages_pass_axe_on_a_phone(
    server: LiveServer, new_screen: Any, check: Any
) -> None:
    screen = await new_screen(viewport=PHONE, is_mobile=True, has_touch=True)
    report: dict[str, list[str]] = {}

    async def visit(label: str, page: Any) -> None:
        report[label] = await check.violations(page)

    await each_page(server, screen, visit)

    assert len(report) == len(OPEN_PAGES) + len(ATTENDEE_PAGES)
    check.accessible(report)
    await check.clean(screen)


async def tab_to(page: Any, element_id: str, most: int = 30) -> None:
    """Press Tab until the element with ``element_id`` has the focus."""
    for _ in range(most):
        await page.keyboard.press("Tab")
        if await page.evaluate("document.activeElement && document.activeElement.id") == element_id:
            return
    raise AssertionError(f"Tab never reached #{element_id}")


async def test_joining_with_the_keyboard_alone(
    server: LiveServer, new_screen: Any, check: Any
) -> None:
    screen = await new_screen(viewport=PHONE)
    page = screen.page
    await page.goto(f"{server.base}/join")

    await tab_to(page, "code")
    await page.keyboard.type(server.secrets["join_code"])
    await tab_to(page, "name")
    await page.keyboard.type("Kim Keyboard")
    await tab_to(page, "organisation")
    await page.keyboard.type("Kent Children's Services")
    await page.keyboard.press("Enter")

    await expect(page).to_have_url(f"{server.base}/live")
    await expect(page.locator("#connection")).to_have_text("Live")
    await check.clean(screen)


async def test_the_target_check_finds_small_crowded_targets_only(new_screen: Any) -> None:
    screen = await new_screen(viewport=DESKTOP)
    page = screen.page
    await page.set_content(
        "<style>button { width: 16px; height: 16px; padding: 0; margin: 0; border: 0; }</style>"
        '<div><button aria-label="crowded one"></button><button aria-label="crowded two">'
        "</button></div>"
        '<div style="margin-top: 100px"><button aria-label="alone"></button></div>'
        '<p>Read <a href="#x">the guide</a> first.</p>'
        '<div><a href="#y" style="display: inline-block; width: 30px; height: 30px">big</a></div>'
    )

    found = await page.evaluate(SMALL_TARGETS)

    assert found == ['button "crowded one" 16x16', 'button "crowded two" 16x16']
