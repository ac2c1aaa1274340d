"""Poll storage: polls, answers (by key hash), and who has answered (no order, no time).

Every statement is scoped to the event of the handle it runs on (``webinar_id =
this_webinar()``, see ``storage/db.py``), as every other table's are.
Answers and respondents are ``WITHOUT ROWID`` tables keyed by hash or by id: they are
stored and read in an order that says nothing about who answered when.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from webinar.domain.polls import Answer, Poll, PollSpec
from webinar.storage.db import Database, Tx, first_row, insert_id


@dataclass(frozen=True, slots=True)
class AnswerRow:
    poll_id: int
    key_hash: str
    answer: Answer
    #: Named polls only: who answered.
    participant_id: str | None = None
    author_name: str | None = None


def spec_json(spec: PollSpec) -> str:
    return json.dumps(
        {
            "question": spec.question,
            "kind": spec.kind,
            "options": list(spec.options),
            "max_choices": spec.max_choices,
            "scale_min": spec.scale_min,
            "scale_max": spec.scale_max,
            "correct": spec.correct,
            "anonymous": spec.anonymous,
            "opens": spec.opens,
            "results": spec.results,
        },
        ensure_ascii=False,
    )


def _spec(text: str) -> PollSpec:
    data = json.loads(text)
    data["options"] = tuple(data["options"])
    return PollSpec(**data)


def _moment(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


_POLL_COLUMNS = "id, item_id, position, spec, state, revealed, on_projector, opened_at, closed_at"


def _poll(row: Any) -> Poll:
    return Poll(
        id=row[0],
        item_id=row[1],
        position=row[2],
        spec=_spec(row[3]),
        state=row[4],
        revealed=bool(row[5]),
        on_projector=bool(row[6]),
        opened_at=_moment(row[7]),
        closed_at=_moment(row[8]),
    )


def _answer(row: Any) -> AnswerRow:
    return AnswerRow(row[0], row[1], tuple(json.loads(row[2])), row[3], row[4])


async def all_polls(db: Database) -> list[Poll]:
    rows = await db.fetchall(
        f"SELECT {_POLL_COLUMNS} FROM polls WHERE webinar_id = this_webinar()"
        " ORDER BY position, id",
    )
    return [_poll(r) for r in rows]


async def all_answers(db: Database) -> list[AnswerRow]:
    """Every answer, by poll, then in the order of their keys' hashes (random)."""
    rows = await db.fetchall(
        "SELECT poll_id, key_hash, answer, participant_id, author_name FROM poll_answers "
        "WHERE webinar_id = this_webinar() ORDER BY poll_id, key_hash",
    )
    return [_answer(r) for r in rows]


async def respondents(db: Database) -> dict[int, set[str]]:
    """Who has answered each poll (to refuse a second answer): poll id -> participant ids."""
    rows = await db.fetchall(
        "SELECT poll_id, participant_id FROM poll_respondents WHERE webinar_id = this_webinar()"
    )
    out: dict[int, set[str]] = {}
    for row in rows:
        out.setdefault(row[0], set()).add(row[1])
    return out


async def agenda_keys(db: Database) -> set[str]:
    rows = await db.fetchall(
        "SELECT agenda_key FROM polls WHERE webinar_id = this_webinar() AND agenda_key IS NOT NULL"
    )
    return {r[0] for r in rows}


async def insert_poll(
    tx: Tx,
    spec: PollSpec,
    item_id: str | None,
    position: int,
    agenda_key: str | None,
) -> int:
    return await insert_id(
        tx,
        "INSERT INTO polls (webinar_id, item_id, position, agenda_key, spec, state) "
        "VALUES (this_webinar(), ?, ?, ?, ?, 'ready')",
        (item_id, position, agenda_key, spec_json(spec)),
    )


async def update_poll(tx: Tx, poll: Poll) -> None:
    await tx.execute(
        "UPDATE polls SET state = ?, revealed = ?, on_projector = ?, opened_at = ?, "
        "closed_at = ? WHERE webinar_id = this_webinar() AND id = ?",
        (
            poll.state,
            int(poll.revealed),
            int(poll.on_projector),
            poll.opened_at.isoformat() if poll.opened_at else None,
            poll.closed_at.isoformat() if poll.closed_at else None,
            poll.id,
        ),
    )


async def answer_by_key(tx: Tx, poll_id: int, key_hash: str) -> Answer | None:
    row = await first_row(
        tx,
        "SELECT answer FROM poll_answers"
        " WHERE webinar_id = this_webinar() AND poll_id = ? AND key_hash = ?",
        (poll_id, key_hash),
    )
    return None if row is None else tuple(json.loads(row[0]))


async def has_answered(tx: Tx, poll_id: int, participant_id: str) -> bool:
    row = await first_row(
        tx,
        "SELECT 1 FROM poll_respondents"
        " WHERE webinar_id = this_webinar() AND poll_id = ? AND participant_id = ?",
        (poll_id, participant_id),
    )
    return row is not None


async def add_answer(
    tx: Tx,
    poll_id: int,
    participant_id: str,
    key_hash: str,
    answer: Answer,
    *,
    named: str | None,
) -> None:
    """A first answer: the respondent's mark, and the answer (named: with who gave it)."""
    await tx.execute(
        "INSERT INTO poll_respondents (webinar_id, poll_id, participant_id)"
        " VALUES (this_webinar(), ?, ?)",
        (poll_id, participant_id),
    )
    await tx.execute(
        "INSERT INTO poll_answers (webinar_id, poll_id, key_hash, answer, participant_id, "
        "author_name) VALUES (this_webinar(), ?, ?, ?, ?, ?)",
        (
            poll_id,
            key_hash,
            json.dumps(list(answer), ensure_ascii=False),
            participant_id if named is not None else None,
            named,
        ),
    )


async def change_answer(tx: Tx, poll_id: int, key_hash: str, answer: Answer) -> None:
    await tx.execute(
        "UPDATE poll_answers SET answer = ?"
        " WHERE webinar_id = this_webinar() AND poll_id = ? AND key_hash = ?",
        (json.dumps(list(answer), ensure_ascii=False), poll_id, key_hash),
    )


async def delete_answers(tx: Tx, poll_id: int) -> None:
    """A reset: the poll's answers and the marks of who answered go."""
    for table in ("poll_answers", "poll_respondents"):
        await tx.execute(
            f"DELETE FROM {table} WHERE webinar_id = this_webinar() AND poll_id = ?", (poll_id,)
        )


# -- erasing personal data (``storage/purge.py`` runs these, synchronously) ------------------

_WRITTEN = (
    "webinar_id = this_webinar() AND poll_id IN"
    " (SELECT id FROM polls WHERE json_extract(spec, '$.kind') IN ('words', 'text'))"
)
#: Who answered which poll goes; anonymous answers already name no one.
PURGE_PEOPLE = (
    "UPDATE poll_answers SET participant_id = NULL, author_name = NULL"
    " WHERE webinar_id = this_webinar()",
    "DELETE FROM poll_respondents WHERE webinar_id = this_webinar()",
)
#: What people wrote (word-cloud words, open-text answers) goes too, on request.
PURGE_FREE_TEXT = (f"""UPDATE poll_answers SET answer = '["[removed]"]' WHERE {_WRITTEN}""",)
#: One person (``?``: their participant id): their written named answers, then the links.
ERASE_FREE_TEXT = (
    f"""UPDATE poll_answers SET answer = '["[removed]"]' WHERE participant_id = ? AND {_WRITTEN}""",
)
ERASE_PERSON = (
    "UPDATE poll_answers SET participant_id = NULL, author_name = NULL WHERE participant_id = ?",
    "DELETE FROM poll_respondents WHERE participant_id = ?",
)
