"""The main stage and group calls in real browsers.

A stage served from a configured origin (a local server) loads beside the slides; a frame
from another local server, on another port, is refused by the page's policy and never
requested. Four attendees are split into two groups with Jitsi calls (a local Jitsi that
verifies tokens as Prosody does): each sees their own group's call, the one who
volunteers rejoins as moderator while the others' calls run on, and when the host moves
on the calls are gone and the main stage is back.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from fake_providers import JITSI_APP_ID, JITSI_SECRET, FakeJitsi, FakePage
from helpers import LiveServer, seed_agenda
from webinar.domain.agenda import Agenda
from webinar.domain.video import CallSettings, Stage
from webinar.services.calls import CallConfig

pytestmark = pytest.mark.e2e

NAMES = ("Ann Example", "Bob Example", "Cat Example", "Dan Example")


def video_agenda(stage: str, jitsi: str) -> Agenda:
    agenda = seed_agenda()
    items = []
    for item in agenda.items:
        if item.breakout is not None:
            call = CallSettings("jitsi", jitsi)
            settings = replace(item.breakout, call=call, group_size=None, group_count=2)
            item = replace(item, breakout=settings)
        items.append(item)
    return replace(agenda, items=tuple(items), stage=Stage("vimeo", f"{stage}/embed"))


@pytest.fixture
def fakes() -> Iterator[tuple[FakePage, FakePage, FakeJitsi]]:
    made = (FakePage(), FakePage(), FakeJitsi())
    for fake in made:
        fake.start()
    try:
        yield made
    finally:
        for fake in made:
            fake.stop()


@pytest.fixture
async def server(
    tmp_path: Path, fakes: tuple[FakePage, FakePage, FakeJitsi]
) -> AsyncIterator[LiveServer]:
    stage, _, jitsi = fakes
    live = LiveServer(
        str(tmp_path / "webinar.db"),
        agenda=video_agenda(stage.base, jitsi.base),
        calls=CallConfig(jitsi_app_id=JITSI_APP_ID, jitsi_secret=JITSI_SECRET),
    )
    await live.start()
    try:
        yield live
    finally:
        await live.stop()


async def refused_frame(page: Any, url: str) -> list[dict[str, str]]:
    """Add a frame of ``url`` as a script would; the policy violations it caused."""
    await page.evaluate(
        "url => { const f = document.createElement('iframe'); f.title = 'x'; f.src = url;"
        " document.body.appendChild(f); }",
        url,
    )
    await page.wait_for_function("window.__cspViolations.length > 0")
    found: list[dict[str, str]] = await page.evaluate(
        "() => { const v = window.__cspViolations; window.__cspViolations = [];"
        " document.querySelectorAll('body > iframe').forEach(f => f.remove()); return v; }"
    )
    return found


async def test_stage_from_configured_origin_loads_and_another_is_refused(
    new_screen: Any, site: Any, check: Any, fakes: tuple[FakePage, FakePage, FakeJitsi]
) -> None:
    stage, other, _ = fakes
    screen = await new_screen()
    page = await site.join(screen, NAMES[0])

    frame = page.frame_locator("#stage iframe")
    await expect(frame.get_by_role("heading")).to_have_text(f"Stage on port {stage.port}")
    await expect(page.locator("#stage iframe")).to_have_attribute("title", "Main stage: Vimeo")
    violations = await refused_frame(page, f"{other.base}/embed")

    assert [(v["directive"], v["blocked"]) for v in violations] == [("frame-src", other.base)]
    assert other.visits == []
    assert [v.path for v in stage.visits] == ["/embed"]
    check.accessible({"attendee with stage": await check.violations(page)})
    # Chromium also logs the refusal it was asked for; nothing else may be logged.
    await check.clean(screen, allowed=lambda error: f"Framing '{other.base}/'" in error)


async def test_each_group_sees_its_own_call_and_returns_to_the_stage(
    new_screen: Any, site: Any, check: Any, fakes: tuple[FakePage, FakePage, FakeJitsi]
) -> None:
    stage, _, jitsi = fakes
    screens = [await new_screen() for _ in NAMES]
    pages = [await site.join(s, name) for s, name in zip(screens, NAMES, strict=True)]
    host_screen = await new_screen()
    host = await site.enter(host_screen, "host")
    await expect(host.locator("#attendee-count")).to_have_text(str(len(NAMES)))

    await host.get_by_role("button", name="Start the event").click()
    await host.get_by_label("Jump to").select_option("lcspr-breakout")
    await host.get_by_role("button", name="Jump", exact=True).click()

    # Two groups of two; each attendee sees their own group's call, as a participant.
    rooms: dict[str, str] = {}
    groups: dict[str, str] = {}
    for page, name in zip(pages, NAMES, strict=True):
        heading = page.locator("#breakout-room h2")
        await expect(heading).to_have_text(re.compile(r"^Breakout group \d$"))
        groups[name] = await heading.text_content() or ""
        call = page.frame_locator("#room-call iframe")
        await expect(call.locator("#who")).to_have_text(f"{name} (participant)")
        await expect(page.locator("#stage")).to_be_hidden()
        rooms[name] = await call.get_by_role("heading").text_content() or ""
    assert len(set(groups.values())) == len(set(rooms.values())) == 2
    for one in NAMES:
        for other in NAMES:
            assert (rooms[one] == rooms[other]) == (groups[one] == groups[other])
    by_name = {v.detail["context"]["user"]["name"]: v.path.strip("/") for v in jitsi.visits}
    assert {name: f"Room {by_name[name]}" for name in NAMES} == rooms
    check.accessible({"attendee in a call": await check.violations(pages[0])})

    # Ann volunteers: her call is made again, as moderator; the others' run on untouched.
    before = len(jitsi.visits)
    await pages[0].get_by_role("button", name="I will be the facilitator").click()
    await expect(pages[0].frame_locator("#room-call iframe").locator("#who")).to_have_text(
        f"{NAMES[0]} (moderator)"
    )
    for page, name in zip(pages[1:], NAMES[1:], strict=True):
        await expect(page.frame_locator("#room-call iframe").locator("#who")).to_have_text(
            f"{name} (participant)"
        )
    rejoined = [v.detail["context"]["user"] for v in jitsi.visits[before:]]
    assert rejoined == [{"name": NAMES[0], "moderator": True, "affiliation": "owner"}]

    # The host moves on: calls gone, the main stage back.
    await host.get_by_role("button", name="Next item").click()
    for page in pages:
        await expect(page.locator("#room-call")).to_have_text("The group call has ended.")
        await expect(page.locator("#room-call iframe")).to_have_count(0)
        await expect(page.locator("#stage")).to_be_visible()
        await expect(page.frame_locator("#stage iframe").get_by_role("heading")).to_have_text(
            f"Stage on port {stage.port}"
        )
    await check.not_reloaded(*pages)
    await check.clean(*screens, host_screen)
