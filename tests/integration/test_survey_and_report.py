"""The post-event survey, results, exports and the event report against the real server."""

from __future__ import annotations

import contextlib
import csv
import io
import uuid
from typing import Any

import pytest
from openpyxl import load_workbook

from helpers import LiveServer, Person, attendee_of, host_of, open_database

pytestmark = pytest.mark.integration


async def attendee(server: LiveServer, name: str) -> Person:
    return await attendee_of(server, name, "Org")


def rows(server: LiveServer, sql: str) -> list[tuple[Any, ...]]:
    with contextlib.closing(open_database(server.db_path)) as conn, conn:
        return conn.execute(sql).fetchall()


async def test_survey_opens_at_closing_and_takes_one_response_each(server: LiveServer) -> None:
    host = await host_of(server)
    ann, bob = await attendee(server, "Ann"), await attendee(server, "Bob")
    await ann.act("qa.ask", text="Will slides be shared?", key=uuid.uuid4().hex)
    await host.act("agenda.start")

    too_early = await ann.act("survey.save", overall="4")
    await host.act("agenda.jump", item_id="closing-remarks")
    partial = await ann.act("survey.save", national_reviews_useful="5")
    missing = await ann.act("survey.save", final=True)
    out_of_scale = await ann.act("survey.save", overall="9")
    unknown_option = await ann.act("survey.save", role="Astronaut")
    not_asked = await bob.act("survey.save", question_answered="Yes")
    done = await ann.act(
        "survey.save",
        overall="4",
        most_useful_sessions=["LCSPR Breakout", "Review Q&A"],
        role="Police",
        question_answered="Partly",
        comments="<script>alert(1)</script> thanks",
        final=True,
    )
    edited = await ann.act("survey.save", overall="5")
    bob_done = await bob.act("survey.save", overall="3", role="Health", final=True)

    assert too_early.status_code == 409
    assert too_early.json()["error"]["message"] == "The survey is not open yet."
    assert partial.status_code == 200
    assert partial.json() == {
        "ok": True,
        "answers": {"national_reviews_useful": 5},
        "submitted": False,
    }
    assert missing.status_code == 400
    assert missing.json()["error"]["field"] == "overall"
    assert out_of_scale.status_code == 400
    assert unknown_option.status_code == 400
    assert not_asked.status_code == 400
    assert done.status_code == 200, done.text
    assert done.json()["submitted"] is True
    assert edited.json()["answers"]["overall"] == 5
    assert bob_done.status_code == 200
    assert rows(server, "SELECT count(*), count(participant_id) FROM survey_responses") == [(2, 0)]
    assert rows(server, "SELECT count(*) FROM survey_respondents") == [(2,)]
    await host.close()
    await ann.close()
    await bob.close()


async def test_second_response_from_another_session_is_refused(server: LiveServer) -> None:
    host = await host_of(server)
    ann = await attendee(server, "Ann")
    await host.act("agenda.start")
    await host.act("agenda.jump", item_id="closing-remarks")
    assert (await ann.act("survey.save", overall="4")).status_code == 200
    ws = await ann.socket()
    await ws.wait_for(lambda m: m["type"] == "snapshot")

    # A socket cannot carry the session's survey key: it is like another browser.
    await ws.conn.send(
        '{"type": "action", "id": "s", "name": "survey.save", "params": {"overall": "2"}}'
    )
    reply = await ws.wait_for(lambda m: m.get("type") == "result")

    assert reply["status"] == 409
    assert reply["error"]["message"].startswith("You have already started the survey")
    assert rows(server, "SELECT answers FROM survey_responses") == [('{"overall": 4}',)]
    await ws.close()
    await host.close()
    await ann.close()


async def test_closed_survey_refuses_answers(server: LiveServer) -> None:
    host = await host_of(server)
    ann = await attendee(server, "Ann")
    await host.act("survey.state", state="closed")

    response = await ann.act("survey.save", overall="4")

    assert response.status_code == 409
    assert response.json()["error"]["message"] == (
        "The survey has closed; answers can no longer change."
    )
    await host.close()
    await ann.close()


async def test_results_exports_and_report(server: LiveServer) -> None:
    host = await host_of(server)
    organiser = Person(server.base)
    await organiser.enter("organiser", server.secrets["organiser_token"])
    people = [await attendee(server, f"P{i}") for i in range(6)]
    qid = (await people[0].act("qa.ask", text="What about SUDI?", key=uuid.uuid4().hex)).json()[
        "question"
    ]["id"]
    await host.act("agenda.start")
    await host.act("agenda.extend", minutes=3)
    await host.act("qa.answer", question_id=qid, text="See the review.", key=uuid.uuid4().hex)
    await host.act("survey.state", state="open")
    for i, person in enumerate(people):
        answer = await person.act(
            "survey.save",
            overall=str(3 + i % 3),
            most_useful_sessions=["LCSPR Breakout", "Review Q&A"][: 1 + i % 2],
            role="Police" if i < 4 else "Health",
            final=True,
        )
        assert answer.status_code == 200, answer.text

    results = await organiser.http.get("/results")
    csv_export = await organiser.http.get("/api/survey/export?format=csv")
    xlsx_export = await organiser.http.get("/api/survey/export?format=xlsx")
    report = await organiser.http.get("/report")
    markdown = await organiser.http.get("/report.md")
    no_group = await organiser.http.get("/results/group?group=none")
    missing_group = await organiser.http.get("/results/group?group=7")
    refused = await people[0].http.get("/api/survey/export?format=csv")
    refused_page = await people[0].http.get("/results")

    assert results.status_code == 200
    assert "<svg" in results.text
    # An anonymous survey is not split by breakout group (not even "No group").
    assert "/results/group" not in results.text
    assert "so its answers are not split by breakout group" in results.text
    assert no_group.status_code == 404
    assert missing_group.status_code == 404
    assert "66.7%" in results.text  # 4 of 6 chose Police
    table = list(csv.DictReader(io.StringIO(csv_export.content.decode("utf-8-sig"))))
    assert len(table) == 6
    assert "breakout_group" not in table[0]
    assert sorted(r["role"] for r in table) == ["Health"] * 2 + ["Police"] * 4
    # Rows are in a random order (not the order of saving): count, not position.
    sessions = sorted(r["most_useful_sessions"] for r in table)
    assert sessions == ["LCSPR Breakout"] * 3 + ["Review Q&A; LCSPR Breakout"] * 3
    book = load_workbook(io.BytesIO(xlsx_export.content))
    assert book.sheetnames == ["Responses", "Codebook", "Poll results", "Poll answers"]
    codebook = list(book["Codebook"].iter_rows(min_row=2, values_only=True))
    assert [r[0] for r in codebook][:2] == ["overall", "national_reviews_useful"]
    assert report.status_code == 200
    assert "What about SUDI?" in report.text
    assert "See the review." in report.text
    assert "extended 3 min" in report.text
    assert markdown.text.startswith("# Child Safeguarding Practice Review Panel Webinar")
    assert "| Welcome |" in markdown.text
    assert "What about SUDI?" in markdown.text
    assert (refused.status_code, refused_page.status_code) == (403, 403)
    for person in (host, organiser, *people):
        await person.close()
