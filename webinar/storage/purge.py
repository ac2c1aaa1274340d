"""Erasing personal data after the retention period (see docs/privacy.md)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from webinar.storage.db import PRAGMAS

#: Statements that remove who took part, keeping anonymous aggregates (counts, votes
#: totals, ratings, responses by group).
PEOPLE = (
    "UPDATE participants SET name = NULL, organisation = NULL",
    "DELETE FROM sessions",
    "UPDATE questions SET author_id = NULL, author_name = NULL, author_org = NULL",
    "UPDATE replies SET author_id = NULL, author_name = NULL",
    "DELETE FROM votes",
    "DELETE FROM breakout_members",
    "UPDATE breakout_groups SET facilitator_id = NULL",
    "UPDATE breakout_points SET author_name = NULL",
    "UPDATE survey_responses SET participant_id = NULL",
    "DELETE FROM survey_respondents",
    "DELETE FROM preassignments",
    # The live event log repeats names and texts; replay is useless after the event.
    "DELETE FROM events",
)

#: Statements that also remove what people wrote (on request).
FREE_TEXT = (
    "UPDATE questions SET text = '[removed]'",
    "UPDATE replies SET text = '[removed]'",
    "UPDATE breakout_responses SET text = '[removed]' WHERE text != ''",
    "UPDATE breakout_points SET text = '[removed]'",
    "UPDATE breakout_rounds SET message = ''",
)


def purge_sync(path: str | Path, *, free_text: bool, text_codes: list[str]) -> dict[str, int]:
    """Erase personal data in one transaction, then VACUUM so no copy stays in free pages.

    ``text_codes`` are the survey's free-text question codes, removed with ``free_text``.
    Returns how many rows each kind of data touched.
    """
    conn = sqlite3.connect(str(path), isolation_level=None)
    try:
        for pragma in PRAGMAS:
            conn.execute(pragma)
        conn.execute("PRAGMA secure_delete = ON")
        counts = {
            "participants": conn.execute(
                "SELECT count(*) FROM participants WHERE role = 'attendee' AND name IS NOT NULL"
            ).fetchone()[0],
            "questions": conn.execute("SELECT count(*) FROM questions").fetchone()[0],
            "survey_responses": conn.execute("SELECT count(*) FROM survey_responses").fetchone()[0],
        }
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in PEOPLE:
                conn.execute(statement)
            if free_text:
                for statement in FREE_TEXT:
                    conn.execute(statement)
                for code in text_codes:
                    conn.execute(
                        "UPDATE survey_responses SET answers = json_remove(answers, ?)",
                        (f'$."{code}"',),
                    )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("VACUUM")
        return counts
    finally:
        conn.close()


def ended_at_sync(path: str | Path) -> str | None:
    """When the event ended, from the stored agenda run state (ISO), or None."""
    import json

    conn = sqlite3.connect(str(path))
    try:
        row = conn.execute("SELECT state FROM run_state WHERE id = 1").fetchone()
    finally:
        conn.close()
    if row is None:
        return None
    value = json.loads(row[0]).get("ended_at")
    return value if isinstance(value, str) else None
