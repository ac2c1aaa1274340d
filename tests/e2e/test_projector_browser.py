"""The projector in Chromium (issue 14): one screen with no scrolling and no site header or
footer at a projector's and a television's size, a QR code that a reader decodes to the
join link, two themes that meet contrast and are remembered, the full-screen button and
theme link from the keyboard, and the highlighted question and a poll's results arriving
live over the WebSocket."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
import segno
import zxingcpp
from PIL import Image
from playwright.async_api import expect

from helpers import LiveServer, attendee_of, host_of

pytestmark = pytest.mark.e2e

PROJECTOR_SIZE = {"width": 1280, "height": 800}
TELEVISION_SIZE = {"width": 1920, "height": 1080}
DARK_PAPER = "rgb(11, 12, 12)"
WHITE = "rgb(255, 255, 255)"
#: The page's paper: app.css's --paper of the theme in force.
PAPER_JS = "getComputedStyle(document.documentElement).backgroundColor"

#: The WCAG contrast of two computed CSS colours (rgb(...)), in the page.
CONTRAST_JS = """([a, b]) => {
  const lum = (css) => {
    const [r, g, b] = css.match(/\\d+(\\.\\d+)?/g).slice(0, 3).map(Number).map((c) => {
      c = c / 255;
      return c <= 0.04045 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}"""


def join_link(server: LiveServer) -> str:
    return f"{server.base}/join?code={server.secrets['join_code']}"


async def started(server: LiveServer) -> None:
    host = await host_of(server)
    assert (await host.act("agenda.start")).status_code == 200
    await host.close()


async def open_projector(screen: Any, site: Any, server: LiveServer, query: str = "") -> Any:
    """The host's browser, then the projector in it, connected."""
    page = await site.enter(screen, "host")
    await page.goto(f"{server.base}/projector{query}")
    await expect(page.locator("#connection")).to_have_attribute("data-state", "open")
    await page.evaluate("window.__sameDocument = true")
    return page


async def inside_viewport(page: Any, selector: str) -> bool:
    box = await page.locator(selector).bounding_box()
    size = page.viewport_size
    assert box is not None, f"{selector} is not shown"
    return bool(
        box["x"] >= 0
        and box["y"] >= 0
        and box["x"] + box["width"] <= size["width"]
        and box["y"] + box["height"] <= size["height"]
    )


async def colours(page: Any, selector: str) -> tuple[str, str]:
    """The computed text colour of ``selector`` and the page's background colour."""
    text: str = await page.locator(selector).evaluate("e => getComputedStyle(e).color")
    paper: str = await page.evaluate("getComputedStyle(document.documentElement).backgroundColor")
    return text, paper


@pytest.mark.parametrize("size", [PROJECTOR_SIZE, TELEVISION_SIZE], ids=["1280x800", "1920x1080"])
async def test_projector_fills_the_screen_without_scrolling_or_site_chrome(
    server: LiveServer, new_screen: Any, site: Any, check: Any, size: dict[str, int]
) -> None:
    await started(server)
    ann = await attendee_of(server, "Ann")
    asked = await ann.act("qa.ask", text="How do we share learning across areas?", key="k" * 32)
    qid = asked.json()["question"]["id"]
    host = await host_of(server)
    assert (await host.act("qa.highlight", question_id=qid, on=True)).status_code == 200
    await host.close()
    await ann.close()
    screen = await new_screen(viewport=size)

    page = await open_projector(screen, site, server)

    await expect(page.locator("#agenda-now h2")).to_have_text("Welcome")
    await expect(page.locator("#qa-highlight")).to_contain_text("share learning across areas")
    scroll = await page.evaluate(
        "[document.scrollingElement.scrollWidth, document.scrollingElement.scrollHeight]"
    )
    assert scroll == [size["width"], size["height"]]
    assert await page.locator("header, footer, .site-header, .site-footer").count() == 0
    for shown in ("#agenda-now h2", "#agenda-now .timer", "#qa-highlight", ".qr", ".join-code"):
        assert await inside_viewport(page, shown), f"{shown} is off the screen"
    # Nothing to fill in or press but the discreet full-screen button.
    controls = page.locator("input, select, textarea, button")
    visible = [await controls.nth(i).is_visible() for i in range(await controls.count())]
    assert visible.count(True) == 1
    await expect(page.get_by_role("button", name="Full screen")).to_be_visible()
    await check.clean(screen)


async def test_qr_code_reads_back_as_the_join_link(
    server: LiveServer, new_screen: Any, site: Any, check: Any
) -> None:
    screen = await new_screen(viewport=PROJECTOR_SIZE)
    expected = join_link(server)
    address = server.base.removeprefix("http://") + "/join"

    page = await open_projector(screen, site, server)

    qr = page.get_by_role("img", name=f"QR code: opens the join page, {address}")
    await expect(qr).to_be_visible()
    assert await qr.get_attribute("aria-label") == (
        f"QR code: opens the join page, {address}, with the event code filled in"
    )
    await expect(page.locator(".join-address")).to_have_text(address)
    await expect(page.locator(".join-code")).to_have_text(server.secrets["join_code"])
    # A real reader, on what Chromium drew.
    picture = Image.open(io.BytesIO(await qr.screenshot()))
    assert [code.text for code in zxingcpp.read_barcodes(picture)] == [expected]
    # And the modules served are exactly segno's for the join link.
    served = await page.locator(".qr svg path").get_attribute("d")
    fresh = segno.make(expected, error="m", micro=False).svg_inline(scale=1, border=4)
    assert served is not None and f'd="{served}"' in fresh
    # No secret on the screen or in the code: the host's and organiser's links stay private.
    page_html = await page.content()
    for secret in ("host_token", "organiser_token"):
        assert server.secrets[secret] not in page_html
    await check.clean(screen)


async def test_theme_is_chosen_by_the_link_or_query_and_remembered(
    server: LiveServer, new_screen: Any, site: Any, check: Any
) -> None:
    screen = await new_screen(viewport=PROJECTOR_SIZE)
    page = await open_projector(screen, site, server)
    assert (
        await page.evaluate("getComputedStyle(document.documentElement).backgroundColor")
        == DARK_PAPER
    )
    text, paper = await colours(page, "#agenda-now h2")
    assert await page.evaluate(CONTRAST_JS, [text, paper]) >= 4.5

    await page.get_by_role("link", name="Light theme").click()

    await expect(page).to_have_url(re.compile(r"[?&]theme=light"))
    await page.wait_for_load_state()
    await expect(page.locator("html")).not_to_have_attribute("data-theme", "dark")
    assert await page.evaluate(PAPER_JS) == WHITE
    text, paper = await colours(page, "#agenda-now h2")
    assert await page.evaluate(CONTRAST_JS, [text, paper]) >= 4.5
    await page.goto(f"{server.base}/projector")  # no ?theme: the one chosen is kept
    await expect(page.locator("html")).not_to_have_attribute("data-theme", "dark")
    assert await page.evaluate(PAPER_JS) == WHITE
    await page.goto(f"{server.base}/projector?theme=dark")
    # The dark theme is the design system's (app.css's [data-theme="dark"]), on <html>.
    await expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    assert await page.evaluate(PAPER_JS) == DARK_PAPER
    await page.goto(f"{server.base}/projector?theme=sepia")  # unknown: the kept one
    await expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    assert await page.evaluate(PAPER_JS) == DARK_PAPER
    await check.clean(screen)


async def test_projector_passes_axe_in_both_themes(
    server: LiveServer, new_screen: Any, site: Any, check: Any
) -> None:
    await started(server)
    screen = await new_screen(viewport=PROJECTOR_SIZE)
    report: dict[str, list[str]] = {}

    for theme in ("dark", "light"):
        page = await open_projector(screen, site, server, f"?theme={theme}")
        await expect(page.locator("#agenda-now h2")).to_have_text("Welcome")
        report[f"/projector ({theme})"] = await check.violations(page)

    check.accessible(report)
    await check.clean(screen)


async def test_projector_tools_work_from_the_keyboard(
    server: LiveServer, new_screen: Any, site: Any, check: Any
) -> None:
    screen = await new_screen(viewport=PROJECTOR_SIZE)
    page = await open_projector(screen, site, server)
    button = page.get_by_role("button", name="Full screen")

    for _ in range(10):
        await page.keyboard.press("Tab")
        if await button.evaluate("b => b === document.activeElement"):
            break
    await page.keyboard.press("Enter")

    await expect(page.get_by_role("button", name="Leave full screen")).to_be_focused()
    assert await page.evaluate("document.fullscreenElement === document.documentElement")
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("button", name="Full screen")).to_be_focused()
    assert await page.evaluate("document.fullscreenElement === null")
    await page.keyboard.press("Tab")
    await expect(page.get_by_role("link", name="Light theme")).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(re.compile(r"[?&]theme=light"))
    await page.wait_for_load_state()
    await expect(page.locator("html")).not_to_have_attribute("data-theme", "dark")
    assert await page.evaluate(PAPER_JS) == WHITE
    await check.clean(screen)


async def test_highlighted_question_and_poll_results_arrive_live(
    server: LiveServer, new_screen: Any, site: Any, check: Any
) -> None:
    await started(server)
    screen = await new_screen(viewport=PROJECTOR_SIZE)
    page = await open_projector(screen, site, server)
    host = await host_of(server)
    ann = await attendee_of(server, "Ann")
    await expect(page.locator("#qa-highlight")).to_be_hidden()

    asked = await ann.act("qa.ask", text="Will the slides be shared?", key="q" * 32)
    qid = asked.json()["question"]["id"]
    assert (await host.act("qa.highlight", question_id=qid, on=True)).status_code == 200

    highlight = page.locator("#qa-highlight")
    await expect(highlight.locator(".highlight-text")).to_have_text("Will the slides be shared?")
    assert await inside_viewport(page, "#qa-highlight")
    assert (await host.act("qa.highlight", question_id=qid, on=False)).status_code == 200
    await expect(highlight).to_be_hidden()

    created = await host.act(
        "polls.create", question="Which agency?", kind="single", options=["Police", "Health"]
    )
    poll = created.json()["poll"]["id"]
    for action in ("polls.open", "polls.project"):
        assert (await host.act(action, poll_id=poll)).status_code == 200
    await expect(page.locator(".projector-question")).to_have_text("Which agency?")
    assert (await ann.act("polls.answer", poll_id=poll, choices=[1], key="p" * 32)).is_success
    assert (await host.act("polls.reveal", poll_id=poll)).status_code == 200

    results = page.locator(f"#ppoll-{poll}-results")
    await expect(results.locator(".poll-respondents")).to_have_text("1 person answered.")
    chart = results.locator(".poll-chart svg")
    await expect(chart).to_contain_text("Health")
    await expect(chart).to_contain_text("100.0%")
    # The figures as a table too, for a screen reader (the room reads the chart).
    await expect(results.locator("tbody tr").nth(1)).to_have_text("Health1100.0%")
    assert await inside_viewport(page, f"#ppoll-{poll}-results .poll-chart")
    assert await page.evaluate("window.__sameDocument === true")  # live, not reloaded
    await host.close()
    await ann.close()
    await check.clean(screen)
