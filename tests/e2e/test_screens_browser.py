"""What the screens say, in real browsers (issue 17): words people read, slides the
presenter steps through, focus nobody loses, and pages that fit a phone.

Each test runs the real app (``LiveServer``) with the seed agenda moved to start about
now, and drives Chromium through Playwright as attendees, the host and the projector.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from helpers import LiveServer, attendee_of, host_of, seed_agenda
from webinar.domain.agenda import Agenda, shifted

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
LOCKED = "The breakout has ended and your group's responses are locked: they are saved as shown."


def seed_from(start: datetime) -> Agenda:
    return shifted(seed_agenda(), start)


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[LiveServer]:
    live = LiveServer(str(tmp_path / "webinar.db"), agenda=seed_from(datetime.now(UTC)))
    await live.start()
    try:
        yield live
    finally:
        await live.stop()


async def serving(tmp_path: Path, agenda: Agenda) -> LiveServer:
    live = LiveServer(str(tmp_path / "own.db"), agenda=agenda)
    await live.start()
    return live


async def projector_of(server: LiveServer, host_screen: Any, check: Any) -> Any:
    page = await host_screen.context.new_page()
    page.set_default_timeout(10_000)
    host_screen.console.watch(page)
    await page.goto(f"{server.base}/projector")
    await expect(page.locator("#connection")).to_have_attribute("data-state", "open")
    await check.mark_document(page)
    return page


async def join_form(live: LiveServer, screen: Any, name: str) -> Any:
    """Join ``live`` through its form (the ``site`` fixture serves the default server)."""
    page = screen.page
    await page.goto(f"{live.base}/join")
    await page.get_by_label("Event code").fill(live.secrets["join_code"])
    await page.get_by_label("Your name").fill(name)
    await page.get_by_role("button", name="Join").click()
    await expect(page).to_have_url(f"{live.base}/live")
    await expect(page.locator("#connection")).to_have_text("Live")
    return page


async def visible_count(locator: Any) -> int:
    return sum([await locator.nth(i).is_visible() for i in range(await locator.count())])


async def test_questions_votes_and_highlight_read_as_words(
    server: LiveServer, new_screen: Any, site: Any, check: Any
) -> None:
    ann_screen, bob_screen, host_screen = await new_screen(), await new_screen(), await new_screen()
    ann = await site.join(ann_screen, "Ann Asker", "Leeds Safeguarding Partnership")
    bob = await site.join(bob_screen, "Bob Voter", "Kent Children's Services")
    host = await site.enter(host_screen, "host")
    projector = await projector_of(server, host_screen, check)

    # Nothing highlighted: no empty "Being answered now" box anywhere.
    for page in (ann, bob, host, projector):
        await expect(page.locator("#qa-highlight")).to_be_hidden()
    await expect(bob.get_by_text("Questions others ask appear here.")).to_be_visible()

    # A thank-you does not stay up for the rest of the event (shortened here from 10 s).
    await ann.evaluate("document.getElementById('flash').setAttribute('data-info-ms', '2000')")
    for text in ("Is the recording shared?", "Will the recording be shared with schools?"):
        await ann.get_by_label("Your question", exact=True).fill(text)
        await ann.get_by_role("button", name="Send question").click()
        await expect(ann.locator("#flash")).to_have_text("Thank you. Your question has been sent.")
        await expect(ann.locator("#flash")).to_be_empty(timeout=5_000)
    cards = bob.locator("#qa-list > li")
    show_new = bob.get_by_role("button", name=re.compile(r"^Show \d new questions?$"))
    await expect(cards.nth(1).or_(show_new)).to_be_visible()
    if await show_new.is_visible():
        await show_new.click()
    await expect(cards).to_have_count(2)
    await expect(bob.get_by_text("Questions others ask appear here.")).to_be_hidden()
    dup_id, target_id = sorted(
        [int((await cards.nth(i).get_attribute("id") or "").removeprefix("q-")) for i in (0, 1)]
    )

    # "Vote 0", not "Vote0": the space between label and count is shown.
    vote = bob.locator(f"#q-{dup_id} button.vote")
    assert await vote.inner_text() == "Vote 0"
    label, count = vote.locator(".vote-label"), vote.locator(".count")
    gap = (await count.bounding_box())["x"] - (
        (await label.bounding_box())["x"] + (await label.bounding_box())["width"]
    )
    assert gap >= 2, f"no space between 'Vote' and its count ({gap:.1f} px)"
    await vote.click()
    await expect(vote).to_have_attribute("aria-pressed", "true")
    assert await vote.inner_text() == "Voted 1"

    # The host merges the question Bob voted for into the other: Bob's vote moved with it.
    host_api = await host_of(server)
    merged = await host_api.act("qa.merge", question_id=dup_id, into=target_id)
    assert merged.status_code == 200, merged.text
    target_vote = bob.locator(f"#q-{target_id} button.vote")
    await expect(target_vote).to_have_attribute("aria-pressed", "true")
    await expect(target_vote.locator(".count")).to_have_text("1")
    assert await target_vote.inner_text() == "Voted 1"

    # Highlighted: the box appears, and says "1 vote".
    highlighted = await host_api.act("qa.highlight", question_id=target_id, on=True)
    assert highlighted.status_code == 200, highlighted.text
    await host_api.close()
    box = projector.locator("#qa-highlight")
    await expect(box).to_be_visible()
    await expect(box.locator(".q-meta")).to_have_text(
        "Ann Asker, Leeds Safeguarding Partnership · 1 vote"
    )
    for page in (ann, bob, host):
        await expect(page.locator("#qa-highlight")).to_contain_text("Being answered now")
    await check.not_reloaded(ann, bob, host, projector)
    await check.clean(ann_screen, bob_screen, host_screen)


async def test_the_host_steps_through_slides_and_every_screen_follows(
    server: LiveServer, new_screen: Any, site: Any, check: Any
) -> None:
    attendee, host_screen = await new_screen(), await new_screen()
    page = await site.join(attendee, "Ann Example", "Trust")
    host = await site.enter(host_screen, "host")
    projector = await projector_of(server, host_screen, check)

    await host.get_by_role("button", name="Start the event").click()
    screens = (page, host, projector)
    for where in screens:
        now = where.locator("#agenda-now")
        await expect(now.locator("#slide-count")).to_have_text("Slide 1 of 3")
        # One slide on show: the live update did not add every slide of the item.
        assert await visible_count(now.locator(".slide")) == 1
        await expect(now.locator("#slide-deck")).not_to_have_attribute("open", "")
    first_title = await page.locator("#slide-now-title").text_content()
    await expect(projector.get_by_role("button", name="Next slide")).to_be_hidden()
    await expect(page.get_by_role("button", name="Next slide")).to_have_count(0)

    # The presenter steps on; focus stays on the button they pressed.
    next_slide = host.get_by_role("button", name="Next slide")
    await next_slide.click()
    for where in screens:
        await expect(where.locator("#slide-count")).to_have_text("Slide 2 of 3")
    await expect(host.get_by_role("button", name="Next slide")).to_be_focused()
    assert await page.locator("#slide-now-title").text_content() != first_title

    # The whole deck is a tap away, and stays open while the presenter moves on.
    await page.locator("#slide-deck > summary").click()
    deck = page.locator("#slide-deck .deck-list > li")
    await expect(deck).to_have_count(3)
    await expect(deck.nth(1)).to_have_attribute("aria-current", "step")
    await next_slide.click()
    await expect(page.locator("#slide-count")).to_have_text("Slide 3 of 3")
    await expect(page.locator("#slide-deck")).to_have_attribute("open", "")
    await expect(deck.nth(2)).to_have_attribute("aria-current", "step")

    await next_slide.click()
    await expect(host.locator("#flash")).to_have_text('This is the last slide of "Welcome".')

    # The next item starts on its first slide; the finished item is not struck out.
    await host.get_by_role("button", name="Next item").click()
    await expect(page.locator("#slide-count")).to_have_text("Slide 1 of 4")
    welcome = page.locator("#schedule li.item-done .item-title").first
    await expect(welcome).to_have_text("Welcome")
    await expect(welcome).to_have_css("text-decoration-line", "none")
    await host.get_by_label("Jump to").select_option("lcspr")
    await host.get_by_role("button", name="Jump", exact=True).click()
    not_run = page.locator("#schedule li.item-not_run .item-title").first
    await expect(not_run).to_have_text("Review Q&A")
    await expect(not_run).to_have_css("text-decoration-line", "line-through")
    await check.not_reloaded(page, host, projector)

    def refused_slide(error: str) -> bool:
        return "409" in error and "/api/agenda/next_slide" in error

    await check.clean(attendee, host_screen, allowed=refused_slide)


async def test_the_breakout_room_opens_without_taking_focus_from_someone_typing(
    server: LiveServer, new_screen: Any, site: Any, check: Any
) -> None:
    attendee = await new_screen()
    page = await site.join(attendee, "Kay Board", "Leeds Safeguarding Partnership")
    other = await attendee_of(server, "Lee Other", "Kent Police")
    host = await host_of(server)
    assert (await host.act("agenda.start")).status_code == 200
    box = page.get_by_label("Your question", exact=True)
    await box.click()
    await page.keyboard.type("Typing whe")

    assert (await host.act("agenda.jump", item_id="lcspr-breakout")).status_code == 200
    room = page.locator("#breakout-room")
    # The room waits behind its tab (issue 14): the box being typed in stays on show.
    await expect(room.locator("h2")).to_have_text(re.compile(r"^Breakout group \d+$"))
    await page.keyboard.type("n the room opens")

    await expect(box).to_have_value("Typing when the room opens")
    await expect(box).to_be_focused()
    await expect(box).to_be_visible()
    await expect(page.locator("#flash")).to_have_text(
        re.compile(
            r"^You are now in breakout group \d+\. "
            r"Your group's room is under the My group tab, when you are ready\.$"
        )
    )
    await page.get_by_role("tab", name="My group new").click()
    await expect(room.get_by_role("heading", level=2)).to_have_text(
        re.compile(r"^Breakout group \d+$")
    )
    await host.close()
    await other.close()
    await check.not_reloaded(page)
    await check.clean(attendee)


async def test_a_start_that_falls_due_says_waiting_for_the_host(
    tmp_path: Path, new_screen: Any, check: Any
) -> None:
    live = await serving(tmp_path, seed_from(datetime.now(UTC) + timedelta(seconds=3)))
    try:
        attendee = await new_screen()
        page = await join_form(live, attendee, "Ann")
        line = page.locator("#agenda-now .timer-line")

        await expect(line.get_by_text("Waiting for the host to start")).to_be_visible(
            timeout=15_000
        )
        await expect(line.locator(".starts-in")).to_be_hidden()
        await expect(line.locator(".timer.overrun")).to_have_count(0)
        assert "-" not in await line.inner_text()
        await check.clean(attendee)
    finally:
        await live.stop()


async def test_warning_and_lock_in_a_short_breakout(
    tmp_path: Path, new_screen: Any, site: Any, check: Any
) -> None:
    seed = seed_from(datetime.now(UTC))
    items = tuple(
        replace(
            i,
            end=i.start + timedelta(seconds=90),
            breakout=replace(i.breakout, grace_seconds=0, warning_seconds=90),
        )
        if i.breakout
        else i
        for i in seed.items
    )
    live = await serving(tmp_path, replace(seed, items=items))
    try:
        screen = await new_screen()
        page = await join_form(live, screen, "Fay Cilitator")
        host = await host_of(live)
        await host.act("agenda.start")
        await host.act("agenda.jump", item_id="lcspr-breakout")
        await expect(page.locator("#warning")).to_have_text(
            "One minute left in the breakout. Please save your key points."
        )
        await page.get_by_role("button", name="I will be the facilitator").click()
        box = page.get_by_label("Your group's response (saved as you type)").first
        await expect(box).to_be_visible()
        await expect(box).to_be_editable()

        assert (await host.act("agenda.next")).status_code == 200
        await host.close()
        await expect(box).not_to_be_editable()
        box_id = await box.get_attribute("id")
        await expect(page.locator(f"#{box_id}-state")).to_have_text(LOCKED)
        await check.clean(screen)
    finally:
        await live.stop()


async def test_every_page_fits_a_390_px_phone(
    server: LiveServer, new_screen: Any, site: Any, check: Any
) -> None:
    phone = {"viewport": PHONE, "is_mobile": True, "has_touch": True}
    host_screen, organiser, attendee = [await new_screen(**phone) for _ in range(3)]
    page = await site.join(attendee, "Ann Example", "A Rather Long Safeguarding Partnership Name")
    others = [await attendee_of(server, f"Person {i}", "West Yorkshire Police") for i in range(7)]
    host = await site.enter(host_screen, "host")
    asked = await others[0].act("qa.ask", text="A long question " * 8, key="q" * 32)
    assert asked.status_code == 200, asked.text
    await host.get_by_role("button", name="Start the event").click()
    await host.get_by_label("Jump to").select_option("lcspr-breakout")
    await host.get_by_role("button", name="Jump", exact=True).click()
    await expect(host.locator("#breakout-grid h2")).to_have_text("Breakout groups (running)")
    await expect(page.locator("#breakout-room h2")).to_be_visible()
    await site.enter(organiser, "organiser")

    async def width(where: Any) -> int:
        # On a phone (is_mobile) the layout viewport grows with the content, so compare
        # with the device width, not innerWidth.
        value: int = await where.evaluate("document.scrollingElement.scrollWidth")
        return value

    wide: dict[str, int] = {}
    for label, where in (("/live (in a room)", page), ("/host (groups grid)", host)):
        wide[label] = await width(where)
    wide["/organiser"] = await width(organiser.page)
    for path in ("/feedback", "/feedback?by=group", "/report", "/results", "/projector", "/survey"):
        await host.goto(f"{server.base}{path}")
        wide[path] = await width(host)
    await page.goto(f"{server.base}/join")
    wide["/join"] = await width(page)

    assert {p: w for p, w in wide.items() if w > PHONE["width"]} == {}
    for person in others:
        await person.close()
    await check.clean(host_screen, organiser, attendee)
