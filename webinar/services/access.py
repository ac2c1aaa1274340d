"""Who is who: joining as an attendee, entering as host or organiser, sessions and rights.

A browser holds only an opaque session id (in a signed cookie); everything it may do is
looked up from that id. Hosts and organisers enter through secret links generated when
the database is created; attendees through the event's join code.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import secrets
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import NoReturn

from webinar.domain import audiences
from webinar.domain.audiences import ROLES, Role
from webinar.domain.events import RosterJoined
from webinar.domain.ratelimit import GuessBackoff, TokenBucket
from webinar.domain.text import has_control_character
from webinar.services.commit import Committer, Outgoing, iso
from webinar.storage import accounts_repo, repo
from webinar.storage.db import Tx, offline_transaction
from webinar.storage.repo import ParticipantRow

NAME_MAX = 80
ORGANISATION_MAX = 120
#: Join codes avoid letters and digits that are easy to confuse (0/O, 1/I/L).
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8


@dataclass(frozen=True)
class AccessLimits:
    """How fast one address may join, and how wrong codes and links are slowed.

    An address is often a whole office behind one NAT: joins are admitted in a burst of
    ``join_burst``, then ``joins_per_minute`` (defaults: 120 at once, then 2 a second, so
    200 people clicking the link together are all in within about 40 seconds, and a flood
    of 2,000 takes a quarter of an hour). Wrong codes (attendees) and wrong links (hosts,
    organisers) are counted apart, only when wrong, per address and over all addresses.
    """

    join_burst: int = 120
    joins_per_minute: float = 120.0
    code_guesses: GuessBackoff = field(default_factory=GuessBackoff)
    link_guesses: GuessBackoff = field(default_factory=GuessBackoff)


class AccessError(ValueError):
    """A join or entry that cannot be accepted; ``str()`` is a plain sentence."""

    def __init__(
        self,
        message: str,
        field: str | None = None,
        status: int = 400,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(message)
        self.field = field
        self.status = status
        #: Seconds to wait before trying again (sent as ``Retry-After`` with a 429).
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class Participant:
    id: str
    role: Role
    name: str
    organisation: str

    @property
    def is_attendee(self) -> bool:
        return self.role == audiences.ATTENDEE

    @property
    def is_host(self) -> bool:
        return self.role == audiences.HOST

    @property
    def is_organiser(self) -> bool:
        return self.role == audiences.ORGANISER

    @property
    def is_staff(self) -> bool:
        """A host or an organiser."""
        return audiences.is_staff(self.role)


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def new_secrets() -> dict[str, str]:
    """Secrets for a new database: never a default, always generated."""
    return {
        "session_secret": secrets.token_urlsafe(48),
        "host_token": secrets.token_urlsafe(24),
        "organiser_token": secrets.token_urlsafe(24),
        "join_code": new_code(),
        # Names each breakout group's call room (webinar.domain.video.room_name).
        "room_secret": secrets.token_urlsafe(32),
        # Proves a request forwarded between the workers of ``webinar serve --workers N``
        # comes from one of them (webinar.web.forward).
        "peer_secret": secrets.token_urlsafe(32),
    }


#: What the screens of someone signed out by a rotation show (a WebSocket close reason).
SIGNED_OUT = "Your link or code was replaced: you are signed out."

#: What can be rotated: the secret it is stored as, and the role of whoever entered by it.
ROTATABLE: dict[str, tuple[str, Role]] = {
    "code": ("join_code", audiences.ATTENDEE),
    "host": ("host_token", audiences.HOST),
    "organiser": ("organiser_token", audiences.ORGANISER),
}


def rotated_secrets(which: Iterable[str]) -> dict[str, str]:
    """New values for the secrets behind ``which`` (names of :data:`ROTATABLE`)."""
    fresh = new_secrets()
    return {ROTATABLE[name][0]: fresh[ROTATABLE[name][0]] for name in which}


def address_key(client: str) -> str:
    """The key an address is limited under: an IPv4 address as it is, an IPv6 address by
    its /64 (one household or office gets a whole /64, so each of its addresses must not
    count as a new client)."""
    try:
        address = ipaddress.ip_address(client)
    except ValueError:
        return client
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is None:
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else address)


def clean_text(value: str, *, field: str, label: str, limit: int, required: bool) -> str:
    """Normalise a short single-line text; ``AccessError`` naming the field when it is bad."""
    text = unicodedata.normalize("NFC", value).strip()
    if has_control_character(text):
        raise AccessError(f"{label} cannot contain control characters.", field)
    text = " ".join(text.split())
    if required and not text:
        raise AccessError(f"Please enter your {label.lower()}.", field)
    if len(text) > limit:
        raise AccessError(f"{label} can be at most {limit} characters long.", field)
    return text


class AccessService:
    def __init__(
        self, committer: Committer, meta: dict[str, str], limits: AccessLimits | None = None
    ) -> None:
        self.committer = committer
        self.join_code = meta["join_code"]
        self._tokens: dict[Role, str] = {
            "host": meta["host_token"],
            "organiser": meta["organiser_token"],
        }
        self._sessions: dict[str, Participant] = {}
        limits = limits or AccessLimits()
        self.joins = TokenBucket(limits.join_burst, limits.joins_per_minute)
        self.code_guesses = limits.code_guesses
        self.link_guesses = limits.link_guesses
        self._attendees = 0

    def check_code(self, code: str) -> bool:
        given = "".join(code.split()).upper()
        return hmac.compare_digest(given.encode(), self.join_code.encode())

    def _wrong(self, guesses: GuessBackoff, client: str, message: str, field: str) -> NoReturn:
        """Refuse a wrong code or link: 400, or 429 while ``client`` must wait.

        Only wrong guesses get here (a right one is admitted first), so the wait slows
        guessing without ever keeping out someone who has the right code or link.
        """
        now = self.committer.clock()
        wait = guesses.wait(client, now)
        if wait:
            raise AccessError(
                f"{message} Too many wrong ones have come from your network: please wait "
                f"{wait} seconds before trying again.",
                field,
                status=429,
                retry_after=wait,
            )
        guesses.failed(client, now)
        wait = guesses.wait(client, now)
        if wait:
            message += f" Please wait {wait} seconds before trying again."
        raise AccessError(message, field)

    async def join(
        self, code: str, name: str, organisation: str = "", *, client: str = ""
    ) -> tuple[str, Participant]:
        """Admit an attendee; return (session id, participant). ``AccessError`` if refused.

        ``client`` (the caller's address): its wrong codes are slowed with a growing wait
        (status 429 while it lasts), and its joins are limited to a burst and a steady
        rate (``AccessLimits``; 429 with the seconds to wait). The right code is never
        refused for someone else's wrong ones.
        """
        client = address_key(client)
        clean_name = clean_text(name, field="name", label="Name", limit=NAME_MAX, required=True)
        clean_org = clean_text(
            organisation,
            field="organisation",
            label="Organisation",
            limit=ORGANISATION_MAX,
            required=False,
        )
        if not self.check_code(code):
            wrong = "That event code is not right. Check the invitation."
            self._wrong(self.code_guesses, client, wrong, "code")
        wait = self.joins.take(client, self.committer.clock())
        if wait:
            raise AccessError(
                "Many people have just joined from your network. Please try again in "
                f"{wait} seconds.",
                None,
                status=429,
                retry_after=wait,
            )
        return await self._create(audiences.ATTENDEE, clean_name, clean_org)

    async def enter(self, role: Role, token: str, *, client: str = "") -> tuple[str, Participant]:
        """Admit a host or organiser by their secret link token.

        Wrong links are slowed as wrong codes are, but counted apart from them: attendees'
        typos never delay the host.
        """
        client = address_key(client)
        expected = self._tokens.get(role)
        if expected is None or not hmac.compare_digest(token.encode(), expected.encode()):
            self._wrong(
                self.link_guesses,
                client,
                "This link is not valid. Ask the organiser for a new one.",
                "token",
            )
        return await self._create(role, "Host" if role == audiences.HOST else "Organiser", "")

    async def enter_account(self, role: Role, name: str, user_id: int) -> tuple[str, Participant]:
        """Admit a host or organiser who signed in to account ``user_id`` (see
        ``services.accounts``). Their session is never cached: removing the account or
        changing its password (from the command line too) ends it at the next request."""
        return await self._create(role, name, "", user_id=user_id)

    async def _create(
        self, role: Role, name: str, organisation: str, *, user_id: int | None = None
    ) -> tuple[str, Participant]:
        participant = Participant(secrets.token_urlsafe(16), role, name, organisation)
        session_id = secrets.token_urlsafe(32)

        async def work(tx: Tx, now: datetime) -> tuple[int, list[Outgoing]]:
            row = ParticipantRow(participant.id, role, name, organisation or None, iso(now))
            await repo.create_participant(tx, row, session_id)
            if user_id is not None:
                await accounts_repo.mark_session(tx, session_id, user_id)
            if role != audiences.ATTENDEE:
                return self._attendees, []
            # Changes run one after another inside the writer: counting here is exact.
            count = self._attendees + 1
            return count, [self._joined(count)]

        def apply(count: int) -> None:
            self._attendees = count

        await self.committer.commit(work, apply)
        if user_id is None:
            self._sessions[session_id] = participant
        return session_id, participant

    async def session(self, session_id: str | None) -> Participant | None:
        """The participant behind a session id, or None."""
        if not session_id:
            return None
        cached = self._sessions.get(session_id)
        if cached is not None:
            return cached
        row = await repo.load_session(self.committer.db, session_id)
        if row is None:
            return None
        participant = Participant(row.id, _role(row.role), row.name or "", row.organisation or "")
        if await accounts_repo.session_user(self.committer.db.reader, session_id) is None:
            self._sessions[session_id] = participant
        return participant

    async def end_session(self, session_id: str) -> None:
        """Forget a session, so a copied cookie stops working after "Leave"."""

        async def work(tx: Tx, now: datetime) -> tuple[None, list[Outgoing]]:
            await repo.delete_session(tx, session_id)
            return None, []

        await self.committer.commit(work)
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

        async def work(tx: Tx, now: datetime) -> tuple[list[str], list[Outgoing]]:
            return await _rotate_in(tx, values, roles if end_sessions else [], keep), []

        def apply(_: list[str]) -> None:  # once written: the old code or link stops here
            self.join_code = values.get("join_code", self.join_code)
            self._tokens["host"] = values.get("host_token", self._tokens["host"])
            self._tokens["organiser"] = values.get("organiser_token", self._tokens["organiser"])
            if end_sessions:
                self._sessions = {
                    k: p for k, p in self._sessions.items() if k == keep or p.role not in roles
                }

        ended = await self.committer.commit(work, apply)
        kept = self._sessions.get(keep) if keep else None
        for participant_id in ended:
            if kept is None or participant_id != kept.id:
                self.committer.hub.end_screens(participant_id, SIGNED_OUT)
        return ended

    def secrets(self) -> dict[str, str]:
        """The current event code and link tokens (for the links staff see)."""
        return {
            "join_code": self.join_code,
            "host_token": self._tokens["host"],
            "organiser_token": self._tokens["organiser"],
        }

    async def remove_in(self, tx: Tx, participant_id: str, now: datetime) -> list[Outgoing]:
        """Inside the caller's transaction: take an attendee off the roster and end their
        sessions; the events to append. ``AccessError(404)`` if there is no such attendee.
        The caller's ``apply`` should call :meth:`removed`."""
        if not await repo.remove_attendee(tx, participant_id, iso(now)):
            raise AccessError(
                "There is no attendee with that id on the roster.", "participant_id", status=404
            )
        # Changes run one after another inside the writer: counting here is exact.
        return [self._joined(self._attendees - 1)]

    @staticmethod
    def _joined(count: int) -> Outgoing:
        """The staff's attendee count after a join or a removal."""
        return Outgoing("roster.joined", audiences.STAFF, RosterJoined(count=count).model_dump())

    def removed(self, participant_id: str) -> None:
        """After a removal is written: one fewer on the roster, and no cached session of
        theirs works any more."""
        self._attendees -= 1
        for session_id, participant in list(self._sessions.items()):
            if participant.id == participant_id:
                del self._sessions[session_id]

    async def load(self) -> None:
        self._attendees = await repo.count_participants(self.committer.db, audiences.ATTENDEE)
        meta = await repo.get_meta(self.committer.db)
        self.join_code = meta["join_code"]
        self._tokens = {"host": meta["host_token"], "organiser": meta["organiser_token"]}
        self._sessions.clear()

    async def roster(self) -> list[Participant]:
        """The attendees on the roster, by name (for the host's "remove" control)."""
        rows = await repo.roster(self.committer.db)
        return [
            Participant(r.id, audiences.ATTENDEE, r.name or "", r.organisation or "") for r in rows
        ]

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
    tx: Tx, values: dict[str, str], end_roles: list[str], keep: str | None
) -> list[str]:
    await repo.replace_secrets(tx, values)
    if not end_roles:
        return []
    return await repo.delete_sessions_of_roles(tx, end_roles, keep=keep)


def rotate_offline(
    db_path: str, webinar_id: int, which: Iterable[str], *, end_sessions: bool = False
) -> tuple[dict[str, str], int]:
    """:meth:`AccessService.rotate` on a database no server holds (the CLI): returns all
    the secrets as they now are and how many people were signed out."""
    values, roles = _rotation(which)

    async def run() -> tuple[dict[str, str], int]:
        async with offline_transaction(db_path, webinar_id) as tx:
            ended = await _rotate_in(tx, values, roles if end_sessions else [], None)
            meta = await repo.meta_in(tx)
        return meta, len(ended)

    return asyncio.run(run())


def _role(value: str) -> Role:
    for role in ROLES:
        if role == value:
            return role
    raise ValueError(f"unknown role {value!r}")
