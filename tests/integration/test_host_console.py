"""The host console as the server renders it, before any script runs (issue 14): every
tab panel shown, the rare forms in <details> that open in place, the groups grid headed
by the topics' words, and the survey's responses counted."""

from __future__ import annotations

import html
import re
import uuid

import pytest

from helpers import LiveServer, attendee_of, host_of

pytestmark = pytest.mark.integration

PANES = ("pane-breakouts", "pane-polls", "pane-survey", "pane-agenda", "pane-links")


def opening_tag(page: str, element_id: str) -> str:
    """The opening tag of the element whose id is ``element_id``."""
    at = page.index(f'id="{element_id}"')
    return page[page.rindex("<", 0, at) : page.index(">", at) + 1]


async def test_without_script_every_pane_shows_and_the_rare_forms_open_in_place(
    server: LiveServer,
) -> None:
    host = await host_of(server)
    asker = await attendee_of(server, "Ann Example")
    asked = await asker.act("qa.ask", text="Is it recorded?", key=uuid.uuid4().hex)
    assert asked.status_code == 200, asked.text

    page = (await host.http.get("/host")).text

    # The tabs are made by static/host.js: until then their list is hidden, no panel is.
    tablist = page[page.index('role="tablist"') - 60 : page.index('role="tablist"') + 80]
    assert " hidden>" in tablist
    for pane in PANES:
        tag = opening_tag(page, pane)
        assert 'role="tabpanel"' in tag
        assert "hidden" not in tag
    # Each rare form is inside a <details> (a dialog with script, in place without).
    for details in ("carry-over", "skip-upcoming", "sq-1-more"):
        tag = opening_tag(page, details)
        assert tag.startswith("<details") and "data-dialog=" in tag, tag
    question = page[page.index('id="sq-1"') : page.index("</li>", page.index('id="sq-1"'))]
    more = question[question.index('id="sq-1-more"') :]
    for form in ("/api/qa/reject", "/api/qa/correct", "/api/qa/merge", "/api/qa/answer"):
        assert form in more, form
    # The one-key actions name their keys for assistive technology.
    assert 'data-shortcut="h" aria-keyshortcuts="H">Show on projector</button>' in question
    assert '<script src="/static/host.js" defer></script>' in page
    assert '<link rel="stylesheet" href="/static/host.css">' in page
    for person in (host, asker):
        await person.close()


async def test_the_grid_is_headed_by_the_topics_and_counts_each_groups_members(
    server: LiveServer,
) -> None:
    host = await host_of(server)
    people = [await attendee_of(server, f"Person {i}", "Leeds SP") for i in range(8)]
    sockets = [await person.socket() for person in people]
    await host.act("agenda.start")
    await host.act("agenda.jump", item_id="lcspr-breakout")
    for sock in sockets:  # the split has reached everyone
        await sock.wait_for(lambda m: m["type"] == "breakout.group")
    assert (await people[0].act("breakout.help", on=True)).status_code == 200

    page = (await host.http.get("/host")).text
    start = page.index('id="breakout-grid"')
    grid = page[start : page.index("</section>", start)]

    settings = server.agenda.item("lcspr-breakout").breakout
    assert settings is not None
    heads = re.findall(r'<th scope="col" class="topic-col" title="([^"]*)">', grid)
    assert [html.unescape(h) for h in heads] == list(settings.topics)
    for topic in settings.topics:  # read out whole
        assert f'<span class="visually-hidden">{html.escape(topic)}</span>' in grid
    assert "Topic 1" not in grid
    rnd = server.services.breakouts.current
    counts = sorted(int(n) for n in re.findall(r"<summary>(\d+) members?</summary>", grid))
    assert counts == sorted(len(g.members) for g in rnd.groups.values())
    assert sum(counts) == len(people)
    # What static/host.js counts on the tab, as data rather than words.
    assert 'data-state="open" data-help="1"' in opening_tag(page, "breakout-grid")
    assert grid.count('class="needs-help"') == 1
    assert grid.count('class="help-flag"') == 1
    # Opened on load with the breakout running, the grid's tab is the one chosen.
    assert 'aria-controls="pane-breakouts" aria-selected="true"' in page
    for sock in sockets:
        await sock.close()
    for person in (host, *people):
        await person.close()


async def test_the_survey_pane_counts_responses_as_the_page_loads(server: LiveServer) -> None:
    host = await host_of(server)

    def survey_pane(page: str) -> str:
        pane = page[page.index('aria-labelledby="survey-host-heading"') :]
        return pane[: pane.index("</section>")]

    before = survey_pane((await host.http.get("/host")).text)
    assert "Not open yet." in before
    assert '<dd id="survey-submitted" data-count="0">0</dd>' in before

    await host.act("agenda.start")
    await host.act("agenda.jump", item_id="closing-remarks")
    ann, bob = await attendee_of(server, "Ann"), await attendee_of(server, "Bob")
    ann_key, bob_key = uuid.uuid4().hex, uuid.uuid4().hex
    assert (
        await ann.act("survey.save", key=ann_key, role="Police", overall="4")
    ).status_code == 200
    assert (await ann.act("survey.save", key=ann_key, final=True)).status_code == 200
    assert (await bob.act("survey.save", key=bob_key, role="Police")).status_code == 200

    after = survey_pane((await host.http.get("/host")).text)
    assert "Open." in after
    assert '<dd id="survey-submitted" data-count="1">1</dd>' in after
    assert "<dt>Started, not submitted</dt><dd>1</dd>" in after
    for person in (host, ann, bob):
        await person.close()
