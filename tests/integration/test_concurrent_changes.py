"""Changes that land in the same group-commit batch build on each other."""

from __future__ import annotations

import asyncio
import contextlib
import uuid

import pytest

from helpers import LiveServer, attendee_of, host_of, open_database

pytestmark = pytest.mark.integration


async def test_two_extends_at_once_both_count(server: LiveServer) -> None:
    host = await host_of(server)
    await host.act("agenda.start")
    before = server.services.agenda_service.state.extension

    results = await asyncio.gather(*(host.act("agenda.extend", minutes=5) for _ in range(2)))

    assert [r.status_code for r in results] == [200, 200]
    assert (server.services.agenda_service.state.extension - before).total_seconds() == 600
    await host.close()


async def test_pin_and_highlight_at_once_both_hold(server: LiveServer) -> None:
    host = await host_of(server)
    ann = await attendee_of(server, "Ann")
    qid = (await ann.act("qa.ask", text="Both?", key=uuid.uuid4().hex)).json()["question"]["id"]

    results = await asyncio.gather(
        host.act("qa.pin", question_id=qid), host.act("qa.highlight", question_id=qid)
    )

    assert [r.status_code for r in results] == [200, 200]
    with contextlib.closing(open_database(server.db_path)) as conn, conn:
        assert conn.execute("SELECT pinned, highlighted FROM questions").fetchall() == [(1, 1)]
    question = server.services.qa.questions[qid]
    assert (question.pinned, question.highlighted) == (True, True)
    await host.close()
    await ann.close()


async def test_two_replies_at_once_both_reach_the_screens(server: LiveServer) -> None:
    host = await host_of(server)
    ann, bob = await attendee_of(server, "Ann"), await attendee_of(server, "Bob")
    qid = (await ann.act("qa.ask", text="Replies?", key=uuid.uuid4().hex)).json()["question"]["id"]
    watcher = await host.socket()
    await watcher.wait_for(lambda m: m["type"] == "snapshot")

    await asyncio.gather(
        ann.act("qa.reply", question_id=qid, text="first", key=uuid.uuid4().hex),
        bob.act("qa.reply", question_id=qid, text="second", key=uuid.uuid4().hex),
    )
    # The later event carries both replies (the cards replace their whole list).
    last = await watcher.wait_for(
        lambda m: m["type"] == "qa.question" and len(m["data"]["question"]["replies"]) == 2
    )

    assert sorted(r["text"] for r in last["data"]["question"]["replies"]) == ["first", "second"]
    await watcher.close()
    for person in (host, ann, bob):
        await person.close()


async def test_two_volunteers_at_once_one_facilitator(server: LiveServer) -> None:
    host = await host_of(server)
    people = [await attendee_of(server, f"P{i}") for i in range(2)]
    sockets = [await p.socket() for p in people]
    for sock in sockets:
        await sock.wait_for(lambda m: m["type"] == "snapshot")
    await host.act("agenda.start")
    await host.act("agenda.jump", item_id="lcspr-breakout")
    for sock in sockets:
        await sock.wait_for(lambda m: m["type"] == "breakout.group")

    results = await asyncio.gather(*(p.act("breakout.volunteer") for p in people))

    assert sorted(r.status_code for r in results) == [200, 409]
    winner = next(r for r in results if r.status_code == 200).json()["facilitator"]
    group = server.services.breakouts.current.groups[1]
    assert group.facilitator_id == winner
    for sock in sockets:
        await sock.close()
    for person in (host, *people):
        await person.close()
