"""The attendee app in real browsers (issue 14): tabs on a phone, side by side on a desktop,
the group's room as the page during a breakout.

Each test runs the real app (``LiveServer``) with the seed agenda moved to start about now
and drives Chromium through Playwright at 390 x 844 (a phone) and 1280 x 800 (a desktop).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from helpers import LiveServer, Person, attendee_of, host_of, seed_agenda
from webinar.domain.agenda import shifted

pytestmark = pytest.mark.e2e

PHONE_WIDTH = 390
PHONE = {"viewport": {"width": PHONE_WIDTH, "height": 844}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 800}}
CAPTURE = "Your group's response (saved as you type)"
ROOM_OPEN = re.compile(
    r"^You are now in breakout group \d+\. Your group's room is at the top of the page\.$"
)
ROOM_ENDED = (
    "The breakout has ended: you are back in the main session. "
    "Your group's responses are saved under the My group tab."
)


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[LiveServer]:
    agenda = shifted(seed_agenda(), datetime.now(UTC))
    live = LiveServer(str(tmp_path / "webinar.db"), agenda=agenda)
    await live.start()
    try:
        yield live
    finally:
        await live.stop()


async def fits_across(page: Any) -> bool:
    """No horizontal scroll: on a phone (is_mobile) the layout viewport grows with the
    content, so the page's width is compared with the device's."""
    fits: bool = await page.evaluate(
        "document.scrollingElement.scrollWidth <= document.scrollingElement.clientWidth"
        " && document.scrollingElement.scrollWidth <= window.screen.width"
    )
    return fits


async def shown_tab(page: Any) -> str:
    """The name of the tab selected, as read out."""
    tab = page.get_by_role("tab", selected=True)
    await expect(tab).to_have_count(1)
    name: str = await tab.inner_text()
    return name.strip()


async def breakout(host: Person) -> None:
    assert (await host.act("agenda.start")).status_code == 200
    assert (await host.act("agenda.jump", item_id="lcspr-breakout")).status_code == 200


async def test_the_phone_shows_one_tab_at_a_time_and_the_keys_move_between_them(
    server: LiveServer, new_screen: Any, site: Any, check: Any
) -> None:
    screen = await new_screen(**PHONE)
    page = await site.join(screen, "Ann Example", "A Rather Long Safeguarding Partnership Name")
    host = await host_of(server)
    assert (await host.act("agenda.start")).status_code == 200
    await expect(page.locator("#slide-count")).to_have_text("Slide 1 of 3")

    # Now: the slide and the clock, nothing else; the page fits the phone across.
    tabs = page.get_by_role("tablist", name="Parts of the live event")
    await expect(tabs).to_be_visible()
    await expect(tabs.get_by_role("tab")).to_have_text(["Now", "Questions", "Agenda"])
    assert await shown_tab(page) == "Now"
    await expect(page.locator("#agenda-now .timer")).to_be_visible()
    await expect(page.locator("#slide-now-title")).to_be_visible()
    await expect(page.get_by_label("Your question", exact=True)).to_be_hidden()
    await expect(page.locator("#schedule")).to_be_hidden()
    assert await fits_across(page)
    now_panel = page.get_by_role("tabpanel", name="Now")
    await expect(now_panel).to_contain_text("Welcome")
    report = {"/live on a phone (Now)": await check.violations(page)}

    # Every tab is a 44 px target at least (WCAG 2.5.8 asks for 24).
    for tab in await tabs.get_by_role("tab").all():
        box = await tab.bounding_box()
        assert box is not None and box["height"] >= 44 and box["width"] >= 44, box

    # The keys of the ARIA tabs pattern: arrows move and select, Home and End go to the ends.
    now = page.get_by_role("tab", name="Now")
    await now.focus()
    await page.keyboard.press("ArrowRight")
    await expect(page.get_by_role("tab", name="Questions")).to_be_focused()
    assert await shown_tab(page) == "Questions"
    await expect(page.get_by_label("Your question", exact=True)).to_be_visible()
    await expect(page.locator("#agenda-now")).to_be_hidden()
    await page.keyboard.press("End")
    await expect(page.get_by_role("tab", name="Agenda")).to_be_focused()
    await expect(page.get_by_role("tabpanel", name="Agenda")).to_contain_text("Welcome")
    report["/live on a phone (Agenda)"] = await check.violations(page)
    await page.keyboard.press("ArrowRight")  # wraps round to the first
    await expect(now).to_be_focused()
    assert await shown_tab(page) == "Now"
    await page.keyboard.press("ArrowLeft")
    await expect(page.get_by_role("tab", name="Agenda")).to_be_focused()
    await page.keyboard.press("Home")
    await expect(now).to_be_focused()
    # Tab leaves the tab list: only the selected tab is in the tab order.
    await page.keyboard.press("Tab")
    await expect(page.get_by_role("tab")).not_to_have_count(0)
    assert not await page.evaluate("document.activeElement.getAttribute('role') === 'tab'")

    # Scrolled to the foot of a long panel, the tabs stay in reach and the next panel
    # starts at its top.
    await page.locator(".site-footer").scroll_into_view_if_needed()
    await expect(tabs).to_be_in_viewport()
    await page.get_by_role("tab", name="Agenda").click()
    heading = page.get_by_role("heading", name="Agenda", level=2)
    await expect(heading).to_be_in_viewport()
    bar, top = await tabs.bounding_box(), await heading.bounding_box()
    assert bar is not None and top is not None
    assert 0 <= top["y"] - (bar["y"] + bar["height"]) <= 64, (bar, top)

    await host.close()
    check.accessible(report)
    await check.not_reloaded(page)
    await check.clean(screen)


async def test_asking_and_voting_from_the_questions_tab_with_a_count_of_new_ones(
    server: LiveServer, new_screen: Any, site: Any, check: Any
) -> None:
    screen = await new_screen(**PHONE)
    page = await site.join(screen, "Ann Example", "Leeds Safeguarding Partnership")
    other = await attendee_of(server, "Bob Other", "Kent Police")

    # Questions published while the tab is not on show are counted on it.
    assert await shown_tab(page) == "Now"
    asked = await other.act("qa.ask", text="Will the slides be sent round?", key="b" * 32)
    assert asked.status_code == 200, asked.text
    questions_tab = page.get_by_role("tab", name=re.compile(r"^Questions"))
    await expect(questions_tab).to_have_accessible_name("Questions 1 new question")
    asked = await other.act("qa.ask", text="Is there a recording?", key="c" * 32)
    assert asked.status_code == 200, asked.text
    await expect(questions_tab).to_have_accessible_name("Questions 2 new questions")

    await questions_tab.click()
    await expect(questions_tab).to_have_accessible_name("Questions")
    cards = page.locator("#qa-list > li")
    await expect(cards).to_have_count(2)

    # Ask: the box, its label and nothing in between; the question goes to "Your questions".
    box = page.get_by_label("Your question", exact=True)
    await box.fill("How do we share the findings with schools?")
    await page.get_by_role("button", name="Send question").click()
    await expect(page.locator("#flash")).to_have_text("Thank you. Your question has been sent.")
    await expect(page.locator("#my-questions-list")).to_contain_text(
        "How do we share the findings with schools?"
    )
    await expect(cards).to_have_count(3)
    # Nobody's own question counts as new while they are reading the list.
    await expect(questions_tab).to_have_accessible_name("Questions")

    # Vote for Bob's first question.
    card = cards.filter(has_text="Will the slides be sent round?")
    vote = card.get_by_role("button", name=re.compile(r"^Vote"))
    await vote.click()
    await expect(card.get_by_role("button", name=re.compile(r"^Voted"))).to_have_attribute(
        "aria-pressed", "true"
    )
    await expect(card.locator("[id$='-votes']").first).to_have_text("1")
    assert await fits_across(page)
    check.accessible({"/live on a phone (Questions)": await check.violations(page)})

    # A poll opened while the person reads the questions is counted on the Now tab.
    host = await host_of(server)
    made = await host.act(
        "polls.create",
        question="Which agency?",
        kind="single",
        options=["Police", "Health", "School"],
    )
    assert made.status_code == 200, made.text
    poll_id = made.json()["poll"]["id"]
    assert (await host.act("polls.open", poll_id=poll_id)).status_code == 200
    now_tab = page.get_by_role("tab", name=re.compile(r"^Now"))
    await expect(now_tab).to_have_accessible_name("Now 1 new poll")
    await now_tab.click()
    await expect(now_tab).to_have_accessible_name("Now")
    await expect(page.locator("#polls-live")).to_contain_text("Which agency?")

    await host.close()
    await other.close()
    await check.not_reloaded(page)
    await check.clean(screen)


async def test_the_breakout_brings_my_group_to_the_front_and_its_end_brings_now_back(
    server: LiveServer, new_screen: Any, site: Any, check: Any
) -> None:
    screen = await new_screen(**PHONE)
    page = await site.join(screen, "Fay Cilitator", "Leeds Safeguarding Partnership")
    mate = await attendee_of(server, "Max Member", "Kent Police")
    host = await host_of(server)
    await breakout(host)

    # The room is the page: its tab selected, the main session a tab away, not under it.
    room = page.locator("#breakout-room")
    await expect(room.get_by_role("heading", level=2)).to_have_text(
        re.compile(r"^Breakout group \d+$")
    )
    await expect(page.locator("#flash")).to_have_text(ROOM_OPEN)
    assert await shown_tab(page) == "My group"
    tabs = page.get_by_role("tablist", name="Parts of the live event")
    await expect(tabs.get_by_role("tab")).to_have_text(["My group", "Now", "Questions", "Agenda"])
    await expect(room).to_be_visible()
    await expect(room).not_to_be_focused()

    # The facilitator's capture fits the phone, with nothing of the main session below it.
    await page.get_by_role("button", name="I will be the facilitator").click()
    capture = page.get_by_label(CAPTURE).first
    await expect(capture).to_be_visible()
    assert await fits_across(page)
    for main_part in ("#agenda-now", "#qa", "#schedule", "#polls-live"):
        await expect(page.locator(main_part)).to_be_hidden()
    await expect(page.get_by_label("Your question", exact=True)).to_be_hidden()
    page_height: int = await page.evaluate("document.scrollingElement.scrollHeight")
    room_box = await room.bounding_box()
    assert room_box is not None
    # What follows the room is the footer, not five screens of the main page.
    assert page_height - (room_box["y"] + room_box["height"]) < 400, page_height
    report = {"/live on a phone (facilitator in the room)": await check.violations(page)}
    # Four tabs and a count still fit across the phone.
    asked = await mate.act("qa.ask", text="Who writes the summary?", key="m" * 32)
    assert asked.status_code == 200, asked.text
    await expect(page.get_by_role("tab", name=re.compile(r"^Questions"))).to_have_accessible_name(
        "Questions 1 new question"
    )
    assert await fits_across(page)
    for tab in await tabs.get_by_role("tab").all():
        box = await tab.bounding_box()
        assert box is not None and box["x"] + box["width"] <= PHONE_WIDTH, box
    await capture.fill("We choose the method case by case")
    await expect(page.locator(f"#{await capture.get_attribute('id')}-state")).to_have_text("Saved.")

    # The main session is a tab away, and the room is a tab back.
    await page.get_by_role("tab", name="Now").click()
    await expect(page.locator("#agenda-now h2")).to_have_text("LCSPR Breakout")
    await expect(room).to_be_hidden()
    await page.get_by_role("tab", name="My group").click()
    await expect(capture).to_have_value("We choose the method case by case")

    # The end: back to Now, said in the live region; the room's tab keeps the responses.
    assert (await host.act("agenda.next")).status_code == 200
    await expect(page.locator("#flash")).to_have_text(ROOM_ENDED)
    await expect(page.locator("#agenda-now h2")).to_have_text("Breakout Feedback")
    assert await shown_tab(page) == "Now"
    await expect(room).to_be_hidden()
    await page.get_by_role("tab", name="My group").click()
    await expect(room).to_have_attribute("data-ended", "yes")
    await expect(room).to_contain_text("We choose the method case by case")
    report["/live on a phone (after the breakout, My group)"] = await check.violations(page)

    for person in (mate, host):
        await person.close()
    check.accessible(report)
    await check.not_reloaded(page)
    await check.clean(screen)


async def test_the_room_waits_behind_its_tab_for_someone_typing_a_question(
    server: LiveServer, new_screen: Any, site: Any, check: Any
) -> None:
    screen = await new_screen(**PHONE)
    page = await site.join(screen, "Kay Board", "Leeds Safeguarding Partnership")
    mate = await attendee_of(server, "Lee Other", "Kent Police")
    host = await host_of(server)
    assert (await host.act("agenda.start")).status_code == 200
    await page.get_by_role("tab", name="Questions").click()
    box = page.get_by_label("Your question", exact=True)
    await box.click()
    await page.keyboard.type("Typing whe")

    assert (await host.act("agenda.jump", item_id="lcspr-breakout")).status_code == 200
    await expect(page.locator("#flash")).to_have_text(
        re.compile(
            r"^You are now in breakout group \d+\. "
            r"Your group's room is under the My group tab, when you are ready\.$"
        )
    )
    await page.keyboard.type("n the room opens")
    await expect(box).to_have_value("Typing when the room opens")
    await expect(box).to_be_focused()
    assert await shown_tab(page) == "Questions"
    group_tab = page.get_by_role("tab", name="My group new")
    await expect(group_tab).to_be_visible()

    await group_tab.click()
    await expect(page.locator("#breakout-room")).to_be_visible()
    await expect(page.get_by_role("tab", name="My group", exact=True)).to_be_visible()
    await expect(box).to_be_hidden()

    for person in (mate, host):
        await person.close()
    await check.not_reloaded(page)
    await check.clean(screen)


async def test_a_reload_during_the_breakout_opens_on_my_group(
    server: LiveServer, new_screen: Any, site: Any, check: Any
) -> None:
    screen = await new_screen(**PHONE)
    page = await site.join(screen, "Ann Example", "Trust")
    mate = await attendee_of(server, "Bob Example", "Trust")
    host = await host_of(server)
    await breakout(host)
    await expect(page.locator("#breakout-room")).to_be_visible()

    await page.reload()
    await expect(page.locator("#connection")).to_have_text("Live")
    assert await shown_tab(page) == "My group"
    await expect(page.locator("#breakout-room")).to_be_visible()
    await expect(page.locator("#agenda-now")).to_be_hidden()

    for person in (mate, host):
        await person.close()
    await check.clean(screen)


async def test_a_desktop_shows_the_slides_and_the_questions_side_by_side(
    server: LiveServer, new_screen: Any, site: Any, check: Any
) -> None:
    screen = await new_screen(**DESKTOP)
    page = await site.join(screen, "Ann Example", "Leeds Safeguarding Partnership")
    mate = await attendee_of(server, "Bob Example", "Trust")
    host = await host_of(server)
    assert (await host.act("agenda.start")).status_code == 200
    await expect(page.locator("#slide-count")).to_have_text("Slide 1 of 3")

    # No tabs: every part on show, the question box beside the slide, not below it.
    await expect(page.get_by_role("tablist")).to_be_hidden()
    slides = await page.locator("#agenda-now").bounding_box()
    ask = await page.get_by_label("Your question", exact=True).bounding_box()
    assert slides is not None and ask is not None
    assert ask["y"] < slides["y"] + slides["height"], (ask, slides)
    assert ask["x"] >= slides["x"] + slides["width"], (ask, slides)
    # The label comes straight before its box: no empty field above "Your question".
    label = await page.locator("label[for=ask-text]").bounding_box()
    form = await page.locator("#ask-form").bounding_box()
    assert label is not None and form is not None
    assert label["y"] - form["y"] < 8, (label, form)
    await expect(page.locator("#schedule")).to_be_visible()
    assert await fits_across(page)
    report = {"/live on a desktop (a talk)": await check.violations(page)}

    # During the breakout the room is the page on a desktop too, with the tabs back.
    assert (await host.act("agenda.jump", item_id="lcspr-breakout")).status_code == 200
    await expect(page.locator("#breakout-room")).to_be_visible()
    await expect(page.get_by_role("tablist")).to_be_visible()
    assert await shown_tab(page) == "My group"
    await expect(page.locator("#qa")).to_be_hidden()
    report["/live on a desktop (in the room)"] = await check.violations(page)

    # Back in the main session: side by side again, the ended room under them.
    assert (await host.act("agenda.next")).status_code == 200
    await expect(page.locator("#flash")).to_have_text(
        "The breakout has ended: you are back in the main session. "
        "Your group's responses are saved further down the page."
    )
    await expect(page.locator("#breakout-room")).to_have_attribute("data-ended", "yes")
    await expect(page.get_by_role("tablist")).to_be_hidden()
    room = await page.locator("#breakout-room").bounding_box()
    schedule = await page.locator("#schedule").bounding_box()
    assert room is not None and schedule is not None
    assert room["y"] >= schedule["y"] + schedule["height"], (room, schedule)
    await expect(page.locator("#qa")).to_be_visible()
    await expect(page.locator("#agenda-now")).to_be_visible()
    report["/live on a desktop (after the breakout)"] = await check.violations(page)

    for person in (mate, host):
        await person.close()
    check.accessible(report)
    await check.not_reloaded(page)
    await check.clean(screen)


async def test_without_script_every_part_is_shown_the_room_first(
    server: LiveServer, new_screen: Any, site: Any, check: Any
) -> None:
    # Groups are made of the people connected: Ann is, in a browser with script, and
    # opens the same session in one without.
    live = await new_screen(**PHONE)
    await site.join(live, "Ann Example", "Trust")
    mate = await attendee_of(server, "Bob Example", "Trust")
    host = await host_of(server)
    await breakout(host)
    await expect(live.page.locator("#breakout-room")).to_be_visible()
    screen = await new_screen(java_script_enabled=False, **PHONE)
    await screen.context.add_cookies(await live.context.cookies())
    page = screen.page

    await page.goto(f"{server.base}/live")
    await expect(page.get_by_role("tablist")).to_be_hidden()
    for part in ("#breakout-room", "#agenda-now", "#qa", "#schedule"):
        await expect(page.locator(part)).to_be_visible()
    await expect(page.get_by_label("Your question", exact=True)).to_be_visible()
    # The room comes first; nothing is wider than the phone (scripts cannot measure here).
    tops: list[float] = []
    for part in ("#breakout-room", "#agenda-now", "#qa", "#schedule"):
        box = await page.locator(part).bounding_box()
        assert box is not None and box["x"] + box["width"] <= PHONE_WIDTH, box
        tops.append(box["y"])
    assert tops == sorted(tops), tops

    for person in (mate, host):
        await person.close()
    await check.clean(live)


async def test_focus_on_a_button_of_a_panel_that_goes_moves_to_the_room_tab(
    server: LiveServer, new_screen: Any, site: Any, check: Any
) -> None:
    screen = await new_screen(**PHONE)
    page = await site.join(screen, "Ann Example", "Trust")
    mate = await attendee_of(server, "Bob Example", "Trust")
    host = await host_of(server)
    assert (await host.act("agenda.start")).status_code == 200
    await page.get_by_role("tab", name="Questions").click()
    newest = page.get_by_role("button", name="Newest")
    await newest.click()
    await expect(newest).to_be_focused()

    assert (await host.act("agenda.jump", item_id="lcspr-breakout")).status_code == 200
    # Not typing: the room comes to the front, and focus is not dropped to the page's top.
    group_tab = page.get_by_role("tab", name="My group", exact=True)
    await expect(group_tab).to_have_attribute("aria-selected", "true")
    await expect(group_tab).to_be_focused()
    await expect(newest).to_be_hidden()
    await expect(page.locator("#flash")).to_have_text(ROOM_OPEN)

    for person in (mate, host):
        await person.close()
    await check.not_reloaded(page)
    await check.clean(screen)
