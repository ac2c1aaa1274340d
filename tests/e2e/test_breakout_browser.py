"""Breakout groups in real browsers: split, volunteer, capture, survive outages, return.

Four attendees join through the form; the host starts the event and jumps to the
breakout. Every attendee's page moves into its group room over the WebSocket (no reload),
one member volunteers as facilitator and writes the group's response, which the other
members see as it is saved, across a dropped connection and a reload. When the host moves
on, everyone is back in the main session.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

pytestmark = pytest.mark.e2e

ORGANISATIONS = ("Leeds Safeguarding Partnership", "Kent Children's Services")
NAMES = ("Ann Example", "Bob Example", "Cat Example", "Dan Example")
SAVED = "Saved."
ENDED = "The breakout has ended and you are back in the main session."
#: What a save sent while the browser is offline logs: Chromium's failed request, and
#: htmx's ``htmx:sendError`` and ``htmx:afterRequest`` (logged with the form element).
OFFLINE_NOISE = re.compile(
    r"/api/breakout/capture\): Failed to load resource: net::ERR_INTERNET_DISCONNECTED$"
    r"|htmx-[\d.]+\.min\.js\): htmx:(sendError|afterRequest), \[object HTMLFormElement\]$"
)


async def test_split_volunteer_capture_and_return(new_screen: Any, site: Any, check: Any) -> None:
    screens = [await new_screen() for _ in NAMES]
    pages = [
        await site.join(screen, name, ORGANISATIONS[i % 2])
        for i, (screen, name) in enumerate(zip(screens, NAMES, strict=True))
    ]
    host_screen = await new_screen()
    host = await site.enter(host_screen, "host")
    await expect(host.locator("#attendee-count")).to_have_text(str(len(NAMES)))

    await host.get_by_role("button", name="Start the event").click()
    await expect(host.locator("#agenda-now h2")).to_have_text("Welcome")
    await host.get_by_label("Jump to").select_option("lcspr-breakout")
    await host.get_by_role("button", name="Jump", exact=True).click()
    await expect(host.locator("#agenda-now h2")).to_have_text("LCSPR Breakout")

    # Every attendee's screen moves into its group room; the move is announced and focus
    # stays where it was (WCAG 3.2.2).
    groups: list[str] = []
    for page in pages:
        room = page.locator("#breakout-room")
        heading = room.get_by_role("heading", level=2)
        await expect(heading).to_have_text(re.compile(r"^Breakout group \d+$"))
        await expect(room).to_be_visible()
        await expect(room).not_to_be_focused()
        await expect(page.locator("#flash")).to_have_text(
            f"You are now in {(await heading.text_content() or '').lower()}. "
            "Your group's room is at the top of the page."
        )
        await expect(room).to_have_attribute("data-ended", "no")
        groups.append(await heading.text_content() or "")
    await check.not_reloaded(*pages)

    grid = host.locator("#breakout-grid")
    await expect(grid.get_by_role("heading", level=2)).to_have_text("Breakout groups (running)")
    members = grid.locator("tbody tr td:last-child")
    await expect(members).to_have_count(len(set(groups)))
    for name in NAMES:
        await expect(members.filter(has_text=name)).to_have_count(1)

    # The first attendee volunteers; a member of the same group does not get the boxes.
    facilitator, fac_screen = pages[0], screens[0]
    others = [p for p, g in zip(pages[1:], groups[1:], strict=True) if g == groups[0]]
    assert others, f"the facilitator has a group to themselves: {groups}"
    mate = others[0]
    number = groups[0].removeprefix("Breakout group ")
    row = grid.locator("tbody tr").filter(
        has=host.locator("th", has_text=re.compile(f"^{number}$"))
    )
    await facilitator.get_by_role("button", name="I will be the facilitator").click()
    label = "Your group's response (saved as you type)"
    box = facilitator.get_by_label(label).first
    await expect(box).to_be_visible()
    for page in others:
        room = page.locator("#breakout-room")
        await expect(room.locator(".badge-now")).to_have_text("Facilitator")
        await expect(room.get_by_role("button", name="I will be the facilitator")).to_have_count(0)
        await expect(page.get_by_label(label).filter(visible=True)).to_have_count(0)
        await expect(room.locator("form.capture").first).to_be_hidden()
    await expect(row).to_contain_text(NAMES[0])

    # Axe while in the room (a member's and the facilitator's page) and on the host's grid.
    report = {
        "/live (member in a breakout room)": await check.violations(mate),
        "/live (facilitator in a breakout room)": await check.violations(facilitator),
        "/host (breakout grid)": await check.violations(host),
    }
    check.accessible(report)

    box_id = await box.get_attribute("id") or ""
    topic = box_id.removeprefix("capture-")
    state = facilitator.locator(f"#{box_id}-state")
    shown = mate.locator(f"#room-t{topic}-text .response-text")

    # Typed text is saved and reaches the other member.
    first = "Yes, we choose the method case by case"
    await box.fill(first)
    await expect(state).to_have_text(SAVED)
    await expect(shown).to_have_text(first)
    await expect(row.locator(".cell-done")).to_have_count(1)

    # A dropped connection: typed while offline, saved once the browser is back online.
    errors = fac_screen.console.errors
    before_outage = len(errors)
    await fac_screen.context.set_offline(True)
    await box.press_sequentially(" and more")
    await expect(state).to_have_text("Not saved yet: it will be sent when the connection is back.")
    await expect(shown).to_have_text(first)
    await fac_screen.context.set_offline(False)
    await expect(state).to_have_text(SAVED)
    await expect(shown).to_have_text(f"{first} and more")
    await expect(box).to_have_value(f"{first} and more")
    outage = errors[before_outage:]
    unexpected = [e for e in outage if not OFFLINE_NOISE.search(e)]
    assert not unexpected, "\n".join(unexpected)
    del errors[before_outage:]

    # A reload straight after typing (before the save went out): the draft comes back from
    # this browser's storage and is saved.
    await box.press_sequentially(", and we write down why.")
    typed = f"{first} and more, and we write down why."
    reloaded = await facilitator.reload()
    assert reloaded is not None
    # The server's copy is the older text: what the box shows next comes from the draft.
    assert "write down why" not in await reloaded.text()
    box = facilitator.locator(f"#{box_id}")
    state = facilitator.locator(f"#{box_id}-state")
    await expect(box).to_be_visible()
    await expect(box).to_have_value(typed)
    await expect(state).to_have_text(SAVED)
    await expect(shown).to_have_text(typed)
    await expect(facilitator.locator("#connection")).to_have_text("Live")
    assert (
        await facilitator.evaluate(
            "Object.keys(localStorage).filter(k => k.startsWith('webinar-draft:')).length"
        )
        == 0
    ), "the saved draft was left in storage"

    # The host moves on: everyone is back in the main session.
    await host.get_by_role("button", name="Next item").click()
    for page in pages:
        room = page.locator("#breakout-room")
        await expect(room).to_have_attribute("data-ended", "yes")
        await expect(room.locator(".notice")).to_contain_text(ENDED)
        await expect(page.locator("#agenda-now h2")).to_have_text("Breakout Feedback")
        await expect(room.get_by_role("button", name="I will be the facilitator")).to_have_count(0)
    await expect(grid.get_by_role("heading", level=2)).to_have_text("Breakout groups (ended)")
    await expect(mate.locator(f"#room-t{topic}-text .response-text")).to_have_text(typed)
    await check.not_reloaded(*pages[1:])

    # In the feedback view the host corrects the group's wording before presenting it;
    # the group's room follows, marked.
    feedback = await host_screen.context.new_page()
    feedback.set_default_timeout(10_000)
    host_screen.console.watch(feedback)
    await feedback.goto(f"{site.server.base}/feedback")
    entry = feedback.locator(f"#fb-g{number}-t{topic}")
    await entry.get_by_text("Correct the wording").click()
    corrected = "Schools were not told about the plan"
    label = f"Group {number}'s response to topic {int(topic) + 1}, as it should be shown"
    await entry.get_by_label(label).fill(corrected)
    await entry.get_by_role("button", name="Save correction").click()
    await expect(entry.locator(".response-text")).to_have_text(corrected)
    await expect(entry.locator(".badge", has_text="Edited by the host")).to_be_visible()
    await expect(mate.locator(f"#room-t{topic}-text .response-text")).to_have_text(corrected)
    await expect(mate.locator(f"#room-t{topic}-text")).to_contain_text("Edited by the host.")
    check.accessible({"/feedback (host, correcting)": await check.violations(feedback)})

    await check.clean(*screens, host_screen)


async def test_an_uploaded_preassignment_file_is_confirmed_in_place(
    new_screen: Any, site: Any, check: Any, tmp_path: Path
) -> None:
    """The upload's answer names what it did (HX-Trigger: webinar:preassigned)."""
    organiser = await new_screen()
    page = await site.enter(organiser, "organiser")
    groups = tmp_path / "groups.csv"
    groups.write_text("name,group\nNobody Here,1\nNobody Else,2\n", encoding="utf-8")

    await page.get_by_label("CSV file").set_input_files(str(groups))
    await page.get_by_role("button", name="Upload").click()

    await expect(page.locator("#flash")).to_have_text(
        "Stored 2 pre-assignments. 2 of the people named have not joined yet."
    )
    await check.not_reloaded(page)
    await check.clean(organiser)
