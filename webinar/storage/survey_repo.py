"""Survey storage: responses (by the hash of a key the respondent's session holds)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import aiosqlite

from webinar.storage.db import Database, first_row


@dataclass(frozen=True, slots=True)
class ResponseRow:
    id: int
    breakout_group: int | None
    answers: dict[str, Any]
    submitted: bool


async def all_responses(db: Database) -> list[ResponseRow]:
    rows = await db.fetchall(
        "SELECT id, breakout_group, answers, submitted FROM survey_responses ORDER BY id"
    )
    return [
        ResponseRow(r["id"], r["breakout_group"], json.loads(r["answers"]), bool(r["submitted"]))
        for r in rows
    ]


async def response_by_key(db: Database, key_hash: str) -> ResponseRow | None:
    row = await db.fetchone(
        "SELECT id, breakout_group, answers, submitted FROM survey_responses WHERE key_hash = ?",
        (key_hash,),
    )
    if row is None:
        return None
    return ResponseRow(
        row["id"], row["breakout_group"], json.loads(row["answers"]), bool(row["submitted"])
    )


async def response_by_key_tx(tx: aiosqlite.Connection, key_hash: str) -> ResponseRow | None:
    """The response with this key, read inside the caller's transaction."""
    row = await first_row(
        tx,
        "SELECT id, breakout_group, answers, submitted FROM survey_responses WHERE key_hash = ?",
        (key_hash,),
    )
    if row is None:
        return None
    return ResponseRow(row[0], row[1], json.loads(row[2]), bool(row[3]))


async def has_responded(tx: aiosqlite.Connection, participant_id: str) -> bool:
    async with tx.execute(
        "SELECT 1 FROM survey_respondents WHERE participant_id = ?", (participant_id,)
    ) as cur:
        return await cur.fetchone() is not None


async def key_in_use(tx: aiosqlite.Connection, key_hash: str) -> bool:
    async with tx.execute("SELECT 1 FROM survey_responses WHERE key_hash = ?", (key_hash,)) as cur:
        return await cur.fetchone() is not None


async def insert_response(
    tx: aiosqlite.Connection,
    *,
    key_hash: str,
    participant_id: str | None,
    respondent_id: str,
    breakout_group: int | None,
    answers: dict[str, Any],
    submitted: bool,
    day: str,
) -> None:
    await tx.execute(
        "INSERT INTO survey_responses (key_hash, participant_id, breakout_group, answers,"
        " submitted, updated_on) VALUES (?, ?, ?, ?, ?, ?)",
        (
            key_hash,
            participant_id,
            breakout_group,
            json.dumps(answers, ensure_ascii=False),
            int(submitted),
            day,
        ),
    )
    await tx.execute(
        "INSERT OR IGNORE INTO survey_respondents (participant_id) VALUES (?)", (respondent_id,)
    )


async def update_response(
    tx: aiosqlite.Connection, key_hash: str, answers: dict[str, Any], submitted: bool, day: str
) -> None:
    await tx.execute(
        "UPDATE survey_responses SET answers = ?, submitted = ?, updated_on = ? WHERE key_hash = ?",
        (json.dumps(answers, ensure_ascii=False), int(submitted), day, key_hash),
    )
