"""`webinar erase`: one person's name and links go on request; everyone else's stay."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from helpers import LiveServer, Person, attendee_of, dump_text, host_of, open_database
from webinar.cli.main import cli
from webinar.storage.postgres import is_postgres

pytestmark = pytest.mark.integration

ZELDA, YUSUF = ("Zelda Quimby", "Quimbyshire SP"), ("Yusuf Pemberton", "Pemberton Trust")


async def ask(person: Person, text: str, anonymous: bool = False) -> int:
    response = await person.act("qa.ask", text=text, key=uuid.uuid4().hex, anonymous=anonymous)
    qid: int = response.json()["question"]["id"]
    return qid


async def populate(server: LiveServer) -> None:
    """Zelda asks (named and anonymously), votes, makes a point in her breakout group and
    answers the survey; Yusuf asks, votes on hers and replies."""
    host = await host_of(server)
    organiser = Person(server.base)
    await organiser.enter("organiser", server.secrets["organiser_token"])
    stored = await organiser.http.post(
        "/api/breakout/preassign",
        content=f"name,group\n{ZELDA[0]},1\n{YUSUF[0]},1\n".encode(),
        headers={"Content-Type": "text/csv", "X-CSRF-Token": organiser.csrf},
    )
    assert stored.status_code == 200, stored.text
    await organiser.close()
    zelda, yusuf = await attendee_of(server, *ZELDA), await attendee_of(server, *YUSUF)
    sockets = [await zelda.socket(), await yusuf.socket()]
    hers = await ask(zelda, "Zelda named question")
    await ask(zelda, "Zelda anonymous question", anonymous=True)
    his = await ask(yusuf, "Yusuf question")
    await zelda.act("qa.vote", question_id=his)
    await yusuf.act("qa.vote", question_id=hers)
    await yusuf.act("qa.reply", question_id=hers, text="Yusuf reply", key=uuid.uuid4().hex)
    await host.act("agenda.start")
    await host.act("agenda.jump", item_id="lcspr-breakout")
    room: dict[str, Any] = (await sockets[0].wait_for(lambda m: m["type"] == "breakout.group"))[
        "data"
    ]
    point = await zelda.act(
        "breakout.point",
        group=room["number"],
        topic=room["topics"][0]["index"],
        text="Zelda point",
        key=uuid.uuid4().hex,
    )
    assert point.status_code == 200, point.text
    await host.act("agenda.jump", item_id="closing-remarks")
    await host.act("survey.state", state="open")
    await zelda.act("survey.save", overall="4", comments="Zelda comment", final=True)
    for sock in sockets:
        await sock.close()
    for person in (host, zelda, yusuf):
        await person.close()


def dump(db: str) -> str:
    return dump_text(db)


def rows(db: str, sql: str) -> list[tuple[Any, ...]]:
    with contextlib.closing(open_database(db)) as conn, conn:
        return conn.execute(sql).fetchall()


async def run(*args: str) -> Result:
    return await asyncio.to_thread(CliRunner().invoke, cli, list(args))


@pytest.fixture
async def event_db(tmp_path: Path) -> str:
    server = LiveServer(str(tmp_path / "webinar.db"))
    await server.start()
    await populate(server)
    await server.stop()
    return server.db_path


async def test_erase_removes_one_person_and_keeps_the_rest(event_db: str) -> None:
    votes_before = rows(event_db, "SELECT text, votes FROM questions ORDER BY id")

    result = await run("erase", "--db", event_db, "--name", "  zelda   QUIMBY ", "--yes")

    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Erased Zelda Quimby from {event_db}: name and organisation")
    # Her survey response is anonymous (the seed's survey): never linked, nothing to unlink.
    assert "questions 1, replies 0, breakout points 1, survey responses 0" in result.output
    text = dump(event_db)
    assert ZELDA[0] not in text and ZELDA[1] not in text
    assert YUSUF[0] in text and YUSUF[1] in text
    if not is_postgres(event_db):  # PostgreSQL's files: docs/architecture.md, "Two backends"
        # Not in free pages or the write-ahead log either (his is, as the control).
        assert YUSUF[0].encode() in Path(event_db).read_bytes()
        for path in Path(event_db).parent.glob("webinar.db*"):
            raw = path.read_bytes().lower()
            for secret in ZELDA:  # as typed, and lower-cased as pre-assignments match them
                assert secret.lower().encode() not in raw, (path, secret)
    assert rows(event_db, "SELECT match_key FROM preassignments") == [("yusuf pemberton",)]
    # What she wrote stays, anonymous; totals do not move.
    assert rows(event_db, "SELECT text, votes FROM questions ORDER BY id") == votes_before
    assert rows(
        event_db,
        "SELECT author_name FROM questions WHERE text LIKE 'Zelda%' ORDER BY id",
    ) == [(None,), (None,)]
    assert rows(event_db, "SELECT author_name, text FROM breakout_points") == [
        (None, "Zelda point")
    ]
    assert rows(event_db, "SELECT participant_id IS NULL, answers FROM survey_responses") == [
        (1, '{"overall": 4, "comments": "Zelda comment"}')
    ]
    assert rows(event_db, "SELECT author_name, text FROM replies") == [
        ("Yusuf Pemberton", "Yusuf reply")
    ]
    # Her sessions are gone; his are not.
    assert rows(
        event_db,
        "SELECT p.name, count(s.id) FROM participants p LEFT JOIN sessions s"
        " ON s.participant_id = p.id WHERE p.role = 'attendee' GROUP BY p.id"
        " ORDER BY p.name IS NOT NULL, p.name",
    ) == [(None, 0), ("Yusuf Pemberton", 1)]


async def test_erase_with_free_text_also_removes_what_they_wrote(event_db: str) -> None:
    result = await run("erase", "--db", event_db, "--name", "Zelda Quimby", "--free-text", "--yes")

    assert result.exit_code == 0, result.output
    text = dump(event_db)
    for theirs in ("Zelda named question", "Zelda point"):
        assert theirs not in text
    # Never linked to her, so not hers to find: what she gave anonymously stays as it was.
    assert "Zelda anonymous question" in text and "Zelda comment" in text
    assert "Yusuf reply" in text and "Yusuf question" in text


async def test_a_shared_name_asks_for_the_id(tmp_path: Path) -> None:
    server = LiveServer(str(tmp_path / "webinar.db"))
    await server.start()
    first = await attendee_of(server, "Sam Lee", "North Council")
    second = await attendee_of(server, "sam lee", "South Council")
    await ask(second, "The second Sam asks")
    for person in (first, second):
        await person.close()
    await server.stop()

    ambiguous = await run("erase", "--db", server.db_path, "--name", "Sam Lee", "--yes")

    assert ambiguous.exit_code == 1
    assert "2 people are named 'Sam Lee'" in ambiguous.output
    assert "North Council" in ambiguous.output and "South Council" in ambiguous.output
    (south_id,) = [
        line.split()[1] for line in ambiguous.output.splitlines() if "South Council" in line
    ]
    chosen = await run("erase", "--db", server.db_path, "--id", south_id, "--yes")
    assert chosen.exit_code == 0, chosen.output
    assert "South Council" not in dump(server.db_path)
    assert "North Council" in dump(server.db_path)


async def test_erase_explains_what_is_missing(tmp_path: Path) -> None:
    db = tmp_path / "webinar.db"
    from webinar.services import prepare_database

    prepare_database(str(db))

    nobody = await run("erase", "--db", str(db), "--name", "Nobody Here", "--yes")
    neither = await run("erase", "--db", str(db), "--yes")
    no_file = await run("erase", "--db", str(tmp_path / "none.db"), "--name", "X", "--yes")

    assert nobody.exit_code == 1
    assert "no one named 'Nobody Here' took part" in nobody.output
    assert neither.exit_code == 2 and "Give either --name or --id." in neither.output
    assert no_file.exit_code == 1 and "does not exist" in no_file.output


async def test_erase_and_purge_refuse_while_a_server_runs(tmp_path: Path) -> None:
    server = LiveServer(str(tmp_path / "webinar.db"))
    await server.start()
    zelda = await attendee_of(server, *ZELDA)
    await zelda.close()

    erase = await run("erase", "--db", server.db_path, "--name", ZELDA[0], "--yes")
    purge = await run("purge", "--db", server.db_path, "--retention-days", "0", "--yes")
    second = await run("serve", "--db", server.db_path, "--port", "1")

    running = f"A server is running on {server.db_path}. Stop it first"
    assert erase.exit_code == 1 and running in erase.output
    assert purge.exit_code == 1 and running in purge.output
    assert second.exit_code == 1
    assert f"Another server is already running on {server.db_path}" in second.output
    assert ZELDA[0] in dump(server.db_path)  # nothing was changed under the server
    await server.stop()

    after = await run("erase", "--db", server.db_path, "--name", ZELDA[0], "--yes")
    assert after.exit_code == 0, after.output
