"""The host control room in Chromium: one screen at 1280 x 800, moderation by keyboard.

At 1280 x 800 the current item, the clock, Next, Extend, Pause and the first five
incoming questions are in view without scrolling, during a talk and during a breakout of
twelve groups; a host approves, highlights and marks answered three questions with the
keyboard alone, and declines a fourth; single-key shortcuts never fire while typing and
can be turned off (WCAG 2.1.4); axe finds nothing serious in the talk, breakout and Q&A
states; and on a 390 px phone the console stacks without scrolling sideways.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from typing import Any

import pytest
from playwright.async_api import expect

from helpers import LiveServer, Person, attendee_of, host_of

pytestmark = pytest.mark.e2e

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
#: The seed agenda's breakouts are of six: 72 people make twelve groups.
CROWD = 72
GROUPS = 12

#: True when the element is inside the viewport and is what is drawn at its centre (not
#: clipped by a scrolling pane nor covered by anything).
IN_VIEW = """(el) => {
  const r = el.getBoundingClientRect();
  if (r.width === 0 || r.height === 0) return false;
  if (r.top < 0 || r.left < 0 || r.bottom > innerHeight || r.right > innerWidth) return false;
  const hit = document.elementFromPoint(r.left + r.width / 2, r.top + Math.min(r.height / 2, 10));
  return hit !== null && (hit === el || el.contains(hit));
}"""


async def out_of_view(page: Any) -> list[str]:
    """The essentials of the console that are not in view as the page stands."""
    essentials = {
        "current item": page.locator("#agenda-now h2"),
        "clock": page.locator("#agenda-now .timer"),
        "Next": page.get_by_role("button", name="Next item"),
        "Extend": page.get_by_role("button", name="Extend", exact=True),
        "Pause": page.get_by_role("button", name="Pause", exact=True),
    }
    cards = page.locator("#qa-pending > li")
    for i in range(5):
        essentials[f"incoming question {i + 1}"] = cards.nth(i)
    missing = []
    for label, locator in essentials.items():
        if not await locator.evaluate(IN_VIEW):
            missing.append(label)
    # One screen: the page itself does not scroll (each pane scrolls on its own).
    height: int = await page.evaluate("document.scrollingElement.scrollHeight")
    if height > DESKTOP["height"]:
        missing.append(f"the page itself ({height} px tall)")
    return missing


async def ask(people: list[Person], count: int, prefix: str) -> None:
    for i in range(count):
        asked = await people[i % len(people)].act(
            "qa.ask", text=f"{prefix} question {i + 1}: what happens next?", key=uuid.uuid4().hex
        )
        assert asked.status_code == 200, asked.text


async def test_the_console_is_one_screen_in_a_talk_and_a_breakout_of_twelve_groups(
    server: LiveServer, new_screen: Any, site: Any, check: Any
) -> None:
    people = await asyncio.gather(
        *(attendee_of(server, f"Person {i}", f"Partnership {i % 9}") for i in range(CROWD))
    )
    # The breakout splits the attendees connected when it starts.
    sockets = await asyncio.gather(*(person.socket() for person in people))
    host_api = await host_of(server)
    assert (await host_api.act("qa.configure", moderation=True)).status_code == 200
    await ask(list(people), 7, "Incoming")
    screen = await new_screen(viewport=DESKTOP)
    host = await site.enter(screen, "host")
    await expect(host.locator("#qa-pending > li")).to_have_count(7)

    # A talk.
    await host.get_by_role("button", name="Start the event").click()
    await expect(host.locator("#agenda-now h2")).to_have_text("Welcome")
    await host.get_by_label("Jump to").select_option("national-review-updates")
    await host.get_by_role("button", name="Jump", exact=True).click()
    await expect(host.locator("#agenda-now h2")).to_have_text("National Review Updates")
    assert await out_of_view(host) == []
    report = {"/host (talk)": await check.violations(host)}

    # The breakout, twelve groups; one asks for help, which the tab's label says.
    await host.get_by_label("Jump to").select_option("lcspr-breakout")
    await host.get_by_role("button", name="Jump", exact=True).click()
    await expect(host.locator("#agenda-now h2")).to_have_text("LCSPR Breakout")
    rows = host.locator("#breakout-grid tbody tr")
    await expect(rows).to_have_count(GROUPS)
    assert await out_of_view(host) == []
    helped = await people[0].act("breakout.help", on=True)
    assert helped.status_code == 200, helped.text
    tab = host.get_by_role("tab", name=re.compile(r"^Breakouts"))
    await expect(tab).to_have_text("Breakouts (1 needs help)")
    # The count is app.css's badge, urgent while a group asks for help.
    await expect(tab.locator(".badge-count")).to_have_class("badge-count badge-count-urgent")
    await expect(host.locator("#help-alert")).to_have_text(
        re.compile(r"^Group \d+ asked for help\.$")
    )
    # The grid came to the front when the breakout started.
    await expect(tab).to_have_attribute("aria-selected", "true")
    await expect(host.locator("#pane-breakouts")).to_be_visible()
    await expect(host.locator("#pane-agenda")).to_be_hidden()
    # The topics' own words head the columns (read out in full), not "Topic 1".
    headers = host.locator("#breakout-grid thead th.topic-col")
    await expect(headers).to_have_count(5)
    await expect(headers.first).to_contain_text("When your partnership")
    await expect(host.locator("#breakout-grid thead")).not_to_contain_text("Topic 1")
    await expect(rows.locator(".help-flag")).to_have_count(1)
    # Members on demand: a count, opened to the names.
    members = rows.first.locator("details.members-list")
    await expect(members.locator("summary")).to_have_text(re.compile(r"^\d+ members?$"))
    await members.locator("summary").click()
    await expect(members.locator("li").first).to_be_visible()
    assert await out_of_view(host) == []
    report["/host (breakout, 12 groups)"] = await check.violations(host)
    check.accessible(report)

    # The rare forms open in a dialog, and go back when it closes.
    await host.get_by_text("Move or remove someone…").click()
    dialog = host.locator("#host-dialog")
    await expect(dialog).to_be_visible()
    await expect(dialog.get_by_role("heading")).to_have_text("Move or remove someone")
    # app.css's dialog: its accent top edge, not a console's own.
    assert await dialog.evaluate("d => getComputedStyle(d).borderTopWidth") == "6px"
    await expect(dialog.get_by_label("Move", exact=True)).to_be_visible()
    await host.keyboard.press("Escape")
    await expect(dialog).to_be_hidden()
    await expect(host.locator("#grid-move #move-who")).to_have_count(1)
    await expect(host.locator("#grid-move > summary")).to_be_focused()
    # Sent, it closes; the grid that comes back has the move, and the focus.
    await host.get_by_text("Move or remove someone…").click()
    who = dialog.get_by_label("Move", exact=True)
    first = (await who.locator("option").first.text_content()) or ""
    was = int(re.findall(r"\(group (\d+)\)$", first)[0])
    await dialog.get_by_label("to group").select_option(str(1 if was != 1 else 2))
    await dialog.get_by_role("button", name="Move", exact=True).click()
    await expect(dialog).to_be_hidden()
    sizes = rows.locator("details.members-list > summary")
    await expect(sizes.filter(has_text="7 members")).to_have_count(1)
    await expect(host.locator("#grid-move > summary")).to_be_focused()

    await check.not_reloaded(host)
    await check.clean(screen)
    for socket in sockets:
        await socket.close()
    for person in (*people, host_api):
        await person.close()


async def focus_questions_pane(page: Any) -> None:
    """Tab (keyboard only) until the focus is in the questions pane."""
    for _ in range(80):
        await page.keyboard.press("Tab")
        if await page.evaluate("!!document.activeElement.closest('#qa')"):
            return
    raise AssertionError("Tab never reached the questions pane")


async def focus_card(page: Any, card_id: str) -> None:
    """Move with k, then j (keyboard only), until the card ``card_id`` has the focus."""
    for key in ("k", "j"):
        for _ in range(10):
            if await page.evaluate("document.activeElement.id") == card_id:
                return
            await page.keyboard.press(key)
    where = await page.evaluate("document.activeElement.outerHTML.slice(0, 200)")
    raise AssertionError(f"neither k nor j reached #{card_id}: focus on {where}")


async def test_a_host_moderates_three_questions_by_keyboard_alone(
    server: LiveServer, new_screen: Any, site: Any, check: Any
) -> None:
    people = [await attendee_of(server, f"Person {i}") for i in range(3)]
    host_api = await host_of(server)
    assert (await host_api.act("qa.configure", moderation=True)).status_code == 200
    await ask(people, 4, "Keyboard")
    screen = await new_screen(viewport=DESKTOP)
    host = await site.enter(screen, "host")
    pending = host.locator("#qa-pending > li")
    await expect(pending).to_have_count(4)
    ids = [await pending.nth(i).get_attribute("id") or "" for i in range(3)]
    off_topic = await pending.nth(3).get_attribute("id") or ""

    # Typing in a field never sets off a shortcut.
    await host.get_by_label("Extend the current item by").focus()
    await host.keyboard.press("a")
    await expect(pending).to_have_count(4)

    # Into the pane, onto the first card, and approve all three: each "a" moves on.
    await focus_questions_pane(host)
    await host.keyboard.press("j")
    await expect(host.locator(f"#{ids[0]}")).to_be_focused()
    for i in range(3):
        await expect(host.locator(f"#{ids[i]}")).to_be_focused()
        await host.keyboard.press("a")
        await expect(host.locator(f"#qa-staff-list > #{ids[i]}")).to_have_count(1)
    published = host.locator("#qa-staff-list > li")
    await expect(published).to_have_count(3)
    for card_id in ids:  # its words beside its four buttons, not squeezed out by them
        await expect(host.locator(f"#{card_id}-text")).to_be_visible()

    # The fourth is off topic: d asks for the reason in a dialog, and it is not published.
    await expect(host.locator(f"#{off_topic}")).to_be_focused()
    await host.keyboard.press("d")
    dialog = host.locator("#host-dialog")
    reason = dialog.get_by_label("Reason")
    await expect(reason).to_be_focused()
    await reason.press("ArrowDown")
    await expect(reason).to_have_value("off_topic")
    await host.keyboard.press("Tab")
    await expect(dialog.get_by_role("button", name="Do not publish")).to_be_focused()
    await host.keyboard.press("Enter")
    await expect(dialog).to_be_hidden()
    await expect(host.locator(f"#qa-closed > #{off_topic}")).to_have_count(1)
    await expect(host.locator("#qa")).to_be_focused()  # no neighbour: the pane itself

    # Highlight each, then mark it answered live.
    for i, card_id in enumerate(ids):
        await focus_card(host, card_id)
        await host.keyboard.press("h")
        await expect(host.locator("#qa-highlight .highlight-text")).to_have_text(
            f"Keyboard question {i + 1}: what happens next?"
        )
        card = host.locator(f"#{card_id}")
        await expect(card.locator(".badge-now")).to_have_text("On the projector")
        await host.keyboard.press("x")
        await expect(card.locator(".badge-done")).to_have_text("Answered live")
        await expect(host.locator(f"#qa-answered > #{card_id}")).to_have_count(1)
        await expect(card).to_be_focused()  # kept as the card moved to "Answered"
    await expect(host.locator("#qa-counters")).to_have_text("4 received · 3 published · 3 answered")

    # The map of keys opens on "?"; its switch turns the single keys off.
    await host.keyboard.press("?")
    shortcuts = host.locator("#shortcuts")
    await expect(shortcuts).to_be_visible()
    report = {"/host (Q&A, shortcut map open)": await check.violations(host)}
    switch = shortcuts.get_by_label("Use single-key shortcuts")
    while not await switch.evaluate("el => el === document.activeElement"):
        await host.keyboard.press("Tab")
    await host.keyboard.press("Space")
    await expect(switch).not_to_be_checked()
    await host.keyboard.press("Escape")
    await expect(shortcuts).to_be_hidden()
    await focus_questions_pane(host)
    before = await host.evaluate("document.activeElement.outerHTML")
    await host.keyboard.press("j")
    assert await host.evaluate("document.activeElement.outerHTML") == before
    await host.keyboard.press("?")
    await expect(shortcuts).to_be_hidden()
    # Its button opens it too (app.css's dialog, by dialog.js): Close gives focus back.
    opener = host.get_by_role("button", name="Keyboard shortcuts")
    await opener.click()
    await expect(shortcuts).to_be_visible()
    await shortcuts.get_by_role("button", name="Close").click()
    await expect(shortcuts).to_be_hidden()
    await expect(opener).to_be_focused()

    report["/host (Q&A)"] = await check.violations(host)
    check.accessible(report)
    await check.not_reloaded(host)
    await check.clean(screen)
    for person in (*people, host_api):
        await person.close()


async def test_the_console_stacks_on_a_phone_without_sideways_scroll(
    server: LiveServer, new_screen: Any, site: Any, check: Any
) -> None:
    people = [await attendee_of(server, f"Person {i}") for i in range(8)]
    sockets = [await person.socket() for person in people]
    await ask(people, 2, "Phone")
    screen = await new_screen(viewport=PHONE, is_mobile=True, has_touch=True)
    host = await site.enter(screen, "host")
    await host.get_by_role("button", name="Start the event").click()
    await host.get_by_label("Jump to").select_option("lcspr-breakout")
    await host.get_by_role("button", name="Jump", exact=True).click()
    await expect(host.locator("#breakout-grid tbody tr")).to_have_count(2)
    wide: int = await host.evaluate("document.scrollingElement.scrollWidth")
    assert wide <= PHONE["width"]
    # Stacked: the strip, then the questions, then the tabs, one under another.
    tops = [
        await host.locator(selector).evaluate("el => el.getBoundingClientRect().top")
        for selector in (".strip", ".qa-pane", ".side-pane")
    ]
    assert tops == sorted(tops)
    check.accessible({"/host (phone, breakout)": await check.violations(host)})
    await check.clean(screen)
    for socket in sockets:
        await socket.close()
    for person in people:
        await person.close()


async def test_the_tabs_count_open_polls_and_survey_responses_and_take_arrow_keys(
    server: LiveServer, new_screen: Any, site: Any, check: Any
) -> None:
    host_api = await host_of(server)
    made = await host_api.act(
        "polls.create", question="Which agency?", kind="single", options=["Police", "Health"]
    )
    assert made.status_code == 200, made.text
    poll_id = made.json()["poll"]["id"]
    screen = await new_screen(viewport=DESKTOP)
    host = await site.enter(screen, "host")
    polls = host.get_by_role("tab", name=re.compile(r"^Polls"))
    survey = host.get_by_role("tab", name=re.compile(r"^Survey"))
    # Counted from the data the templates set: none open; the survey's count as loaded.
    await expect(polls).to_have_text("Polls")
    await expect(survey).to_have_text("Survey (0)")

    assert (await host_api.act("polls.open", poll_id=poll_id)).status_code == 200
    await expect(polls).to_have_text("Polls (1 open)")
    await expect(polls.locator(".badge-count")).to_have_class("badge-count")
    assert (await host_api.act("polls.close", poll_id=poll_id)).status_code == 200
    await expect(polls).to_have_text("Polls")

    # The tabs are tabs.js's: arrows move along them, End and Home to the ends.
    agenda = host.get_by_role("tab", name="Agenda")
    await agenda.focus()
    await host.keyboard.press("ArrowRight")
    links = host.get_by_role("tab", name="Links")
    await expect(links).to_be_focused()
    await expect(links).to_have_attribute("aria-selected", "true")
    await expect(host.locator("#pane-links")).to_be_visible()
    await expect(host.locator("#pane-agenda")).to_be_hidden()
    await host.keyboard.press("Home")
    await expect(host.get_by_role("tab", name=re.compile(r"^Breakouts"))).to_be_focused()
    await expect(host.locator("#pane-breakouts")).to_be_visible()
    await host.keyboard.press("End")
    await expect(links).to_be_focused()
    await polls.click()
    await expect(host.locator("#pane-polls")).to_be_visible()
    await expect(host.locator("#pane-links")).to_be_hidden()

    await check.not_reloaded(host)
    await check.clean(screen)
    await host_api.close()


#: Closes the dialog and, before its "close" event (a task later), moves the focus as a
#: Tab typed straight after Escape would; resolves with the id of what has the focus once
#: "close" has been handled (dialog.js listens on the document, before this listener).
CLOSE_THEN_MOVE = """async ([dialogId, targetId]) => {
  const dialog = document.getElementById(dialogId);
  const closed = new Promise((done) => dialog.addEventListener("close", done, { once: true }));
  dialog.close();
  if (targetId) document.getElementById(targetId).focus();
  await closed;
  return document.activeElement.id;
}"""


async def test_a_dialog_gives_focus_back_unless_the_host_has_moved_on(
    server: LiveServer, new_screen: Any, site: Any
) -> None:
    """Closing the shortcut map returns the focus to the card it was opened from; a key
    pressed between Escape and the browser's late "close" event is not undone by it."""
    people = [await attendee_of(server, "Person 0")]
    await ask(people, 1, "Focus")
    screen = await new_screen(viewport=DESKTOP)
    host = await site.enter(screen, "host")
    card = host.locator("#qa-staff-list > li").first
    await expect(card).to_have_count(1)
    card_id = await card.get_attribute("id") or ""
    shortcuts = host.locator("#shortcuts")

    await focus_questions_pane(host)
    await focus_card(host, card_id)
    await host.keyboard.press("?")
    await expect(shortcuts).to_be_visible()
    assert await host.evaluate(CLOSE_THEN_MOVE, ["shortcuts", ""]) == card_id

    await host.keyboard.press("?")
    await expect(shortcuts).to_be_visible()
    assert await host.evaluate(CLOSE_THEN_MOVE, ["shortcuts", "shortcuts-open"]) == "shortcuts-open"
    for person in people:
        await person.close()
