"""Database schema, as an ordered list of migrations.

``PRAGMA user_version`` records how many have run. A migration is never edited once
released: a change is a new entry at the end.
"""

from __future__ import annotations

MIGRATIONS: tuple[str, ...] = (
    # 1: the foundation: secrets, people, sessions, agenda run state, the event log.
    """
    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    CREATE TABLE participants (
        id           TEXT PRIMARY KEY,
        role         TEXT NOT NULL CHECK (role IN ('attendee', 'host', 'organiser')),
        name         TEXT,
        organisation TEXT,
        created_at   TEXT NOT NULL
    );
    CREATE TABLE sessions (
        id             TEXT PRIMARY KEY,
        participant_id TEXT NOT NULL REFERENCES participants(id) ON DELETE CASCADE,
        created_at     TEXT NOT NULL
    );
    CREATE INDEX sessions_participant ON sessions(participant_id);
    CREATE TABLE grants (
        participant_id TEXT NOT NULL REFERENCES participants(id) ON DELETE CASCADE,
        scope          TEXT NOT NULL,
        granted_at     TEXT NOT NULL,
        PRIMARY KEY (participant_id, scope)
    );
    CREATE TABLE run_state (
        id         INTEGER PRIMARY KEY CHECK (id = 1),
        state      TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE agenda_log (
        id      INTEGER PRIMARY KEY,
        at      TEXT NOT NULL,
        action  TEXT NOT NULL,
        detail  TEXT NOT NULL,
        actor   TEXT NOT NULL
    );
    CREATE TABLE events (
        seq      INTEGER PRIMARY KEY AUTOINCREMENT,
        at       TEXT NOT NULL,
        type     TEXT NOT NULL,
        audience TEXT NOT NULL,
        data     TEXT NOT NULL
    );
    """,
)
