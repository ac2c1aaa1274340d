"""The organiser's programme in the database: every event with its figures, new events,
archiving. Synchronous, like :mod:`webinar.storage.webinars` (the services run these in a
worker thread); the figures are one query each across every event, not one per event."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from webinar.storage.db import connect_sync
from webinar.storage.webinars import _COLUMNS, Webinar, _webinar


@dataclass(frozen=True, slots=True)
class ProgrammeRow:
    """An event as the programme lists it."""

    webinar: Webinar
    archived_at: str | None
    started_at: str | None
    ended_at: str | None
    attendees: int
    questions: int
    responses: int


_FIGURES = {
    "attendees": "SELECT webinar_id, count(*) FROM participants WHERE role = 'attendee'"
    " GROUP BY webinar_id",
    "questions": "SELECT webinar_id, count(*) FROM questions GROUP BY webinar_id",
    "responses": "SELECT webinar_id, count(*) FROM survey_responses GROUP BY webinar_id",
}


def programme_sync(path: str | Path) -> list[ProgrammeRow]:
    """Every event in the database, oldest first, with its run times and figures."""
    conn = connect_sync(path)
    try:
        rows = conn.execute(f"SELECT {_COLUMNS}, archived_at FROM webinars ORDER BY id").fetchall()
        runs = dict(conn.execute("SELECT webinar_id, state FROM run_state").fetchall())
        figures = {name: dict(conn.execute(sql).fetchall()) for name, sql in _FIGURES.items()}
    finally:
        conn.close()
    result = []
    for row in rows:
        webinar = _webinar(tuple(row[:6]))
        state = json.loads(runs.get(webinar.id) or "{}")
        started, ended = state.get("started_at"), state.get("ended_at")
        result.append(
            ProgrammeRow(
                webinar,
                None if row[6] is None else str(row[6]),
                started if isinstance(started, str) else None,
                ended if isinstance(ended, str) else None,
                *(int(figures[name].get(webinar.id, 0)) for name in _FIGURES),
            )
        )
    return result


def add_new_webinar_sync(
    path: str | Path, slug: str, title: str, agenda_name: str, agenda: str, now: str
) -> Webinar | None:
    """Create an event; None (and nothing stored) when ``slug`` is taken."""
    conn = connect_sync(path)
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            taken = conn.execute("SELECT 1 FROM webinars WHERE slug = ?", (slug,)).fetchone()
            if taken is None:
                conn.execute(
                    "INSERT INTO webinars (slug, title, agenda_name, agenda, created_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (slug, title, agenda_name, agenda, now),
                )
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM webinars WHERE slug = ?", (slug,)
            ).fetchone()
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    finally:
        conn.close()
    return None if taken is not None else _webinar(row)


def set_archived_sync(path: str | Path, webinar_id: int, archived_at: str | None) -> None:
    """Archive an event (``archived_at``: when) or bring it back (None)."""
    conn = connect_sync(path)
    try:
        with conn:
            conn.execute(
                "UPDATE webinars SET archived_at = ? WHERE id = ?", (archived_at, webinar_id)
            )
    finally:
        conn.close()


__all__ = ["ProgrammeRow", "add_new_webinar_sync", "programme_sync", "set_archived_sync"]
