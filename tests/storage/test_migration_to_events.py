"""A database made by the one-event release (migrations 1 to 8) becomes event 1 of a
many-event database, with every row of every table intact."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from webinar.domain.clock import RunState
from webinar.services import open_services, prepare_event, stop
from webinar.services.agenda_files import SEED_AGENDA, load_agenda
from webinar.services.commit import utcnow
from webinar.storage.db import migrate_sync
from webinar.storage.schema import MIGRATIONS
from webinar.storage.webinars import list_webinars_sync, save_webinar_sync

pytestmark = [
    pytest.mark.unit,
    pytest.mark.sqlite_only(reason="SQLite's migrations from older releases' files"),
]

AT = "2026-03-04T10:00:00.000+00:00"
ONE_EVENT_RELEASE = 8

#: A row in every table of the one-event release, as its code wrote them.
ROWS: dict[str, list[tuple[Any, ...]]] = {
    "meta": [
        ("join_code", "ABCD2345"),
        ("host_token", "host-secret"),
        ("organiser_token", "organiser-secret"),
        ("session_secret", "session-secret"),
        ("planned_start", "2026-03-04T09:00:00+00:00"),
        ("replay_floor", "2"),
    ],
    "participants": [
        ("p-ann", "attendee", "Ann", "Leeds SP", AT, None, 1),
        ("p-host", "host", "Hana", None, AT, None, 0),
    ],
    "sessions": [("s-ann", "p-ann", AT), ("s-host", "p-host", AT)],
    "run_state": [(1, json.dumps(RunState().to_dict()), AT)],
    "agenda_log": [(1, AT, "start", "{}", "host")],
    "events": [
        (1, AT, "agenda.state", "all", "{}"),
        (2, AT, "qa.question", "staff", '{"text": "Named question"}'),
        (3, AT, "qa.question", "all", '{"text": "Named question"}'),
    ],
    "questions": [
        (
            1,
            "review-qa",
            "Named question",
            "p-ann",
            "Ann",
            "Leeds SP",
            0,
            "kq1",
            "published",
            "",
            None,
            "",
            0,
            0,
            0,
            0,
            1,
            AT,
            AT,
        ),
        (
            2,
            "review-qa",
            "Anonymous question",
            None,
            None,
            None,
            1,
            "kq2",
            "pending",
            "",
            None,
            "",
            0,
            0,
            0,
            0,
            0,
            AT,
            AT,
        ),
    ],
    "votes": [(1, "p-ann", AT)],
    "replies": [(1, 1, "p-host", "Hana", "host", "An answer", 1, "kr1", AT, 0)],
    "settings": [("open", "1")],
    "breakout_rounds": [(1, "lcspr-breakout", 7, AT, None, "Ten minutes left")],
    "breakout_groups": [(1, 1, "[0, 1]", "p-ann", None)],
    "breakout_members": [(1, "p-ann", 1, AT)],
    "breakout_responses": [(1, 1, 0, "Our response", 2, AT, 1, 0)],
    "breakout_points": [(1, 1, 1, 0, "Ann", "A point", "kp1", AT)],
    "preassignments": [("ann", 1, 2)],
    "survey_responses": [("ks1", None, None, '{"overall": 4}', 1)],
}


def one_event_database(path: Path) -> None:
    """The database as the one-event release left it, with ``ROWS``."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        for script in MIGRATIONS[:ONE_EVENT_RELEASE]:
            conn.executescript(script)
        conn.execute(f"PRAGMA user_version = {ONE_EVENT_RELEASE}")
        for table, rows in ROWS.items():
            marks = ",".join("?" * len(rows[0]))
            conn.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
    finally:
        conn.close()


def table_rows(conn: sqlite3.Connection, table: str) -> list[tuple[object, ...]]:
    """A table's rows with its old columns, in their old order, and their event."""
    old = {
        "meta": "key, value",
        "participants": "id, role, name, organisation, created_at, removed_at, survey_responded",
        "sessions": "id, participant_id, created_at",
        "run_state": "1, state, updated_at",
        "agenda_log": "id, at, action, detail, actor",
        "events": "seq, at, type, audience, data",
        "questions": "id, item_id, text, author_id, author_name, author_org, anonymous,"
        " key_hash, state, reject_reason, merged_into, answered, highlighted, pinned,"
        " edited_by_host, held_by_filter, votes, created_at, updated_at",
        "votes": "question_id, voter_id, created_at",
        "replies": "id, question_id, author_id, author_name, role, text, is_answer, key_hash,"
        " created_at, hidden",
        "settings": "key, value",
        "breakout_rounds": "id, item_id, seed, started_at, ended_at, message",
        "breakout_groups": "round_id, number, topics, facilitator_id, help_at",
        "breakout_members": "round_id, participant_id, group_number, joined_at",
        "breakout_responses": "round_id, group_number, topic, text, version, updated_at,"
        " starred, edited_by_host",
        "breakout_points": "id, round_id, group_number, topic, author_name, text, key_hash,"
        " created_at",
        "preassignments": "match_key, group_number, line",
        "survey_responses": "key_hash, participant_id, breakout_group, answers, submitted",
    }[table]
    rows = conn.execute(f"SELECT {old}, webinar_id FROM {table}").fetchall()
    return sorted(rows, key=repr)


def test_a_one_event_database_keeps_every_row_as_event_one(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    one_event_database(path)

    migrate_sync(path)
    migrate_sync(path)  # a second start changes nothing

    with contextlib.closing(sqlite3.connect(path)) as conn, conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (len(MIGRATIONS),)
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        for table, rows in ROWS.items():
            assert table_rows(conn, table) == sorted([(*row, 1) for row in rows], key=repr), table
        assert conn.execute("SELECT participant_id FROM survey_respondents").fetchall() == [
            ("p-ann",)
        ]
    (event,) = list_webinars_sync(path)
    assert (event.id, event.slug, event.agenda) == (1, "webinar", None)


async def test_a_migrated_event_is_served_with_its_rows_and_numbering(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    one_event_database(path)
    seed = load_agenda(SEED_AGENDA, today=date.today())

    # ``webinar serve AGENDA`` on the old database carries on with its event.
    event, created, secrets = prepare_event(
        str(path), "seed", str(SEED_AGENDA), SEED_AGENDA.read_text(), seed.title, adopt=True
    )
    services = await open_services(seed, str(path), lambda e, f: None, utcnow, webinar_id=event.id)
    try:
        questions = [q.text for q in services.qa.questions.values()]
        last, floor = services.hub.last_seq, services.hub.replay_floor
        await services.qa.configure(open=False, moderation=True)  # a change: the next seq
    finally:
        await stop(services)
    with contextlib.closing(sqlite3.connect(path)) as conn, conn:
        seqs = [r[0] for r in conn.execute("SELECT seq FROM events ORDER BY seq")]
    assert (event.id, event.slug, created) == (1, "seed", False)
    assert secrets["join_code"] == "ABCD2345" and secrets["host_token"] == "host-secret"
    assert sorted(questions) == ["Anonymous question", "Named question"]
    assert (last, floor) == (3, 2)
    assert seqs[:4] == [1, 2, 3, 4]  # numbering carries on from the old log


def test_a_second_event_does_not_adopt_when_the_database_has_stored_agendas(
    tmp_path: Path,
) -> None:
    path = tmp_path / "new.db"
    migrate_sync(path)
    first, _ = save_webinar_sync(path, "first", agenda="x", adopt=True)
    second, created = save_webinar_sync(path, "second", agenda="y", adopt=True)

    assert (first.id, second.id, created) == (1, 2, True)
    with pytest.raises(ValueError, match="short name"):
        save_webinar_sync(path, "Not A Slug")


#: A database written by the one-event release itself (commit 78166ab, `webinar serve
#: --start now` on the seed webinar): five people joined, questions asked (one anonymous),
#: voted on and answered, the agenda started and moved to the closing item, three survey
#: responses. Made with that release's own code, kept as its SQL dump (text, reviewable, with
#: its schema version) and loaded into a fresh file by each test.
RELEASE_DUMP = Path(__file__).parent / "data" / "one_event_release.sql"
#: A minute into the closing item of that database's run: it is served as of then (a
#: clock that moved on would find the programme over, whatever day the test runs).
RELEASE_NOW = datetime(2026, 12, 7, 13, 59, 27, tzinfo=UTC)
RELEASE_TABLES = (
    "meta",
    "participants",
    "sessions",
    "run_state",
    "agenda_log",
    "events",
    "questions",
    "votes",
    "replies",
    "survey_responses",
)


async def test_a_database_written_by_the_one_event_release_is_served_intact(
    tmp_path: Path,
) -> None:
    path = tmp_path / "event.db"
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.executescript(RELEASE_DUMP.read_text(encoding="utf-8"))
    with contextlib.closing(sqlite3.connect(path)) as conn, conn:
        before = {t: conn.execute(f"SELECT * FROM {t}").fetchall() for t in RELEASE_TABLES}
        session_id, name = conn.execute(
            "SELECT s.id, p.name FROM sessions s JOIN participants p ON p.id = s.participant_id"
            " WHERE p.role = 'attendee' ORDER BY p.name LIMIT 1"
        ).fetchone()
    seed = load_agenda(SEED_AGENDA, today=RELEASE_NOW.date())

    event, _, secrets = prepare_event(
        str(path), "seed", str(SEED_AGENDA), SEED_AGENDA.read_text(), seed.title, adopt=True
    )
    services = await open_services(
        seed, str(path), lambda e, f: None, lambda: RELEASE_NOW, webinar_id=event.id
    )
    try:
        person = await services.access.session(session_id)
        questions = sorted(q.text for q in services.qa.questions.values())
        started = services.agenda_service.snapshot()["current"]
    finally:
        await stop(services)
    with contextlib.closing(sqlite3.connect(path)) as conn, conn:
        counts = {
            t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in RELEASE_TABLES
        }

    # Every row kept; the two secrets that release did not have (the group calls' room
    # key, the workers' peer secret) are added once.
    assert counts == {t: len(rows) + 2 * (t == "meta") for t, rows in before.items()}
    stored = dict(before["meta"])
    assert "room_secret" not in stored and "room_secret" in secrets
    assert "peer_secret" not in stored and "peer_secret" in secrets
    assert [secrets[k] for k in ("join_code", "host_token")] == [
        stored["join_code"],
        stored["host_token"],
    ]  # the code and links printed before still work
    assert person is not None and person.name == name  # signed in as before
    assert questions == sorted(r[2] for r in before["questions"])
    assert started == "closing-remarks"
