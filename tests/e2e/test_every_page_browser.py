"""Every page in its important states, at 1280 x 800 and 390 x 844: photographed and
checked by axe-core.

Each state is reached the way an event reaches it (people join, the host acts through
the API, the page is opened), then ``shots.take`` writes ``<state>-desktop.png`` and
``<state>-phone.png`` into the screenshot folder (``artefacts/screenshots``, or
``$WEBINAR_UI_SCREENSHOTS``) and returns axe's serious and critical violations at both
sizes; each test asserts there are none, and that every screenshot was written. The host
acts through the API rather than by clicking, so these tests hold while the screens'
markup changes; what they check is what a person sees and what axe finds.

The component gallery (``components.html`` beside this file, served at a path on the
app's origin so that the real stylesheet and dialog script apply under the real CSP)
is photographed component by component for docs/ui.md.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from playwright.async_api import expect

from helpers import LiveServer, Person, Socket, attendee_of, host_of
from webinar.domain.accounts import Grant
from webinar.services.access import AccessLimits
from webinar.services.accounts import add_user

pytestmark = pytest.mark.e2e

#: group_size is 6 in the seed agenda: 71 people in the crowd and one in a browser.
GROUPS = 12
CROWD = GROUPS * 6 - 1
GALLERY = Path(__file__).with_name("components.html")
EMAIL, PASSWORD = "ann@example.org", "a long and happy password"


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[LiveServer]:
    """The app, admitting the breakout's crowd from one address at once (``site`` and the
    other fixtures use this one)."""
    server = LiveServer(
        str(tmp_path / "webinar.db"),
        access_limits=AccessLimits(join_burst=CROWD + 20, joins_per_minute=6000),
    )
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def act(person: Person, name: str, **params: Any) -> dict[str, Any]:
    response = await person.act(name, **params)
    assert response.status_code == 200, f"{name}: {response.text}"
    body: dict[str, Any] = response.json()
    return body


async def act_in_page(page: Any, base: str, name: str, **params: Any) -> None:
    """A command sent with the page's own session (its cookie and CSRF token)."""
    token = await page.locator('meta[name="csrf-token"]').get_attribute("content")
    area, command = name.split(".", 1)
    headers = {"X-CSRF-Token": token, "Content-Type": "application/json"}
    response = await page.request.post(
        f"{base}/api/{area}/{command}", data=json.dumps(params), headers=headers
    )
    assert response.status == 200, f"{name}: {await response.text()}"


async def open_page(page: Any, url: str, shows: str | re.Pattern[str]) -> None:
    """Opens ``url`` and waits until ``shows`` is visible and the live socket, if the page
    has one, is connected."""
    await page.goto(url)
    await expect(page.get_by_text(shows).first).to_be_visible()
    if await page.locator("#connection").count():
        await expect(page.locator("#connection")).to_have_text("Live")


def assert_accessible(report: dict[str, list[str]]) -> None:
    failing = {label: found for label, found in report.items() if found}
    assert not failing, "\n".join(f"{k}:\n  " + "\n  ".join(v) for k, v in failing.items())


async def test_every_page_of_an_event_before_during_and_after(
    server: LiveServer, new_screen: Any, site: Any, check: Any, shots: Any
) -> None:
    base = server.base
    report: dict[str, list[str]] = {}
    visitor, attendee, staff = await new_screen(), await new_screen(), await new_screen()
    host = await host_of(server)

    # Arriving: the join form, empty and refused; the staff sign-in; a page not for you.
    page = visitor.page
    await open_page(page, f"{base}/join", "Join the webinar")
    report |= await shots.take(page, "join")
    await page.get_by_role("button", name="Join").click()
    await expect(page.get_by_text("Please enter your name.").first).to_be_visible()
    report |= await shots.take(page, "join-errors")
    await open_page(page, f"{base}/signin", "Staff sign-in")
    report |= await shots.take(page, "signin")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_text("There is a problem")).to_be_visible()
    report |= await shots.take(page, "signin-errors")

    live = await site.join(attendee, "Ann Example", "Leeds Safeguarding Partnership")
    report |= await shots.take(live, "attendee-before-the-start")
    await open_page(live, f"{base}/host", "This page is not available to you")
    report |= await shots.take(live, "forbidden")

    # A talk with questions coming in; one highlighted; the projector shows it.
    await act(host, "agenda.start")
    await act(host, "agenda.jump", item_id="national-review-updates")
    asker = await attendee_of(server, "Bob Example")
    texts = ("Will the slides be shared?", "Is the session recorded?", "Where is the review?")
    asked = [await act(asker, "qa.ask", text=t, key=str(i) * 32) for i, t in enumerate(texts)]
    await act(host, "qa.highlight", question_id=asked[0]["question"]["id"], on=True)
    await open_page(live, f"{base}/live", "National Review Updates")
    await expect(live.get_by_text(texts[2]).first).to_be_visible()
    report |= await shots.take(live, "attendee-talk")
    staff_page = await site.enter(staff, "host")
    await expect(staff_page.get_by_text(texts[2]).first).to_be_visible()
    report |= await shots.take(staff_page, "host-talk")
    await open_page(staff_page, f"{base}/projector", "National Review Updates")
    await expect(staff_page.get_by_text(texts[0]).first).to_be_visible()
    report |= await shots.take(staff_page, "projector-talk")

    # The Q&A item, with a written answer.
    await act(host, "agenda.jump", item_id="review-qa")
    answer = {"text": "Yes, for a month.", "key": "a" * 32}
    await act(host, "qa.answer", question_id=asked[1]["question"]["id"], **answer)
    await open_page(live, f"{base}/live", "Review Q&A")
    report |= await shots.take(live, "attendee-qa")

    # After the event: the survey, its results, the feedback view, the report.
    await act(host, "agenda.jump", item_id="closing-remarks")
    await act(host, "survey.state", state="open")
    await open_page(live, f"{base}/survey", "your feedback")
    report |= await shots.take(live, "survey")
    for i, rating in enumerate((5, 4, 4)):
        answers = {"overall": rating, "national_reviews_useful": 5 - i, "key": "s" * 31 + str(i)}
        respondent = await attendee_of(server, f"Respondent {i + 1}")
        await act(respondent, "survey.save", **answers)
        await respondent.close()
    await open_page(staff_page, f"{base}/results", "Survey results")
    report |= await shots.take(staff_page, "results")
    await open_page(staff_page, f"{base}/feedback", "Breakout feedback")
    report |= await shots.take(staff_page, "feedback-none-yet")
    await open_page(staff_page, f"{base}/report", "event report")
    report |= await shots.take(staff_page, "report")
    await site.enter(staff, "organiser")
    report |= await shots.take(staff_page, "organiser")

    # The accessibility statement.
    statement = await asker.http.get("/accessibility")
    assert statement.status_code == 200
    await open_page(staff_page, f"{base}/accessibility", "Accessibility")
    report |= await shots.take(staff_page, "accessibility")

    await asker.close()
    await host.close()
    assert_accessible(report)
    assert all(path.stat().st_size > 0 for path in shots.written)
    assert len(shots.written) == 2 * 16

    def expected_status(error: str) -> bool:
        # Chromium logs a page served with an error status; these are the point.
        return any(
            f"({base}{path}): Failed to load resource: the server responded with a status of "
            f"{status}" in error
            for path, status in (("/join", 400), ("/signin", 400), ("/host", 403))
        )

    await check.clean(visitor, attendee, staff, allowed=expected_status)


async def test_every_page_of_a_breakout_with_twelve_groups(
    server: LiveServer, new_screen: Any, site: Any, check: Any, shots: Any
) -> None:
    base = server.base
    report: dict[str, list[str]] = {}
    attendee, staff = await new_screen(), await new_screen()
    live = await site.join(attendee, "Ann Example", "Leeds Safeguarding Partnership")
    host = await host_of(server)
    people: list[Person] = []
    for start in range(0, CROWD, 24):
        batch = range(start, min(start + 24, CROWD))
        people += await asyncio.gather(*(attendee_of(server, f"Person {i + 1}") for i in batch))
    sockets: list[Socket] = []
    for start in range(0, CROWD, 24):
        sockets += await asyncio.gather(*(p.socket() for p in people[start : start + 24]))
    staff_page = await site.enter(staff, "host")
    await expect(staff_page.locator("#attendee-count")).to_have_text(str(CROWD + 1))

    await act(host, "agenda.start")
    await act(host, "agenda.jump", item_id="lcspr-breakout")

    # The browser attendee is a member, then its group's facilitator, writing a response.
    await expect(live.get_by_text(re.compile(r"^Breakout group \d+$")).first).to_be_visible()
    rounds = server.services.breakouts.rounds
    assert len(rounds[-1].groups) == GROUPS
    report |= await shots.take(live, "attendee-breakout")
    await act_in_page(live, base, "breakout.volunteer")
    await expect(live.locator("form.capture textarea").first).to_be_visible()
    report |= await shots.take(live, "facilitator-room")

    await expect(staff_page.get_by_text(str(GROUPS), exact=True).first).to_be_visible()
    report |= await shots.take(staff_page, "host-breakout-12-groups")
    await open_page(staff_page, f"{base}/projector", "LCSPR Breakout")
    report |= await shots.take(staff_page, "projector-breakout")

    # The feedback view once groups have written: two groups' facilitators write a response.
    ids = {(await p.http.get("/api/session")).json()["participant"]["id"]: p for p in people}
    free = [g for g in server.services.breakouts.rounds[-1].groups.values() if not g.facilitator_id]
    for group in free[:2]:
        number = group.number
        writer = next(ids[m] for m in group.members if m in ids)
        await act(writer, "breakout.volunteer")
        text = f"Group {number}: share the learning early, with every agency."
        await act(writer, "breakout.capture", group=number, topic=group.topics[0], text=text)
    await open_page(staff_page, f"{base}/feedback", "Breakout feedback")
    await expect(staff_page.get_by_text("share the learning early").first).to_be_visible()
    report |= await shots.take(staff_page, "feedback")

    await asyncio.gather(*(s.close() for s in sockets))
    await asyncio.gather(*(p.close() for p in people))
    await host.close()
    assert_accessible(report)
    assert len(shots.written) == 2 * 5
    await check.clean(attendee, staff)


async def test_every_page_of_the_programme(
    server: LiveServer, new_screen: Any, check: Any, shots: Any
) -> None:
    base = server.base
    report: dict[str, list[str]] = {}
    now = datetime.now(UTC)
    await asyncio.to_thread(
        add_user, server.db_path, EMAIL, "Ann Organiser", PASSWORD, (Grant("organiser"),), now
    )
    screen = await new_screen()
    page = screen.page

    await open_page(page, f"{base}/programme", "Sign in to the programme")
    report |= await shots.take(page, "programme-signin")
    await page.get_by_label("Email address").fill(EMAIL)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(f"{base}/programme")
    await expect(page.get_by_role("heading", name="Programme", level=1)).to_be_visible()
    report |= await shots.take(page, "programme-home")
    await page.get_by_role("link", name=re.compile("Safeguarding")).first.click()
    await expect(page.get_by_role("heading", name="Run it", exact=True)).to_be_visible()
    report |= await shots.take(page, "programme-event")
    await open_page(page, f"{base}/programme/new", "Create an event")
    report |= await shots.take(page, "programme-new")

    assert_accessible(report)
    assert len(shots.written) == 2 * 4
    await check.clean(screen)


async def test_components_as_docs_show_them(
    server: LiveServer, new_screen: Any, check: Any, shots: Any
) -> None:
    """The gallery of components: each one photographed at a desktop width; the dialog
    opens from its button, closes on Escape, on Cancel and after its form's request
    succeeded, giving focus back each time; axe finds no blocker in either theme."""
    screen = await new_screen(viewport={"width": 1280, "height": 800})
    page, url = screen.page, f"{server.base}/static/components-gallery"

    # Served with the app's own security headers, so its strict CSP applies here too.
    policy = (await page.request.get(f"{server.base}/join")).headers["content-security-policy"]

    async def gallery(route: Any) -> None:
        body = GALLERY.read_text(encoding="utf-8")
        headers = {"Content-Security-Policy": policy}
        await route.fulfill(content_type="text/html", body=body, headers=headers)

    merged: list[str] = []

    async def merge(route: Any) -> None:
        merged.append(route.request.post_data or "")
        await route.fulfill(status=200, content_type="application/json", body="{}")

    await page.route(url, gallery)
    await page.route(f"{server.base}/gallery/merge", merge)
    await page.goto(url)
    await expect(page.get_by_role("heading", name="Components", level=1)).to_be_visible()
    report = {"gallery (light)": await check.violations(page)}
    sections = page.locator("[data-component]")
    names = [await s.get_attribute("data-component") for s in await sections.all()]
    assert names == [
        "buttons",
        "cards",
        "badges",
        "tags",
        "notification-banner",
        "error-summary",
        "summary-list",
        "tabs",
        "dialog",
        "panel",
    ]
    for name in names:
        await shots.element(page.locator(f'[data-component="{name}"]'), f"component-{name}")

    opener = page.get_by_role("button", name="Merge into another question")
    await opener.click()
    dialog = page.get_by_role("dialog", name="Merge this question")
    await expect(dialog).to_be_visible()
    await expect(dialog.get_by_label("Merge into")).to_be_focused()
    await shots.screen(page, "component-dialog-open")
    report["gallery (dialog open)"] = await check.violations(page)
    await page.keyboard.press("Escape")
    await expect(dialog).to_be_hidden()
    await expect(opener).to_be_focused()
    await opener.click()
    await dialog.get_by_role("button", name="Cancel").click()
    await expect(dialog).to_be_hidden()
    await expect(opener).to_be_focused()
    # Its form posts with htmx; the dialog closes once the request succeeds.
    await opener.click()
    await dialog.get_by_label("Merge into").select_option("Will the slides be shared?")
    await dialog.get_by_role("button", name="Merge", exact=True).click()
    await expect(dialog).to_be_hidden()
    await expect(opener).to_be_focused()
    assert [parse_qs(body) for body in merged] == [{"into": ["Will the slides be shared?"]}]

    await page.locator("html").evaluate("html => html.setAttribute('data-theme', 'dark')")
    await shots.element(page.locator('[data-component="tags"]'), "component-tags-dark")
    report["gallery (dark)"] = await check.violations(page)

    assert_accessible(report)
    await check.clean(screen)
