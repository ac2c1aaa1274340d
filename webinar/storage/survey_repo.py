"""Survey storage: responses (by the hash of a key the respondent's browser holds).

Nothing here joins a respondent to an anonymous response: responses have no row id, no
time and (when anonymous) no participant or group, and are read in the order of their
key's hash, which is random; *that* someone responded is a flag on their participant row.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from webinar.storage.db import Database, Tx, first_row


@dataclass(frozen=True, slots=True)
class ResponseRow:
    breakout_group: int | None
    answers: dict[str, Any]
    submitted: bool


_COLUMNS = "breakout_group, answers, submitted"


def _row(row: Any) -> ResponseRow:
    return ResponseRow(row[0], json.loads(row[1]), bool(row[2]))


async def all_responses(db: Database) -> list[ResponseRow]:
    """Every response, in the order of their keys' hashes (random, not saving order)."""
    rows = await db.fetchall(
        f"SELECT {_COLUMNS} FROM survey_responses WHERE webinar_id = this_webinar()"
        " ORDER BY key_hash"
    )
    return [_row(r) for r in rows]


async def counts(db: Database) -> tuple[int, int]:
    """How many responses were submitted, and how many started but not submitted."""
    row = await db.fetchone(
        "SELECT count(*), coalesce(sum(submitted), 0) FROM survey_responses"
        " WHERE webinar_id = this_webinar()"
    )
    total, submitted = (int(row[0]), int(row[1])) if row is not None else (0, 0)
    return submitted, total - submitted


async def response_by_key(db: Database, key_hash: str) -> ResponseRow | None:
    row = await db.fetchone(
        f"SELECT {_COLUMNS} FROM survey_responses WHERE webinar_id = this_webinar()"
        " AND key_hash = ?",
        (key_hash,),
    )
    return None if row is None else _row(row)


async def response_by_key_tx(tx: Tx, key_hash: str) -> ResponseRow | None:
    """The response with this key, read inside the caller's transaction."""
    row = await first_row(
        tx,
        f"SELECT {_COLUMNS} FROM survey_responses WHERE webinar_id = this_webinar()"
        " AND key_hash = ?",
        (key_hash,),
    )
    return None if row is None else _row(row)


async def has_responded(tx: Tx, participant_id: str) -> bool:
    row = await first_row(
        tx,
        "SELECT survey_responded FROM participants WHERE id = ? AND webinar_id = this_webinar()",
        (participant_id,),
    )
    return bool(row and row[0])


async def insert_response(
    tx: Tx,
    *,
    key_hash: str,
    participant_id: str | None,
    respondent_id: str,
    breakout_group: int | None,
    answers: dict[str, Any],
    submitted: bool,
) -> None:
    """Store a new response and mark its respondent as having responded.

    The mark is an integer flag going from 0 to 1: SQLite rewrites the record in place
    (same size), so the participants table keeps no trace of the order people responded.
    """
    await tx.execute(
        "INSERT INTO survey_responses (webinar_id, key_hash, participant_id, breakout_group,"
        " answers, submitted) VALUES (this_webinar(), ?, ?, ?, ?, ?)",
        (
            key_hash,
            participant_id,
            breakout_group,
            json.dumps(answers, ensure_ascii=False),
            int(submitted),
        ),
    )
    await tx.execute(
        "UPDATE participants SET survey_responded = 1"
        " WHERE id = ? AND webinar_id = this_webinar() AND survey_responded = 0",
        (respondent_id,),
    )


async def update_response(tx: Tx, key_hash: str, answers: dict[str, Any], submitted: bool) -> None:
    await tx.execute(
        "UPDATE survey_responses SET answers = ?, submitted = ?"
        " WHERE webinar_id = this_webinar() AND key_hash = ?",
        (json.dumps(answers, ensure_ascii=False), int(submitted), key_hash),
    )
