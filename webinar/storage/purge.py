"""Erasing personal data: everyone's after the retention period, or one person's on
request (see docs/privacy.md)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from webinar.domain.preassign import name_key
from webinar.storage import poll_repo
from webinar.storage.db import SyncConnection, connect_sync, scope
from webinar.storage.postgres import PgSyncConnection, is_postgres

T = TypeVar("T")

#: Statements that remove who took part, keeping anonymous aggregates (counts, votes
#: totals, ratings, responses by group).
PEOPLE = (
    "UPDATE participants SET name = NULL, organisation = NULL WHERE webinar_id = this_webinar()",
    "DELETE FROM sessions WHERE webinar_id = this_webinar()",
    "UPDATE questions SET author_id = NULL, author_name = NULL, author_org = NULL"
    " WHERE webinar_id = this_webinar()",
    "UPDATE replies SET author_id = NULL, author_name = NULL WHERE webinar_id = this_webinar()",
    "DELETE FROM votes WHERE webinar_id = this_webinar()",
    "DELETE FROM breakout_members WHERE webinar_id = this_webinar()",
    "UPDATE breakout_groups SET facilitator_id = NULL WHERE webinar_id = this_webinar()",
    "UPDATE breakout_points SET author_name = NULL WHERE webinar_id = this_webinar()",
    "UPDATE survey_responses SET participant_id = NULL WHERE webinar_id = this_webinar()",
    "UPDATE participants SET survey_responded = 0 WHERE webinar_id = this_webinar()",
    "DELETE FROM preassignments WHERE webinar_id = this_webinar()",
    *poll_repo.PURGE_PEOPLE,
    # The live event log repeats names and texts; replay is useless after the event.
    "DELETE FROM events WHERE webinar_id = this_webinar()",
)

#: Statements that also remove what people wrote (on request).
FREE_TEXT = (
    "UPDATE questions SET text = '[removed]' WHERE webinar_id = this_webinar()",
    "UPDATE replies SET text = '[removed]' WHERE webinar_id = this_webinar()",
    "UPDATE breakout_responses SET text = '[removed]' WHERE webinar_id = this_webinar()"
    " AND text != ''",
    "UPDATE breakout_points SET text = '[removed]' WHERE webinar_id = this_webinar()",
    "UPDATE breakout_rounds SET message = '' WHERE webinar_id = this_webinar()",
    *poll_repo.PURGE_FREE_TEXT,
)


def purge_sync(
    path: str | Path, webinar_id: int, *, free_text: bool, text_codes: list[str]
) -> dict[str, int]:
    """Erase personal data in one transaction, then VACUUM so no copy stays in free pages.

    ``text_codes`` are the survey's free-text question codes, removed with ``free_text``.
    Returns how many rows each kind of data touched.
    """

    def purge(conn: SyncConnection) -> dict[str, int]:
        counts = {
            "participants": conn.execute(
                "SELECT count(*) FROM participants WHERE webinar_id = this_webinar()"
                " AND role = 'attendee' AND name IS NOT NULL"
            ).fetchone()[0],
            "questions": conn.execute(
                "SELECT count(*) FROM questions WHERE webinar_id = this_webinar()"
            ).fetchone()[0],
            "survey_responses": conn.execute(
                "SELECT count(*) FROM survey_responses WHERE webinar_id = this_webinar()"
            ).fetchone()[0],
        }
        for statement in PEOPLE:
            conn.execute(statement)
        if free_text:
            for statement in FREE_TEXT:
                conn.execute(statement)
            _remove_answers(conn, text_codes)
        return counts

    return _erasing(path, webinar_id, purge)


def _erasing(path: str | Path, webinar_id: int, erase: Callable[[SyncConnection], T]) -> T:
    """Run ``erase`` in one transaction with ``secure_delete``, then checkpoint the WAL and
    VACUUM, so that no erased value survives in free pages or the log."""
    conn = connect_sync(path, webinar_id)
    try:
        conn.execute("PRAGMA secure_delete = ON")
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = erase(conn)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("VACUUM")
        return result
    finally:
        conn.close()


def _remove_answers(
    conn: SyncConnection, text_codes: list[str], where: str = "", params: tuple[str, ...] = ()
) -> None:
    # ``where`` continues "WHERE webinar_id = this_webinar()" (e.g. "AND participant_id = ?").
    """Remove the survey's free-text answers (``text_codes``) from the responses ``where``
    selects (all of them by default)."""
    if isinstance(conn, PgSyncConnection):
        _remove_answers_pg(conn, text_codes, where, params)
        return
    for code in text_codes:
        conn.execute(
            "UPDATE survey_responses SET answers = json_remove(answers, ?)"
            f" WHERE webinar_id = this_webinar() {where}",
            (f'$."{code}"', *params),
        )


def _remove_answers_pg(
    conn: PgSyncConnection, text_codes: list[str], where: str, params: tuple[str, ...]
) -> None:
    """:func:`_remove_answers` on PostgreSQL: the answers rewritten as the app writes them
    (compact JSON, keys in their order), which ``jsonb`` would not keep."""
    if not text_codes:
        return
    rows = conn.execute(
        f"SELECT key_hash, answers FROM survey_responses WHERE webinar_id = this_webinar() {where}",
        params,
    ).fetchall()
    for key_hash, answers in rows:
        stored = json.loads(answers)
        kept = {code: value for code, value in stored.items() if code not in text_codes}
        if kept != stored:
            conn.execute(
                "UPDATE survey_responses SET answers = ?"
                " WHERE webinar_id = this_webinar() AND key_hash = ?",
                (json.dumps(kept, separators=(",", ":"), ensure_ascii=False), key_hash),
            )


def ended_at_sync(path: str | Path, webinar_id: int) -> str | None:
    """When the event ended, from the stored agenda run state (ISO), or None."""
    import json

    conn = connect_sync(path, webinar_id)
    try:
        row = conn.execute(
            "SELECT state FROM run_state WHERE webinar_id = this_webinar()"
        ).fetchone()
    finally:
        conn.close()
    if row is None:
        return None
    value = json.loads(row[0]).get("ended_at")
    return value if isinstance(value, str) else None


# -- one person, on request ----------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    """Someone who took part, as the organiser can recognise them."""

    id: str
    name: str
    organisation: str
    joined_at: str


def find_people_sync(
    path: str | Path, webinar_id: int, *, name: str | None = None, person_id: str | None = None
) -> list[Person]:
    """The event's participants with this id, or with this name (whole name, any case or
    spacing)."""
    conn: SyncConnection
    if is_postgres(path):
        conn = connect_sync(path, webinar_id)
    else:
        conn = scope(sqlite3.connect(f"file:{path}?mode=ro", uri=True), webinar_id)
    try:
        rows = conn.execute(
            "SELECT id, name, organisation, created_at FROM participants"
            " WHERE webinar_id = this_webinar() AND name IS NOT NULL ORDER BY created_at"
        ).fetchall()
    finally:
        conn.close()
    wanted = name_key(name) if name is not None else None
    return [
        Person(row[0], row[1], row[2] or "", row[3])
        for row in rows
        if (person_id is not None and row[0] == person_id)
        or (wanted is not None and name_key(row[1]) == wanted)
    ]


def erase_person_sync(
    path: str | Path, webinar_id: int, person: Person, *, free_text: bool, text_codes: list[str]
) -> dict[str, int]:
    """Erase one person's name and organisation and unlink them from what they did, in one
    transaction, then VACUUM. Returns how many of each kind of row were touched.

    What they did stays as anonymous contributions: their questions and replies lose
    their author (and, with ``free_text``, their text), their points in breakout groups
    lose their name, their survey response loses its link to them. Their votes and group
    membership stay attached to an id that no longer names anyone, so totals and group
    sizes do not change. Their sessions end. The live event log, which repeats names, is
    emptied (screens get a fresh snapshot when they reconnect). Anonymous questions were
    never linked to anyone, so there is nothing to find or erase.
    """
    return _erasing(
        path,
        webinar_id,
        lambda conn: _erase(
            conn, person.id, person.name, free_text=free_text, text_codes=text_codes
        ),
    )


def _erase(
    conn: SyncConnection, pid: str, name: str, *, free_text: bool, text_codes: list[str]
) -> dict[str, int]:
    # Their points: members' points carry a name, not an id. Their name comes off every
    # point with it in the rounds they took part in (any group: they may have been moved;
    # a namesake's name goes too, erring towards erasing). Their text goes only where
    # they are a member, so that a namesake's words are never lost.
    points_of = (
        "webinar_id = this_webinar() AND author_name = ? AND round_id IN"
        " (SELECT round_id FROM breakout_members WHERE participant_id = ?)"
    )
    written_by = (
        "webinar_id = this_webinar() AND author_name = ? AND (round_id, group_number) IN"
        " (SELECT round_id, group_number FROM breakout_members WHERE participant_id = ?)"
    )
    if free_text:
        conn.execute(
            "UPDATE questions SET text = '[removed]'"
            " WHERE webinar_id = this_webinar() AND author_id = ?",
            (pid,),
        )
        conn.execute(
            "UPDATE replies SET text = '[removed]'"
            " WHERE webinar_id = this_webinar() AND author_id = ?",
            (pid,),
        )
        conn.execute(
            f"UPDATE breakout_points SET text = '[removed]' WHERE {written_by}", (name, pid)
        )
        _remove_answers(conn, text_codes, "AND participant_id = ?", (pid,))
        for statement in poll_repo.ERASE_FREE_TEXT:
            conn.execute(statement, (pid,))
    for statement in poll_repo.ERASE_PERSON:
        conn.execute(statement, (pid,))
    counts = {
        "questions": conn.execute(
            "UPDATE questions SET author_id = NULL, author_name = NULL, author_org = NULL"
            " WHERE webinar_id = this_webinar() AND author_id = ?",
            (pid,),
        ).rowcount,
        "replies": conn.execute(
            "UPDATE replies SET author_id = NULL, author_name = NULL"
            " WHERE webinar_id = this_webinar() AND author_id = ?",
            (pid,),
        ).rowcount,
        "points": conn.execute(
            f"UPDATE breakout_points SET author_name = NULL WHERE {points_of}", (name, pid)
        ).rowcount,
        "survey_responses": conn.execute(
            "UPDATE survey_responses SET participant_id = NULL, breakout_group = NULL"
            " WHERE webinar_id = this_webinar() AND participant_id = ?",
            (pid,),
        ).rowcount,
        "sessions": conn.execute(
            "DELETE FROM sessions WHERE webinar_id = this_webinar() AND participant_id = ?",
            (pid,),
        ).rowcount,
        # A pre-assignment line for them holds their name, in matching form.
        "preassignments": conn.execute(
            "DELETE FROM preassignments WHERE webinar_id = this_webinar() AND match_key = ?",
            (name_key(name),),
        ).rowcount,
    }
    conn.execute(
        "UPDATE participants SET name = NULL, organisation = NULL"
        " WHERE webinar_id = this_webinar() AND id = ?",
        (pid,),
    )
    conn.execute("DELETE FROM events WHERE webinar_id = this_webinar()")
    return counts
