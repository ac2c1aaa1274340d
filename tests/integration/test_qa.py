"""The Q&A forum against the real server, with several live screens."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import uuid
from typing import Any

import pytest
from openpyxl import load_workbook

from helpers import LiveServer, Person, Socket, attendee_of, host_of, open_database, tables_query

pytestmark = pytest.mark.integration


def key() -> str:
    return uuid.uuid4().hex


async def live(person: Person) -> Socket:
    sock = await person.socket()
    await sock.wait_for(lambda m: m["type"] == "snapshot")
    return sock


def question_event(text: str) -> Any:
    return lambda m: m["type"] == "qa.question" and m["data"]["question"].get("text") == text


def rows(server: LiveServer, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with contextlib.closing(open_database(server.db_path)) as conn, conn:
        return conn.execute(sql, args).fetchall()


async def test_published_question_reaches_every_screen(server: LiveServer) -> None:
    host = await host_of(server)
    ann, bob = await attendee_of(server, "Ann", "Leeds SP"), await attendee_of(server, "Bob")
    host_ws, bob_ws = await live(host), await live(bob)

    response = await ann.act("qa.ask", text="How will the review be published?", key=key())

    assert response.status_code == 200, response.text
    assert response.json()["question"]["state"] == "published"
    seen_by_bob = await bob_ws.wait_for(question_event("How will the review be published?"))
    seen_by_host = await host_ws.wait_for(question_event("How will the review be published?"))
    assert seen_by_bob["data"]["question"]["author"] == "Ann"
    assert seen_by_bob["data"]["question"]["item_id"] == "review-qa"
    assert seen_by_bob["data"]["counters"] == {"received": 1, "published": 1, "answered": 0}
    assert "held_by_filter" not in seen_by_bob["data"]["question"]
    assert seen_by_host["data"]["question"]["held_by_filter"] is False
    for person in (host, ann, bob):
        await person.close()


async def test_moderated_question_is_invisible_until_approved(server: LiveServer) -> None:
    host = await host_of(server)
    assert (await host.act("qa.configure", moderation=True)).status_code == 200
    ann, bob = await attendee_of(server, "Ann"), await attendee_of(server, "Bob")
    host_ws, bob_ws = await live(host), await live(bob)

    asked = (await ann.act("qa.ask", text="Is the criteria list final?", key=key())).json()
    qid = asked["question"]["id"]
    staff = await host_ws.wait_for(question_event("Is the criteria list final?"))
    before = (await bob.http.get("/api/qa/questions")).json()["questions"]
    with pytest.raises(TimeoutError):
        await bob_ws.wait_for(lambda m: m["type"] == "qa.question", timeout=0.5)
    mine = (await ann.http.get("/api/qa/questions")).json()["mine"]

    assert (await host.act("qa.approve", question_id=qid)).status_code == 200
    approved = await bob_ws.wait_for(question_event("Is the criteria list final?"))

    assert asked["question"]["state"] == "pending"
    assert staff["data"]["question"]["state"] == "pending"
    assert before == []
    assert [(m["id"], m["state"]) for m in mine] == [(qid, "pending")]
    assert approved["data"]["question"]["state"] == "published"
    assert approved["data"]["new"] is True
    for person in (host, ann, bob):
        await person.close()


async def test_author_sees_the_state_of_their_own_question_live(server: LiveServer) -> None:
    host = await host_of(server)
    await host.act("qa.configure", moderation=True)
    ann = await attendee_of(server, "Ann")
    ann_ws = await live(ann)

    asked = (await ann.act("qa.ask", text="Can we see the data?", key=key(), anonymous=True)).json()
    qid = asked["question"]["id"]
    pending = await ann_ws.wait_for(lambda m: m["type"] == "qa.mine")
    await host.act("qa.reject", question_id=qid, reason="identifying")
    rejected = await ann_ws.wait_for(lambda m: m["type"] == "qa.mine")

    assert pending["data"]["question"]["state"] == "pending"
    assert rejected["data"]["question"]["state"] == "rejected"
    assert rejected["data"]["question"]["reject_text"] == (
        "It could identify a child, family or colleague."
    )
    await host.close()
    await ann.close()


async def test_triple_submit_with_one_key_stores_one_question(server: LiveServer) -> None:
    ann = await attendee_of(server, "Ann")
    same = key()

    responses = await asyncio.gather(
        *(ann.act("qa.ask", text="Only once, please", key=same) for _ in range(3))
    )

    assert [r.status_code for r in responses] == [200, 200, 200]
    assert len({r.json()["question"]["id"] for r in responses}) == 1
    assert sorted(r.json()["created"] for r in responses) == [False, False, True]
    assert rows(server, "SELECT count(*) FROM questions") == [(1,)]
    await ann.close()


async def test_anonymous_question_has_no_author_anywhere(server: LiveServer) -> None:
    host = await host_of(server)
    ann = await attendee_of(server, "Annabel Quist", "Quistshire Police")
    ann_id = (await ann.http.get("/api/session")).json()["participant"]["id"]
    secret_key = key()

    asked = await ann.act(
        "qa.ask", text="What if a partner disagrees?", key=secret_key, anonymous=True
    )
    qid = asked.json()["question"]["id"]
    await ann.act("qa.reply", question_id=qid, text="Adding context", key=key(), anonymous=True)
    export = (await host.http.get("/api/qa/export?format=csv")).content.decode("utf-8-sig")

    question_row = rows(
        server, "SELECT author_id, author_name, author_org, anonymous FROM questions"
    )
    reply_row = rows(server, "SELECT author_id, author_name FROM replies")
    assert question_row == [(None, None, None, 1)]
    assert reply_row == [(None, None)]
    with contextlib.closing(open_database(server.db_path)) as conn, conn:
        tables = [r[0] for r in conn.execute(tables_query(server.db_path))]
        for table in tables:
            stored = str(conn.execute(f"SELECT * FROM {table}").fetchall())
            assert secret_key not in stored, table
            if table not in ("participants", "sessions"):
                for secret in ("Annabel", "Quist", ann_id):
                    assert secret not in stored, (table, secret)
    events = " ".join(
        str(r) for r in rows(server, "SELECT audience, data FROM events WHERE type LIKE 'qa.%'")
    )
    assert "Annabel" not in events
    assert "Quist" not in events
    assert ann_id not in events
    assert secret_key not in events
    table = list(csv.DictReader(io.StringIO(export)))
    assert [(r["Question"], r["Author"], r["Organisation"], r["Anonymous"]) for r in table] == [
        ("What if a partner disagrees?", "", "", "yes")
    ]
    assert table[0]["Replies"] == "Anonymous: Adding context"
    mine = (await ann.http.get("/api/qa/questions")).json()["mine"]
    assert [m["id"] for m in mine] == [qid]
    await host.close()
    await ann.close()


async def test_only_the_author_can_edit_an_anonymous_question(server: LiveServer) -> None:
    ann, bob = await attendee_of(server, "Ann"), await attendee_of(server, "Bob")
    qid = (await ann.act("qa.ask", text="Typo in questoin", key=key(), anonymous=True)).json()[
        "question"
    ]["id"]

    by_bob = await bob.act("qa.edit", question_id=qid, text="Hijacked")
    by_ann = await ann.act("qa.edit", question_id=qid, text="Typo in question")

    assert by_bob.status_code == 403
    assert by_bob.json()["error"]["message"] == "You can only edit your own questions."
    assert by_ann.status_code == 200
    assert rows(server, "SELECT text FROM questions") == [("Typo in question",)]
    await ann.close()
    await bob.close()


async def test_votes_are_one_per_person_and_bursts_are_coalesced(server: LiveServer) -> None:
    host = await host_of(server)
    ann = await attendee_of(server, "Ann")
    qid = (await ann.act("qa.ask", text="Vote for me", key=key())).json()["question"]["id"]
    voters = [await attendee_of(server, f"Voter {i}") for i in range(40)]
    host_ws = await live(host)

    results = await asyncio.gather(*(v.act("qa.vote", question_id=qid) for v in voters))
    again = await voters[0].act("qa.vote", question_id=qid)
    withdrawn = await voters[1].act("qa.vote", question_id=qid, on=False)
    # The flusher announces the last count (39) within a second or so; then nothing more.
    last = await host_ws.wait_for(
        lambda m: m["type"] == "qa.votes" and m["data"]["votes"] == {str(qid): 39}, timeout=30
    )
    vote_events = [e for e in host_ws.events if e["type"] == "qa.votes"]
    assert vote_events[-1] is last
    while True:
        try:
            message = await host_ws.next_message(timeout=0.3)
        except TimeoutError:
            break
        if message["type"] == "qa.votes":
            vote_events.append(message)

    assert [r.status_code for r in results] == [200] * 40
    assert again.json()["votes"] == 40
    assert withdrawn.json()["votes"] == 39
    assert rows(server, "SELECT votes FROM questions WHERE id = ?", qid) == [(39,)]
    assert 1 <= len(vote_events) <= 6
    assert vote_events[-1]["data"]["votes"] == {str(qid): 39}
    for person in (host, ann, *voters):
        await person.close()


async def test_bad_questions_get_clear_messages_and_store_nothing(server: LiveServer) -> None:
    host = await host_of(server)
    ann = await attendee_of(server, "Ann")
    cases: list[tuple[dict[str, Any], int, str | None]] = [
        ({"text": "   ", "key": key()}, 400, "Please write your question first."),
        (
            {"text": "x" * 501, "key": key()},
            400,
            "Your question is 501 characters long; the limit is 500. Please shorten it.",
        ),
        ({"text": "ok", "key": "short"}, 400, None),
        ({"text": "ok", "key": key(), "item_id": "nope"}, 404, None),
        ({"text": "ok", "key": key(), "item_id": "welcome"}, 404, None),
        ({"text": "ok", "key": key(), "anonymous": "perhaps"}, 400, None),
        ({"text": 5, "key": key()}, 400, None),
        ({"text": "ok", "key": key(), "author": "someone"}, 400, None),
    ]
    for body, status, message in cases:
        response = await ann.act("qa.ask", **body)
        assert response.status_code == status, (body, response.text)
        if message:
            assert response.json()["error"]["message"] == message
    await host.act("qa.configure", open=False)
    closed = await ann.act("qa.ask", text="Closed?", key=key())

    assert closed.status_code == 409
    assert closed.json()["error"]["message"] == "The Q&A forum is closed at the moment."
    assert rows(server, "SELECT count(*) FROM questions") == [(0,)]
    await host.close()
    await ann.close()


async def test_vote_on_a_hidden_question_is_refused(server: LiveServer) -> None:
    host = await host_of(server)
    ann, bob = await attendee_of(server, "Ann"), await attendee_of(server, "Bob")
    qid = (await ann.act("qa.ask", text="Hide me", key=key())).json()["question"]["id"]
    await host.act("qa.hide", question_id=qid)

    response = await bob.act("qa.vote", question_id=qid)

    assert response.status_code == 404
    assert rows(server, "SELECT count(*) FROM votes") == [(0,)]
    for person in (host, ann, bob):
        await person.close()


async def test_question_flood_is_rate_limited(server: LiveServer) -> None:
    ann = await attendee_of(server, "Ann")

    statuses = [
        (await ann.act("qa.ask", text=f"Question {i}", key=key())).status_code for i in range(7)
    ]
    refused = await ann.act("qa.ask", text="One more", key=key())

    assert statuses == [200] * 5 + [409] * 2
    assert refused.json()["error"]["message"].startswith(
        "You have sent a lot of questions in the last minute. Please wait"
    )
    assert rows(server, "SELECT count(*) FROM questions") == [(5,)]
    await ann.close()


async def test_script_in_a_question_is_shown_as_text(server: LiveServer) -> None:
    ann = await attendee_of(server, "Ann")
    text = '<script>alert("x")</script> e\u0301 مرحبا 👋'

    await ann.act("qa.ask", text=text, key=key())
    page = (await ann.http.get("/live")).text

    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; e\u0301 مرحبا 👋" in page
    assert '<script>alert("x")</script>' not in page
    assert rows(server, "SELECT text FROM questions") == [(text,)]
    await ann.close()


async def test_host_moderation_flow_and_export(server: LiveServer) -> None:
    host = await host_of(server)
    ann, bob = await attendee_of(server, "Ann", "Trust A"), await attendee_of(server, "Bob")
    first = (await ann.act("qa.ask", text="What is an LCSPR?", key=key())).json()
    dup = (await bob.act("qa.ask", text="what's a LCSPR", key=key())).json()
    q1, q2 = first["question"]["id"], dup["question"]["id"]
    await bob.act("qa.vote", question_id=q2)
    await ann.act("qa.vote", question_id=q2)
    await ann.act("qa.vote", question_id=q1)
    projector = await live(host)

    merged = await host.act("qa.merge", question_id=q2, into=q1)
    await host.act("qa.highlight", question_id=q1)
    highlight = await projector.wait_for(lambda m: m["type"] == "qa.highlight")
    await host.act("qa.correct", question_id=q1, text="What is an LCSPR exactly?")
    await host.act("qa.answer", question_id=q1, text="A local review.", key=key())
    await bob.act("qa.reply", question_id=q1, text="Thanks!", key=key())
    xlsx = await host.http.get("/api/qa/export?format=xlsx")
    by_attendee = await ann.http.get("/api/qa/export?format=xlsx")

    assert merged.json()["question"]["votes"] == 2
    assert highlight["data"]["question"]["id"] == q1
    assert by_attendee.status_code == 403
    sheet = load_workbook(io.BytesIO(xlsx.content))["Questions"]
    table = [[cell.value for cell in row] for row in sheet.iter_rows(values_only=False)]
    header = table[0]
    records = [dict(zip(header, row, strict=True)) for row in table[1:]]
    assert [r["Question id"] for r in records] == [q1, q2]
    assert records[0]["Question"] == "What is an LCSPR exactly?"
    assert records[0]["Author"] == "Ann"
    assert records[0]["Organisation"] == "Trust A"
    assert records[0]["Votes"] == 2
    assert records[0]["Answered"] == "written"
    assert records[0]["Written answer"] == "A local review."
    assert records[0]["Replies"] == "Bob: Thanks!"
    assert records[0]["Edited by host"] == "yes"
    assert records[1]["State"] == "merged"
    assert records[1]["Merged into"] == q1
    for person in (host, ann, bob):
        await person.close()


async def test_attendee_is_refused_every_moderation_action(server: LiveServer) -> None:
    from webinar.web.actions import REGISTRY

    ann = await attendee_of(server, "Ann")
    qid = (await ann.act("qa.ask", text="Mine", key=key())).json()["question"]["id"]
    host_only = sorted(
        n for n, a in REGISTRY.items() if n.startswith("qa.") and "attendee" not in a.roles
    )

    statuses = {name: (await ann.act(name, question_id=qid)).status_code for name in host_only}

    assert statuses == {name: 403 for name in host_only}
    assert rows(server, "SELECT state, highlighted, pinned FROM questions") == [("published", 0, 0)]
    await ann.close()


async def test_carry_over_moves_unanswered_questions(server: LiveServer) -> None:
    host = await host_of(server)
    ann = await attendee_of(server, "Ann")
    ids = [
        (await ann.act("qa.ask", text=f"Q{i}", key=key())).json()["question"]["id"]
        for i in range(3)
    ]
    await host.act("qa.answered_live", question_id=ids[0])

    moved = await host.act("qa.carry_over", from_item="review-qa", to_item="lcspr-qa")
    backwards = await host.act("qa.carry_over", from_item="lcspr-qa", to_item="review-qa")

    assert moved.json()["moved"] == 2
    assert backwards.status_code == 400
    assert rows(server, "SELECT id, item_id FROM questions ORDER BY id") == [
        (ids[0], "review-qa"),
        (ids[1], "lcspr-qa"),
        (ids[2], "lcspr-qa"),
    ]
    await host.close()
    await ann.close()


async def test_host_hides_a_reply_that_names_someone(server: LiveServer) -> None:
    """A reply naming a child: the host hides it; no attendee screen, page or API shows it
    any more, the host's does (marked), the export keeps it for the record."""
    host = await host_of(server)
    ann, bob = await attendee_of(server, "Ann"), await attendee_of(server, "Bob")
    qid = (await ann.act("qa.ask", text="How do we learn from reviews?", key=key())).json()[
        "question"
    ]["id"]
    carol = await attendee_of(server, "Carol")  # her phone will drop before the reply
    carol_ws = await live(carol)
    before_reply = carol_ws.last_seq
    assert before_reply > 0
    await carol_ws.close()
    named = "In our case little Jamie Smith was missed"
    rid = (await bob.act("qa.reply", question_id=qid, text=named, key=key())).json()["reply"]["id"]
    await bob.act("qa.reply", question_id=qid, text="Supervision helps", key=key())
    ann_ws, host_ws = await live(ann), await live(host)

    hidden = await host.act("qa.hide_reply", question_id=qid, reply_id=rid)

    assert hidden.status_code == 200, hidden.text
    seen = await ann_ws.wait_for(lambda m: m["type"] == "qa.question")
    assert [r["text"] for r in seen["data"]["question"]["replies"]] == ["Supervision helps"]
    staff = await host_ws.wait_for(lambda m: m["type"] == "qa.question")
    assert [(r["text"], r["hidden"]) for r in staff["data"]["question"]["replies"]] == [
        (named, True),
        ("Supervision helps", False),
    ]
    for shown in (
        (await ann.http.get("/live")).text,
        (await bob.http.get("/api/qa/questions")).text,
    ):
        assert "Supervision helps" in shown and named not in shown
    assert "Hidden from attendees" in (await host.http.get("/host")).text
    export = (await host.http.get("/api/qa/export?format=csv")).content.decode("utf-8-sig")
    assert f"Bob: {named} [hidden by the host]" in export
    assert rows(server, "SELECT hidden FROM replies ORDER BY id") == [(1,), (0,)]
    # Carol comes back from before the reply: she is not replayed the events that showed
    # it, but given the forum as it is now.
    carol_back = await carol.socket(last_seq=before_reply)
    first = await carol_back.next_message()
    assert first["type"] == "snapshot"
    assert named not in str(first) and "Supervision helps" in str(first)
    await carol_back.close()

    # Shown again; and a reply that is not the question's is refused plainly.
    assert (await host.act("qa.unhide_reply", question_id=qid, reply_id=rid)).status_code == 200
    back = await ann_ws.wait_for(
        lambda m: m["type"] == "qa.question" and len(m["data"]["question"]["replies"]) == 2
    )
    assert [r["text"] for r in back["data"]["question"]["replies"]] == [named, "Supervision helps"]
    wrong = await host.act("qa.hide_reply", question_id=qid, reply_id=rid + 99)
    assert wrong.status_code == 404
    assert wrong.json()["error"]["message"] == "That question has no such reply."
    refused = await ann.act("qa.hide_reply", question_id=qid, reply_id=rid)
    assert refused.status_code == 403
    for person in (host, ann, bob, carol):
        await person.close()


async def test_a_hidden_reply_stays_hidden_after_a_restart(tmp_path: Any) -> None:
    server = LiveServer(str(tmp_path / "webinar.db"))
    await server.start()
    host = await host_of(server)
    ann = await attendee_of(server, "Ann")
    qid = (await ann.act("qa.ask", text="Asked before the restart", key=key())).json()["question"][
        "id"
    ]
    rid = (await ann.act("qa.reply", question_id=qid, text="Names a child", key=key())).json()[
        "reply"
    ]["id"]
    await ann.act("qa.reply", question_id=qid, text="A reply that stays", key=key())
    await host.act("qa.hide_reply", question_id=qid, reply_id=rid)
    await host.close()
    await server.stop()

    await server.start()
    page = (await ann.http.get("/live")).text

    assert "A reply that stays" in page and "Names a child" not in page
    await ann.close()
    await server.stop()
