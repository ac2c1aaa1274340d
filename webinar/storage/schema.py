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
    # 2: the Q&A forum. Anonymous questions keep no author id, name or organisation:
    # only a hash of the client's submit key, which the author's own session holds.
    """
    CREATE TABLE questions (
        id              INTEGER PRIMARY KEY,
        item_id         TEXT NOT NULL,
        text            TEXT NOT NULL,
        author_id       TEXT REFERENCES participants(id) ON DELETE SET NULL,
        author_name     TEXT,
        author_org      TEXT,
        anonymous       INTEGER NOT NULL DEFAULT 0,
        key_hash        TEXT NOT NULL UNIQUE,
        state           TEXT NOT NULL
            CHECK (state IN ('pending', 'published', 'rejected', 'hidden', 'merged')),
        reject_reason   TEXT NOT NULL DEFAULT '',
        merged_into     INTEGER REFERENCES questions(id),
        answered        TEXT NOT NULL DEFAULT '' CHECK (answered IN ('', 'live', 'written')),
        highlighted     INTEGER NOT NULL DEFAULT 0,
        pinned          INTEGER NOT NULL DEFAULT 0,
        edited_by_host  INTEGER NOT NULL DEFAULT 0,
        held_by_filter  INTEGER NOT NULL DEFAULT 0,
        votes           INTEGER NOT NULL DEFAULT 0,
        created_at      TEXT NOT NULL,
        updated_at      TEXT NOT NULL,
        CHECK (anonymous = 0 OR (author_id IS NULL AND author_name IS NULL
                                 AND author_org IS NULL))
    );
    CREATE INDEX questions_item ON questions(item_id, state);
    CREATE INDEX questions_author ON questions(author_id);
    CREATE TABLE votes (
        question_id INTEGER NOT NULL REFERENCES questions(id) ON DELETE CASCADE,
        voter_id    TEXT NOT NULL,
        created_at  TEXT NOT NULL,
        PRIMARY KEY (question_id, voter_id)
    ) WITHOUT ROWID;
    CREATE TABLE replies (
        id           INTEGER PRIMARY KEY,
        question_id  INTEGER NOT NULL REFERENCES questions(id) ON DELETE CASCADE,
        author_id    TEXT REFERENCES participants(id) ON DELETE SET NULL,
        author_name  TEXT,
        role         TEXT NOT NULL,
        text         TEXT NOT NULL,
        is_answer    INTEGER NOT NULL DEFAULT 0,
        key_hash     TEXT NOT NULL UNIQUE,
        created_at   TEXT NOT NULL
    );
    CREATE INDEX replies_question ON replies(question_id);
    CREATE TABLE settings (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    """,
    # 3: breakouts. Responses belong to a group, not a person: no author is stored.
    """
    CREATE TABLE breakout_rounds (
        id          INTEGER PRIMARY KEY,
        item_id     TEXT NOT NULL,
        seed        INTEGER NOT NULL,
        started_at  TEXT NOT NULL,
        ended_at    TEXT,
        message     TEXT NOT NULL DEFAULT ''
    );
    CREATE TABLE breakout_groups (
        round_id        INTEGER NOT NULL REFERENCES breakout_rounds(id) ON DELETE CASCADE,
        number          INTEGER NOT NULL,
        topics          TEXT NOT NULL,
        facilitator_id  TEXT REFERENCES participants(id) ON DELETE SET NULL,
        help_at         TEXT,
        PRIMARY KEY (round_id, number)
    );
    CREATE TABLE breakout_members (
        round_id        INTEGER NOT NULL REFERENCES breakout_rounds(id) ON DELETE CASCADE,
        participant_id  TEXT NOT NULL REFERENCES participants(id) ON DELETE CASCADE,
        group_number    INTEGER NOT NULL,
        joined_at       TEXT NOT NULL,
        PRIMARY KEY (round_id, participant_id)
    );
    CREATE TABLE breakout_responses (
        round_id      INTEGER NOT NULL REFERENCES breakout_rounds(id) ON DELETE CASCADE,
        group_number  INTEGER NOT NULL,
        topic         INTEGER NOT NULL,
        text          TEXT NOT NULL,
        version       INTEGER NOT NULL,
        updated_at    TEXT NOT NULL,
        starred       INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (round_id, group_number, topic)
    );
    CREATE TABLE breakout_points (
        id            INTEGER PRIMARY KEY,
        round_id      INTEGER NOT NULL REFERENCES breakout_rounds(id) ON DELETE CASCADE,
        group_number  INTEGER NOT NULL,
        topic         INTEGER NOT NULL,
        author_name   TEXT,
        text          TEXT NOT NULL,
        key_hash      TEXT NOT NULL UNIQUE,
        created_at    TEXT NOT NULL
    );
    CREATE TABLE preassignments (
        match_key     TEXT PRIMARY KEY,
        group_number  INTEGER NOT NULL,
        line          INTEGER NOT NULL
    );
    """,
    # 4: the post-event survey. Anonymous responses keep no participant id; a separate
    # table records only *that* someone responded (no time, no order) to allow one each.
    """
    CREATE TABLE survey_responses (
        id              INTEGER PRIMARY KEY,
        key_hash        TEXT NOT NULL UNIQUE,
        participant_id  TEXT REFERENCES participants(id) ON DELETE SET NULL,
        breakout_group  INTEGER,
        answers         TEXT NOT NULL,
        submitted       INTEGER NOT NULL DEFAULT 0,
        updated_on      TEXT NOT NULL
    );
    CREATE TABLE survey_respondents (
        participant_id  TEXT PRIMARY KEY REFERENCES participants(id) ON DELETE CASCADE
    ) WITHOUT ROWID;
    """,
    # 5: hosts can hide a reply (it may name a child): kept for the record, shown to no
    # attendee.
    """
    ALTER TABLE replies ADD COLUMN hidden INTEGER NOT NULL DEFAULT 0;
    """,
    # 6: hosts can correct a group's response (to take a name out before it is shown);
    # the facilitator's next save clears the mark.
    """
    ALTER TABLE breakout_responses ADD COLUMN edited_by_host INTEGER NOT NULL DEFAULT 0;
    """,
    # 7: hosts can remove an attendee (a bot, someone who should not be there): kept for
    # the record with when, out of the roster, their sessions ended.
    """
    ALTER TABLE participants ADD COLUMN removed_at TEXT;
    """,
    # 8: nothing joins a respondent to an anonymous survey response. Responses lose their
    # row id (insertion order) and day, and anonymous ones their breakout group (with the
    # group's member list it named the few who answered from it); they are keyed by the
    # hash of the respondent's key, so their order is random. *That* someone responded
    # becomes a flag on their participant row, which is set in place (the same record
    # size), so it keeps no order either; ``survey_respondents`` stays as a view.
    # secure_delete: the old rows' bytes (ids, days, groups) do not stay in free pages.
    """
    PRAGMA secure_delete = ON;
    CREATE TABLE survey_responses_new (
        key_hash        TEXT PRIMARY KEY,
        participant_id  TEXT REFERENCES participants(id) ON DELETE SET NULL,
        breakout_group  INTEGER,
        answers         TEXT NOT NULL,
        submitted       INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID;
    INSERT INTO survey_responses_new (key_hash, participant_id, breakout_group, answers,
                                      submitted)
        SELECT key_hash, participant_id,
               CASE WHEN participant_id IS NULL THEN NULL ELSE breakout_group END,
               answers, submitted
        FROM survey_responses ORDER BY key_hash;
    DROP TABLE survey_responses;
    ALTER TABLE survey_responses_new RENAME TO survey_responses;
    ALTER TABLE participants ADD COLUMN survey_responded INTEGER NOT NULL DEFAULT 0
        CHECK (survey_responded IN (0, 1));
    UPDATE participants SET survey_responded =
        (id IN (SELECT participant_id FROM survey_respondents));
    DROP TABLE survey_respondents;
    CREATE VIEW survey_respondents AS
        SELECT id AS participant_id FROM participants WHERE survey_responded = 1;
    """,
    # 9: live polls (issue #15). ``event_id`` scopes each row to its event (one event per
    # database today; the column is there for many). An answer is keyed by the hash of the
    # poll id and a key only the respondent's session cookie holds; anonymous answers keep
    # no participant id; ``poll_respondents`` records only *that* someone answered (no time,
    # no order: both tables have no row id), so that nobody answers twice.
    """
    CREATE TABLE polls (
        id            INTEGER PRIMARY KEY,
        event_id      INTEGER NOT NULL,
        item_id       TEXT,
        position      INTEGER NOT NULL,
        agenda_key    TEXT,
        spec          TEXT NOT NULL,
        state         TEXT NOT NULL CHECK (state IN ('ready', 'open', 'closed')),
        revealed      INTEGER NOT NULL DEFAULT 0,
        on_projector  INTEGER NOT NULL DEFAULT 0,
        opened_at     TEXT,
        closed_at     TEXT,
        UNIQUE (event_id, agenda_key)
    );
    CREATE TABLE poll_answers (
        event_id        INTEGER NOT NULL,
        poll_id         INTEGER NOT NULL REFERENCES polls(id) ON DELETE CASCADE,
        key_hash        TEXT NOT NULL,
        answer          TEXT NOT NULL,
        participant_id  TEXT REFERENCES participants(id) ON DELETE SET NULL,
        author_name     TEXT,
        PRIMARY KEY (event_id, poll_id, key_hash)
    ) WITHOUT ROWID;
    CREATE TABLE poll_respondents (
        event_id        INTEGER NOT NULL,
        poll_id         INTEGER NOT NULL REFERENCES polls(id) ON DELETE CASCADE,
        participant_id  TEXT NOT NULL REFERENCES participants(id) ON DELETE CASCADE,
        PRIMARY KEY (event_id, poll_id, participant_id)
    ) WITHOUT ROWID;
    """,
)
