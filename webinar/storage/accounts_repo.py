"""Staff accounts, their roles, and the sessions they open.

Reads take any connection (the server's reader, or the command line's own); writes take
the connection of a transaction. Rows come back as :class:`UserRow`, whose password
hash never leaves the services layer.
"""

from __future__ import annotations

from dataclasses import dataclass

from webinar.domain.accounts import Account, Grant, StaffRole
from webinar.storage.db import Row, Tx, first_row, insert_id


@dataclass(frozen=True, slots=True)
class UserRow:
    account: Account
    password_hash: str | None
    created_at: str


async def _grants(conn: Tx, user_id: int) -> tuple[Grant, ...]:
    rows = await conn.execute_fetchall(
        "SELECT role, event_id FROM user_roles WHERE user_id = ?"
        " ORDER BY role DESC, ifnull(event_id, 0)",
        (user_id,),
    )
    return tuple(Grant(_staff_role(r[0]), r[1]) for r in rows)


def _staff_role(value: str) -> StaffRole:
    return "organiser" if value == "organiser" else "host"


async def _user(conn: Tx, row: Row | None) -> UserRow | None:
    if row is None:
        return None
    account = Account(
        id=row["id"],
        email=row["email"],
        display_name=row["display_name"],
        has_password=row["password_hash"] is not None,
        oidc_issuer=row["oidc_issuer"],
        oidc_subject=row["oidc_subject"],
        grants=await _grants(conn, row["id"]),
    )
    return UserRow(account, row["password_hash"], row["created_at"])


_COLUMNS = "id, email, display_name, password_hash, oidc_issuer, oidc_subject, created_at"


async def user_by_email(conn: Tx, email: str) -> UserRow | None:
    """The account with this (normalised) email, or None."""
    row = await first_row(conn, f"SELECT {_COLUMNS} FROM users WHERE email = ?", (email,))
    return await _user(conn, row)


async def user_by_id(conn: Tx, user_id: int) -> UserRow | None:
    row = await first_row(conn, f"SELECT {_COLUMNS} FROM users WHERE id = ?", (user_id,))
    return await _user(conn, row)


async def user_by_subject(conn: Tx, issuer: str, subject: str) -> UserRow | None:
    """The account linked to an OpenID provider's (issuer, subject), or None."""
    row = await first_row(
        conn,
        f"SELECT {_COLUMNS} FROM users WHERE oidc_issuer = ? AND oidc_subject = ?",
        (issuer, subject),
    )
    return await _user(conn, row)


async def all_users(conn: Tx) -> list[UserRow]:
    rows = await conn.execute_fetchall(f"SELECT {_COLUMNS} FROM users ORDER BY email")
    users = [await _user(conn, row) for row in rows]
    return [u for u in users if u is not None]


async def add_user(
    tx: Tx,
    email: str,
    display_name: str,
    password_hash: str | None,
    grants: tuple[Grant, ...],
    at: str,
) -> int:
    """Store a new account with its roles; its id. ``sqlite3.IntegrityError`` if the
    email is taken (callers look first)."""
    user_id = await insert_id(
        tx,
        "INSERT INTO users (email, display_name, password_hash, created_at) VALUES (?, ?, ?, ?)",
        (email, display_name, password_hash, at),
    )
    await tx.executemany(
        "INSERT INTO user_roles (user_id, role, event_id) VALUES (?, ?, ?)",
        [(user_id, g.role, g.event_id) for g in grants],
    )
    return user_id


async def delete_user(tx: Tx, user_id: int) -> None:
    """Delete an account; its roles and sessions go with it (foreign keys cascade)."""
    await tx.execute("DELETE FROM sessions WHERE user_id = ?", (user_id,))
    await tx.execute("DELETE FROM users WHERE id = ?", (user_id,))


async def set_password_hash(tx: Tx, user_id: int, password_hash: str, *, end_sessions: bool) -> int:
    """Store a new hash; with ``end_sessions``, end the account's sessions (how many)."""
    await tx.execute("UPDATE users SET password_hash = ? WHERE id = ?", (password_hash, user_id))
    if not end_sessions:
        return 0
    cursor = await tx.execute("DELETE FROM sessions WHERE user_id = ?", (user_id,))
    return cursor.rowcount


async def link_oidc(tx: Tx, user_id: int, issuer: str, subject: str) -> None:
    """Remember the OpenID provider's (issuer, subject) for an account (first sign-in)."""
    await tx.execute(
        "UPDATE users SET oidc_issuer = ?, oidc_subject = ? WHERE id = ?",
        (issuer, subject, user_id),
    )


async def mark_session(tx: Tx, session_id: str, user_id: int) -> None:
    """Record that a session was opened by signing in to an account."""
    await tx.execute("UPDATE sessions SET user_id = ? WHERE id = ?", (user_id, session_id))


async def session_user(conn: Tx, session_id: str) -> int | None:
    """The account a session was opened by, or None (a secret link, a join, no session)."""
    row = await first_row(conn, "SELECT user_id FROM sessions WHERE id = ?", (session_id,))
    return None if row is None or row[0] is None else int(row[0])
