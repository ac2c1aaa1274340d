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
    # 9: events are first-class: one database holds many. ``webinars`` (the events people
    # attend; ``events`` stays the live event log) gets one row per event, and every table
    # a ``webinar_id``, with its keys and unique constraints rebuilt to include it. A
    # database from before holds one event: it becomes webinar 1, slug 'webinar', its meta
    # (code, secret links, planned start) and every row kept. The log's ``seq`` is numbered
    # per event from ``webinars.last_seq``, a counter taken in the writing transaction.
    # Run with foreign keys off (tables are rebuilt), then checked (see db._migrate);
    # secure_delete, so the old tables' bytes do not stay in free pages.
    """
    PRAGMA secure_delete = ON;
    CREATE TABLE webinars (
        id           INTEGER PRIMARY KEY,
        slug         TEXT NOT NULL UNIQUE
            CHECK (length(slug) BETWEEN 1 AND 40 AND slug NOT GLOB '*[^a-z0-9-]*'),
        title        TEXT NOT NULL DEFAULT '',
        agenda_name  TEXT NOT NULL DEFAULT '',
        agenda       TEXT,
        last_seq     INTEGER NOT NULL DEFAULT 0,
        created_at   TEXT NOT NULL
    );
    INSERT INTO webinars (id, slug, last_seq, created_at)
        SELECT 1, 'webinar', (SELECT coalesce(max(seq), 0) FROM events),
               strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
        WHERE EXISTS (SELECT 1 FROM meta) OR EXISTS (SELECT 1 FROM participants)
            OR EXISTS (SELECT 1 FROM events) OR EXISTS (SELECT 1 FROM run_state)
            OR EXISTS (SELECT 1 FROM agenda_log) OR EXISTS (SELECT 1 FROM questions)
            OR EXISTS (SELECT 1 FROM settings) OR EXISTS (SELECT 1 FROM breakout_rounds)
            OR EXISTS (SELECT 1 FROM preassignments) OR EXISTS (SELECT 1 FROM survey_responses);
    DROP VIEW survey_respondents;

    CREATE TABLE meta_new (
        webinar_id  INTEGER NOT NULL REFERENCES webinars(id) ON DELETE CASCADE,
        key         TEXT NOT NULL,
        value       TEXT NOT NULL,
        PRIMARY KEY (webinar_id, key)
    ) WITHOUT ROWID;
    INSERT INTO meta_new SELECT 1, key, value FROM meta;
    DROP TABLE meta;
    ALTER TABLE meta_new RENAME TO meta;

    CREATE TABLE participants_new (
        id                TEXT PRIMARY KEY,
        webinar_id        INTEGER NOT NULL REFERENCES webinars(id) ON DELETE CASCADE,
        role              TEXT NOT NULL CHECK (role IN ('attendee', 'host', 'organiser')),
        name              TEXT,
        organisation      TEXT,
        created_at        TEXT NOT NULL,
        removed_at        TEXT,
        survey_responded  INTEGER NOT NULL DEFAULT 0 CHECK (survey_responded IN (0, 1))
    );
    INSERT INTO participants_new SELECT id, 1, role, name, organisation, created_at,
        removed_at, survey_responded FROM participants;
    DROP TABLE participants;
    ALTER TABLE participants_new RENAME TO participants;
    CREATE INDEX participants_webinar ON participants(webinar_id, role);

    CREATE TABLE sessions_new (
        id             TEXT PRIMARY KEY,
        webinar_id     INTEGER NOT NULL REFERENCES webinars(id) ON DELETE CASCADE,
        participant_id TEXT NOT NULL REFERENCES participants(id) ON DELETE CASCADE,
        created_at     TEXT NOT NULL
    );
    INSERT INTO sessions_new SELECT id, 1, participant_id, created_at FROM sessions;
    DROP TABLE sessions;
    ALTER TABLE sessions_new RENAME TO sessions;
    CREATE INDEX sessions_participant ON sessions(participant_id);

    CREATE TABLE run_state_new (
        webinar_id INTEGER PRIMARY KEY REFERENCES webinars(id) ON DELETE CASCADE,
        state      TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    INSERT INTO run_state_new SELECT 1, state, updated_at FROM run_state;
    DROP TABLE run_state;
    ALTER TABLE run_state_new RENAME TO run_state;

    CREATE TABLE agenda_log_new (
        id          INTEGER PRIMARY KEY,
        webinar_id  INTEGER NOT NULL REFERENCES webinars(id) ON DELETE CASCADE,
        at          TEXT NOT NULL,
        action      TEXT NOT NULL,
        detail      TEXT NOT NULL,
        actor       TEXT NOT NULL
    );
    INSERT INTO agenda_log_new SELECT id, 1, at, action, detail, actor FROM agenda_log;
    DROP TABLE agenda_log;
    ALTER TABLE agenda_log_new RENAME TO agenda_log;
    CREATE INDEX agenda_log_webinar ON agenda_log(webinar_id, id);

    CREATE TABLE events_new (
        webinar_id  INTEGER NOT NULL REFERENCES webinars(id) ON DELETE CASCADE,
        seq         INTEGER NOT NULL,
        at          TEXT NOT NULL,
        type        TEXT NOT NULL,
        audience    TEXT NOT NULL,
        data        TEXT NOT NULL,
        PRIMARY KEY (webinar_id, seq)
    );
    INSERT INTO events_new SELECT 1, seq, at, type, audience, data FROM events;
    DROP TABLE events;
    ALTER TABLE events_new RENAME TO events;

    CREATE TABLE questions_new (
        id              INTEGER PRIMARY KEY,
        webinar_id      INTEGER NOT NULL REFERENCES webinars(id) ON DELETE CASCADE,
        item_id         TEXT NOT NULL,
        text            TEXT NOT NULL,
        author_id       TEXT REFERENCES participants(id) ON DELETE SET NULL,
        author_name     TEXT,
        author_org      TEXT,
        anonymous       INTEGER NOT NULL DEFAULT 0,
        key_hash        TEXT NOT NULL,
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
        UNIQUE (webinar_id, key_hash),
        CHECK (anonymous = 0 OR (author_id IS NULL AND author_name IS NULL
                                 AND author_org IS NULL))
    );
    INSERT INTO questions_new SELECT id, 1, item_id, text, author_id, author_name, author_org,
        anonymous, key_hash, state, reject_reason, merged_into, answered, highlighted, pinned,
        edited_by_host, held_by_filter, votes, created_at, updated_at FROM questions;
    DROP TABLE questions;
    ALTER TABLE questions_new RENAME TO questions;
    CREATE INDEX questions_item ON questions(webinar_id, item_id, state);
    CREATE INDEX questions_author ON questions(author_id);

    CREATE TABLE votes_new (
        question_id INTEGER NOT NULL REFERENCES questions(id) ON DELETE CASCADE,
        voter_id    TEXT NOT NULL,
        webinar_id  INTEGER NOT NULL REFERENCES webinars(id) ON DELETE CASCADE,
        created_at  TEXT NOT NULL,
        PRIMARY KEY (question_id, voter_id)
    ) WITHOUT ROWID;
    INSERT INTO votes_new SELECT question_id, voter_id, 1, created_at FROM votes;
    DROP TABLE votes;
    ALTER TABLE votes_new RENAME TO votes;
    CREATE INDEX votes_voter ON votes(webinar_id, voter_id);

    CREATE TABLE replies_new (
        id           INTEGER PRIMARY KEY,
        webinar_id   INTEGER NOT NULL REFERENCES webinars(id) ON DELETE CASCADE,
        question_id  INTEGER NOT NULL REFERENCES questions(id) ON DELETE CASCADE,
        author_id    TEXT REFERENCES participants(id) ON DELETE SET NULL,
        author_name  TEXT,
        role         TEXT NOT NULL,
        text         TEXT NOT NULL,
        is_answer    INTEGER NOT NULL DEFAULT 0,
        key_hash     TEXT NOT NULL,
        created_at   TEXT NOT NULL,
        hidden       INTEGER NOT NULL DEFAULT 0,
        UNIQUE (webinar_id, key_hash)
    );
    INSERT INTO replies_new SELECT id, 1, question_id, author_id, author_name, role, text,
        is_answer, key_hash, created_at, hidden FROM replies;
    DROP TABLE replies;
    ALTER TABLE replies_new RENAME TO replies;
    CREATE INDEX replies_question ON replies(question_id);

    CREATE TABLE settings_new (
        webinar_id  INTEGER NOT NULL REFERENCES webinars(id) ON DELETE CASCADE,
        key         TEXT NOT NULL,
        value       TEXT NOT NULL,
        PRIMARY KEY (webinar_id, key)
    ) WITHOUT ROWID;
    INSERT INTO settings_new SELECT 1, key, value FROM settings;
    DROP TABLE settings;
    ALTER TABLE settings_new RENAME TO settings;

    CREATE TABLE breakout_rounds_new (
        id          INTEGER PRIMARY KEY,
        webinar_id  INTEGER NOT NULL REFERENCES webinars(id) ON DELETE CASCADE,
        item_id     TEXT NOT NULL,
        seed        INTEGER NOT NULL,
        started_at  TEXT NOT NULL,
        ended_at    TEXT,
        message     TEXT NOT NULL DEFAULT ''
    );
    INSERT INTO breakout_rounds_new SELECT id, 1, item_id, seed, started_at, ended_at, message
        FROM breakout_rounds;
    DROP TABLE breakout_rounds;
    ALTER TABLE breakout_rounds_new RENAME TO breakout_rounds;
    CREATE INDEX breakout_rounds_webinar ON breakout_rounds(webinar_id, id);

    CREATE TABLE breakout_groups_new (
        round_id        INTEGER NOT NULL REFERENCES breakout_rounds(id) ON DELETE CASCADE,
        number          INTEGER NOT NULL,
        webinar_id      INTEGER NOT NULL REFERENCES webinars(id) ON DELETE CASCADE,
        topics          TEXT NOT NULL,
        facilitator_id  TEXT REFERENCES participants(id) ON DELETE SET NULL,
        help_at         TEXT,
        PRIMARY KEY (round_id, number)
    );
    INSERT INTO breakout_groups_new SELECT round_id, number, 1, topics, facilitator_id, help_at
        FROM breakout_groups;
    DROP TABLE breakout_groups;
    ALTER TABLE breakout_groups_new RENAME TO breakout_groups;
    CREATE INDEX breakout_groups_webinar ON breakout_groups(webinar_id);

    CREATE TABLE breakout_members_new (
        round_id        INTEGER NOT NULL REFERENCES breakout_rounds(id) ON DELETE CASCADE,
        participant_id  TEXT NOT NULL REFERENCES participants(id) ON DELETE CASCADE,
        webinar_id      INTEGER NOT NULL REFERENCES webinars(id) ON DELETE CASCADE,
        group_number    INTEGER NOT NULL,
        joined_at       TEXT NOT NULL,
        PRIMARY KEY (round_id, participant_id)
    );
    INSERT INTO breakout_members_new SELECT round_id, participant_id, 1, group_number, joined_at
        FROM breakout_members;
    DROP TABLE breakout_members;
    ALTER TABLE breakout_members_new RENAME TO breakout_members;
    CREATE INDEX breakout_members_webinar ON breakout_members(webinar_id);

    CREATE TABLE breakout_responses_new (
        round_id        INTEGER NOT NULL REFERENCES breakout_rounds(id) ON DELETE CASCADE,
        group_number    INTEGER NOT NULL,
        topic           INTEGER NOT NULL,
        webinar_id      INTEGER NOT NULL REFERENCES webinars(id) ON DELETE CASCADE,
        text            TEXT NOT NULL,
        version         INTEGER NOT NULL,
        updated_at      TEXT NOT NULL,
        starred         INTEGER NOT NULL DEFAULT 0,
        edited_by_host  INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (round_id, group_number, topic)
    );
    INSERT INTO breakout_responses_new SELECT round_id, group_number, topic, 1, text, version,
        updated_at, starred, edited_by_host FROM breakout_responses;
    DROP TABLE breakout_responses;
    ALTER TABLE breakout_responses_new RENAME TO breakout_responses;
    CREATE INDEX breakout_responses_webinar ON breakout_responses(webinar_id);

    CREATE TABLE breakout_points_new (
        id            INTEGER PRIMARY KEY,
        webinar_id    INTEGER NOT NULL REFERENCES webinars(id) ON DELETE CASCADE,
        round_id      INTEGER NOT NULL REFERENCES breakout_rounds(id) ON DELETE CASCADE,
        group_number  INTEGER NOT NULL,
        topic         INTEGER NOT NULL,
        author_name   TEXT,
        text          TEXT NOT NULL,
        key_hash      TEXT NOT NULL,
        created_at    TEXT NOT NULL,
        UNIQUE (webinar_id, key_hash)
    );
    INSERT INTO breakout_points_new SELECT id, 1, round_id, group_number, topic, author_name,
        text, key_hash, created_at FROM breakout_points;
    DROP TABLE breakout_points;
    ALTER TABLE breakout_points_new RENAME TO breakout_points;

    CREATE TABLE preassignments_new (
        webinar_id    INTEGER NOT NULL REFERENCES webinars(id) ON DELETE CASCADE,
        match_key     TEXT NOT NULL,
        group_number  INTEGER NOT NULL,
        line          INTEGER NOT NULL,
        PRIMARY KEY (webinar_id, match_key)
    ) WITHOUT ROWID;
    INSERT INTO preassignments_new SELECT 1, match_key, group_number, line FROM preassignments;
    DROP TABLE preassignments;
    ALTER TABLE preassignments_new RENAME TO preassignments;

    CREATE TABLE survey_responses_new (
        webinar_id      INTEGER NOT NULL REFERENCES webinars(id) ON DELETE CASCADE,
        key_hash        TEXT NOT NULL,
        participant_id  TEXT REFERENCES participants(id) ON DELETE SET NULL,
        breakout_group  INTEGER,
        answers         TEXT NOT NULL,
        submitted       INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (webinar_id, key_hash)
    ) WITHOUT ROWID;
    INSERT INTO survey_responses_new SELECT 1, key_hash, participant_id, breakout_group, answers,
        submitted FROM survey_responses ORDER BY key_hash;
    DROP TABLE survey_responses;
    ALTER TABLE survey_responses_new RENAME TO survey_responses;

    CREATE VIEW survey_respondents AS
        SELECT id AS participant_id, webinar_id FROM participants WHERE survey_responded = 1;
    """,
    # 10: staff accounts. An account signs in with a password (an argon2 hash), with OpenID
    # Connect (the issuer and subject it was first matched to), or both. A role is
    # "organiser of the whole install" (no event) or "host of event N" (a webinar id). A
    # session opened by signing in names its account, so removing the account or changing
    # its password ends it.
    """
    CREATE TABLE users (
        id             INTEGER PRIMARY KEY,
        email          TEXT NOT NULL UNIQUE,
        display_name   TEXT NOT NULL,
        password_hash  TEXT,
        oidc_issuer    TEXT,
        oidc_subject   TEXT,
        created_at     TEXT NOT NULL,
        CHECK ((oidc_issuer IS NULL) = (oidc_subject IS NULL))
    );
    CREATE UNIQUE INDEX users_oidc ON users(oidc_issuer, oidc_subject)
        WHERE oidc_subject IS NOT NULL;
    CREATE TABLE user_roles (
        user_id   INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        role      TEXT NOT NULL CHECK (role IN ('organiser', 'host')),
        event_id  INTEGER REFERENCES webinars(id) ON DELETE CASCADE,
        CHECK ((role = 'organiser') = (event_id IS NULL))
    );
    CREATE UNIQUE INDEX user_roles_unique ON user_roles(user_id, role, ifnull(event_id, 0));
    ALTER TABLE sessions ADD COLUMN user_id INTEGER REFERENCES users(id) ON DELETE CASCADE;
    CREATE INDEX sessions_user ON sessions(user_id) WHERE user_id IS NOT NULL;
    """,
    # 11: live polls (issue #15). ``webinar_id`` scopes each row to its event. An answer
    # is keyed by the hash of the poll id and a key only the respondent's session cookie
    # holds; anonymous answers keep no participant id; ``poll_respondents`` records only
    # *that* someone answered (no time, no order: both tables have no row id), so that
    # nobody answers twice.
    """
    CREATE TABLE polls (
        id            INTEGER PRIMARY KEY,
        webinar_id    INTEGER NOT NULL REFERENCES webinars(id) ON DELETE CASCADE,
        item_id       TEXT,
        position      INTEGER NOT NULL,
        agenda_key    TEXT,
        spec          TEXT NOT NULL,
        state         TEXT NOT NULL CHECK (state IN ('ready', 'open', 'closed')),
        revealed      INTEGER NOT NULL DEFAULT 0,
        on_projector  INTEGER NOT NULL DEFAULT 0,
        opened_at     TEXT,
        closed_at     TEXT,
        UNIQUE (webinar_id, agenda_key)
    );
    CREATE TABLE poll_answers (
        webinar_id      INTEGER NOT NULL REFERENCES webinars(id) ON DELETE CASCADE,
        poll_id         INTEGER NOT NULL REFERENCES polls(id) ON DELETE CASCADE,
        key_hash        TEXT NOT NULL,
        answer          TEXT NOT NULL,
        participant_id  TEXT REFERENCES participants(id) ON DELETE SET NULL,
        author_name     TEXT,
        PRIMARY KEY (webinar_id, poll_id, key_hash)
    ) WITHOUT ROWID;
    CREATE TABLE poll_respondents (
        webinar_id      INTEGER NOT NULL REFERENCES webinars(id) ON DELETE CASCADE,
        poll_id         INTEGER NOT NULL REFERENCES polls(id) ON DELETE CASCADE,
        participant_id  TEXT NOT NULL REFERENCES participants(id) ON DELETE CASCADE,
        PRIMARY KEY (webinar_id, poll_id, participant_id)
    ) WITHOUT ROWID;
    """,
    # 12: the organiser's programme (issue #13): an event an organiser archived is kept,
    # hidden from the programme's main list, with when it was archived.
    """
    ALTER TABLE webinars ADD COLUMN archived_at TEXT;
    """,
    # 13: many workers (issue #18): the worker that takes over writing for an event raises
    # its ``writer_epoch``; every transaction of a writer checks that it is still its own,
    # so a writer that lost its lease (paused, cut off) can no longer write.
    """
    ALTER TABLE webinars ADD COLUMN writer_epoch INTEGER NOT NULL DEFAULT 0;
    """,
)
