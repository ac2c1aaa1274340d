"""The survey against the real server: a save whose reply is lost, and anonymity that holds
against someone who reads the exports and the database file."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import sqlite3
import struct
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from helpers import LiveServer, Person, attendee_of, free_port, host_of, open_database, seed_agenda

pytestmark = pytest.mark.integration

FREE_TEXT = "Only I came from my group, and my manager would know this was me."


def rows(path: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with contextlib.closing(open_database(path)) as conn:
        return conn.execute(sql, params).fetchall()


@contextlib.asynccontextmanager
async def reply_dropping_proxy(server: LiveServer) -> AsyncIterator[str]:
    """A loopback proxy that forwards a request to the server and, once the server has
    begun to reply (so the change is committed: a reply is written only after COMMIT),
    closes the client's connection without passing the reply on. Yields its base URL."""

    async def handle(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        server_r, server_w = await asyncio.open_connection("127.0.0.1", server.port)

        async def forward() -> None:
            while data := await client_r.read(65536):
                server_w.write(data)
                await server_w.drain()

        pump = asyncio.create_task(forward())
        try:
            await server_r.read(1)  # the server's reply has started
        finally:
            pump.cancel()
            client_w.transport.abort()
            server_w.close()

    port = free_port()
    proxy = await asyncio.start_server(handle, "127.0.0.1", port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        proxy.close()
        await proxy.wait_closed()


async def open_survey(server: LiveServer) -> Person:
    host = await host_of(server)
    await host.act("agenda.start")
    await host.act("agenda.jump", item_id="closing-remarks")
    return host


async def test_a_save_whose_reply_is_lost_is_continued_and_the_survey_completed(
    server: LiveServer,
) -> None:
    host = await open_survey(server)
    ann = await attendee_of(server, "Ann", "Org")
    key = uuid.uuid4().hex

    # The first save commits, but its reply (and the cookie it sets) never arrives.
    async with (
        reply_dropping_proxy(server) as proxy,
        httpx.AsyncClient(base_url=proxy, cookies=ann.http.cookies) as lost,
    ):
        with pytest.raises(httpx.HTTPError):
            await lost.post(
                "/api/survey/save",
                json={"key": key, "overall": "4", "comments": "Typed before the drop"},
                headers={"X-CSRF-Token": ann.csrf},
            )
    stored = rows(server.db_path, "SELECT answers, submitted FROM survey_responses")
    no_key = await ann.act("survey.save", role="Police")
    retried = await ann.act("survey.save", key=key, role="Police")
    submitted = await ann.act("survey.save", key=key, final=True)
    page = await ann.http.get("/survey")

    assert stored == [('{"overall": 4, "comments": "Typed before the drop"}', 0)]
    assert no_key.status_code == 409  # the session never got the key: only the browser has it
    assert retried.status_code == 200, retried.text
    assert retried.json()["answers"] == {
        "overall": 4,
        "role": "Police",
        "comments": "Typed before the drop",
    }
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["submitted"] is True
    assert "You have submitted your answers" in page.text  # the session now has the key
    assert rows(server.db_path, "SELECT count(*), sum(submitted) FROM survey_responses") == [(1, 1)]
    assert rows(server.db_path, "SELECT count(*) FROM survey_respondents") == [(1,)]
    await host.close()
    await ann.close()


async def test_a_key_of_the_wrong_length_is_refused_plainly(server: LiveServer) -> None:
    host = await open_survey(server)
    ann = await attendee_of(server, "Ann", "Org")

    short = await ann.act("survey.save", key="abc", overall="4")

    assert short.status_code == 400
    assert short.json()["error"] == {
        "message": "The survey key must be 16 to 100 characters. Reload the page.",
        "field": "key",
    }
    assert rows(server.db_path, "SELECT count(*) FROM survey_responses") == [(0,)]
    await host.close()
    await ann.close()


def cell_pointers(path: str, table: str) -> list[bytes]:
    """The cell pointer array of each page of ``table``'s b-tree, as stored in the file: it
    changes when a record is moved or rewritten elsewhere in its page."""
    with contextlib.closing(sqlite3.connect(path)) as conn:
        (page_size,) = conn.execute("PRAGMA page_size").fetchone()
        (root,) = conn.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)
        ).fetchone()
    data = Path(path).read_bytes()
    found, todo = [], [root]
    while todo:
        number = todo.pop()
        page = data[(number - 1) * page_size : number * page_size]
        start = 100 if number == 1 else 0
        kind, cells = page[start], struct.unpack(">H", page[start + 3 : start + 5])[0]
        header = 12 if kind in (2, 5) else 8
        array = page[start + header : start + header + 2 * cells]
        found.append(array)
        if kind == 5:  # interior table page: follow the children
            offsets = struct.unpack(f">{cells}H", array)
            todo += [struct.unpack(">I", page[o : o + 4])[0] for o in offsets]
            todo.append(struct.unpack(">I", page[start + 8 : start + 12])[0])
    return found


@pytest.mark.sqlite_only(
    reason="reads SQLite's file layout (cell pointers, rowid); on PostgreSQL a row's xmin"
    " can tie a response to its respondent's flag (see docs/architecture.md)"
)
async def test_an_anonymous_answer_cannot_be_tied_to_its_author(tmp_path: Path) -> None:
    # 12 people in 2 groups of 6; everyone in group 1 answers, and from group 2 only one
    # person, last, with free text. Neither the exports, the results page nor the database
    # file can tell which of the 7 respondents wrote it.
    server = LiveServer(str(tmp_path / "webinar.db"))
    await server.start()
    host = await host_of(server)
    organiser = Person(server.base)
    await organiser.enter("organiser", server.secrets["organiser_token"])
    people = [await attendee_of(server, f"Person {i:02d}", f"Org {i % 4}") for i in range(12)]
    ids = [(await p.http.get("/api/session")).json()["participant"]["id"] for p in people]
    sockets = [await p.socket() for p in people]  # the split takes those who are here
    for sock in sockets:
        await sock.wait_for(lambda m: m["type"] == "snapshot")
    host_ws = await host.socket()
    await host.act("agenda.start")
    await host.act("agenda.jump", item_id="lcspr-breakout")
    await host_ws.wait_for(lambda m: m["type"] == "breakout.grid")
    group_of = dict(
        rows(server.db_path, "SELECT participant_id, group_number FROM breakout_members")
    )
    assert sorted(list(group_of.values()).count(g) for g in set(group_of.values())) == [6, 6]
    await host.act("agenda.jump", item_id="closing-remarks")
    for sock in (host_ws, *sockets):
        await sock.close()
    await server.stop()  # the file as it stands (a clean stop checkpoints the log) ...
    before = cell_pointers(server.db_path, "participants")
    await server.start()  # ... and the same event goes on
    one, two = sorted(set(group_of.values()))
    in_one = [p for p, pid in zip(people, ids, strict=True) if group_of[pid] == one]
    author = next(p for p, pid in zip(people, ids, strict=True) if group_of[pid] == two)
    for number, person in enumerate(in_one):
        saved = await person.act(
            "survey.save", key=uuid.uuid4().hex, overall=str(3 + number % 3), final=True
        )
        assert saved.status_code == 200, saved.text
    saved = await author.act(
        "survey.save", key=uuid.uuid4().hex, overall="2", comments=FREE_TEXT, final=True
    )
    assert saved.status_code == 200, saved.text

    csv_export = await organiser.http.get("/api/survey/export?format=csv")
    results = await organiser.http.get("/results")
    group_pages = [
        await organiser.http.get(f"/results/group?group={g}") for g in (one, two, "none")
    ]
    await server.stop()
    path = server.db_path

    # The export: no group (or anything else) beside the free text.
    table = list(csv.DictReader(io.StringIO(csv_export.content.decode("utf-8-sig"))))
    written = [r for r in table if r["comments"] == FREE_TEXT]
    assert len(table) == 7 and len(written) == 1
    survey = server.agenda.survey
    assert survey is not None
    assert set(written[0]) == {"response", "submitted"} | {q.code for q in survey.questions}
    # The results page: not split by group, and no group page.
    assert f"Group {two}" not in results.text and f"Group {one}" not in results.text
    assert [page.status_code for page in group_pages] == [404, 404, 404]
    assert FREE_TEXT in results.text  # still reported, in the overall results
    # The database: no participant, group, time or row id on the responses ...
    columns = [c[1] for c in rows(path, "PRAGMA table_info(survey_responses)")]
    assert columns == [
        "webinar_id",
        "key_hash",
        "participant_id",
        "breakout_group",
        "answers",
        "submitted",
    ]
    assert rows(path, "SELECT count(*) FROM survey_responses") == [(7,)]
    assert rows(
        path,
        "SELECT count(*) FROM survey_responses"
        " WHERE participant_id IS NOT NULL OR breakout_group IS NOT NULL",
    ) == [(0,)]
    with pytest.raises(sqlite3.OperationalError, match="rowid"):
        rows(path, "SELECT rowid FROM survey_responses")
    # ... so the join of respondents, groups and responses leaves all 7 respondents as
    # candidates for the free text, not the one from group 2.
    candidates = rows(
        path,
        "SELECT DISTINCT p.id FROM survey_responses r, participants p"
        " LEFT JOIN breakout_members m ON m.participant_id = p.id"
        " WHERE p.survey_responded = 1 AND r.answers LIKE ?"
        " AND (r.breakout_group IS NULL OR r.breakout_group = m.group_number)",
        (f"%{FREE_TEXT[:20]}%",),
    )
    assert len(candidates) == 7
    # Marking the respondents rewrote no participant's record elsewhere in its page (the
    # flag changes in place), so the file keeps no order in which people responded.
    assert cell_pointers(path, "participants") == before
    # And the event log says nothing of the survey (its times would date each response).
    assert rows(path, "SELECT count(*) FROM events WHERE type LIKE 'survey.%'") == [(0,)]
    for person in (host, organiser, *people):
        await person.close()


async def test_a_named_survey_keeps_the_respondent_and_is_split_by_group(tmp_path: Path) -> None:
    agenda = seed_agenda()
    assert agenda.survey is not None
    named = replace(agenda, survey=replace(agenda.survey, anonymous=False))
    server = LiveServer(str(tmp_path / "webinar.db"), agenda=named)
    await server.start()
    host = await open_survey(server)
    organiser = Person(server.base)
    await organiser.enter("organiser", server.secrets["organiser_token"])
    ann = await attendee_of(server, "Ann", "Org")

    saved = await ann.act("survey.save", key=uuid.uuid4().hex, overall="4", final=True)
    csv_export = await organiser.http.get("/api/survey/export?format=csv")
    results = await organiser.http.get("/results")

    assert saved.status_code == 200, saved.text
    table = list(csv.DictReader(io.StringIO(csv_export.content.decode("utf-8-sig"))))
    assert [(r["breakout_group"], r["overall"]) for r in table] == [("", "4")]
    assert 'hx-get="/results/group?group=none"' not in results.text  # 1 < 5: suppressed
    assert "No group" in results.text
    assert rows(server.db_path, "SELECT count(participant_id) FROM survey_responses") == [(1,)]
    for person in (host, organiser, ann):
        await person.close()
    await server.stop()
