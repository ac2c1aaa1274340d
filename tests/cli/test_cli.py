"""The `webinar` command line: check and export."""

from __future__ import annotations

import asyncio
import csv
import io
import uuid
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from helpers import LiveServer, Person
from webinar.cli.events import read_agenda
from webinar.cli.main import cli
from webinar.services.agenda_files import SEED_AGENDA


def test_check_accepts_the_seed_agenda() -> None:
    result = CliRunner().invoke(cli, ["check", str(SEED_AGENDA)])

    assert result.exit_code == 0
    assert result.output.strip().endswith(
        'OK, 8 items, "Child Safeguarding Practice Review Panel Webinar".'
    )


def test_date_today_in_an_agenda_file_is_the_real_today() -> None:
    # The domain reads no clock; the command line passes it this computer's today.
    before = date.today()
    agenda = read_agenda(SEED_AGENDA)
    assert agenda.planned_start.date() in {before, date.today()}


def test_check_names_file_item_and_field_without_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    text = SEED_AGENDA.read_text(encoding="utf-8").replace("min_topics = 2", "min_topics = 6")
    bad.write_text(text, encoding="utf-8")

    result = CliRunner().invoke(cli, ["check", str(bad)])

    assert result.exit_code == 1
    assert result.output.strip() == (
        f'{bad}, item 6 "LCSPR Breakout", field breakout.min_topics: '
        "asks for 6 topics per group but only 5 topics are listed."
    )
    assert "Traceback" not in result.output


def test_check_reports_a_missing_file_plainly(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["check", str(tmp_path / "nope.toml")])

    assert result.exit_code == 1
    assert result.output.strip() == f"{tmp_path / 'nope.toml'}: does not exist."


def test_serve_refuses_a_broken_agenda_plainly(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[event\n", encoding="utf-8")

    result = CliRunner().invoke(cli, ["serve", str(bad), "--db", str(tmp_path / "x.db")])

    assert result.exit_code == 1
    assert result.output.startswith("Error: The agenda cannot be used:")
    assert "line 1" in result.output
    assert not (tmp_path / "x.db").exists()


def test_export_of_a_missing_database_is_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["export", "questions", "--db", str(tmp_path / "n.db")])

    assert result.exit_code == 1
    assert result.output.strip() == f"Error: The database {tmp_path / 'n.db'} does not exist."


@pytest.mark.integration
async def test_export_questions_while_the_event_runs(server: LiveServer, tmp_path: Path) -> None:
    ann = Person(server.base)
    await ann.join(server.secrets["join_code"], "Ann", "Trust")
    await ann.act("qa.ask", text="=cmd|' /C calc'!A0", key=uuid.uuid4().hex)
    await ann.act("qa.ask", text="Anonymous one", key=uuid.uuid4().hex, anonymous=True)
    out = tmp_path / "q.csv"

    # The CLI runs its own event loop: run it in a thread beside the live server.
    result = await asyncio.to_thread(
        CliRunner().invoke, cli, ["export", "questions", "--db", server.db_path, "--out", str(out)]
    )

    assert result.exit_code == 0, result.output
    table = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert [(r["Question"], r["Author"]) for r in table] == [
        ("'=cmd|' /C calc'!A0", "Ann"),
        ("Anonymous one", ""),
    ]
    await ann.close()


def test_serve_refuses_a_bad_start_time(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["serve", "--db", str(tmp_path / "x.db"), "--start", "25:99"])

    assert result.exit_code == 2
    assert "'25:99' is not a time: give HH:MM (like 09:30) or 'now'." in result.output
