"""What the server-rendered screens say: feedback, the report, the highlight box, votes,
the start that is due, and a forum without a Q&A slot (issue 17)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from helpers import LiveServer, Person, attendee_of, host_of, seed_agenda
from webinar.domain.agenda import Agenda, shifted

pytestmark = pytest.mark.integration


async def serve(tmp_path: Path, agenda: Agenda) -> LiveServer:
    live = LiveServer(str(tmp_path / "webinar.db"), agenda=agenda)
    await live.start()
    return live


def section(page: str, heading_id: str) -> str:
    """The HTML of the ``<section>`` labelled by ``heading_id``."""
    start = page.index(f'aria-labelledby="{heading_id}"')
    return page[start : page.index("</section>", start)]


async def test_feedback_lists_only_groups_given_a_topic_or_that_wrote_on_it(
    server: LiveServer,
) -> None:
    host = await host_of(server)
    people: dict[str, Person] = {}
    for i in range(3):
        person = Person(server.base)
        body = await person.join(server.secrets["join_code"], f"Person {i}", "Leeds SP")
        people[body["participant"]["id"]] = person
    sockets = [await person.socket() for person in people.values()]
    await host.act("agenda.start")
    await host.act("agenda.jump", item_id="lcspr-breakout")
    for sock in sockets:  # the split has reached everyone
        await sock.wait_for(lambda m: m["type"] == "breakout.group")
        await sock.close()
    rnd = server.services.breakouts.current
    given = {t for group in rnd.groups.values() for t in group.topics}
    settings = server.agenda.item("lcspr-breakout").breakout
    assert settings is not None
    topics = len(settings.topics)
    ungiven = sorted(set(range(topics)) - given)
    assert ungiven, "every topic went to a group: nothing to check"
    number = next(iter(rnd.groups))
    writer = people[rnd.groups[number].members[0]]
    assert (await writer.act("breakout.volunteer")).status_code == 200
    written = sorted(rnd.groups[number].topics)[0]
    saved = await writer.act("breakout.capture", group=number, topic=written, text="Share early")
    assert saved.status_code == 200, saved.text

    by_topic = (await host.http.get("/feedback")).text
    by_group = (await host.http.get("/feedback?by=group")).text

    assert "chose this topic" not in by_topic + by_group
    for index in ungiven:
        part = section(by_topic, f"fb-topic-{index}")
        assert "No group was given this topic, and none wrote about it." in part
        assert "Covered by" not in part
        assert "Nothing written" not in part
    groups = len(rnd.groups)
    given_unwritten = sum(len(g.topics) for g in rnd.groups.values()) - 1
    assert by_topic.count("Nothing written.") == given_unwritten
    assert by_group.count("Nothing written.") == given_unwritten
    plural = "1 group" if groups == 1 else f"{groups} groups"
    assert f'Covered by <strong id="fb-covered-{written}">1</strong> of {plural}.' in by_topic
    for person in (host, *people.values()):
        await person.close()


async def test_report_lists_items_that_never_ran_and_says_one_vote(server: LiveServer) -> None:
    host = await host_of(server)
    ann = await attendee_of(server, "Ann")
    asked = await ann.act("qa.ask", text="Will the slides be shared?", key="a" * 32)
    qid = asked.json()["question"]["id"]
    await host.act("agenda.skip", item_id="review-qa")
    await host.act("agenda.start")
    await ann.act("qa.vote", question_id=qid, on=True)
    await host.act("agenda.jump", item_id="lcspr")  # passes over the second item

    page = (await host.http.get("/report")).text
    markdown = (await host.http.get("/report.md")).text

    rows = re.findall(r"<tr><td>(.*?)</td>.*?</tr>", page, re.S)
    assert rows[:2] == ["Welcome", "Local Child Safeguarding Practice Reviews"]
    assert "National Review Updates" in rows
    assert "Review Q&amp;A" in rows
    assert "Not run" in page and "Skipped by the host." in page
    assert "(1 vote;" in page
    assert "— 1 vote" in markdown
    assert "| National Review Updates |" in markdown
    assert re.search(r"\| Review Q&A \| \d\d:\d\d–\d\d:\d\d \| not run \| – \| skipped", markdown)
    # While an item runs: "ran 10:00–(still running)", and the row ends "now", never "––".
    assert "––" not in markdown
    assert re.search(r"ran \d\d:\d\d–\(still running\)", markdown)
    assert re.search(
        r"\| Local Child Safeguarding Practice Reviews \| [^|]+ \| \d\d:\d\d–now \|", markdown
    )
    await host.close()
    await ann.close()


async def test_no_highlight_box_until_a_question_is_highlighted(server: LiveServer) -> None:
    host = await host_of(server)
    ann = await attendee_of(server, "Ann")

    pages = [(await host.http.get(p)).text for p in ("/host", "/projector")]
    pages.append((await ann.http.get("/live")).text)

    for page in pages:
        assert re.search(r'<section id="qa-highlight"[^>]* hidden>', page), page[:200]
    await host.close()
    await ann.close()


async def test_vote_button_keeps_a_space_inside_one_inline_span(server: LiveServer) -> None:
    ann = await attendee_of(server, "Ann")
    await ann.act("qa.ask", text="Is there a recording?", key="b" * 32)

    page = (await ann.http.get("/live")).text

    assert re.search(
        r'<button type="submit" class="button vote"[^>]*>\s*<span class="vote-text">'
        r'<span class="vote-label">Vote</span> <span class="count"',
        page,
    )
    await ann.close()


async def test_a_start_that_is_due_says_waiting_for_the_host(tmp_path: Path) -> None:
    late = await serve(tmp_path, shifted(seed_agenda(), datetime.now(UTC) - timedelta(minutes=2)))
    ann = await attendee_of(late, "Ann")

    page = (await ann.http.get("/live")).text
    await ann.close()
    await late.stop()

    now = section(page, "now-heading")
    assert re.search(r'<span class="starts-in" hidden>', now)
    assert re.search(r'<span class="waiting-start">Waiting for the host to start</span>', now)


async def test_a_start_still_to_come_counts_down(tmp_path: Path) -> None:
    soon = await serve(tmp_path, shifted(seed_agenda(), datetime.now(UTC) + timedelta(hours=1)))
    ann = await attendee_of(soon, "Ann")

    page = (await ann.http.get("/live")).text
    await ann.close()
    await soon.stop()

    now = section(page, "now-heading")
    assert '<span class="starts-in">Starts in' in now
    assert '<span class="waiting-start" hidden>' in now


async def test_without_a_qa_slot_the_forum_says_so_instead_of_a_form(tmp_path: Path) -> None:
    seed = seed_agenda()
    agenda = replace(seed, items=tuple(i for i in seed.items if i.kind != "qa"))
    live = await serve(tmp_path, agenda)
    ann = await attendee_of(live, "Ann")

    page = (await ann.http.get("/live")).text
    refused = await ann.act("qa.ask", text="Anyone there?", key="c" * 32)
    await ann.close()
    await live.stop()

    assert "This event has no Q&A session, so questions cannot be sent here." in page
    assert 'id="ask-form"' not in page
    assert refused.status_code == 409


async def test_voters_of_a_merged_question_are_told_their_vote_moved(server: LiveServer) -> None:
    host = await host_of(server)
    ann, bob, cat = [await attendee_of(server, n) for n in ("Ann", "Bob", "Cat")]
    target = (await ann.act("qa.ask", text="Recording?", key="d" * 32)).json()["question"]["id"]
    dup = (await bob.act("qa.ask", text="Is it recorded?", key="e" * 32)).json()["question"]["id"]
    await cat.act("qa.vote", question_id=dup, on=True)
    cat_socket, ann_socket = await cat.socket(), await ann.socket()
    await cat_socket.wait_for(lambda m: m["type"] == "snapshot")
    await ann_socket.wait_for(lambda m: m["type"] == "snapshot")

    bob_socket = await bob.socket()
    await bob_socket.wait_for(lambda m: m["type"] == "snapshot")

    assert (await host.act("qa.merge", question_id=dup, into=target)).status_code == 200
    told = await cat_socket.wait_for(lambda m: m["type"] == "qa.my_vote")
    # Bob (who did not vote) is told nothing: the next event he gets is the host's.
    await host.act("qa.configure", moderation=True)
    await bob_socket.wait_for(lambda m: m["type"] == "qa.settings")

    assert told["data"] == {"question_id": target, "from": dup, "voted": True}
    assert [e for e in bob_socket.events if e["type"] == "qa.my_vote"] == []
    for person in (host, ann, bob, cat):
        await person.close()
    for sock in (cat_socket, ann_socket, bob_socket):
        await sock.close()


async def test_after_the_lock_the_facilitator_box_is_read_only(tmp_path: Path) -> None:
    seed = seed_agenda()
    items = tuple(
        replace(i, breakout=replace(i.breakout, grace_seconds=0)) if i.breakout else i
        for i in seed.items
    )
    live = await serve(tmp_path, replace(seed, items=items))
    host = await host_of(live)
    ann = await attendee_of(live, "Ann")
    sock = await ann.socket()
    await host.act("agenda.start")
    await host.act("agenda.jump", item_id="lcspr-breakout")
    await sock.wait_for(lambda m: m["type"] == "breakout.group")
    await sock.close()
    await ann.act("breakout.volunteer")
    open_page = (await ann.http.get("/live")).text
    host_ws = await host.socket()
    await host_ws.wait_for(lambda m: m["type"] == "snapshot")
    await host.act("agenda.next")
    # The round ends in the breakout service's own task, after the agenda moves on: wait
    # for its event, not for luck (on a busy machine the page can come first).
    await host_ws.wait_for(
        lambda m: m["type"] == "breakout.round" and m["data"]["state"] == "ended"
    )
    await host_ws.close()
    live.offset = timedelta(seconds=1)
    locked_page = (await ann.http.get("/live")).text
    await host.close()
    await ann.close()
    await live.stop()

    locked = "The breakout has ended and your group&#39;s responses are locked"
    assert "readonly" not in section(open_page, "room-heading") and locked not in open_page
    boxes = re.findall(r"<textarea id=\"capture-\d+\"[^>]*>", locked_page)
    assert boxes and all(" readonly" in box for box in boxes)
    assert locked in locked_page
    assert re.search(r'data-locks-at="\d{4}-\d\d-\d\dT[^"]+"', locked_page)


async def test_the_survey_intro_keeps_the_space_between_its_sentences(server: LiveServer) -> None:
    host = await host_of(server)
    ann = await attendee_of(server, "Ann")
    opened = await host.act("survey.state", state="open")

    page = (await ann.http.get("/survey")).text

    assert opened.status_code == 200, opened.text
    assert "not stored with your name. Answers are saved as you go" in page
    assert "name.Answers" not in page
    for person in (host, ann):
        await person.close()
