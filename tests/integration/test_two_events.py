"""Two events at once in one server and one database: nothing crosses.

Each has its own code, links, clock, Q&A, breakout groups and survey, reached under
``/e/<slug>/``. Over HTTP, live sockets, exports and the report, nothing of one reaches
the other; a person of one event is nobody in the other.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from helpers import PATIENCE, LiveServer, Person, Socket, open_database, scrape, site_of
from postgres_cluster import database
from webinar.domain.agenda_file import parse_agenda
from webinar.services import prepare_event
from webinar.services.agenda_files import SEED_AGENDA
from webinar.web.app import Hosted

pytestmark = pytest.mark.integration

SEED_TEXT = SEED_AGENDA.read_text(encoding="utf-8")
SEED_TITLE = 'title = "Child Safeguarding Practice Review Panel Webinar"'
BETA_TITLE = "Neglect learning briefing"


@dataclass
class Side:
    """One event as its people see it."""

    base: str
    secrets: dict[str, str]
    host: Person
    attendees: list[Person]
    sockets: list[Socket]


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[LiveServer]:
    db = database(str(tmp_path / "two.db"))
    text = SEED_TEXT.replace(SEED_TITLE, f'title = "{BETA_TITLE}"')
    beta = parse_agenda(text, "beta.toml", today=date.today())
    _, _, secrets = prepare_event(db, "beta", "beta.toml", text, beta.title)
    live = LiveServer(db, slug="alpha", others=(Hosted("beta", beta, secrets),), aliases=False)
    await live.start()
    yield live
    await live.stop()


def beta_secrets(server: LiveServer) -> dict[str, str]:
    return server.others[0].secrets


async def side(base: str, secrets: dict[str, str], names: list[str]) -> Side:
    host = Person(base)
    await host.enter("host", secrets["host_token"])
    attendees, sockets = [], []
    for name in names:
        person = Person(base)
        await person.join(secrets["join_code"], name, "Org")
        sock = await person.socket()
        await sock.wait_for(lambda m: m["type"] == "snapshot")
        attendees.append(person)
        sockets.append(sock)
    return Side(base, secrets, host, attendees, sockets)


async def close(*events: Side) -> None:
    for event in events:
        for sock in event.sockets:
            await sock.close()
        for person in (event.host, *event.attendees):
            await person.close()


def group_event(message: dict[str, Any]) -> bool:
    return bool(message["type"] == "breakout.group")


async def run_breakout(event: Side, point: str) -> None:
    """Start the event, go to the breakout, and have a facilitator write ``point``."""
    assert (await event.host.act("agenda.start")).status_code == 200
    assert (await event.host.act("agenda.jump", item_id="lcspr-breakout")).status_code == 200
    data = (await event.sockets[0].wait_for(group_event, timeout=5))["data"]
    facilitator = event.attendees[0]
    assert (await facilitator.act("breakout.volunteer")).status_code == 200
    topic = data["topics"][0]["index"]
    saved = await facilitator.act("breakout.capture", group=data["number"], topic=topic, text=point)
    assert saved.status_code == 200, saved.text


async def answer_survey(event: Side, comment: str) -> None:
    assert (await event.host.act("agenda.jump", item_id="closing-remarks")).status_code == 200
    done = await event.attendees[1].act(
        "survey.save", overall="4", role="Police", comments=comment, final=True
    )
    assert done.status_code == 200, done.text


async def texts_seen(sock: Socket) -> str:
    """Everything a socket received so far (and what is already on its way), as text."""
    try:
        while True:
            await sock.next_message(timeout=0.5)
    except TimeoutError:
        pass
    return repr(sock.events) + repr(sock.replies)


async def test_two_events_at_once_share_nothing(server: LiveServer) -> None:
    alpha = await side(f"{server.base}/e/alpha", server.secrets, ["Ann", "Amir"])
    beta = await side(f"{server.base}/e/beta", beta_secrets(server), ["Bea", "Bo"])

    # Q&A in both; the clocks apart: alpha runs its breakout, beta is still before it.
    asked_a = await alpha.attendees[1].act(
        "qa.ask", text="Alpha only question", key=uuid.uuid4().hex
    )
    asked_b = await beta.attendees[1].act("qa.ask", text="Beta only question", key=uuid.uuid4().hex)
    assert (asked_a.status_code, asked_b.status_code) == (200, 200), asked_a.text
    await run_breakout(alpha, "Alpha group point")
    beta_clock = (await beta.host.http.get("/api/agenda")).json()
    alpha_clock = (await alpha.host.http.get("/api/agenda")).json()
    assert beta_clock["status"]["current"] is None  # beta has not started
    assert alpha_clock["status"]["current"] == "lcspr-breakout"
    await run_breakout(beta, "Beta group point")
    await asyncio.gather(answer_survey(alpha, "Alpha comment"), answer_survey(beta, "Beta comment"))

    await assert_nothing_crosses(alpha, "Alpha", "Beta")
    await assert_nothing_crosses(beta, "Beta", "Alpha")
    with contextlib.closing(open_database(server.db_path)) as conn, conn:
        seqs = dict(conn.execute("SELECT webinar_id, count(*) FROM events GROUP BY webinar_id"))
        numbered = conn.execute(
            "SELECT webinar_id, min(seq), max(seq), count(*) FROM events GROUP BY webinar_id"
        ).fetchall()
    assert len(seqs) == 2
    for _, first, last, count in numbered:  # each event's log is numbered on its own
        assert (first, last) == (1, count)
    await close(alpha, beta)


async def assert_nothing_crosses(event: Side, own: str, other: str) -> None:
    """``event`` shows its own words everywhere and the other event's nowhere."""
    host = event.host.http
    views = {
        "questions": (await host.get("/api/qa/questions")).text,
        "questions export": (await host.get("/api/qa/export?format=csv")).text,
        "breakouts export": (await host.get("/api/breakout/export?format=csv")).text,
        "survey export": (await host.get("/api/survey/export?format=csv")).text,
        "report": (await host.get("/report.md")).text,
        "host page": (await host.get("/host")).text,
        "attendee socket": await texts_seen(event.sockets[0]),
    }
    for name, text in views.items():
        assert other not in text, f"{name} of {own} shows {other}'s: {text[:400]}"
    assert f"{own} only question" in views["questions export"]
    assert f"{own} group point" in views["breakouts export"]
    assert f"{own} comment" in views["survey export"]
    assert f"{own} only question" in views["report"]


async def test_a_person_of_one_event_is_nobody_in_the_other(server: LiveServer) -> None:
    alpha = await side(f"{server.base}/e/alpha", server.secrets, ["Ann"])
    beta = await side(f"{server.base}/e/beta", beta_secrets(server), ["Bea"])
    ann, alpha_host = alpha.attendees[0], alpha.host
    asked = await beta.attendees[0].act("qa.ask", text="Beta private", key=uuid.uuid4().hex)
    question_id = asked.json()["question"]["id"]

    # Alpha's people, with their own cookies and CSRF tokens, aimed at beta's addresses.
    for person in (ann, alpha_host):
        person.base = f"{server.base}/e/beta"
        person.http.base_url = person.base
    reads = [(await p.http.get("/api/qa/questions")).status_code for p in (ann, alpha_host)]
    pages = [(await p.http.get("/host")).status_code for p in (ann, alpha_host)]
    acts = [
        (await alpha_host.act("agenda.start")).status_code,
        (await alpha_host.act("qa.hide", question_id=question_id)).status_code,
        (await ann.act("qa.vote", question_id=question_id, on=True)).status_code,
        (await ann.act("qa.ask", text="Sneaked in", key=uuid.uuid4().hex)).status_code,
    ]
    exports = [(await alpha_host.http.get("/api/qa/export")).status_code]
    # Alpha's code and host link, given at beta's door.
    stranger, visitor = Person(f"{server.base}/e/beta"), Person(server.base)
    wrong_code = await stranger.http.post(
        "/api/join", json={"code": server.secrets["join_code"], "name": "Ann"}
    )
    wrong_link = await stranger.http.get(f"/enter/host/{server.secrets['host_token']}")
    with pytest.raises(Exception, match="403"):
        await ann.connect()
    unknown = await visitor.http.get("/e/gamma/live")
    short = await visitor.http.get("/live")  # no short addresses: no main event here
    document = (await visitor.http.get("/e/beta/api/openapi.json")).json()
    await stranger.close()
    await visitor.close()

    assert reads == [401, 401]  # a visitor there: not signed in to beta
    assert all(status in (303, 403) for status in pages)  # to beta's join page, or refused
    assert acts == [401, 401, 401, 401]
    assert exports == [401]
    assert wrong_code.status_code in (400, 403), wrong_code.text
    assert wrong_link.status_code == 403
    assert (unknown.status_code, short.status_code) == (404, 404)
    assert document["servers"] == [{"url": "/e/beta"}]  # its API is under its address
    beta_view = (await beta.host.http.get("/api/qa/questions")).json()
    assert [q["text"] for q in beta_view["questions"]] == ["Beta private"]
    assert beta_view["questions"][0]["state"] == "published"
    await close(alpha, beta)


async def test_a_session_cookie_of_the_one_event_release_still_works(tmp_path: Path) -> None:
    server = LiveServer(str(tmp_path / "old.db"))
    await server.start()
    try:
        ann = Person(server.base)
        await ann.join(server.secrets["join_code"], "Ann")
        own = ann.http.cookies["webinar_session_webinar"]
        ann.http.cookies.clear()
        ann.http.cookies.set("webinar_session", own)  # as the one-event release named it
        short = (await ann.http.get("/api/session")).json()
        elsewhere = Person(f"{server.base}/e/webinar")
        elsewhere.http.cookies.set("webinar_session", own)
        prefixed = (await elsewhere.http.get("/api/session")).json()
        await ann.close()
        await elsewhere.close()
    finally:
        await server.stop()

    assert short["participant"]["name"] == "Ann"  # still Ann at the short addresses
    assert prefixed["participant"] is None  # the old name means nothing elsewhere


async def test_a_poll_of_one_event_cannot_be_answered_or_run_from_the_other(
    server: LiveServer,
) -> None:
    alpha = await side(f"{server.base}/e/alpha", server.secrets, ["Ann"])
    beta = await side(f"{server.base}/e/beta", beta_secrets(server), ["Bea"])
    made = await alpha.host.act(
        "polls.create", question="Alpha only?", kind="single", options=["Yes", "No"]
    )
    poll_id = made.json()["poll"]["id"]
    assert (await alpha.host.act("polls.open", poll_id=poll_id)).status_code == 200

    # Beta's own attendee and host, in beta, naming alpha's poll.
    answered = await beta.attendees[0].act("polls.answer", poll_id=poll_id, choices=[0])
    closed = await beta.host.act("polls.close", poll_id=poll_id)
    alpha_export = (await alpha.host.http.get("/api/polls/export?format=csv")).text
    await close(alpha, beta)

    assert (answered.status_code, closed.status_code) == (404, 404)
    assert answered.json()["error"]["message"] == "There is no such poll."
    assert "Alpha only?" in alpha_export and "Bea" not in alpha_export


#: Root-relative addresses in a page: every one must stay inside its event's base.
ADDRESS = re.compile(r'(?:href|action|hx-post|hx-get|src)="(/[^"]*)"')
#: The site's, shared by every event: its files and its accessibility statement.
SITE_WIDE = ("/static/", "/accessibility")


async def test_every_address_in_an_events_pages_stays_under_its_base(server: LiveServer) -> None:
    beta = await side(f"{server.base}/e/beta", beta_secrets(server), ["Bea"])
    made = await beta.host.act("polls.create", question="Here?", kind="single", options=["A", "B"])
    assert made.status_code == 200
    await beta.host.act("polls.open", poll_id=made.json()["poll"]["id"])
    visitor = Person(f"{server.base}/e/beta")
    pages = {
        "join": await visitor.http.get("/join"),
        "signin": await visitor.http.get("/signin"),
        "live": await beta.attendees[0].http.get("/live"),
        "host": await beta.host.http.get("/host"),
        "projector": await beta.host.http.get("/projector"),
    }
    await visitor.close()
    await close(beta)

    assert {name: page.status_code for name, page in pages.items()} == dict.fromkeys(pages, 200)
    outside = {
        name: sorted(
            {a for a in ADDRESS.findall(page.text) if not a.startswith(("/e/beta/", *SITE_WIDE))}
        )
        for name, page in pages.items()
    }
    assert outside == {name: [] for name in pages}
    assert 'hx-post="/e/beta/api/polls/answer"' in pages["live"].text
    assert 'action="/e/beta/signin"' in pages["signin"].text


def closed(samples: dict[Any, float], event: str, reason: str) -> float | None:
    """``webinar_screens_closed_total`` of one event and reason; None when not reported."""
    key = (("event", event), ("reason", reason))
    return samples.get(("webinar_screens_closed_total", key))


async def test_screens_closed_by_withdrawing_one_event_are_counted_for_it(
    server: LiveServer,
) -> None:
    beta = await side(f"{server.base}/e/beta", beta_secrets(server), ["Bea", "Bo"])
    before = await scrape(server)

    # Archived, purged or given a new agenda: the event stops being served.
    await site_of(server).withdraw("beta")
    for sock in beta.sockets:  # told to reconnect, as after a restart
        await asyncio.wait_for(sock.conn.wait_closed(), PATIENCE)
    withdrawn = await scrape(server)
    # Opened again by its next visit: a new hub, whose own counters start from 0.
    again = await beta.attendees[0].socket()
    await again.wait_for(lambda m: m["type"] == "snapshot")
    reopened = await scrape(server)

    assert [sock.conn.close_code for sock in beta.sockets] == [1013, 1013]
    assert closed(before, "beta", "event_withdrawn") == 0
    assert closed(withdrawn, "beta", "event_withdrawn") == 2
    assert closed(withdrawn, "beta", "too_slow") is None  # its hub went with it
    assert closed(reopened, "beta", "event_withdrawn") == 2
    assert closed(reopened, "beta", "too_slow") == 0
    assert closed(reopened, "beta", "for_good") == 0
    assert closed(reopened, "alpha", "event_withdrawn") == 0
    await again.close()
    await close(beta)
