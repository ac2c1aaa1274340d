"""The organiser's programme in Chromium: an organiser signs in, uploads an agenda with
one error, sees the error beside its line, fixes it, creates the event, duplicates it for
next month and opens the host console; axe finds no blocker on any programme page, on a
desktop and on a phone."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from playwright.async_api import expect

from helpers import LiveServer
from webinar.domain.accounts import Grant
from webinar.services.accounts import add_user
from webinar.services.agenda_files import SEED_AGENDA
from webinar.storage.webinars import find_webinar_sync

pytestmark = pytest.mark.e2e

EMAIL, PASSWORD = "ann@example.org", "a long and happy password"
SEED = SEED_AGENDA.read_text(encoding="utf-8")
BAD = SEED.replace('kind = "welcome"', 'kind = "welcom"', 1)
BAD_LINE = BAD.splitlines().index('kind = "welcom"') + 1


def next_month(day: date) -> date:
    return day + timedelta(days=28)


@pytest.mark.parametrize(
    "viewport",
    [{"width": 1280, "height": 800}, {"width": 390, "height": 844}],
    ids=["desktop", "phone"],
)
async def test_programme_an_organiser_creates_duplicates_and_opens_an_event(
    server: LiveServer,
    new_screen: Callable[..., Any],
    check: Any,
    tmp_path: Any,
    viewport: dict[str, int],
) -> None:
    now = datetime.now(UTC)
    grants = (Grant("organiser"),)
    await asyncio.to_thread(add_user, server.db_path, EMAIL, "Ann Organiser", PASSWORD, grants, now)
    bad_file, good_file = tmp_path / "briefing.toml", tmp_path / "fixed" / "briefing.toml"
    good_file.parent.mkdir()
    bad_file.write_text(BAD, encoding="utf-8")
    good_file.write_text(SEED, encoding="utf-8")
    screen = await new_screen(viewport=viewport)
    page, base = screen.page, server.base
    report: dict[str, list[str]] = {}

    await page.goto(f"{base}/programme")
    await expect(page).to_have_url(f"{base}/programme/signin")
    report["sign-in"] = await check.violations(page)
    await page.get_by_label("Email address").fill(EMAIL)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(f"{base}/programme")
    await expect(page.get_by_role("heading", name="Programme", exact=True)).to_be_visible()
    report["programme"] = await check.violations(page)

    await page.get_by_role("link", name="Create an event").click()
    report["new"] = await check.violations(page)
    await page.get_by_label("Agenda file (TOML, at most 500 KB)").set_input_files(str(bad_file))
    await page.get_by_role("button", name="Create the event").click()
    summary = page.get_by_role("link", name=f"Line {BAD_LINE}:")
    await expect(summary).to_contain_text('field kind: "welcom" is not a kind of item')
    await summary.click()
    beside = page.locator(f'li[value="{BAD_LINE}"].problem-line')
    await expect(beside.locator("code")).to_have_text('kind = "welcom"')
    await expect(beside.locator(".error")).to_contain_text('did you mean "welcome"?')
    report["new, with a problem"] = await check.violations(page)

    await page.get_by_label("Agenda file (TOML, at most 500 KB)").set_input_files(str(good_file))
    await page.get_by_role("button", name="Create the event").click()
    await expect(page).to_have_url(f"{base}/programme/e/briefing")
    await expect(page.get_by_role("status")).to_have_text("The event 'briefing' is ready.")
    report["event"] = await check.violations(page)

    day = next_month(date.today())
    await page.get_by_label("Date").fill(day.isoformat())
    await page.get_by_label("Start time").fill("14:00")
    await page.get_by_role("button", name="Duplicate with this date").click()
    copy = f"briefing-{day.isoformat()}"
    await expect(page).to_have_url(f"{base}/programme/e/{copy}")
    stored = find_webinar_sync(server.db_path, copy)
    assert stored is not None and stored.agenda is not None
    assert f'date = "{day.isoformat()}"' in stored.agenda

    report["event, copied"] = await check.violations(page)
    await page.get_by_role("link", name="Change the agenda").click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Change the agenda")
    report["agenda"] = await check.violations(page)
    await page.get_by_role("link", name="Back to the programme").click()
    await expect(page.locator(f'li[data-slug="{copy}"]')).to_contain_text("Attendees")
    report["programme, with events"] = await check.violations(page)
    await page.locator(f'li[data-slug="{copy}"]').get_by_role("link").click()
    await expect(page).to_have_url(f"{base}/programme/e/{copy}")

    await page.get_by_role("button", name="Open the host console").click()
    await expect(page).to_have_url(f"{base}/e/{copy}/host")
    await expect(page.locator("#connection")).to_have_text("Live")

    # The upload with a problem is answered 400, which Chromium logs; nothing else may be.
    await check.clean(screen, allowed=lambda m: "/programme/new" in m and "400" in m)
    check.accessible(report)
