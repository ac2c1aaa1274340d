"""Live polls against the real server, over real sockets."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import json
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from websockets.exceptions import ConnectionClosed

from helpers import LiveServer, Person, attendee_of, host_of, open_database, seed_agenda
from postgres_cluster import database
from webinar.domain.polls import PollSpec
from webinar.services.access import AccessLimits
from webinar.storage.purge import purge_sync
from webinar.storage.webinars import find_webinar_sync

pytestmark = pytest.mark.integration

CROWD = 200


def key() -> str:
    return uuid.uuid4().hex


def rows(server: LiveServer, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with contextlib.closing(open_database(server.db_path)) as conn, conn:
        return conn.execute(sql, args).fetchall()


class Screen:
    """A JSON live socket whose every message is read as it comes (none is dropped)."""

    def __init__(self, person: Person) -> None:
        self.person = person
        self.messages: list[dict[str, Any]] = []
        self.results: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.snapshot = asyncio.get_running_loop().create_future()
        self.arrived = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None

    async def open(self) -> None:
        self.conn = await self.person.connect()
        await self.conn.send(json.dumps({"type": "resume", "last_seq": None}))
        self._reader = asyncio.create_task(self._read())
        await asyncio.wait_for(self.snapshot, 30)

    async def _read(self) -> None:
        with contextlib.suppress(ConnectionClosed):
            await self._read_all()

    async def _read_all(self) -> None:
        async for raw in self.conn:
            parsed: Any = json.loads(raw)
            # Several events in one message (folded, or a backlog): a JSON array.
            for message in parsed if isinstance(parsed, list) else [parsed]:
                self._note(message)
            self.arrived.set()

    def _note(self, message: dict[str, Any]) -> None:
        self.messages.append(message)
        if message["type"] == "snapshot" and not self.snapshot.done():
            self.snapshot.set_result(message)
        elif message["type"] == "result":
            future = self.results.get(message["id"])
            if future is not None and not future.done():
                future.set_result(message)

    async def act(self, name: str, **params: Any) -> dict[str, Any]:
        ref = key()
        self.results[ref] = asyncio.get_running_loop().create_future()
        await self.conn.send(
            json.dumps({"type": "action", "id": ref, "name": name, "params": params})
        )
        return await asyncio.wait_for(self.results[ref], 60)

    async def close(self) -> None:
        await self.conn.close()
        if self._reader is not None:
            await self._reader

    def events(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m["type"] == kind]


@pytest.fixture
async def crowd_server(tmp_path: Path) -> AsyncIterator[LiveServer]:
    server = LiveServer(
        str(tmp_path / "webinar.db"),
        access_limits=AccessLimits(join_burst=CROWD + 10, joins_per_minute=6000),
    )
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def make_poll(host: Person, **spec: Any) -> int:
    response = await host.act("polls.create", **spec)
    assert response.status_code == 200, response.text
    poll_id: int = response.json()["poll"]["id"]
    return poll_id


async def test_crowd_answers_concurrently_counts_match_and_stay_hidden_until_revealed(
    crowd_server: LiveServer,
) -> None:
    server = crowd_server
    host = await host_of(server)
    first = await make_poll(
        host, question="Which agency?", kind="single", options=["Police", "Health", "School"]
    )
    second = await make_poll(host, question="One word for today?", kind="words")
    assert (await host.act("polls.open", poll_id=first)).status_code == 200
    staff = Screen(host)
    await staff.open()
    people: list[Person] = []
    for start in range(0, CROWD, 25):
        people += await asyncio.gather(
            *(attendee_of(server, f"P{i}") for i in range(start, start + 25))
        )
    screens = [Screen(p) for p in people]
    for start in range(0, CROWD, 25):
        await asyncio.gather(*(s.open() for s in screens[start : start + 25]))
    keys = [key() for _ in people]

    async def answer(i: int) -> list[dict[str, Any]]:
        replies = [
            await screens[i].act("polls.answer", poll_id=first, choices=[i % 3], key=keys[i])
        ]
        if i % 4 == 0:  # a change of mind
            replies.append(
                await screens[i].act("polls.answer", poll_id=first, choices=[2], key=keys[i])
            )
        return replies

    answered, opened = await asyncio.gather(
        asyncio.gather(*(answer(i) for i in range(CROWD))),
        host.act("polls.open", poll_id=second),
    )

    assert opened.status_code == 200
    assert all(r["ok"] for replies in answered for r in replies)
    stored = Counter(
        json.loads(a)[0]
        for (a,) in rows(server, "SELECT answer FROM poll_answers WHERE poll_id = ?", first)
    )
    expected = Counter(2 if i % 4 == 0 else i % 3 for i in range(CROWD))
    assert stored == expected
    assert rows(server, "SELECT COUNT(*) FROM poll_respondents WHERE poll_id = ?", first) == [
        (CROWD,)
    ]
    counts = [expected[0], expected[1], expected[2]]
    final = await wait_for(  # the flush after the last change
        staff,
        lambda m: (
            m["type"] == "polls.results"
            and m["data"]["results"]["poll_id"] == first
            and [r["count"] for r in m["data"]["results"]["rows"]] == counts
        ),
    )
    results = final["data"]["results"]
    assert results["respondents"] == CROWD
    assert [r["percent"] for r in results["rows"]] == [round(100 * c / CROWD, 1) for c in counts]
    # Before the reveal no attendee screen received a count of any poll.
    for screen in screens:
        assert screen.events("polls.results") == []
        assert all(e["data"]["poll"]["results"] is None for e in screen.events("polls.poll"))
    seen_second = [
        s for s in screens if any(e["data"]["poll"]["id"] == second for e in s.events("polls.poll"))
    ]
    assert len(seen_second) == CROWD

    assert (await host.act("polls.reveal", poll_id=first)).status_code == 200
    for screen in screens[:20]:
        revealed = await wait_for(
            screen, lambda m: m["type"] == "polls.poll" and m["data"]["poll"]["results"]
        )
        counts = [r["count"] for r in revealed["data"]["poll"]["results"]["rows"]]
        assert counts == [expected[0], expected[1], expected[2]]

    for screen in [*screens, staff]:
        await screen.close()
    for person in [*people, host]:
        await person.close()


async def wait_for(screen: Screen, predicate: Any, timeout: float = 30.0) -> dict[str, Any]:
    """The first message (already read or still to come) that matches."""

    async def scan() -> dict[str, Any]:
        seen = 0
        while True:
            for message in screen.messages[seen:]:
                if predicate(message):
                    return message
            seen = len(screen.messages)
            screen.arrived.clear()
            await screen.arrived.wait()

    return await asyncio.wait_for(scan(), timeout)


def answer_count(server: LiveServer) -> int:
    ((count,),) = rows(server, "SELECT COUNT(*) FROM poll_answers")
    return int(count)


async def test_bad_answers_get_a_plain_4xx_and_nothing_is_stored(server: LiveServer) -> None:
    host = await host_of(server)
    ann = await attendee_of(server, "Ann")
    choice = await make_poll(host, question="Which?", kind="single", options=["A", "B"])
    words = await make_poll(host, question="Words?", kind="words")
    closed = await make_poll(host, question="Closed?", kind="single", options=["A", "B"])
    for poll_id in (choice, words):
        await host.act("polls.open", poll_id=poll_id)
    k = key()
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"poll_id": words, "words": []}, 400, "Write a word first."),
        ({"poll_id": words, "words": ["   "]}, 400, "Write a word first."),
        ({"poll_id": words, "words": ["x" * 31]}, 400, "the limit is 30"),
        ({"poll_id": words, "words": ["bad\u0007"]}, 400, "control character"),
        ({"poll_id": words, "words": ["a", "b", "c", "d"]}, 400, "'words'"),
        ({"poll_id": choice, "choices": [2]}, 404, "not one of this poll's"),
        ({"poll_id": choice, "choices": []}, 400, "Choose an option first."),
        ({"poll_id": choice, "choices": [0, 1]}, 400, "Choose one option"),
        ({"poll_id": choice, "words": ["A"]}, 400, "takes a choice, not words"),
        ({"poll_id": closed, "choices": [0]}, 409, "not open for answers"),
        ({"poll_id": 9999, "choices": [0]}, 404, "There is no such poll."),
        ({"poll_id": choice, "choices": ["x"]}, 400, "'choices"),
        ({"poll_id": choice, "choices": [0], "key": "short"}, 400, "'key'"),
    ]
    for params, status, words_expected in cases:
        response = await ann.act("polls.answer", **({"key": k} | params))
        assert response.status_code == status, (params, response.text)
        assert words_expected in response.json()["error"]["message"], params
    assert answer_count(server) == 0
    assert rows(server, "SELECT COUNT(*) FROM poll_respondents") == [(0,)]
    await host.close()
    await ann.close()


async def test_an_answer_changes_in_place_and_a_second_key_is_refused(server: LiveServer) -> None:
    host = await host_of(server)
    ann = await attendee_of(server, "Ann")
    poll = await make_poll(host, question="Which?", kind="multiple", options=["A", "B", "C"])
    await host.act("polls.open", poll_id=poll)
    k = key()

    first = await ann.act("polls.answer", poll_id=poll, choices=[0, 1], key=k)
    changed = await ann.act("polls.answer", poll_id=poll, choices=[2], key=k)
    other = await ann.act("polls.answer", poll_id=poll, choices=[1], key=key())

    assert (first.status_code, changed.status_code, other.status_code) == (200, 200, 409)
    assert "answered this poll already" in other.json()["error"]["message"]
    assert rows(server, "SELECT answer FROM poll_answers") == [("[2]",)]
    await host.act("polls.close", poll_id=poll)
    late = await ann.act("polls.answer", poll_id=poll, choices=[0], key=k)
    assert late.status_code == 409
    assert rows(server, "SELECT answer FROM poll_answers") == [("[2]",)]
    await host.close()
    await ann.close()


async def test_the_session_key_is_used_when_the_form_sends_none(server: LiveServer) -> None:
    host = await host_of(server)
    ann = await attendee_of(server, "Ann")
    poll = await make_poll(host, question="Which?", kind="single", options=["A", "B"])
    await host.act("polls.open", poll_id=poll)

    first = await ann.act("polls.answer", poll_id=poll, choices=[0])
    again = await ann.act("polls.answer", poll_id=poll, choices=[1])

    assert (first.status_code, again.status_code) == (200, 200)
    assert rows(server, "SELECT answer FROM poll_answers") == [("[1]",)]
    page = await ann.http.get("/live")
    assert 'id="apoll-1-o1" name="choices" value="1" checked' in page.text
    await host.close()
    await ann.close()


async def test_anonymous_answers_keep_no_participant_and_named_ones_do(server: LiveServer) -> None:
    host = await host_of(server)
    ann = await attendee_of(server, "Ann Example")
    anonymous = await make_poll(host, question="Anon?", kind="single", options=["A", "B"])
    named = await make_poll(
        host, question="Named?", kind="single", options=["A", "B"], anonymous=False
    )
    for poll in (anonymous, named):
        await host.act("polls.open", poll_id=poll)
        assert (await ann.act("polls.answer", poll_id=poll, choices=[0])).status_code == 200

    stored = rows(
        server, "SELECT poll_id, participant_id, author_name FROM poll_answers ORDER BY poll_id"
    )
    me = (await ann.http.get("/api/session")).json()["participant"]["id"]
    assert stored == [(anonymous, None, None), (named, me, "Ann Example")]
    log = " ".join(d for (d,) in rows(server, "SELECT data FROM events"))
    assert me not in log and "Ann Example" not in log
    await host.close()
    await ann.close()


async def test_reset_deletes_answers_and_reopen_keeps_them(server: LiveServer) -> None:
    host = await host_of(server)
    ann = await attendee_of(server, "Ann")
    poll = await make_poll(host, question="Which?", kind="single", options=["A", "B"])
    await host.act("polls.open", poll_id=poll)
    await ann.act("polls.answer", poll_id=poll, choices=[1])
    await host.act("polls.close", poll_id=poll)
    reopened = await host.act("polls.open", poll_id=poll)

    assert reopened.json()["poll"]["results"]["respondents"] == 1
    reset = await host.act("polls.reset", poll_id=poll)
    assert reset.json()["poll"]["state"] == "ready"
    assert answer_count(server) == 0
    await host.act("polls.open", poll_id=poll)
    assert (await ann.act("polls.answer", poll_id=poll, choices=[0])).status_code == 200
    await host.close()
    await ann.close()


async def test_agenda_polls_open_when_their_item_starts(tmp_path: Path) -> None:
    agenda = seed_agenda()
    first = agenda.items[0]
    spec = PollSpec("Ready?", "single", ("Yes", "No"), max_choices=1, opens="start")
    later = PollSpec("And then?", "words")
    items = (replace(first, polls=(spec, later)), *agenda.items[1:])
    server = LiveServer(str(tmp_path / "webinar.db"), agenda=replace(agenda, items=items))
    await server.start()
    try:
        host = await host_of(server)
        ann = await attendee_of(server, "Ann")
        screen = Screen(ann)
        await screen.open()
        await host.act("agenda.start")
        opened = await wait_for(
            screen,
            lambda m: m["type"] == "polls.poll" and m["data"]["poll"]["state"] == "open",
        )
        assert (opened["data"]["poll"]["question"], opened["data"]["poll"]["item_id"]) == (
            "Ready?",
            first.id,
        )
        polls = server.services.polls
        states = [(p.spec.question, p.state) for p in polls.ordered()]
        assert states == [("Ready?", "open"), ("And then?", "ready")]
        assert [polls.poll_data(p, staff=True)["place"] for p in polls.ordered()] == [
            "1 of 2",
            "2 of 2",
        ]
        await screen.close()
        await host.close()
        await ann.close()
    finally:
        await server.stop()


async def test_projector_and_attendee_pages_show_results_only_once_revealed(
    server: LiveServer,
) -> None:
    host = await host_of(server)
    ann = await attendee_of(server, "Ann")
    poll = await make_poll(host, question="One word?", kind="words")
    await host.act("polls.open", poll_id=poll)
    await host.act("polls.project", poll_id=poll)
    await ann.act("polls.answer", poll_id=poll, words=["Trust", "trusts"])

    before = [(await p.http.get(u)).text for p, u in ((host, "/projector"), (ann, "/live"))]
    await host.act("polls.reveal", poll_id=poll)
    after = [(await p.http.get(u)).text for p, u in ((host, "/projector"), (ann, "/live"))]

    assert all("<td>trust</td>" not in page for page in before)
    assert "The results will be shown soon" in before[0]
    assert all("<td>trust</td><td>1</td><td>100.0%</td>" in page for page in after)
    assert all("<svg" in page and "trust: 1" in page for page in after)
    await host.close()
    await ann.close()


async def test_exports_and_report_hold_every_poll_with_its_counts(server: LiveServer) -> None:
    host = await host_of(server)
    people = [await attendee_of(server, f"P{i}") for i in range(3)]
    quiz = await make_poll(
        host, question="Which year?", kind="quiz", options=["2017", "2018"], correct=2
    )
    named = await make_poll(host, question="Name one?", kind="words", anonymous=False)
    await make_poll(host, question="Never run?", kind="rating")
    for poll in (quiz, named):
        await host.act("polls.open", poll_id=poll)
    for i, person in enumerate(people):
        await person.act("polls.answer", poll_id=quiz, choices=[i % 2])
    await people[0].act("polls.answer", poll_id=named, words=["Trust"])
    await host.act("polls.close", poll_id=quiz)

    csv_text = (await host.http.get("/api/polls/export?format=csv")).content.decode("utf-8-sig")
    table = list(csv.DictReader(io.StringIO(csv_text)))
    xlsx = load_workbook(io.BytesIO((await host.http.get("/api/polls/export?format=xlsx")).content))
    survey_book = load_workbook(
        io.BytesIO((await host.http.get("/api/survey/export?format=xlsx")).content)
    )
    report = (await host.http.get("/report.md")).text

    by_answer = {(r["Poll"], r["Answer"]): r for r in table}
    assert by_answer[("1", "2018 (correct)")]["People"] == "1"
    assert by_answer[("1", "2017")]["Percent of respondents"] == "66.7"
    assert by_answer[("1", "2017")]["Respondents"] == "3"
    assert by_answer[("1", "2017")]["Opened at"] and by_answer[("1", "2017")]["Closed at"]
    assert by_answer[("2", "trust")]["People"] == "1"
    assert (by_answer[("3", "1")]["Opened at"], by_answer[("3", "1")]["People"]) == ("", "0")
    answers = list(xlsx["Poll answers"].iter_rows(values_only=True))
    assert sorted(answers[1:]) == sorted(
        [
            (1, "Which year?", "2017", None),
            (1, "Which year?", "2017", None),
            (1, "Which year?", "2018", None),
            (2, "Name one?", "trust", "P0"),
        ]
    )
    assert {"Poll results", "Poll answers"} <= set(survey_book.sheetnames)
    assert "### 1. Which year?" in report and "- 2018 (correct): 1 (33.3%)" in report
    assert "### 3. Never run?" in report and "not run" in report
    for person in [host, *people]:
        await person.close()


async def test_answers_survive_a_restart_and_purge_unlinks_people(tmp_path: Path) -> None:
    db = database(str(tmp_path / "webinar.db"))
    server = LiveServer(db)
    await server.start()
    host = await host_of(server)
    ann = await attendee_of(server, "Ann Example")
    named = await make_poll(host, question="A word?", kind="words", anonymous=False)
    await host.act("polls.open", poll_id=named)
    assert (await ann.act("polls.answer", poll_id=named, words=["Trust"])).status_code == 200
    await host.close()
    await ann.close()
    await server.stop()

    again = LiveServer(db)
    await again.start()
    try:
        polls = again.services.polls
        assert polls.polls[named].state == "open"
        assert [r.count for r in polls.tally(polls.polls[named]).rows] == [1]
    finally:
        await again.stop()
    event = find_webinar_sync(db, again.slug)
    assert event is not None
    purge_sync(db, event.id, free_text=True, text_codes=[])

    assert rows(again, "SELECT participant_id, author_name, answer FROM poll_answers") == [
        (None, None, '["[removed]"]')
    ]
    assert rows(again, "SELECT COUNT(*) FROM poll_respondents") == [(0,)]


async def test_a_poll_not_yet_open_is_not_shown_to_attendees(server: LiveServer) -> None:
    host = await host_of(server)
    ann = await attendee_of(server, "Ann")
    screen = Screen(ann)
    await screen.open()
    quiz = await make_poll(
        host, question="Secret quiz?", kind="quiz", options=["A", "B"], correct=1
    )
    await host.act("polls.project", poll_id=quiz)
    await host.act("polls.open", poll_id=quiz)

    opened = await wait_for(
        screen, lambda m: m["type"] == "polls.poll" and m["data"]["poll"]["state"] == "open"
    )
    before = screen.messages[: screen.messages.index(opened)]
    assert "Secret quiz?" not in json.dumps(before)
    assert [m["data"]["poll"] for m in before if m["type"] == "polls.poll"] == [
        {"id": quiz, "state": "ready", "results": None}
    ] * 2
    assert "correct" not in opened["data"]["poll"]
    await screen.close()
    await host.close()
    await ann.close()


async def test_the_pages_forms_write_and_answer_a_poll(server: LiveServer) -> None:
    host = await host_of(server)
    ann = await attendee_of(server, "Ann")
    form = {
        "question": "Which agencies?",
        "kind": "multiple",
        "options_text": "Police\nHealth\n\nEducation\n",
        "max_choices": "2",
        "correct": "",
        "results": "live",
    }
    headers = {"X-CSRF-Token": host.csrf}
    made = await host.http.post("/api/polls/create", data=form, headers=headers)
    assert made.status_code == 200, made.text
    poll = made.json()["poll"]
    assert (poll["options"], poll["max_choices"], poll["results_mode"], poll["anonymous"]) == (
        ["Police", "Health", "Education"],
        2,
        "live",
        True,
    )
    await host.http.post("/api/polls/open", data={"poll_id": str(poll["id"])}, headers=headers)
    one = await ann.http.post(
        "/api/polls/answer",
        data={"poll_id": str(poll["id"]), "choices": "2"},
        headers={"X-CSRF-Token": ann.csrf},
    )
    two = await ann.http.post(
        "/api/polls/answer",
        content=f"poll_id={poll['id']}&choices=0&choices=1",
        headers={"X-CSRF-Token": ann.csrf, "Content-Type": "application/x-www-form-urlencoded"},
    )
    three = await ann.http.post(
        "/api/polls/answer",
        content=f"poll_id={poll['id']}&choices=0&choices=1&choices=2",
        headers={"X-CSRF-Token": ann.csrf, "Content-Type": "application/x-www-form-urlencoded"},
    )

    assert (one.json()["answer"], two.json()["answer"]) == ([2], [0, 1])
    assert three.status_code == 400
    assert three.json()["error"]["message"] == "Choose up to 2 options; you chose 3."
    assert rows(server, "SELECT answer FROM poll_answers") == [("[0, 1]",)]
    await host.close()
    await ann.close()
