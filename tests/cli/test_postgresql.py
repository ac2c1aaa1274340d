"""``--db postgresql://...``: the commands work on a PostgreSQL database, and one that
cannot be reached gets a plain sentence, not a traceback."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from helpers import PATIENCE, ROOT
from postgres_cluster import cluster
from webinar.cli.main import cli
from webinar.services.agenda_files import SEED_AGENDA
from webinar.storage.db import exclusive

pytestmark = pytest.mark.integration


def test_events_are_added_and_listed_on_postgresql() -> None:
    url = cluster().create(f"c_{uuid.uuid4().hex[:16]}")
    runner = CliRunner()

    added = runner.invoke(cli, ["events", "add", str(SEED_AGENDA), "--db", url])
    listed = runner.invoke(cli, ["events", "list", "--db", url])

    assert (added.exit_code, listed.exit_code) == (0, 0), added.output + listed.output
    assert "seed" in listed.output


@pytest.mark.parametrize(
    "command",
    [
        ["events", "list"],
        ["serve", str(SEED_AGENDA), "--port", "1"],
        ["users", "list"],
    ],
)
def test_an_unreachable_postgresql_server_is_named_plainly(
    tmp_path: Path, command: list[str]
) -> None:
    url = f"postgresql://webinar:hunter2@/nothing?host={tmp_path}&port=1"

    result = subprocess.run(
        [sys.executable, "-m", "webinar", *command, "--db", url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=4 * PATIENCE,
        check=False,
    )

    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert "hunter2" not in result.stderr  # the password is never repeated
    assert f"The PostgreSQL database postgresql:///nothing?host={tmp_path}&port=1 cannot be" in (
        result.stderr
    )


def test_a_running_server_holds_a_postgresql_database_exclusively() -> None:
    url = cluster().create(f"c_{uuid.uuid4().hex[:16]}")
    assert CliRunner().invoke(cli, ["events", "add", str(SEED_AGENDA), "--db", url]).exit_code == 0
    with exclusive(url):
        result = CliRunner().invoke(cli, ["purge", "--db", url, "--yes", "--retention-days", "0"])
    assert result.exit_code == 1
    assert "A server is running on" in result.output
