"""``webinar events list|add|remove``, ``--event`` on the other commands, and an event added
while the server runs."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import uuid
from datetime import date
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from helpers import ROOT, LiveServer, Person, free_port, open_database, read_until, stored_secrets
from postgres_cluster import database
from webinar.cli.main import cli
from webinar.domain.agenda_file import parse_agenda
from webinar.services import prepare_event
from webinar.services.agenda_files import SEED_AGENDA
from webinar.web.app import Hosted

pytestmark = pytest.mark.integration

EVENT_TABLES = (
    "meta",
    "participants",
    "sessions",
    "run_state",
    "agenda_log",
    "events",
    "questions",
    "votes",
    "replies",
    "settings",
    "breakout_rounds",
    "breakout_groups",
    "breakout_members",
    "breakout_responses",
    "breakout_points",
    "preassignments",
    "survey_responses",
)


def agenda_copy(folder: Path, name: str, title: str) -> Path:
    path = folder / name
    text = SEED_AGENDA.read_text(encoding="utf-8")
    path.write_text(
        text.replace(
            'title = "Child Safeguarding Practice Review Panel Webinar"', f'title = "{title}"'
        ),
        encoding="utf-8",
    )
    return path


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def test_events_add_list_and_remove(tmp_path: Path) -> None:
    db = database(str(tmp_path / "programme.db"))
    march = agenda_copy(tmp_path, "March briefing.toml", "March briefing")
    april = agenda_copy(tmp_path, "april.toml", "April briefing")

    empty = invoke("events", "list", "--db", db)
    added = invoke("events", "add", str(march), "--db", db)
    named = invoke("events", "add", str(april), "--db", db, "--slug", "april-2026")
    again = invoke("events", "add", str(april), "--db", db, "--slug", "april-2026")
    bad_slug = invoke("events", "add", str(april), "--db", db, "--slug", "April!")
    listed = invoke("events", "list", "--db", db)
    refused = invoke("events", "remove", "march-briefing", "--db", db)  # asks; no answer
    removed = invoke("events", "remove", "march-briefing", "--db", db, "--yes")
    unknown = invoke("events", "remove", "march-briefing", "--db", db, "--yes")
    after = invoke("events", "list", "--db", db)

    assert empty == (0, f"{db} holds no events. Add one with: webinar events add AGENDA\n")
    assert added[0] == 0 and 'Added "March briefing" as march-briefing' in added[1]
    assert named[0] == 0 and "as april-2026: its pages are at /e/april-2026/." in named[1]
    assert again[0] == 0 and again[1].startswith('Updated the agenda of "April briefing"')
    assert bad_slug[0] == 2 and "cannot be an event's short name" in bad_slug[1]
    assert listed[0] == 0
    assert [line.split()[0] for line in listed[1].splitlines()] == [
        "march-briefing",
        "april-2026",
    ]
    assert "not started" in listed[1] and "0 attendees, 0 questions" in listed[1]
    assert refused[0] == 1 and "Aborted" in refused[1]
    assert removed == (0, f"Removed march-briefing from {db}.\n")
    assert unknown[0] == 1 and "holds no event 'march-briefing'" in unknown[1]
    assert [line.split()[0] for line in after[1].splitlines()] == ["april-2026"]


def test_other_commands_ask_which_event_when_there_are_several(tmp_path: Path) -> None:
    db = database(str(tmp_path / "programme.db"))
    for name in ("one.toml", "two.toml"):
        invoke("events", "add", str(agenda_copy(tmp_path, name, name)), "--db", db)

    unnamed = invoke("export", "questions", "--db", db, "--out", str(tmp_path / "q.csv"))
    wrong = invoke("rotate", "--code", "--db", db, "--event", "three")
    named = invoke(
        "export", "questions", "--db", db, "--event", "two", "--out", str(tmp_path / "q.csv")
    )
    rotated = invoke("rotate", "--code", "--db", db, "--event", "one")

    assert unnamed[0] == 1
    assert "holds 2 events: say which with --event SLUG (one, two)" in unnamed[1]
    assert wrong[0] == 1 and "holds no event 'three'. Its events: one, two." in wrong[1]
    assert named[0] == 0 and named[1].startswith(f"Wrote {tmp_path / 'q.csv'}")
    assert rotated[0] == 0 and "/e/one/join?code=" in rotated[1]


async def test_an_event_added_while_the_server_runs_is_served_and_removed_whole(
    tmp_path: Path,
) -> None:
    db = database(str(tmp_path / "webinar.db"))
    server = LiveServer(db)
    await server.start()
    late = agenda_copy(tmp_path, "late.toml", "Late addition")
    try:
        added = await asyncio.to_thread(invoke, "events", "add", str(late), "--db", db)
        secrets = stored_secrets(db, "late")
        ann = Person(f"{server.base}/e/late")
        await ann.join(secrets["join_code"], "Ann")
        asked = await ann.act("qa.ask", text="A late question", key=uuid.uuid4().hex)
        page = await ann.http.get("/live")
        busy = await asyncio.to_thread(invoke, "events", "remove", "late", "--db", db, "--yes")
        await ann.close()
    finally:
        await server.stop()
    removed = invoke("events", "remove", "late", "--db", db, "--yes")

    assert added[0] == 0, added[1]
    assert asked.status_code == 200, asked.text
    assert page.status_code == 200 and "Late addition" in page.text
    assert 'ws-connect="/e/late/ws"' in page.text  # its addresses name it
    assert busy[0] == 1 and "A server is running" in busy[1]
    assert removed[0] == 0, removed[1]
    with contextlib.closing(open_database(db)) as conn, conn:
        left = {
            table: conn.execute(f"SELECT count(*) FROM {table} WHERE webinar_id = 2").fetchone()[0]
            for table in EVENT_TABLES
        }
        kept = conn.execute("SELECT count(*) FROM meta WHERE webinar_id = 1").fetchone()[0]
    assert left == dict.fromkeys(EVENT_TABLES, 0)
    assert kept > 0  # the other event keeps its own


def serving(db: str, cwd: Path, paths: tuple[str, ...]) -> tuple[str, list[int]]:
    """What a real ``webinar serve --db DB`` prints as it starts, and what ``paths`` answer."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "webinar", "serve", "--db", db, "--port", str(port)],
        cwd=cwd,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        printed = read_until(proc, "Uvicorn running on", timeout=120)
        base = f"http://127.0.0.1:{port}"
        return printed.replace(base, "BASE"), [
            httpx.get(f"{base}{path}", timeout=10).status_code for path in paths
        ]
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_serve_alone_serves_every_event_of_the_database(tmp_path: Path) -> None:
    db = database(str(tmp_path / "programme.db"))
    first, first_answers = serving(db, tmp_path, ("/join", "/e/seed/join"))
    for name in ("one.toml", "two.toml"):
        invoke("events", "add", str(agenda_copy(tmp_path, name, f"Event {name[:3]}")), "--db", db)
    paths = ("/e/one/join", "/e/two/join", "/e/seed/join", "/healthz", "/join", "/e/three/join")
    printed, answers = serving(db, tmp_path, paths)
    started = invoke("serve", "--db", db, "--start", "now", "--port", str(free_port()))

    assert "  attendees: BASE/join?code=" in first  # a new database: the seed webinar
    assert f"  {db} held no events: this is the seed webinar." in first
    assert first_answers == [200, 200]
    assert "Event one  (one)\n" in printed and "Event two  (two)\n" in printed
    assert "  attendees: BASE/e/one/join?code=" in printed
    assert "  host:      BASE/e/two/enter/host/" in printed
    assert "held no events" not in printed
    assert "For a rehearsal" not in printed  # --start names one event's agenda
    assert answers == [200, 200, 200, 200, 404, 404]  # no short addresses with several
    assert started[0] == 2 and "--start moves one event's plan" in started[1]


async def test_purge_and_erase_touch_one_event_only(tmp_path: Path) -> None:
    db = database(str(tmp_path / "two.db"))
    text = agenda_copy(tmp_path, "beta.toml", "Beta").read_text(encoding="utf-8")
    beta = parse_agenda(text, "beta.toml", today=date.today())
    _, _, beta_secrets = prepare_event(db, "beta", "beta.toml", text, beta.title)
    server = LiveServer(db, slug="alpha", others=(Hosted("beta", beta, beta_secrets),))
    await server.start()
    try:
        for base, code, name in (
            (f"{server.base}/e/alpha", server.secrets["join_code"], "Ann Alpha"),
            (f"{server.base}/e/beta", beta_secrets["join_code"], "Bea Beta"),
        ):
            person = Person(base)
            await person.join(code, name, "Org")
            await person.act("qa.ask", text=f"Asked by {name}", key=uuid.uuid4().hex)
            await person.close()
    finally:
        await server.stop()

    not_there = invoke("erase", "--db", db, "--event", "alpha", "--name", "Bea Beta", "--yes")
    purged = invoke("purge", "--db", db, "--event", "beta", "--retention-days", "0", "--yes")
    with contextlib.closing(open_database(db)) as conn, conn:
        names = sorted(r[0] for r in conn.execute("SELECT name FROM participants") if r[0])
        authors = conn.execute(
            "SELECT w.slug, q.author_name FROM questions q JOIN webinars w"
            " ON w.id = q.webinar_id ORDER BY w.slug"
        ).fetchall()

    assert not_there[0] == 1 and "no one named 'Bea Beta' took part" in not_there[1]
    assert purged[0] == 0, purged[1]
    assert names == ["Ann Alpha"]  # beta's names are gone, alpha's are kept
    assert authors == [("alpha", "Ann Alpha"), ("beta", None)]
