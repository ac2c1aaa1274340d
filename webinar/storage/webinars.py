"""The events a database holds (table ``webinars``): create, find, list, remove.

Each event has a slug (its URLs are ``/e/<slug>/...``), the agenda file it runs from
(name and text, so ``webinar serve`` can serve every event with no file at hand) and the
counter its live event log is numbered from. Everything else an event owns carries its
``webinar_id`` (see :func:`webinar.storage.db.scope`).

Synchronous: the CLI and the server's start-up call these outside the writer's queue; a
running server may share the file (SQLite's own locking and ``busy_timeout`` order them).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from webinar.storage.db import connect_sync

#: What a slug may be: lower-case letters, digits and hyphens, 1 to 40 of them, starting
#: with a letter or digit (the database checks the same).
SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")


def slug_problem(slug: str) -> str | None:
    """A sentence saying why ``slug`` cannot name an event, or None if it can."""
    if SLUG.fullmatch(slug):
        return None
    return (
        f"'{slug}' cannot be an event's short name: use 1 to 40 lower-case letters, digits "
        "and hyphens, starting with a letter or digit (like 'briefing-march')."
    )


def slug_from(name: str) -> str:
    """A slug made from a file name or title: 'Practice Review.toml' -> 'practice-review'."""
    base = re.sub(r"[^a-z0-9]+", "-", Path(name).stem.lower()).strip("-")[:40].strip("-")
    return base or "event"


@dataclass(frozen=True, slots=True)
class Webinar:
    id: int
    slug: str
    title: str
    agenda_name: str
    #: The agenda file's text; None for the event of a database from before events were
    #: first-class (it was served from a file named on the command line).
    agenda: str | None
    created_at: str


_COLUMNS = "id, slug, title, agenda_name, agenda, created_at"


def _webinar(row: tuple[object, ...]) -> Webinar:
    wid, slug, title, name, agenda, created = row
    return Webinar(
        int(str(wid)),
        str(slug),
        str(title),
        str(name),
        None if agenda is None else str(agenda),
        str(created),
    )


def list_webinars_sync(path: str | Path) -> list[Webinar]:
    """Every event in the database, oldest first."""
    conn = connect_sync(path)
    try:
        rows = conn.execute(f"SELECT {_COLUMNS} FROM webinars ORDER BY id").fetchall()
    finally:
        conn.close()
    return [_webinar(r) for r in rows]


def find_webinar_sync(path: str | Path, slug: str) -> Webinar | None:
    conn = connect_sync(path)
    try:
        row = conn.execute(f"SELECT {_COLUMNS} FROM webinars WHERE slug = ?", (slug,)).fetchone()
    finally:
        conn.close()
    return _webinar(row) if row else None


def save_webinar_sync(
    path: str | Path,
    slug: str,
    *,
    title: str = "",
    agenda_name: str = "",
    agenda: str | None = None,
    adopt: bool = False,
) -> tuple[Webinar, bool]:
    """Create the event ``slug``, or update its title and agenda; return it and whether it
    was created.

    ``adopt``: when no event has this slug but the database holds exactly one event with
    no stored agenda (one migrated from before events were first-class), that event takes
    this slug, so ``webinar serve AGENDA`` on an old database carries on with its event.
    ``ValueError`` for a slug that cannot name an event.
    """
    problem = slug_problem(slug)
    if problem:
        raise ValueError(problem)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    conn = connect_sync(path)
    try:
        conn.execute("BEGIN IMMEDIATE")
        row = conn.execute("SELECT id FROM webinars WHERE slug = ?", (slug,)).fetchone()
        created = False
        if row is None and adopt:
            legacy = conn.execute(
                "SELECT id FROM webinars WHERE agenda IS NULL"
                " AND (SELECT count(*) FROM webinars) = 1"
            ).fetchone()
            if legacy is not None:
                conn.execute("UPDATE webinars SET slug = ? WHERE id = ?", (slug, legacy[0]))
                row = legacy
        if row is None:
            conn.execute(
                "INSERT INTO webinars (slug, title, agenda_name, agenda, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (slug, title, agenda_name, agenda, now),
            )
            created = True
        elif agenda is not None:
            conn.execute(
                "UPDATE webinars SET title = ?, agenda_name = ?, agenda = ? WHERE slug = ?",
                (title, agenda_name, agenda, slug),
            )
        result = conn.execute(f"SELECT {_COLUMNS} FROM webinars WHERE slug = ?", (slug,)).fetchone()
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    finally:
        conn.close()
    return _webinar(result), created


def run_times_sync(path: str | Path, webinar_id: int) -> tuple[str | None, str | None]:
    """When the event started and ended (ISO), from its stored run state; None if not."""
    conn = connect_sync(path, webinar_id)
    try:
        row = conn.execute(
            "SELECT state FROM run_state WHERE webinar_id = this_webinar()"
        ).fetchone()
    finally:
        conn.close()
    state = json.loads(row[0]) if row else {}
    started, ended = state.get("started_at"), state.get("ended_at")
    return (
        started if isinstance(started, str) else None,
        ended if isinstance(ended, str) else None,
    )


def counts_sync(path: str | Path, webinar_id: int) -> dict[str, int]:
    """How many attendees, questions and survey responses the event holds."""
    conn = connect_sync(path, webinar_id)
    try:
        return {
            name: int(conn.execute(sql).fetchone()[0])
            for name, sql in (
                (
                    "attendees",
                    "SELECT count(*) FROM participants WHERE webinar_id = this_webinar()"
                    " AND role = 'attendee'",
                ),
                ("questions", "SELECT count(*) FROM questions WHERE webinar_id = this_webinar()"),
                (
                    "responses",
                    "SELECT count(*) FROM survey_responses WHERE webinar_id = this_webinar()",
                ),
            )
        }
    finally:
        conn.close()


def remove_webinar_sync(path: str | Path, webinar_id: int) -> None:
    """Delete the event and everything it holds (its rows cascade), then checkpoint the
    WAL and VACUUM with ``secure_delete``, so nothing of it stays in the file."""
    conn = connect_sync(path)
    try:
        conn.execute("PRAGMA secure_delete = ON")
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute("DELETE FROM webinars WHERE id = ?", (webinar_id,))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("VACUUM")
    finally:
        conn.close()


__all__ = [
    "SLUG",
    "Webinar",
    "counts_sync",
    "find_webinar_sync",
    "list_webinars_sync",
    "remove_webinar_sync",
    "run_times_sync",
    "save_webinar_sync",
    "slug_from",
    "slug_problem",
]
