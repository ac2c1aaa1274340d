"""`webinar purge`: personal data goes, anonymous aggregates stay."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from helpers import LiveServer, attendee_of, dump_text, host_of, open_database
from webinar.cli.main import cli

pytestmark = pytest.mark.integration

NAMES = ("Zelda Quimby", "Yusuf Pemberton")
ORGS = ("Quimbyshire SP", "Pemberton Trust")


async def populate(server: LiveServer) -> None:
    host = await host_of(server)
    people = [await attendee_of(server, name, org) for name, org in zip(NAMES, ORGS, strict=True)]
    qid = (await people[0].act("qa.ask", text="Named question", key=uuid.uuid4().hex)).json()[
        "question"
    ]["id"]
    await people[1].act("qa.vote", question_id=qid)
    await people[1].act("qa.reply", question_id=qid, text="A reply", key=uuid.uuid4().hex)
    await host.act("agenda.start")
    await host.act("survey.state", state="open")
    await people[0].act("survey.save", overall="5", comments="Loved it", final=True)
    await host.act("agenda.jump", item_id="closing-remarks")
    await host.act("agenda.next")
    for person in (host, *people):
        await person.close()


def dump(db: str) -> str:
    return dump_text(db)


async def test_purge_erases_people_and_keeps_aggregates(tmp_path: Path) -> None:
    server = LiveServer(str(tmp_path / "webinar.db"))
    await server.start()
    await populate(server)
    await server.stop()
    assert all(name in dump(server.db_path) for name in NAMES)

    result = await asyncio.to_thread(
        CliRunner().invoke,
        cli,
        ["purge", "--db", server.db_path, "--retention-days", "0", "--yes"],
    )

    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Purged {server.db_path}: 2 people's names")
    text = dump(server.db_path)
    for secret in (*NAMES, *ORGS):
        assert secret not in text
    with contextlib.closing(open_database(server.db_path)) as conn, conn:
        assert conn.execute("SELECT text, votes FROM questions").fetchall() == [
            ("Named question", 1)
        ]
        assert conn.execute("SELECT answers FROM survey_responses").fetchall() == [
            ('{"overall": 5, "comments": "Loved it"}',)
        ]
        assert conn.execute("SELECT count(*) FROM sessions").fetchone() == (0,)


async def test_purge_with_free_text_erases_what_people_wrote(tmp_path: Path) -> None:
    server = LiveServer(str(tmp_path / "webinar.db"))
    await server.start()
    await populate(server)
    await server.stop()

    result = await asyncio.to_thread(
        CliRunner().invoke,
        cli,
        ["purge", "--db", server.db_path, "--retention-days", "0", "--free-text", "--yes"],
    )

    assert result.exit_code == 0, result.output
    text = dump(server.db_path)
    for secret in ("Named question", "A reply", "Loved it"):
        assert secret not in text
    with contextlib.closing(open_database(server.db_path)) as conn, conn:
        assert conn.execute("SELECT answers FROM survey_responses").fetchall() == [
            ('{"overall":5}',)
        ]


def test_purge_waits_for_the_retention_period(tmp_path: Path) -> None:
    db = tmp_path / "webinar.db"
    from webinar.services import prepare_database

    prepare_database(str(db))

    result = CliRunner().invoke(cli, ["purge", "--db", str(db), "--yes"])

    assert result.exit_code == 1
    assert "the event has not ended" in result.output
