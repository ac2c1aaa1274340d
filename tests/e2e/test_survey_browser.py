"""The post-event survey in real browsers: attendees answer it, the organiser reads it.

Three attendees join through the form, each in their own browser context; the host (an
HTTP client) starts the event and jumps to the closing remarks, which opens the survey.
Each attendee answers on /survey and submits; one first submits without the required
rating and is told which question is missing. The organiser, in a browser, reads the
counts on /results and downloads the XLSX export through the page's link, which must hold
exactly what was ticked. axe-core checks both pages; no page logs an unexpected error.
"""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from openpyxl import load_workbook
from playwright.async_api import expect

from helpers import LiveServer, host_of, open_database

pytestmark = pytest.mark.e2e

OVERALL = "Overall, how would you rate today's webinar?"
SESSIONS = "Which sessions did you find most useful?"
SECTOR = "Which sector do you work in?"
COMMENTS = "Any other comments?"
MISSING = f'Question 1 ("{OVERALL}") is required; please answer it.'
THANKS = "Thank you: your answers are submitted. You can still change them."
NOT_SUBMITTED = "Not submitted: please see the problem at the top of the form."
SAVED_NOT_SUBMITTED = "Saved, but not submitted: please see the problem at the top of the form."
#: The options of the sessions question, in the survey's order.
SESSION_OPTIONS = (
    "Welcome and reflections on Covid-19",
    "National Review Updates",
    "Review Q&A",
    "Local Child Safeguarding Practice Reviews",
    "LCSPR Q&A",
    "LCSPR Breakout",
    "Breakout Feedback",
)


@dataclass(frozen=True)
class Answers:
    name: str
    overall: int
    sessions: tuple[str, ...]
    sector: str
    comment: str


ATTENDEES = (
    Answers(
        "Ann Example",
        5,
        ("National Review Updates", "LCSPR Breakout"),
        "Police",
        "Clear and practical; please share the slides.",
    ),
    Answers(
        "Bob Example",
        4,
        ("LCSPR Breakout",),
        "Health",
        # Text a spreadsheet would run as a formula: it must stay text in the export.
        '=HYPERLINK("http://example.invalid") more time for the breakout, please',
    ),
    Answers(
        "Cat Example",
        5,
        ("Review Q&A", "LCSPR Breakout"),
        "Police",
        "The <b>LCSPR</b> findings were the most useful part.",
    ),
)
#: Ann submits before rating the webinar, and is told so.
FORGETFUL = "Ann Example"
#: What that refused submit (400) logs on Ann's page: Chromium's failed request and htmx's
#: ``htmx:responseError`` (logged with the button that sent it).
REFUSED_SUBMIT = re.compile(
    r"/api/survey/save\): Failed to load resource: the server responded with a status of 400"
    r" \(Bad Request\)$"
    r"|htmx-[\d.]+\.min\.js\): Response Status Error Code 400 from /api/survey/save,"
    r" \[object HTMLButtonElement\]$"
)

#: The organisation every attendee gives on the join form.
ORGANISATION = "Leeds Safeguarding Partnership"


def autosave_with(*codes: str) -> Any:
    """Matches the form's save (not the submit) that carries answers to all ``codes``."""

    def matches(response: Any) -> bool:
        if not response.url.endswith("/api/survey/save"):
            return False
        sent = parse_qs(response.request.post_data or "")
        return "final" not in sent and all(code in sent for code in codes)

    return matches


async def answer(
    page: Any, codes: tuple[str, ...], steps: list[Callable[[], Any]], status: str = "Saved."
) -> None:
    """Do ``steps`` and wait for the autosave that carries every answer they gave; the
    status line then says ``status``.

    The form saves 400 ms after its last change, so waiting for that save (rather than
    clicking Submit at once) means no save of the same answers lands after the submit.
    """
    async with page.expect_response(autosave_with(*codes)) as saved:
        for step in steps:
            await step()
    assert (await saved.value).ok
    await expect(page.locator("#survey-state")).to_have_text(status)


async def test_attendees_fill_in_the_survey_and_the_organiser_finds_the_counts(
    server: LiveServer, new_screen: Any, site: Any, check: Any
) -> None:
    base = server.base
    screens = {a.name: await new_screen() for a in ATTENDEES}
    pages = {a.name: await site.join(screens[a.name], a.name, ORGANISATION) for a in ATTENDEES}
    organiser_screen = await new_screen()
    report: dict[str, list[str]] = {}

    host = await host_of(server)
    assert (await host.act("agenda.start")).status_code == 200
    assert (await host.act("agenda.jump", item_id="closing-remarks")).status_code == 200
    await host.close()

    for a in ATTENDEES:
        page = pages[a.name]
        await page.goto(f"{base}/survey")
        form = page.locator("#survey-form")
        overall = form.get_by_role("group", name=OVERALL).get_by_role(
            "radio", name=str(a.overall), exact=True
        )
        sessions = form.get_by_role("group", name=SESSIONS)
        sector = form.get_by_role("group", name=SECTOR).get_by_role("radio", name=a.sector)
        comment = form.get_by_label(COMMENTS)
        submit = form.get_by_role("button", name="Submit my answers")
        if a.name == FORGETFUL:
            report["/survey"] = await check.violations(page)
            await answer(
                page,
                ("most_useful_sessions", "role"),
                [
                    *[sessions.get_by_role("checkbox", name=s).check for s in a.sessions],
                    sector.check,
                ],
            )
            await submit.click()
            # The error summary takes focus and the question is marked (GOV.UK's pattern);
            # nothing says "Saved." as if the submit had worked.
            summary = page.locator("#survey-errors")
            await expect(summary).to_be_focused()
            await expect(summary.get_by_role("link")).to_have_text([MISSING])
            await expect(page.locator("#q-overall")).to_have_class(re.compile(r"\bhas-error\b"))
            await expect(form.get_by_role("group", name=OVERALL)).to_have_accessible_description(
                f"Error: {MISSING}"
            )
            await expect(page.locator("#survey-state")).to_have_text(NOT_SUBMITTED)
            await expect(page.locator("#flash")).to_have_text("")
            report["/survey (required answer missing)"] = await check.violations(page)
            await answer(
                page,
                ("overall", "comments"),
                [partial(comment.fill, a.comment), overall.check],
                status=SAVED_NOT_SUBMITTED,
            )
        else:
            # The comment first: clicking away from it then saves it with the rest.
            await answer(
                page,
                ("overall", "most_useful_sessions", "role", "comments"),
                [
                    partial(comment.fill, a.comment),
                    overall.check,
                    *[sessions.get_by_role("checkbox", name=s).check for s in a.sessions],
                    sector.check,
                ],
            )
        await submit.click()
        await expect(page.locator("#survey-state")).to_have_text(THANKS)
        await expect(page.locator("#flash")).to_have_text("")
        await expect(page.locator("#survey-errors")).to_be_hidden()
        await expect(page.locator(".has-error")).to_have_count(0)

    # A reload shows the answers as stored, and that they are submitted.
    ann = pages[FORGETFUL]
    await ann.reload()
    await expect(ann.get_by_role("status").filter(has_text="You have submitted")).to_be_visible()
    rating = ann.get_by_role("group", name=OVERALL).get_by_role("radio", name="5", exact=True)
    await expect(rating).to_be_checked()
    await expect(ann.get_by_label(COMMENTS)).to_have_value(ATTENDEES[0].comment)

    # The organiser reads the results.
    page = await site.enter(organiser_screen, "organiser")
    await page.goto(f"{base}/results")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Survey results")
    await expect(page.locator("main")).to_contain_text("3 responses (3 submitted)")

    async def counts(question: str) -> dict[str, tuple[str, str]]:
        region = page.get_by_role("region", name=question)
        await expect(region).to_have_count(1)
        rows = region.locator("table.counts tbody tr")
        found = {}
        for row in await rows.all():
            label, count, percent = await row.locator("td").all_inner_texts()
            found[label] = (count, percent)
        return found

    overall_counts = await counts(OVERALL)
    assert overall_counts["4"] == ("1", "33.3%")
    assert overall_counts["5 (Excellent)"] == ("2", "66.7%")
    assert overall_counts["1 (Poor)"] == ("0", "0.0%")
    overall_region = page.get_by_role("region", name=OVERALL)
    await expect(overall_region).to_contain_text("Answered by 3. Mean 4.67, median 5.0.")
    assert await counts(SESSIONS) == {
        "Welcome and reflections on Covid-19": ("0", "0.0%"),
        "National Review Updates": ("1", "33.3%"),
        "Review Q&A": ("1", "33.3%"),
        "Local Child Safeguarding Practice Reviews": ("0", "0.0%"),
        "LCSPR Q&A": ("0", "0.0%"),
        "LCSPR Breakout": ("3", "100.0%"),
        "Breakout Feedback": ("0", "0.0%"),
    }
    sectors = await counts(SECTOR)
    assert (sectors["Police"], sectors["Health"], sectors["Education"]) == (
        ("2", "66.7%"),
        ("1", "33.3%"),
        ("0", "0.0%"),
    )
    comments = page.get_by_role("region", name=COMMENTS).locator("ul.texts > li")
    # In a random order (the responses' keys), not the order of answering.
    await expect(comments).to_have_count(len(ATTENDEES))
    assert sorted(await comments.all_inner_texts()) == sorted(a.comment for a in ATTENDEES)
    assert await page.locator("main b").count() == 0, "a typed <b> became markup"
    # Anonymous: not split by breakout group at all (not even "No group").
    await expect(page.locator(".group-results")).to_have_count(0)
    await expect(page.get_by_role("region", name="By breakout group")).to_contain_text(
        "so its answers are not split by breakout group"
    )
    report["/results"] = await check.violations(page)

    # ... and downloads the responses through the page's link.
    async with page.expect_download() as started:
        await page.get_by_role("link", name="Download responses (XLSX with codebook)").click()
    download = await started.value
    assert download.suggested_filename == "survey-responses.xlsx"
    book = load_workbook(io.BytesIO(Path(await download.path()).read_bytes()))
    assert book.sheetnames == ["Responses", "Codebook", "Poll results", "Poll answers"]
    sheet = book["Responses"]
    header = [cell.value for cell in sheet[1]]
    assert all(cell.font.b for cell in sheet[1])
    records = [
        dict(zip(header, (cell.value for cell in row), strict=True))
        for row in sheet.iter_rows(min_row=2)
    ]
    assert len(records) == 3
    assert [r["response"] for r in records] == [1, 2, 3]
    assert {r["submitted"] for r in records} == {"yes"}
    # Responses are anonymous and in a random order: match them by their comment.
    by_comment = {r["comments"]: r for r in records}
    assert set(by_comment) == {a.comment for a in ATTENDEES}
    for a in ATTENDEES:
        record = by_comment[a.comment]
        assert record["overall"] == a.overall
        assert record["role"] == a.sector
        assert record["most_useful_sessions"].split("; ") == [
            option for option in SESSION_OPTIONS if option in a.sessions
        ]
    ticks = [s for r in records for s in r["most_useful_sessions"].split("; ")]
    assert {s: ticks.count(s) for s in set(ticks)} == {
        "National Review Updates": 1,
        "Review Q&A": 1,
        "LCSPR Breakout": 3,
    }
    assert sorted(r["overall"] for r in records) == [4, 5, 5]
    comment_cells = [row[header.index("comments")] for row in sheet.iter_rows(min_row=2)]
    assert {cell.data_type for cell in comment_cells} == {"s"}, "a comment became a formula"
    codebook = [row[0] for row in book["Codebook"].iter_rows(min_row=2, values_only=True)]
    assert codebook[0] == "overall"

    check.accessible(report)

    def refused_submit(error: str) -> bool:
        return error.startswith(f"console.error at {base}/survey (") and bool(
            REFUSED_SUBMIT.search(error)
        )

    await check.clean(screens[FORGETFUL], allowed=refused_submit)
    others = [screen for name, screen in screens.items() if name != FORGETFUL]
    await check.clean(*others, organiser_screen)


#: What a save whose connection drops logs: Chromium's failed request, and htmx's
#: ``htmx:sendError`` and unsuccessful ``htmx:afterRequest`` (logged with the form).
DROPPED_SAVE = re.compile(
    r"/api/survey/save\): Failed to load resource: net::ERR_CONNECTION_RESET$"
    r"|htmx-[\d.]+\.min\.js\): htmx:(sendError|afterRequest), \[object HTMLFormElement\]$"
)


def dropped_save(error: str) -> bool:
    return error.startswith("console.error at ") and bool(DROPPED_SAVE.search(error))


async def open_survey(server: LiveServer) -> None:
    host = await host_of(server)
    assert (await host.act("agenda.start")).status_code == 200
    assert (await host.act("agenda.jump", item_id="closing-remarks")).status_code == 200
    await host.close()


def final_submit(response: Any) -> bool:
    return response.url.endswith("/api/survey/save") and "final" in parse_qs(
        response.request.post_data or ""
    )


async def settled(page: Any) -> None:
    """Wait until the survey form has no request in flight: htmx takes its
    ``htmx-request`` class off just before it fires ``htmx:afterRequest``, in one go."""
    await page.wait_for_function(
        "() => !document.getElementById('survey-form').classList.contains('htmx-request')"
    )


async def test_submit_at_once_keeps_the_confirmation_and_errors_are_summarised_in_view(
    server: LiveServer, new_screen: Any, site: Any, check: Any
) -> None:
    screen = await new_screen(viewport={"width": 360, "height": 640})
    page = await site.join(screen, "Dee Example", ORGANISATION)
    await open_survey(server)
    await page.goto(f"{server.base}/survey")
    form = page.locator("#survey-form")
    comment = form.get_by_label(COMMENTS)
    submit = form.get_by_role("button", name="Submit my answers")
    overall = form.get_by_role("group", name=OVERALL)

    # Required rating left empty; a comment typed; Submit clicked straight away.
    await comment.fill("Typed, then straight to Submit.")
    async with page.expect_response(autosave_with("comments")) as autosaved:
        await submit.click()
        summary = page.locator("#survey-errors")
        await expect(summary).to_be_focused()
    assert (await autosaved.value).ok  # the blur's autosave, after the refused submit
    await settled(page)
    assert await summary.is_visible()
    assert await summary.evaluate("el => el.getBoundingClientRect().top >= 0")  # in view
    await expect(summary.get_by_role("link")).to_have_text([MISSING])
    await expect(page.locator("#q-overall")).to_have_class(re.compile(r"\bhas-error\b"))
    await expect(overall).to_have_accessible_description(f"Error: {MISSING}")
    await expect(page.locator("#survey-state")).to_have_text(SAVED_NOT_SUBMITTED)
    report = {"/survey (error summary, phone)": await check.violations(page)}

    # The summary's link takes the reader to the question's first answer.
    await summary.get_by_role("link", name=MISSING).click()
    first = overall.get_by_role("radio", name="1", exact=True)
    await expect(first).to_be_focused()

    # Pick an answer, type more and click Submit at once: the blur queues an autosave
    # whose reply comes after the submit's; the confirmation must stay.
    await overall.get_by_role("radio", name="4", exact=True).check()
    await comment.fill("Typed, then straight to Submit, again.")
    async with (
        page.expect_response(final_submit) as submitted,
        page.expect_response(autosave_with("overall", "comments")) as later,
    ):
        await submit.click()
    assert (await submitted.value).ok and (await later.value).ok
    await settled(page)
    await expect(page.locator("#survey-state")).to_have_text(THANKS)
    await expect(summary).to_be_hidden()
    await expect(page.locator(".has-error")).to_have_count(0)
    await expect(overall).to_have_accessible_description("")

    check.accessible(report)
    await check.clean(
        screen,
        allowed=lambda e: (
            e.startswith(f"console.error at {server.base}/survey (")
            and bool(REFUSED_SUBMIT.search(e))
        ),
    )


async def test_a_lost_reply_loses_nothing_and_the_draft_survives_a_reload(
    server: LiveServer, new_screen: Any, site: Any, check: Any
) -> None:
    screen = await new_screen()
    page = await site.join(screen, "Eve Example", ORGANISATION)
    await open_survey(server)
    await page.goto(f"{server.base}/survey")
    form = page.locator("#survey-form")
    comment = form.get_by_label(COMMENTS)

    # The first save reaches the server and is stored, but its reply is lost.
    async def lose_reply(route: Any) -> None:
        response = await route.fetch()  # the server commits and replies ...
        assert response.ok
        await route.abort("connectionreset")  # ... and the browser never hears of it

    await page.route("**/api/survey/save", lose_reply, times=1)
    async with page.expect_event("requestfailed") as failed:
        await (
            form.get_by_role("group", name=OVERALL)
            .get_by_role("radio", name="5", exact=True)
            .check()
        )
    assert (await failed.value).url.endswith("/api/survey/save")
    await settled(page)
    await expect(page.locator("#survey-state")).to_have_text(
        "Not saved yet: your answers are kept on this device and sent when the connection is back."
    )
    with contextlib.closing(open_database(server.db_path)) as conn, conn:
        assert conn.execute("SELECT answers FROM survey_responses").fetchall() == [
            ('{"overall": 5}',)
        ]

    # More typed, then the page reloaded before any save got through: the server has no
    # key in this session, but the browser kept its key and its draft.
    await page.route("**/api/survey/save", lambda route: route.abort("connectionreset"))
    await comment.fill("Typed while the connection was down.")
    await comment.blur()
    await settled(page)
    await page.unroute("**/api/survey/save")
    async with page.expect_response(autosave_with("overall", "comments")) as restored:
        await page.reload()
    assert (await restored.value).ok
    await settled(page)
    rating = form.get_by_role("group", name=OVERALL).get_by_role("radio", name="5", exact=True)
    await expect(rating).to_be_checked()
    await expect(comment).to_have_value("Typed while the connection was down.")
    await expect(page.locator("#survey-state")).to_have_text("Saved.")

    # ... and the survey can be finished: one response, all of it, submitted.
    await form.get_by_role("button", name="Submit my answers").click()
    await expect(page.locator("#survey-state")).to_have_text(THANKS)
    with contextlib.closing(open_database(server.db_path)) as conn, conn:
        assert conn.execute("SELECT answers, submitted FROM survey_responses").fetchall() == [
            ('{"overall": 5, "comments": "Typed while the connection was down."}', 1)
        ]
    assert await page.evaluate("Object.keys(window.localStorage)") == []
    await check.clean(screen, allowed=dropped_save)
