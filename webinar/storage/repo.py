"""Queries by capability: secrets, people and sessions, agenda run state, the event log.

Write functions take the connection yielded by :meth:`Database.transaction`, so a caller
can put several of them in one transaction; read functions use the reader connection.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from webinar.storage.db import Database, Row, Tx, connect_sync, first_row, take_seqs


@dataclass(frozen=True, slots=True)
class ParticipantRow:
    id: str
    role: str
    name: str | None
    organisation: str | None
    created_at: str


@dataclass(frozen=True, slots=True)
class EventRow:
    seq: int
    at: str
    type: str
    audience: str
    data: dict[str, Any]


# -- meta ---------------------------------------------------------------------------------


def ensure_meta_sync(path: str | Path, webinar_id: int, defaults: dict[str, str]) -> dict[str, str]:
    """Store each default whose key is missing for this event; return every stored key and
    value.

    Synchronous, for start-up before the event loop: secrets are generated once and
    kept, so links printed yesterday still work today.
    """
    conn = connect_sync(path, webinar_id)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(
            "INSERT OR IGNORE INTO meta (webinar_id, key, value) VALUES (this_webinar(), ?, ?)",
            list(defaults.items()),
        )
        conn.execute("COMMIT")
        return dict(
            conn.execute("SELECT key, value FROM meta WHERE webinar_id = this_webinar()").fetchall()
        )
    finally:
        conn.close()


#: The meta key holding where a rehearsal's plan was moved to (``serve --start``).
PLANNED_START = "planned_start"


def event_plan_sync(path: str | Path, webinar_id: int) -> tuple[bool, str | None]:
    """Whether the event has started, and the stored start of a moved plan (or ``None``).

    Synchronous, for the CLI before the server starts (or beside a running one).
    """
    conn = connect_sync(path, webinar_id)
    try:
        row = conn.execute(
            "SELECT state FROM run_state WHERE webinar_id = this_webinar()"
        ).fetchone()
        moved = conn.execute(
            "SELECT value FROM meta WHERE webinar_id = this_webinar() AND key = ?",
            (PLANNED_START,),
        ).fetchone()
    finally:
        conn.close()
    started = row is not None and json.loads(row[0]).get("started_at") is not None
    return started, moved[0] if moved else None


def store_planned_start_sync(path: str | Path, webinar_id: int, value: str | None) -> None:
    """Remember where the plan was moved to, or (``None``) that it was not moved."""
    conn = connect_sync(path, webinar_id)
    try:
        if value is None:
            conn.execute(
                "DELETE FROM meta WHERE webinar_id = this_webinar() AND key = ?", (PLANNED_START,)
            )
        else:
            conn.execute(
                "INSERT INTO meta (webinar_id, key, value) VALUES (this_webinar(), ?, ?)"
                " ON CONFLICT (webinar_id, key) DO UPDATE SET value = excluded.value",
                (PLANNED_START, value),
            )
    finally:
        conn.close()


async def get_meta(db: Database) -> dict[str, str]:
    return {
        row["key"]: row["value"]
        for row in await db.fetchall(
            "SELECT key, value FROM meta WHERE webinar_id = this_webinar()"
        )
    }


async def meta_in(tx: Tx) -> dict[str, str]:
    return {
        str(k): str(v)
        for k, v in await tx.execute_fetchall(
            "SELECT key, value FROM meta WHERE webinar_id = this_webinar()"
        )
    }


async def replace_secrets(tx: Tx, values: dict[str, str]) -> None:
    """Store new values for existing secrets (a rotated code or link)."""
    await tx.executemany(
        "UPDATE meta SET value = ? WHERE webinar_id = this_webinar() AND key = ?",
        [(v, k) for k, v in values.items()],
    )


async def delete_sessions_of_roles(tx: Tx, roles: list[str], keep: str | None = None) -> list[str]:
    """End every session of participants with these roles but ``keep``; return those
    participants. Sessions opened by signing in to an account did not come through a code
    or link, and stay."""
    marks = ",".join("?" * len(roles))
    rows = await tx.execute_fetchall(
        "DELETE FROM sessions WHERE webinar_id = this_webinar() AND id IS NOT ?"
        " AND user_id IS NULL AND participant_id IN"
        f" (SELECT id FROM participants WHERE webinar_id = this_webinar() AND role IN ({marks}))"
        " RETURNING participant_id",
        [keep, *roles],
    )
    return sorted({row[0] for row in rows})


# -- participants and sessions ----------------------------------------------------------


async def create_participant(
    tx: Tx,
    participant: ParticipantRow,
    session_id: str,
) -> None:
    await tx.execute(
        "INSERT INTO participants (id, webinar_id, role, name, organisation, created_at)"
        " VALUES (?, this_webinar(), ?, ?, ?, ?)",
        (
            participant.id,
            participant.role,
            participant.name,
            participant.organisation,
            participant.created_at,
        ),
    )
    await create_session(tx, session_id, participant.id, participant.created_at)


async def create_session(tx: Tx, session_id: str, participant_id: str, at: str) -> None:
    await tx.execute(
        "INSERT INTO sessions (id, webinar_id, participant_id, created_at)"
        " VALUES (?, this_webinar(), ?, ?)",
        (session_id, participant_id, at),
    )


async def delete_session(tx: Tx, session_id: str) -> None:
    await tx.execute(
        "DELETE FROM sessions WHERE id = ? AND webinar_id = this_webinar()", (session_id,)
    )


async def load_session(db: Database, session_id: str) -> ParticipantRow | None:
    """The participant a session belongs to, or None for an unknown session (or one of
    someone removed)."""
    row = await db.fetchone(
        "SELECT p.* FROM sessions s JOIN participants p ON p.id = s.participant_id"
        " WHERE s.id = ? AND s.webinar_id = this_webinar() AND p.webinar_id = this_webinar()"
        " AND p.removed_at IS NULL",
        (session_id,),
    )
    return _participant(row) if row else None


async def remove_attendee(tx: Tx, participant_id: str, at: str) -> bool:
    """Mark an attendee removed and end all their sessions; False if there is no such
    attendee (or they were removed already)."""
    cursor = await tx.execute(
        "UPDATE participants SET removed_at = ?"
        " WHERE id = ? AND webinar_id = this_webinar() AND role = 'attendee'"
        " AND removed_at IS NULL",
        (at, participant_id),
    )
    if cursor.rowcount != 1:
        return False
    await tx.execute(
        "DELETE FROM sessions WHERE webinar_id = this_webinar() AND participant_id = ?",
        (participant_id,),
    )
    return True


async def roster(db: Database) -> list[ParticipantRow]:
    """The attendees on the roster (not removed), by name."""
    rows = await db.fetchall(
        "SELECT * FROM participants WHERE webinar_id = this_webinar() AND role = 'attendee'"
        " AND removed_at IS NULL ORDER BY name COLLATE NOCASE, created_at"
    )
    return [_participant(row) for row in rows]


async def count_participants(db: Database, role: str) -> int:
    """How many of ``role`` are on the roster (the removed are not)."""
    row = await db.fetchone(
        "SELECT count(*) FROM participants WHERE webinar_id = this_webinar() AND role = ?"
        " AND removed_at IS NULL",
        (role,),
    )
    return int(row[0]) if row else 0


def _participant(row: Row) -> ParticipantRow:
    return ParticipantRow(
        id=row["id"],
        role=row["role"],
        name=row["name"],
        organisation=row["organisation"],
        created_at=row["created_at"],
    )


# -- agenda run state ----------------------------------------------------------------------


async def load_run_state(db: Database) -> dict[str, Any] | None:
    row = await db.fetchone("SELECT state FROM run_state WHERE webinar_id = this_webinar()")
    return json.loads(row["state"]) if row else None


async def save_run_state(tx: Tx, state: dict[str, Any], at: str) -> None:
    await tx.execute(
        "INSERT INTO run_state (webinar_id, state, updated_at) VALUES (this_webinar(), ?, ?)"
        " ON CONFLICT (webinar_id) DO UPDATE SET state = excluded.state,"
        " updated_at = excluded.updated_at",
        (json.dumps(state, separators=(",", ":")), at),
    )


async def log_agenda_action(
    tx: Tx, at: str, action: str, detail: dict[str, Any], actor: str
) -> None:
    await tx.execute(
        "INSERT INTO agenda_log (webinar_id, at, action, detail, actor)"
        " VALUES (this_webinar(), ?, ?, ?, ?)",
        (at, action, json.dumps(detail, separators=(",", ":")), actor),
    )


async def agenda_log(db: Database) -> list[dict[str, Any]]:
    rows = await db.fetchall(
        "SELECT at, action, detail, actor FROM agenda_log"
        " WHERE webinar_id = this_webinar() ORDER BY id"
    )
    return [
        {
            "at": r["at"],
            "action": r["action"],
            "detail": json.loads(r["detail"]),
            "actor": r["actor"],
        }
        for r in rows
    ]


# -- the event log ---------------------------------------------------------------------------


async def append_events(
    tx: Tx, at: str, events: list[tuple[str, str, dict[str, Any]]], db: Database | None = None
) -> list[int]:
    """Append events (type, audience, data) inside the caller's transaction; return their
    sequence numbers.

    Numbered per event from ``webinars.last_seq``, a counter taken in the same transaction
    (never a database sequence), so numbers have no gaps and the order of commits. Give
    ``db``, the handle whose transaction ``tx`` is, to have the same statement check its
    writer epoch (:meth:`Database.take_seqs`: ``Fenced`` when it is over).
    """
    if not events:
        return []
    last = await (db.take_seqs(tx, len(events)) if db is not None else take_seqs(tx, len(events)))
    first = last - len(events) + 1
    await tx.executemany(
        "INSERT INTO events (webinar_id, seq, at, type, audience, data)"
        " VALUES (this_webinar(), ?, ?, ?, ?, ?)",
        [
            (
                first + i,
                at,
                type_,
                audience,
                json.dumps(data, separators=(",", ":"), ensure_ascii=False),
            )
            for i, (type_, audience, data) in enumerate(events)
        ],
    )
    return list(range(first, first + len(events)))


async def recent_events(db: Database, limit: int) -> list[EventRow]:
    """The newest ``limit`` events, oldest first."""
    rows = await db.fetchall(
        "SELECT * FROM (SELECT * FROM events WHERE webinar_id = this_webinar()"
        " ORDER BY seq DESC LIMIT ?) AS newest ORDER BY seq",
        (limit,),
    )
    return [_event(row) for row in rows]


async def events_after(db: Database, seq: int, limit: int) -> list[EventRow]:
    """Up to ``limit`` logged events after ``seq``, oldest first (a follower catching up)."""
    rows = await db.fetchall(
        "SELECT * FROM events WHERE webinar_id = this_webinar() AND seq > ? ORDER BY seq LIMIT ?",
        (seq, limit),
    )
    return [_event(row) for row in rows]


async def raise_replay_floor(tx: Tx) -> int:
    """From now on, no screen may be *replayed* the events logged so far: one that resumes
    from before this point gets a fresh snapshot. For a change that takes back what earlier
    events showed (a hidden reply, a corrected response). Returns the floor."""
    row = await first_row(
        tx,
        "INSERT INTO meta (webinar_id, key, value)"
        " SELECT this_webinar(), 'replay_floor', CAST(last_seq AS TEXT) FROM webinars"
        " WHERE id = this_webinar()"
        " ON CONFLICT (webinar_id, key) DO UPDATE SET value = excluded.value RETURNING value",
    )
    return int(row[0]) if row else 0


async def replay_floor(db: Database) -> int:
    row = await db.fetchone(
        "SELECT value FROM meta WHERE webinar_id = this_webinar() AND key = 'replay_floor'"
    )
    return int(row[0]) if row else 0


async def last_seq(db: Database) -> int:
    row = await db.fetchone("SELECT last_seq FROM webinars WHERE id = this_webinar()")
    return int(row[0]) if row else 0


def _event(row: Row) -> EventRow:
    return EventRow(
        seq=row["seq"],
        at=row["at"],
        type=row["type"],
        audience=row["audience"],
        data=json.loads(row["data"]),
    )
