"""Breakout storage: rounds, groups, members, responses, points, pre-assignments."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from webinar.storage.db import Database, Tx, first_row, insert_id


@dataclass(slots=True)
class GroupRow:
    number: int
    topics: tuple[int, ...]
    facilitator_id: str | None = None
    help_at: str | None = None
    members: list[str] = field(default_factory=list)


@dataclass(slots=True)
class RoundRow:
    id: int
    item_id: str
    seed: int
    started_at: datetime
    ended_at: datetime | None
    message: str
    groups: dict[int, GroupRow] = field(default_factory=dict)
    #: (group, topic) -> (text, version, starred)
    #: (group, topic) -> (text, version, starred, edited by the host)
    responses: dict[tuple[int, int], tuple[str, int, bool, bool]] = field(default_factory=dict)
    #: (group, topic) -> [(author name, text, created_at)]
    points: dict[tuple[int, int], list[tuple[str, str, str]]] = field(default_factory=dict)


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


async def load_rounds(db: Database) -> list[RoundRow]:
    """Every round with its groups, members, responses and points, oldest first."""
    rounds: dict[int, RoundRow] = {}
    for r in await db.fetchall(
        "SELECT * FROM breakout_rounds WHERE webinar_id = this_webinar() ORDER BY id"
    ):
        started = _dt(r["started_at"])
        assert started is not None
        rounds[r["id"]] = RoundRow(
            r["id"], r["item_id"], r["seed"], started, _dt(r["ended_at"]), r["message"]
        )
    for g in await db.fetchall(
        "SELECT * FROM breakout_groups WHERE webinar_id = this_webinar() ORDER BY round_id, number"
    ):
        rounds[g["round_id"]].groups[g["number"]] = GroupRow(
            g["number"], tuple(json.loads(g["topics"])), g["facilitator_id"], g["help_at"]
        )
    for m in await db.fetchall(
        "SELECT round_id, participant_id, group_number FROM breakout_members"
        " WHERE webinar_id = this_webinar() ORDER BY round_id, joined_at, participant_id"
    ):
        rounds[m["round_id"]].groups[m["group_number"]].members.append(m["participant_id"])
    for x in await db.fetchall(
        "SELECT * FROM breakout_responses WHERE webinar_id = this_webinar()"
    ):
        rounds[x["round_id"]].responses[(x["group_number"], x["topic"])] = (
            x["text"],
            x["version"],
            bool(x["starred"]),
            bool(x["edited_by_host"]),
        )
    for p in await db.fetchall(
        "SELECT * FROM breakout_points WHERE webinar_id = this_webinar() ORDER BY id"
    ):
        rounds[p["round_id"]].points.setdefault((p["group_number"], p["topic"]), []).append(
            (p["author_name"] or "", p["text"], p["created_at"])
        )
    return list(rounds.values())


async def names_of(db: Database, ids: list[str]) -> dict[str, tuple[str, str]]:
    """participant id -> (name, organisation)."""
    out: dict[str, tuple[str, str]] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        rows = await db.fetchall(
            "SELECT id, name, organisation FROM participants WHERE webinar_id = this_webinar()"
            f" AND id IN ({marks})",
            tuple(chunk),
        )
        out.update({r["id"]: (r["name"] or "", r["organisation"] or "") for r in rows})
    return out


async def attendees(db: Database, ids: list[str]) -> list[str]:
    """Those of ``ids`` who are attendees (not hosts or organisers)."""
    out: list[str] = []
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        rows = await db.fetchall(
            "SELECT id FROM participants WHERE webinar_id = this_webinar()"
            f" AND role = 'attendee' AND removed_at IS NULL AND id IN ({marks})",
            tuple(chunk),
        )
        out += [r["id"] for r in rows]
    return out


async def attendee_names(db: Database) -> list[str]:
    rows = await db.fetchall(
        "SELECT name FROM participants WHERE webinar_id = this_webinar()"
        " AND role = 'attendee' AND removed_at IS NULL"
    )
    return [r["name"] or "" for r in rows]


async def preassignments(db: Database) -> dict[str, int]:
    rows = await db.fetchall(
        "SELECT match_key, group_number FROM preassignments WHERE webinar_id = this_webinar()"
    )
    return {r["match_key"]: r["group_number"] for r in rows}


# -- writing ----------------------------------------------------------------------------------


async def insert_round(tx: Tx, item_id: str, seed: int, started_at: str) -> int:
    rid = await insert_id(
        tx,
        "INSERT INTO breakout_rounds (webinar_id, item_id, seed, started_at)"
        " VALUES (this_webinar(), ?, ?, ?)",
        (item_id, seed, started_at),
    )
    return rid


async def insert_group(tx: Tx, round_id: int, number: int, topics: tuple[int, ...]) -> None:
    await tx.execute(
        "INSERT INTO breakout_groups (round_id, number, webinar_id, topics)"
        " VALUES (?, ?, this_webinar(), ?)",
        (round_id, number, json.dumps(list(topics))),
    )


async def put_member(tx: Tx, round_id: int, participant_id: str, group: int, at: str) -> None:
    await tx.execute(
        "INSERT INTO breakout_members (round_id, participant_id, webinar_id, group_number,"
        " joined_at) VALUES (?, ?, this_webinar(), ?, ?) ON CONFLICT (round_id, participant_id)"
        " DO UPDATE SET group_number = excluded.group_number",
        (round_id, participant_id, group, at),
    )


async def delete_member(tx: Tx, round_id: int, participant_id: str) -> None:
    await tx.execute(
        "DELETE FROM breakout_members WHERE round_id = ? AND participant_id = ?"
        " AND webinar_id = this_webinar()",
        (round_id, participant_id),
    )


async def insert_members(tx: Tx, round_id: int, members: list[tuple[str, int]], at: str) -> None:
    await tx.executemany(
        "INSERT INTO breakout_members (round_id, participant_id, webinar_id, group_number,"
        " joined_at) VALUES (?, ?, this_webinar(), ?, ?)",
        [(round_id, pid, group, at) for pid, group in members],
    )


async def set_facilitator(tx: Tx, round_id: int, group: int, participant_id: str | None) -> None:
    await tx.execute(
        "UPDATE breakout_groups SET facilitator_id = ? WHERE round_id = ? AND number = ?"
        " AND webinar_id = this_webinar()",
        (participant_id, round_id, group),
    )


async def set_help(tx: Tx, round_id: int, group: int, at: str | None) -> None:
    await tx.execute(
        "UPDATE breakout_groups SET help_at = ? WHERE round_id = ? AND number = ?"
        " AND webinar_id = this_webinar()",
        (at, round_id, group),
    )


async def end_round(tx: Tx, round_id: int, at: str) -> None:
    await tx.execute(
        "UPDATE breakout_rounds SET ended_at = ? WHERE id = ? AND webinar_id = this_webinar()"
        " AND ended_at IS NULL",
        (at, round_id),
    )


async def reopen_round(tx: Tx, round_id: int) -> None:
    await tx.execute(
        "UPDATE breakout_rounds SET ended_at = NULL WHERE id = ? AND webinar_id = this_webinar()",
        (round_id,),
    )


async def set_message(tx: Tx, round_id: int, message: str) -> None:
    await tx.execute(
        "UPDATE breakout_rounds SET message = ? WHERE id = ? AND webinar_id = this_webinar()",
        (message, round_id),
    )


async def save_response(
    tx: Tx,
    round_id: int,
    group: int,
    topic: int,
    text: str,
    at: str,
    *,
    by_host: bool = False,
) -> int:
    """Store a response (the facilitator's, or the host's correction); return its new
    version number."""
    row = await first_row(
        tx,
        "INSERT INTO breakout_responses (round_id, group_number, topic, webinar_id, text,"
        " version, updated_at, edited_by_host) VALUES (?, ?, ?, this_webinar(), ?, 1, ?, ?)"
        " ON CONFLICT (round_id, group_number, topic) DO UPDATE SET text = excluded.text,"
        " version = breakout_responses.version + 1, updated_at = excluded.updated_at,"
        " edited_by_host = excluded.edited_by_host RETURNING version",
        (round_id, group, topic, text, at, int(by_host)),
    )
    assert row is not None
    return int(row[0])


async def star_response(tx: Tx, round_id: int, group: int, topic: int, on: bool) -> bool:
    cursor = await tx.execute(
        "UPDATE breakout_responses SET starred = ? WHERE round_id = ? AND group_number = ?"
        " AND topic = ? AND webinar_id = this_webinar()",
        (int(on), round_id, group, topic),
    )
    changed = cursor.rowcount > 0
    await cursor.close()
    return changed


async def insert_point(
    tx: Tx,
    round_id: int,
    group: int,
    topic: int,
    author_name: str | None,
    text: str,
    key_hash: str,
    at: str,
) -> bool:
    """Add a member's point; False if this key was already used (a retry)."""
    cursor = await tx.execute(
        "INSERT OR IGNORE INTO breakout_points (webinar_id, round_id, group_number, topic,"
        " author_name, text, key_hash, created_at)"
        " VALUES (this_webinar(), ?, ?, ?, ?, ?, ?, ?)",
        (round_id, group, topic, author_name, text, key_hash, at),
    )
    added = cursor.rowcount > 0
    await cursor.close()
    return added


async def replace_preassignments(tx: Tx, rows: list[tuple[str, int, int]]) -> None:
    await tx.execute("DELETE FROM preassignments WHERE webinar_id = this_webinar()")
    await tx.executemany(
        "INSERT INTO preassignments (webinar_id, match_key, group_number, line)"
        " VALUES (this_webinar(), ?, ?, ?)",
        rows,
    )
