"""The post-event survey in real browsers: attendees answer it, the organiser reads it.

Three attendees join through the form, each in their own browser context; the host (an
HTTP client) starts the event and jumps to the closing remarks, which opens the survey.
Each attendee answers on /survey and submits; one first submits without the required
rating and is told which question is missing. The organiser, in a browser, reads the
counts on /results and downloads the XLSX export through the page's link, which must hold
exactly what was ticked. axe-core checks both pages; no page logs an unexpected error.
"""

from __future__ import annotations

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

from helpers import LiveServer, host_of

pytestmark = pytest.mark.e2e

OVERALL = "Overall, how would you rate today's webinar?"
SESSIONS = "Which sessions did you find most useful?"
SECTOR = "Which sector do you work in?"
COMMENTS = "Any other comments?"
MISSING = f'Question 1 ("{OVERALL}") is required; please answer it.'
THANKS = "Thank you: your answers are submitted. You can still change them."
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


async def answer(page: Any, codes: tuple[str, ...], steps: list[Callable[[], Any]]) -> None:
    """Do ``steps`` and wait for the autosave that carries every answer they gave.

    The form saves 400 ms after its last change, so waiting for that save (rather than
    clicking Submit at once) means no save of the same answers lands after the submit.
    """
    async with page.expect_response(autosave_with(*codes)) as saved:
        for step in steps:
            await step()
    assert (await saved.value).ok
    await expect(page.locator("#survey-state")).to_have_text("Saved.")


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
            await expect(page.locator("#flash")).to_have_text(MISSING)
            await expect(page.locator("#flash")).to_have_attribute("data-kind", "error")
            await expect(page.locator("#survey-state")).to_have_text("Saved.")
            report["/survey (required answer missing)"] = await check.violations(page)
            await answer(
                page, ("overall", "comments"), [partial(comment.fill, a.comment), overall.check]
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
    await expect(comments).to_have_text([a.comment for a in ATTENDEES])
    assert await page.locator("main b").count() == 0, "a typed <b> became markup"
    await expect(page.locator(".group-results summary")).to_have_text(["No group"])
    report["/results"] = await check.violations(page)

    # ... and downloads the responses through the page's link.
    async with page.expect_download() as started:
        await page.get_by_role("link", name="Download responses (XLSX with codebook)").click()
    download = await started.value
    assert download.suggested_filename == "survey-responses.xlsx"
    book = load_workbook(io.BytesIO(Path(await download.path()).read_bytes()))
    assert book.sheetnames == ["Responses", "Codebook"]
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
    # Responses are anonymous and in saving order: match them by their comment.
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
