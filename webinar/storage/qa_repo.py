"""Q&A storage: questions, votes, replies, forum settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from webinar.domain.qa import Question
from webinar.storage.db import Database, Row, Tx, first_row, insert_id

QUESTION_COLUMNS = (
    "id, item_id, text, author_name, author_org, anonymous, state, reject_reason,"
    " merged_into, answered, highlighted, pinned, edited_by_host, held_by_filter, votes,"
    " created_at"
)


@dataclass(frozen=True, slots=True)
class Reply:
    id: int
    question_id: int
    author_name: str
    role: str
    text: str
    is_answer: bool
    created_at: datetime
    #: Hidden by a host: kept (and exported) for the record, shown to no attendee.
    hidden: bool = False


def question_from_row(row: Row | tuple[Any, ...]) -> Question:
    (
        qid,
        item_id,
        text,
        name,
        org,
        anonymous,
        state,
        reason,
        merged_into,
        answered,
        highlighted,
        pinned,
        edited,
        held,
        votes,
        created_at,
    ) = tuple(row)
    return Question(
        id=qid,
        item_id=item_id,
        text=text,
        state=state,
        created_at=datetime.fromisoformat(created_at),
        author_name=name or "",
        author_organisation=org or "",
        anonymous=bool(anonymous),
        votes=votes,
        answered=answered,
        highlighted=bool(highlighted),
        pinned=bool(pinned),
        edited_by_host=bool(edited),
        held_by_filter=bool(held),
        reject_reason=reason,
        merged_into=merged_into,
    )


REPLY_COLUMNS = "id, question_id, author_name, role, text, is_answer, created_at, hidden"


def _reply(row: Row | tuple[Any, ...]) -> Reply:
    rid, qid, name, role, text, is_answer, created_at, hidden = tuple(row)
    return Reply(
        rid,
        qid,
        name or "",
        role,
        text,
        bool(is_answer),
        datetime.fromisoformat(created_at),
        bool(hidden),
    )


# -- reading -----------------------------------------------------------------------------------


async def all_questions(db: Database) -> list[Question]:
    rows = await db.fetchall(
        f"SELECT {QUESTION_COLUMNS} FROM questions WHERE webinar_id = this_webinar() ORDER BY id"
    )
    return [question_from_row(r) for r in rows]


async def all_replies(db: Database) -> list[Reply]:
    rows = await db.fetchall(
        f"SELECT {REPLY_COLUMNS} FROM replies WHERE webinar_id = this_webinar() ORDER BY id"
    )
    return [_reply(r) for r in rows]


async def owned_question_ids(db: Database, author_id: str, key_hashes: list[str]) -> list[int]:
    """Questions a person may treat as theirs: by author id, or by their own submit keys."""
    marks = ",".join("?" * len(key_hashes)) or "NULL"
    rows = await db.fetchall(
        f"SELECT id FROM questions WHERE webinar_id = this_webinar()"
        f" AND (author_id = ? OR key_hash IN ({marks})) ORDER BY id",
        (author_id, *key_hashes),
    )
    return [int(r[0]) for r in rows]


async def question_by_key(db: Database, key_hash: str) -> Question | None:
    row = await db.fetchone(
        f"SELECT {QUESTION_COLUMNS} FROM questions WHERE webinar_id = this_webinar()"
        " AND key_hash = ?",
        (key_hash,),
    )
    return question_from_row(row) if row else None


async def settings(db: Database) -> dict[str, str]:
    rows = await db.fetchall("SELECT key, value FROM settings WHERE webinar_id = this_webinar()")
    return {r["key"]: r["value"] for r in rows}


async def votes_of(db: Database, voter_id: str) -> set[int]:
    rows = await db.fetchall(
        "SELECT question_id FROM votes WHERE webinar_id = this_webinar() AND voter_id = ?",
        (voter_id,),
    )
    return {int(r[0]) for r in rows}


# -- writing (inside a transaction) -------------------------------------------------------------


async def find_by_key(tx: Tx, key_hash: str) -> Question | None:
    row = await first_row(
        tx,
        f"SELECT {QUESTION_COLUMNS} FROM questions WHERE webinar_id = this_webinar()"
        " AND key_hash = ?",
        (key_hash,),
    )
    return question_from_row(row) if row else None


async def insert_question(
    tx: Tx,
    question: Question,
    *,
    author_id: str | None,
    key_hash: str,
) -> int:
    qid = await insert_id(
        tx,
        "INSERT INTO questions (webinar_id, item_id, text, author_id, author_name, author_org,"
        " anonymous, key_hash, state, held_by_filter, created_at, updated_at)"
        " VALUES (this_webinar(), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            question.item_id,
            question.text,
            None if question.anonymous else author_id,
            None if question.anonymous else question.author_name,
            None if question.anonymous else (question.author_organisation or None),
            int(question.anonymous),
            key_hash,
            question.state,
            int(question.held_by_filter),
            question.created_at.isoformat(),
            question.created_at.isoformat(),
        ),
    )
    return qid


async def update_question(tx: Tx, question: Question, at: str) -> None:
    await tx.execute(
        "UPDATE questions SET item_id = ?, text = ?, state = ?, reject_reason = ?,"
        " merged_into = ?, answered = ?, highlighted = ?, pinned = ?, edited_by_host = ?,"
        " held_by_filter = ?, updated_at = ? WHERE id = ? AND webinar_id = this_webinar()",
        (
            question.item_id,
            question.text,
            question.state,
            question.reject_reason,
            question.merged_into,
            question.answered,
            int(question.highlighted),
            int(question.pinned),
            int(question.edited_by_host),
            int(question.held_by_filter),
            at,
            question.id,
        ),
    )


async def set_vote(tx: Tx, question_id: int, voter_id: str, on: bool, at: str) -> int:
    """Add or withdraw one vote (idempotent either way); return the new count."""
    if on:
        await tx.execute(
            "INSERT OR IGNORE INTO votes (question_id, voter_id, webinar_id, created_at)"
            " SELECT id, ?, webinar_id, ? FROM questions WHERE id = ?"
            " AND webinar_id = this_webinar()",
            (voter_id, at, question_id),
        )
    else:
        await tx.execute(
            "DELETE FROM votes WHERE question_id = ? AND voter_id = ?"
            " AND webinar_id = this_webinar()",
            (question_id, voter_id),
        )
    return await recount(tx, question_id)


async def recount(tx: Tx, question_id: int) -> int:
    row = await first_row(
        tx,
        "UPDATE questions SET votes = (SELECT count(*) FROM votes WHERE question_id = ?)"
        " WHERE id = ? AND webinar_id = this_webinar() RETURNING votes",
        (question_id, question_id),
    )
    return int(row[0]) if row else 0


async def voters_of(tx: Tx, question_id: int) -> list[str]:
    """Who voted for a question, in the order they voted."""
    cursor = await tx.execute(
        "SELECT voter_id FROM votes WHERE question_id = ? AND webinar_id = this_webinar()"
        " ORDER BY created_at, voter_id",
        (question_id,),
    )
    return [str(row[0]) for row in await cursor.fetchall()]


async def move_votes(tx: Tx, from_id: int, to_id: int) -> int:
    """Give ``to_id`` the votes of ``from_id`` (a voter of both counts once)."""
    await tx.execute(
        "INSERT OR IGNORE INTO votes (question_id, voter_id, webinar_id, created_at)"
        " SELECT ?, voter_id, webinar_id, created_at FROM votes"
        " WHERE question_id = ? AND webinar_id = this_webinar()",
        (to_id, from_id),
    )
    await tx.execute(
        "DELETE FROM votes WHERE question_id = ? AND webinar_id = this_webinar()", (from_id,)
    )
    await recount(tx, from_id)
    return await recount(tx, to_id)


async def insert_reply(
    tx: Tx,
    *,
    question_id: int,
    author_id: str | None,
    author_name: str | None,
    role: str,
    text: str,
    is_answer: bool,
    key_hash: str,
    at: str,
) -> int:
    rid = await insert_id(
        tx,
        "INSERT INTO replies (webinar_id, question_id, author_id, author_name, role, text,"
        " is_answer, key_hash, created_at) VALUES (this_webinar(), ?, ?, ?, ?, ?, ?, ?, ?)",
        (question_id, author_id, author_name, role, text, int(is_answer), key_hash, at),
    )
    return rid


async def reply_by_key(tx: Tx, key_hash: str) -> Reply | None:
    row = await first_row(
        tx,
        f"SELECT {REPLY_COLUMNS} FROM replies WHERE webinar_id = this_webinar() AND key_hash = ?",
        (key_hash,),
    )
    return _reply(row) if row else None


async def set_reply_hidden(tx: Tx, reply_id: int, hidden: bool) -> None:
    await tx.execute(
        "UPDATE replies SET hidden = ? WHERE id = ? AND webinar_id = this_webinar()",
        (int(hidden), reply_id),
    )


async def counters(tx: Tx) -> dict[str, int]:
    """Public counters: received (all but merged), published, answered."""
    row = await first_row(
        tx,
        "SELECT count(*) FILTER (WHERE state != 'merged'),"
        " count(*) FILTER (WHERE state = 'published'),"
        " count(*) FILTER (WHERE answered != '' AND state IN ('published', 'hidden'))"
        " FROM questions WHERE webinar_id = this_webinar()",
    )
    received, published, answered = (int(v or 0) for v in row) if row else (0, 0, 0)
    return {"received": received, "published": published, "answered": answered}


async def put_setting(tx: Tx, key: str, value: str) -> None:
    await tx.execute(
        "INSERT INTO settings (webinar_id, key, value) VALUES (this_webinar(), ?, ?)"
        " ON CONFLICT (webinar_id, key) DO UPDATE SET value = excluded.value",
        (key, value),
    )
