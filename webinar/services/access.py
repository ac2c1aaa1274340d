"""Who is who: joining as an attendee, entering as host or organiser, sessions and rights.

A browser holds only an opaque session id (in a signed cookie); everything it may do is
looked up from that id. Hosts and organisers enter through secret links generated when
the database is created; attendees through the event's join code.
"""

from __future__ import annotations

import asyncio
import hmac
import secrets
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import aiosqlite

from webinar.domain.ratelimit import RateLimiter
from webinar.services.live import Live, Outgoing, iso
from webinar.storage import repo
from webinar.storage.repo import ParticipantRow

Role = Literal["attendee", "host", "organiser"]
ROLES: tuple[Role, ...] = ("attendee", "host", "organiser")

NAME_MAX = 80
ORGANISATION_MAX = 120
#: Join codes avoid letters and digits that are easy to confuse (0/O, 1/I/L).
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
#: Wrong codes or links allowed per address in the window before it must wait.
FAILURES_ALLOWED = 10
FAILURE_WINDOW = timedelta(minutes=5)


class AccessError(ValueError):
    """A join or entry that cannot be accepted; ``str()`` is a plain sentence."""

    def __init__(self, message: str, field: str | None = None, status: int = 400) -> None:
        super().__init__(message)
        self.field = field
        self.status = status


@dataclass(frozen=True, slots=True)
class Participant:
    id: str
    role: Role
    name: str
    organisation: str

    @property
    def is_host(self) -> bool:
        return self.role == "host"

    @property
    def is_organiser(self) -> bool:
        return self.role == "organiser"


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def new_secrets() -> dict[str, str]:
    """Secrets for a new database: never a default, always generated."""
    return {
        "session_secret": secrets.token_urlsafe(48),
        "host_token": secrets.token_urlsafe(24),
        "organiser_token": secrets.token_urlsafe(24),
        "join_code": new_code(),
    }


#: What can be rotated: the secret it is stored as, and the role of whoever entered by it.
ROTATABLE: dict[str, tuple[str, Role]] = {
    "code": ("join_code", "attendee"),
    "host": ("host_token", "host"),
    "organiser": ("organiser_token", "organiser"),
}


def rotated_secrets(which: Iterable[str]) -> dict[str, str]:
    """New values for the secrets behind ``which`` (names of :data:`ROTATABLE`)."""
    fresh = new_secrets()
    return {ROTATABLE[name][0]: fresh[ROTATABLE[name][0]] for name in which}


def clean_text(value: str, *, field: str, label: str, limit: int, required: bool) -> str:
    """Normalise a short single-line text; ``AccessError`` naming the field when it is bad."""
    text = unicodedata.normalize("NFC", value).strip()
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in text):
        raise AccessError(f"{label} cannot contain control characters.", field)
    text = " ".join(text.split())
    if required and not text:
        raise AccessError(f"Please enter your {label.lower()}.", field)
    if len(text) > limit:
        raise AccessError(f"{label} can be at most {limit} characters long.", field)
    return text


class AccessService:
    def __init__(self, live: Live, meta: dict[str, str]) -> None:
        self.live = live
        self.join_code = meta["join_code"]
        self._tokens: dict[Role, str] = {
            "host": meta["host_token"],
            "organiser": meta["organiser_token"],
        }
        self._sessions: dict[str, Participant] = {}
        self.failures = RateLimiter(FAILURES_ALLOWED, FAILURE_WINDOW)
        self._attendees = 0

    def check_code(self, code: str) -> bool:
        given = "".join(code.split()).upper()
        return hmac.compare_digest(given.encode(), self.join_code.encode())

    def _guard(self, client: str) -> None:
        """Refuse a client that has failed too often (code or link guessing)."""
        now = self.live.clock()
        wait = self.failures.retry_after(client, now)
        if wait:
            raise AccessError(
                f"Too many attempts with a wrong code or link. Please wait {wait} seconds.",
                "code",
                status=429,
            )

    def _failed(self, client: str) -> None:
        self.failures.allow(client, self.live.clock())

    async def join(
        self, code: str, name: str, organisation: str = "", *, client: str = ""
    ) -> tuple[str, Participant]:
        """Admit an attendee; return (session id, participant). ``AccessError`` if refused.

        ``client`` (the caller's address) counts wrong codes: after ``FAILURES_ALLOWED``
        in ``FAILURE_WINDOW`` the address must wait (status 429), so codes cannot be guessed.
        """
        self._guard(client)
        clean_name = clean_text(name, field="name", label="Name", limit=NAME_MAX, required=True)
        clean_org = clean_text(
            organisation,
            field="organisation",
            label="Organisation",
            limit=ORGANISATION_MAX,
            required=False,
        )
        if not self.check_code(code):
            self._failed(client)
            raise AccessError("That event code is not right. Check the invitation.", "code")
        return await self._create("attendee", clean_name, clean_org)

    async def enter(self, role: Role, token: str, *, client: str = "") -> tuple[str, Participant]:
        """Admit a host or organiser by their secret link token (failures count as for join)."""
        self._guard(client)
        expected = self._tokens.get(role)
        if expected is None or not hmac.compare_digest(token.encode(), expected.encode()):
            self._failed(client)
            raise AccessError("This link is not valid. Ask the organiser for a new one.", "token")
        return await self._create(role, "Host" if role == "host" else "Organiser", "")

    async def _create(self, role: Role, name: str, organisation: str) -> tuple[str, Participant]:
        participant = Participant(secrets.token_urlsafe(16), role, name, organisation)
        session_id = secrets.token_urlsafe(32)

        async def work(tx: aiosqlite.Connection, now: datetime) -> tuple[None, list[Outgoing]]:
            row = ParticipantRow(participant.id, role, name, organisation or None, iso(now))
            await repo.create_participant(tx, row, session_id)
            events = []
            if role == "attendee":
                # Changes run one after another inside the writer: counting here is exact.
                self._attendees += 1
                events.append(Outgoing("roster.joined", "staff", {"count": self._attendees}))
            return None, events

        await self.live.commit(work)
        self._sessions[session_id] = participant
        return session_id, participant

    async def session(self, session_id: str | None) -> Participant | None:
        """The participant behind a session id, or None."""
        if not session_id:
            return None
        cached = self._sessions.get(session_id)
        if cached is not None:
            return cached
        row = await repo.load_session(self.live.db, session_id)
        if row is None:
            return None
        participant = Participant(row.id, _role(row.role), row.name or "", row.organisation or "")
        self._sessions[session_id] = participant
        return participant

    async def end_session(self, session_id: str) -> None:
        """Forget a session, so a copied cookie stops working after "Leave"."""

        async def work(tx: aiosqlite.Connection, now: datetime) -> tuple[None, list[Outgoing]]:
            await repo.delete_session(tx, session_id)
            return None, []

        await self.live.commit(work)
        self._sessions.pop(session_id, None)

    async def rotate(
        self, which: Iterable[str], *, end_sessions: bool = False, keep: str | None = None
    ) -> list[str]:
        """Replace the event code and/or secret links (names of :data:`ROTATABLE`); with
        ``end_sessions``, also sign out everyone who entered by them, except the session
        ``keep`` (the organiser doing it). Returns the ids of the participants signed out.
        The old code or link stops working at once. ``AccessError`` if ``which`` is empty
        or names something else."""
        values, roles = _rotation(which)

        async def work(tx: aiosqlite.Connection, now: datetime) -> tuple[list[str], list[Outgoing]]:
            return await _rotate_in(tx, values, roles if end_sessions else [], keep), []

        def apply(_: list[str]) -> None:  # once written: the old code or link stops here
            self.join_code = values.get("join_code", self.join_code)
            self._tokens["host"] = values.get("host_token", self._tokens["host"])
            self._tokens["organiser"] = values.get("organiser_token", self._tokens["organiser"])
            if end_sessions:
                self._sessions = {
                    k: p for k, p in self._sessions.items() if k == keep or p.role not in roles
                }

        return await self.live.commit(work, apply)

    def secrets(self) -> dict[str, str]:
        """The current event code and link tokens (for the links staff see)."""
        return {
            "join_code": self.join_code,
            "host_token": self._tokens["host"],
            "organiser_token": self._tokens["organiser"],
        }

    async def load(self) -> None:
        self._attendees = await repo.count_participants(self.live.db, "attendee")
        meta = await repo.get_meta(self.live.db)
        self.join_code = meta["join_code"]
        self._tokens = {"host": meta["host_token"], "organiser": meta["organiser_token"]}
        self._sessions.clear()

    async def attendee_count(self) -> int:
        return self._attendees


def _rotation(which: Iterable[str]) -> tuple[dict[str, str], list[str]]:
    """New secret values for ``which``, and the roles that entered by them."""
    names = sorted(set(which))
    if not names or any(name not in ROTATABLE for name in names):
        raise AccessError(
            "Choose what to replace: the event code, the host link or the organiser link.",
            "which",
        )
    return rotated_secrets(names), [ROTATABLE[name][1] for name in names]


async def _rotate_in(
    tx: aiosqlite.Connection, values: dict[str, str], end_roles: list[str], keep: str | None
) -> list[str]:
    await repo.replace_secrets(tx, values)
    if not end_roles:
        return []
    return await repo.delete_sessions_of_roles(tx, end_roles, keep=keep)


def rotate_offline(
    db_path: str, which: Iterable[str], *, end_sessions: bool = False
) -> tuple[dict[str, str], int]:
    """:meth:`AccessService.rotate` on a database no server holds (the CLI): returns all
    the secrets as they now are and how many people were signed out."""
    values, roles = _rotation(which)

    async def run() -> tuple[dict[str, str], int]:
        async with aiosqlite.connect(db_path) as tx:
            ended = await _rotate_in(tx, values, roles if end_sessions else [], None)
            await tx.commit()
            meta = await repo.meta_in(tx)
        return meta, len(ended)

    return asyncio.run(run())


def _role(value: str) -> Role:
    for role in ROLES:
        if role == value:
            return role
    raise ValueError(f"unknown role {value!r}")
