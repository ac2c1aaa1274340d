"""Migrations bring an event's existing database up to date, keeping its rows."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from webinar.storage.db import migrate_sync
from webinar.storage.schema import MIGRATIONS

pytestmark = pytest.mark.unit

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

    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (len(MIGRATIONS),)
        assert conn.execute("SELECT text, hidden FROM replies").fetchall() == [
            ("An older reply", 0)
        ]
        assert conn.execute(
            "SELECT text, version, edited_by_host FROM breakout_responses"
        ).fetchall() == [("An older response", 3, 0)]
        assert conn.execute("SELECT text FROM questions").fetchall() == [("An older question",)]
