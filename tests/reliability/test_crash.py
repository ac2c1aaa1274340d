"""SIGKILL while questions, votes, facilitator drafts and survey answers are being written:
every write acknowledged to a client is there after the restart."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from helpers import PATIENCE, Person, ServerProcess, open_database, stored_secrets
from postgres_cluster import BACKEND, cluster, database

pytestmark = pytest.mark.integration


#: Acknowledged writes of each kind before the kill: the kill comes while writes are in
#: flight, after a count of them, not a time (a busy machine may acknowledge none in 1.5 s).
#: Questions: 3, below the limit of 5 a minute for an attendee; the others are not limited.
BEFORE_KILL = {"questions": 3, "votes": 20, "drafts": 20, "survey": 20}


async def writer(
    label: str,
    person: Person,
    make: Any,
    acked: list[Any],
    stop: asyncio.Event,
    enough: asyncio.Event,
) -> None:
    """Send writes until the server dies; record those acknowledged with 200, and say
    ``enough`` after BEFORE_KILL[label] of them."""
    n = 0
    while not stop.is_set():
        n += 1
        name, params, record = make(n)
        try:
            response = await person.act(name, **params)
        except httpx.HTTPError:
            return  # the server is gone: this write was not acknowledged
        if response.status_code == 200:
            acked.append(record)
            if len(acked) >= BEFORE_KILL[label]:
                enough.set()
        elif response.status_code >= 500:
            raise AssertionError(f"{label}: {response.status_code} {response.text}")
        await asyncio.sleep(0)


async def until_enough(enough: list[asyncio.Event], tasks: list[asyncio.Task[None]]) -> None:
    """Wait for every writer's ``enough``; a writer that failed first raises its error."""
    everyone = asyncio.ensure_future(asyncio.gather(*(event.wait() for event in enough)))
    watched: set[asyncio.Future[Any]] = {everyone, *tasks}
    await asyncio.wait(watched, timeout=PATIENCE, return_when=asyncio.FIRST_COMPLETED)
    if everyone.done():
        return
    everyone.cancel()
    for task in tasks:
        if task.done():
            task.result()
    raise AssertionError(f"not every kind of write was acknowledged as often as {BEFORE_KILL}")


@pytest.fixture(params=["suite", "postgresql"])
def crash_db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The suite's backend (WEBINAR_TEST_DB), and PostgreSQL in every run."""
    if request.param == "suite":
        return database(str(tmp_path / "webinar.db"))
    if BACKEND == "postgresql":
        pytest.skip("the suite runs on PostgreSQL: its 'suite' case is this one")
    return cluster().create(f"k_{uuid.uuid4().hex[:16]}")


async def test_acknowledged_writes_survive_a_kill(crash_db: str) -> None:
    db = crash_db
    proc = ServerProcess(db)
    proc.start()
    secrets = stored_secrets(db)
    host = Person(proc.base)
    await host.enter("host", secrets["host_token"])
    people = []
    sockets = []
    for i in range(6):
        person = Person(proc.base)
        await person.join(secrets["join_code"], f"P{i}", f"Org {i % 3}")
        sock = await person.socket()
        await sock.wait_for(lambda m: m["type"] == "snapshot")
        people.append(person)
        sockets.append(sock)
    await host.act("agenda.start")
    await people[0].act("qa.ask", text="seed question", key=uuid.uuid4().hex)
    await host.act("agenda.jump", item_id="lcspr-breakout")
    rooms = [(await s.wait_for(lambda m: m["type"] == "breakout.group"))["data"] for s in sockets]
    facilitator = people[0]
    group = rooms[0]["number"]
    topic = rooms[0]["topics"][0]["index"]
    assert (await facilitator.act("breakout.volunteer")).status_code == 200
    await host.act("survey.state", state="open")
    targets = [
        (await host.act("qa.ask", text=f"vote target {i}", key=uuid.uuid4().hex)).json()[
            "question"
        ]["id"]
        for i in range(100)
    ]
    before_kill = (await host.http.get("/api/agenda")).json()["status"]

    questions: list[str] = []
    votes: list[int] = []
    drafts: list[str] = []
    surveys: list[int] = []
    stop = asyncio.Event()
    asker, voter, respondent = people[1], people[2], people[3]
    voter_id = (await voter.http.get("/api/session")).json()["participant"]["id"]

    def ask(n: int) -> tuple[str, dict[str, Any], Any]:
        text = f"crash question {n}"
        return "qa.ask", {"text": text, "key": uuid.uuid4().hex}, text

    def vote(n: int) -> tuple[str, dict[str, Any], Any]:
        target = targets[(n - 1) % len(targets)]
        return "qa.vote", {"question_id": target}, target

    def draft(n: int) -> tuple[str, dict[str, Any], Any]:
        text = "draft " + "x" * n
        return "breakout.capture", {"group": group, "topic": topic, "text": text}, text

    def survey(n: int) -> tuple[str, dict[str, Any], Any]:
        return "survey.save", {"overall": str(1 + n % 5), "comments": f"save {n}"}, n

    enough = [asyncio.Event() for _ in range(4)]
    tasks = [
        asyncio.create_task(writer("questions", asker, ask, questions, stop, enough[0])),
        asyncio.create_task(writer("votes", voter, vote, votes, stop, enough[1])),
        asyncio.create_task(writer("drafts", facilitator, draft, drafts, stop, enough[2])),
        asyncio.create_task(writer("survey", respondent, survey, surveys, stop, enough[3])),
    ]
    try:
        await until_enough(enough, tasks)
    finally:  # killed whatever happened: a server left running would outlive the test
        proc.stop(signal.SIGKILL)
        stop.set()
        outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    for outcome in outcomes:  # a writer that saw a 5xx
        if isinstance(outcome, BaseException):
            raise outcome
    proc.start()
    try:
        with contextlib.closing(open_database(db)) as conn, conn:
            stored_questions = {r[0] for r in conn.execute("SELECT text FROM questions")}
            stored_draft = conn.execute(
                "SELECT text FROM breakout_responses WHERE group_number = ? AND topic = ?",
                (group, topic),
            ).fetchone()[0]
            voted = {
                r[0]
                for r in conn.execute(
                    "SELECT question_id FROM votes WHERE voter_id = ?", (voter_id,)
                )
            }
            answers = [
                json.loads(r[0]) for r in conn.execute("SELECT answers FROM survey_responses")
            ]
        after = (await host.http.get("/api/agenda")).json()["status"]
        # A screen resumes from the last event it saw: it gets only newer events.
        again = await people[4].socket(last_seq=sockets[4].last_seq)
        await again.conn.send('{"type": "ping"}')
        await again.wait_for(lambda m: m.get("type") == "pong")
        resumed = [m["seq"] for m in again.events]
        await again.close()
    finally:
        for sock in sockets:  # their server was killed: do not wait for a close handshake
            sock.conn.close_timeout = 0.1
            await sock.close()
        proc.stop()

    # Each acknowledged question is there; the last acknowledged draft (or a later,
    # unacknowledged one) is what is stored; the vote is in its last acknowledged state.
    assert questions, "no question was acknowledged before the kill"
    assert set(questions) <= stored_questions
    assert drafts and len(stored_draft) >= len(drafts[-1])
    assert votes and set(votes) <= voted
    assert surveys and len(answers) == 1
    assert int(answers[0]["comments"].split()[1]) >= surveys[-1]
    assert (after["current"], after["current_ends_at"]) == (
        before_kill["current"],
        before_kill["current_ends_at"],
    )
    assert all(seq > sockets[4].last_seq for seq in resumed)
    assert resumed == sorted(set(resumed))
    report = {
        "questions_acknowledged": len(questions),
        "questions_found": len(set(questions) & stored_questions),
        "drafts_acknowledged": len(drafts),
        "votes_acknowledged": len(votes),
        "votes_found": len(set(votes) & voted),
        "survey_saves_acknowledged": len(surveys),
    }
    print("crash-report", json.dumps(report))
    for person in (host, *people):
        await person.close()
