"""Migrations bring an event's existing database up to date, keeping its rows."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

import pytest

from webinar.storage.db import migrate_sync
from webinar.storage.schema import MIGRATIONS

pytestmark = [
    pytest.mark.unit,
    pytest.mark.sqlite_only(reason="SQLite's migrations from older releases' files"),
]

AT = "2020-08-20T10:00:00+00:00"


def database_at(path: Path, version: int) -> None:
    """A database as an older release left it: the first ``version`` migrations, with a
    question, its reply and a group's response in it."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        for script in MIGRATIONS[:version]:
            conn.executescript(script)
        conn.execute(f"PRAGMA user_version = {version}")
        conn.execute(
            "INSERT INTO questions (item_id, text, key_hash, state, created_at, updated_at)"
            " VALUES ('review-qa', 'An older question', 'k1', 'published', ?, ?)",
            (AT, AT),
        )
        conn.execute(
            "INSERT INTO replies (question_id, author_name, role, text, is_answer, key_hash,"
            " created_at) VALUES (1, 'Ann', 'attendee', 'An older reply', 0, 'k2', ?)",
            (AT,),
        )
        conn.execute(
            "INSERT INTO breakout_rounds (item_id, seed, started_at)"
            " VALUES ('lcspr-breakout', 7, ?)",
            (AT,),
        )
        conn.execute(
            "INSERT INTO breakout_responses (round_id, group_number, topic, text, version,"
            " updated_at) VALUES (1, 1, 0, 'An older response', 3, ?)",
            (AT,),
        )
    finally:
        conn.close()


def test_a_database_from_before_hidden_replies_and_corrections_is_brought_up_to_date(
    tmp_path: Path,
) -> None:
    path = tmp_path / "event.db"
    database_at(path, 4)

    migrate_sync(path)
    migrate_sync(path)  # a second start changes nothing

    with contextlib.closing(sqlite3.connect(path)) as conn, conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (len(MIGRATIONS),)
        assert conn.execute("SELECT text, hidden FROM replies").fetchall() == [
            ("An older reply", 0)
        ]
        assert conn.execute(
            "SELECT text, version, edited_by_host FROM breakout_responses"
        ).fetchall() == [("An older response", 3, 0)]
        assert conn.execute("SELECT text FROM questions").fetchall() == [("An older question",)]


def test_survey_responses_from_before_keep_their_answers_and_lose_every_link(
    tmp_path: Path,
) -> None:
    path = tmp_path / "event.db"
    database_at(path, 6)
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as conn, conn:
        for pid, name in (("p-ann", "Ann"), ("p-bob", "Bob"), ("p-cat", "Cat")):
            conn.execute(
                "INSERT INTO participants (id, role, name, created_at)"
                " VALUES (?, 'attendee', ?, ?)",
                (pid, name, AT),
            )
        conn.execute("INSERT INTO survey_respondents VALUES ('p-bob'), ('p-ann')")
        conn.execute(
            "INSERT INTO survey_responses (id, key_hash, participant_id, breakout_group,"
            " answers, submitted, updated_on) VALUES"
            " (1, 'hash-b', NULL, 2, '{\"overall\": 4}', 1, '2020-08-29'),"
            " (2, 'hash-a', 'p-ann', 1, '{\"overall\": 5, \"comments\": \"Named\"}', 0,"
            " '2020-08-30')"
        )

    migrate_sync(path)
    migrate_sync(path)  # a second start changes nothing

    with contextlib.closing(sqlite3.connect(path)) as conn, conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (len(MIGRATIONS),)
        # Rows intact: the same keys (sessions continue their responses), answers, state;
        # the anonymous response has lost its group, the named one keeps its own.
        assert conn.execute(
            "SELECT key_hash, participant_id, breakout_group, answers, submitted"
            " FROM survey_responses ORDER BY key_hash"
        ).fetchall() == [
            ("hash-a", "p-ann", 1, '{"overall": 5, "comments": "Named"}', 0),
            ("hash-b", None, None, '{"overall": 4}', 1),
        ]
        assert [c[1] for c in conn.execute("PRAGMA table_info(survey_responses)")] == [
            "webinar_id",
            "key_hash",
            "participant_id",
            "breakout_group",
            "answers",
            "submitted",
        ]
        with pytest.raises(sqlite3.OperationalError, match="rowid"):
            conn.execute("SELECT rowid FROM survey_responses")
        # Who responded is kept (one response each), as a flag.
        assert conn.execute(
            "SELECT participant_id FROM survey_respondents ORDER BY participant_id"
        ).fetchall() == [("p-ann",), ("p-bob",)]
        assert conn.execute(
            "SELECT id, survey_responded FROM participants ORDER BY id"
        ).fetchall() == [("p-ann", 1), ("p-bob", 1), ("p-cat", 0)]
        # The old table's bytes (the anonymous response's group beside its key) are gone.
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert b"2020-08-29" not in path.read_bytes()
    assert b"2020-08-30" not in path.read_bytes()


#: The migration that adds staff accounts (found by what it does, not by its number:
#: other migrations may come before it).
ACCOUNTS = next(n for n, script in enumerate(MIGRATIONS) if "CREATE TABLE users" in script)
#: The migration that makes events first-class (every table gains a webinar id).
BEFORE_EVENTS = next(n for n, script in enumerate(MIGRATIONS) if "CREATE TABLE webinars" in script)


def test_staff_accounts_arrive_and_a_database_from_before_keeps_its_sessions(
    tmp_path: Path,
) -> None:
    path = tmp_path / "event.db"
    database_at(path, BEFORE_EVENTS)  # from before events and accounts
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as conn, conn:
        conn.execute(
            "INSERT INTO participants (id, role, name, created_at) VALUES ('p-h', 'host', 'H', ?)",
            (AT,),
        )
        conn.execute(
            "INSERT INTO sessions (id, participant_id, created_at) VALUES ('s', 'p-h', ?)", (AT,)
        )

    migrate_sync(path)
    migrate_sync(path)  # a second start changes nothing

    with contextlib.closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("PRAGMA foreign_keys = ON")
        assert conn.execute("PRAGMA user_version").fetchone() == (len(MIGRATIONS),)
        assert conn.execute("SELECT id, participant_id, user_id FROM sessions").fetchall() == [
            ("s", "p-h", None)
        ]
        conn.execute(
            "INSERT INTO users (id, email, display_name, created_at)"
            " VALUES (1, 'ann@example.org', 'Ann', ?)",
            (AT,),
        )
        conn.execute("INSERT INTO webinars (id, slug, created_at) VALUES (2, 'two', ?)", (AT,))
        conn.execute("INSERT INTO user_roles (user_id, role) VALUES (1, 'organiser')")
        conn.execute("INSERT INTO user_roles (user_id, role, event_id) VALUES (1, 'host', 2)")
        conn.execute("UPDATE sessions SET user_id = 1")
        with pytest.raises(sqlite3.IntegrityError):  # an organiser of one event: no such role
            conn.execute(
                "INSERT INTO user_roles (user_id, role, event_id) VALUES (1, 'organiser', 1)"
            )
        with pytest.raises(sqlite3.IntegrityError):  # the same role twice
            conn.execute("INSERT INTO user_roles (user_id, role) VALUES (1, 'organiser')")
        with pytest.raises(sqlite3.IntegrityError):  # a host of an event that does not exist
            conn.execute("INSERT INTO user_roles (user_id, role, event_id) VALUES (1, 'host', 3)")
        with pytest.raises(sqlite3.IntegrityError):  # emails are unique
            conn.execute(
                "INSERT INTO users (email, display_name, created_at)"
                " VALUES ('ann@example.org', 'Ann 2', ?)",
                (AT,),
            )
        conn.execute("DELETE FROM users WHERE id = 1")  # roles and sessions go with it
        assert conn.execute("SELECT count(*) FROM user_roles").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM sessions").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM participants").fetchone() == (1,)
