"""`webinar users ...`: staff accounts from the command line, with plain messages."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from click.testing import CliRunner, Result

from helpers import open_database
from postgres_cluster import database
from webinar.cli.main import cli
from webinar.storage.db import migrate_sync
from webinar.storage.webinars import save_webinar_sync

PASSWORD = "correct horse battery staple"


def with_events(path: Path, *slugs: str) -> str:
    """A database holding the events ``slugs`` (ids 1, 2, ... in that order)."""
    db = database(path)
    migrate_sync(db)
    for slug in slugs:
        save_webinar_sync(db, slug)
    return db


def run(db: str | Path, *args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli, ["users", *args, "--db", str(db)], input=stdin)


def stored_hash(db: str | Path, email: str) -> str:
    with contextlib.closing(open_database(str(db))) as conn, conn:
        (value,) = conn.execute(
            "SELECT password_hash FROM users WHERE email = ?", (email,)
        ).fetchone()
    return str(value)


def test_users_add_makes_the_first_organiser_in_a_new_database(tmp_path: Path) -> None:
    db = with_events(tmp_path / "webinar.db", "one", "two")

    result = run(
        db,
        "add",
        "Ann@Example.org",
        "--name",
        "Ann",
        "--role",
        "organiser",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )

    assert result.exit_code == 0, result.output
    assert result.output == (
        f"Added ann@example.org  Ann  (organiser; signs in with password) to {db}.\n"
    )
    assert PasswordHasher().verify(stored_hash(db, "ann@example.org"), PASSWORD)


def test_users_add_asks_for_the_password_twice_hidden(tmp_path: Path) -> None:
    db = with_events(tmp_path / "webinar.db", "one", "two")

    result = run(
        db,
        "add",
        "hal@example.org",
        "--name",
        "Hal",
        "--role",
        "host",
        "--event",
        "one",
        stdin=f"{PASSWORD}\n{PASSWORD}\n",
    )

    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output  # hidden input: not echoed
    assert result.output.startswith("Password: \nRepeat for confirmation: \n")
    assert result.output.endswith("(host of one; signs in with password) to " + f"{db}.\n")


def test_users_add_names_an_event_that_does_not_exist_plainly(tmp_path: Path) -> None:
    db = with_events(tmp_path / "webinar.db", "one")

    result = run(db, "add", "hal@example.org", "--name", "Hal", "--role", "host", "--event", "nine")

    assert result.exit_code == 2
    assert result.output.strip().splitlines()[-1] == (
        f"Error: Invalid value for '--event': There is no event 'nine' in {db}: "
        "'webinar events list' shows them."
    )
    with contextlib.closing(open_database(str(db))) as conn, conn:
        assert conn.execute("SELECT count(*) FROM users").fetchone() == (0,)


def test_users_list_shows_roles_and_how_each_signs_in(tmp_path: Path) -> None:
    db = with_events(tmp_path / "webinar.db", "one", "two")
    run(db, "add", "ann@example.org", "--name", "Ann", "--role", "organiser", "--no-password")
    run(
        db,
        "add",
        "hal@example.org",
        "--name",
        "Hal",
        "--role",
        "host",
        "--event",
        "two",
        "--event",
        "one",
        "--no-password",
    )

    result = run(db, "list")

    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "ann@example.org  Ann  (organiser; signs in with OIDC (linked at the first sign-in))",
        "hal@example.org  Hal  (host of one, host of two; signs in with OIDC (linked "
        "at the first sign-in))",
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("add", "not-an-email", "--name", "X", "--role", "organiser", "--no-password"),
            "Invalid value for EMAIL: Enter an email address, like name@example.org.",
        ),
        (
            ("add", "x@example.org", "--name", " ", "--role", "organiser", "--no-password"),
            "Invalid value for --name: Enter the person's name, as hosts and attendees will "
            "see it.",
        ),
        (
            ("add", "x@example.org", "--name", "X", "--role", "host", "--no-password"),
            "Say which events this host hosts: --event SLUG (repeatable).",
        ),
        (
            (
                "add",
                "x@example.org",
                "--name",
                "X",
                "--role",
                "organiser",
                "--event",
                "one",
                "--no-password",
            ),
            "An organiser runs the whole install: leave out --event (or use --role host).",
        ),
        (
            ("add", "x@example.org", "--name", "X", "--role", "organiser", "--password-stdin"),
            "Invalid value for password: Choose a password of at least 12 characters (a few "
            "words make a good one).",
        ),
    ],
)
def test_users_add_refuses_bad_input_plainly_and_stores_nothing(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    db = with_events(tmp_path / "webinar.db", "one", "two")
    run(db, "add", "first@example.org", "--name", "First", "--role", "organiser", "--no-password")

    result = run(db, *args, stdin="too short\n")

    assert result.exit_code == 2, result.output
    assert result.output.strip().splitlines()[-1] == f"Error: {message}"
    assert "Traceback" not in result.output
    assert run(db, "list").output.count("\n") == 1


def test_users_add_refuses_an_email_that_has_an_account(tmp_path: Path) -> None:
    db = with_events(tmp_path / "webinar.db", "one", "two")
    run(db, "add", "ann@example.org", "--name", "Ann", "--role", "organiser", "--no-password")

    result = run(
        db,
        "add",
        "ANN@example.org",
        "--name",
        "Ann",
        "--role",
        "host",
        "--event",
        "one",
        "--no-password",
    )

    assert result.exit_code == 2
    assert result.output.strip().splitlines()[-1] == (
        "Error: Invalid value for EMAIL: There is already an account for ann@example.org."
    )


def test_users_passwd_replaces_the_hash(tmp_path: Path) -> None:
    db = with_events(tmp_path / "webinar.db", "one", "two")
    run(
        db,
        "add",
        "ann@example.org",
        "--name",
        "Ann",
        "--role",
        "organiser",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )

    result = run(db, "passwd", "ann@example.org", "--password-stdin", stdin="a new long password\n")

    assert result.exit_code == 0, result.output
    assert result.output == "Changed the password of ann@example.org; 0 sessions signed out.\n"
    assert PasswordHasher().verify(stored_hash(db, "ann@example.org"), "a new long password")


def test_users_remove_deletes_the_account(tmp_path: Path) -> None:
    db = with_events(tmp_path / "webinar.db", "one", "two")
    run(db, "add", "ann@example.org", "--name", "Ann", "--role", "organiser", "--no-password")

    result = run(db, "remove", "ann@example.org", "--yes")
    again = run(db, "remove", "ann@example.org", "--yes")

    assert result.output == f"Removed ann@example.org from {db}; they are signed out.\n"
    assert again.exit_code == 2
    assert again.output.strip().splitlines()[-1] == (
        "Error: Invalid value for EMAIL: There is no account for ann@example.org."
    )
    assert run(db, "list").output == (
        f"{db} has no staff accounts yet: add one with 'webinar users add'.\n"
    )


def test_users_on_a_missing_or_broken_database_say_so(tmp_path: Path) -> None:
    broken = tmp_path / "broken.db"
    broken.write_bytes(b"this is not a database, just some text " * 100)

    missing = run(tmp_path / "nope.db", "list")
    garbage = run(
        broken, "add", "ann@example.org", "--name", "Ann", "--role", "organiser", "--no-password"
    )

    assert missing.output == f"Error: The database {tmp_path / 'nope.db'} does not exist.\n"
    assert garbage.exit_code == 1
    assert garbage.output.startswith(f"Error: The database {broken} cannot be used: ")
    assert "Traceback" not in garbage.output
