"""Staff sign-in: password and OpenID Connect sign-in to accounts, the role an account
has on an event, and the account commands (``webinar users ...``).

Signing in opens the same kind of session a secret host or organiser link opens (see
:mod:`webinar.services.access`), marked with its account, so the rest of the app sees
a host or an organiser exactly as before.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from webinar.domain.accounts import (
    PASSWORD_MAX,
    Account,
    AccountError,
    Grant,
    OidcClaims,
    SigninThrottle,
    StaffRole,
    match_oidc,
    normalise_email,
    role_on_event,
)
from webinar.services.access import AccessError, AccessService, Participant, address_key
from webinar.services.commit import Committer, Outgoing, iso
from webinar.storage import accounts_repo
from webinar.storage.db import Tx, migrate_sync, offline_transaction

T = TypeVar("T")

#: The same answer for an unknown email and a wrong password: no one can learn from it
#: whether an address has an account.
WRONG = "The email address or password is not right."

#: Argon2 hashes running at once: each takes a processor and 64 MiB for a moment.
HASHING_AT_ONCE = 2


class _Lanes:
    """One sign-in at a time per address: a guesser's parallel requests cannot all pass
    the throttle before the first failure is counted."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def one_at_a_time(self, key: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)


class AccountService:
    def __init__(
        self,
        committer: Committer,
        access: AccessService,
        webinar_id: int,
        throttle: SigninThrottle | None = None,
        hasher: PasswordHasher | None = None,
    ) -> None:
        """``webinar_id``: the event this service opens sessions on (roles name events by
        id); ``throttle``: shared by every event of a server, so guesses spread over events
        are counted together."""
        self.committer = committer
        self.webinar_id = webinar_id
        self.access = access
        self.throttle = throttle or SigninThrottle()
        self.hasher = hasher or PasswordHasher()
        self._lanes = _Lanes()
        self._hashing = asyncio.Semaphore(HASHING_AT_ONCE)
        self._dummy_hash: str | None = None

    async def role_on_event(self, account_id: int, event_id: int) -> StaffRole | None:
        """Which role the account ``account_id`` has on event ``event_id``: ``organiser``
        (organisers of the install have it on every event), ``host`` (a host of that
        event) or ``None`` (no role, or no such account). The one place this is decided."""
        user = await accounts_repo.user_by_id(self.committer.db.reader, account_id)
        return None if user is None else role_on_event(user.account.grants, event_id)

    async def role_for_session(self, session_id: str, event_id: int) -> StaffRole | None:
        """The role on event ``event_id`` of the account a session was opened by (signing
        in), through :meth:`role_on_event`; ``None`` for a session opened otherwise (a
        secret link, a join) or unknown."""
        user_id = await accounts_repo.session_user(self.committer.db.reader, session_id)
        return None if user_id is None else await self.role_on_event(user_id, event_id)

    async def sign_in(
        self, email: str, password: str, *, client: str = "", event_id: int | None = None
    ) -> tuple[str, Participant]:
        """Sign in with a password; (session id, participant) on event ``event_id``.

        ``AccessError``: 400 with the same sentence for an unknown email and a wrong
        password; 429 (with ``retry_after``) while ``client``'s address, or this account
        from that address, must wait after wrong passwords (the password is then not even
        checked); 403 when the account has no role on the event.
        """
        account = await self.authenticate(email, password, client=client)
        return await self._open_session(account, event_id or self.webinar_id)

    async def authenticate(self, email: str, password: str, *, client: str = "") -> Account:
        """The account whose email and password these are, with no session opened (the
        organiser's programme keeps its own); ``AccessError`` as :meth:`sign_in` (but no
        403: that is about an event)."""
        if not email.strip():
            raise AccessError("Enter your email address.", "email")
        if not password:
            raise AccessError("Enter your password.", "password")
        address = address_key(client)
        try:
            key = normalise_email(email)
        except AccountError as exc:
            raise AccessError(str(exc), "email") from None
        async with self._lanes.one_at_a_time(address):
            user = await self._check_password(key, password[: PASSWORD_MAX + 1], address)
        if user.password_hash is not None and self.hasher.check_needs_rehash(user.password_hash):
            await self._store_hash(user.account.id, password)
        return user.account

    async def account(self, account_id: int) -> Account | None:
        """The account ``account_id`` as it is now (None once removed)."""
        user = await accounts_repo.user_by_id(self.committer.db.reader, account_id)
        return None if user is None else user.account

    async def open_session(
        self, account_id: int, as_role: StaffRole = "host"
    ) -> tuple[str, Participant]:
        """A session on this event as ``as_role`` for an account already signed in
        elsewhere (the organiser's programme hands an account over to an event's host
        console or organiser page). An organiser may also host; a host only hosts.
        ``AccessError`` (403) when the account is gone or has no such role here."""
        account = await self.account(account_id)
        role = None if account is None else role_on_event(account.grants, self.webinar_id)
        if account is None or role is None or (as_role == "organiser" and role != "organiser"):
            raise AccessError(
                "Your account has no role on this event. Ask an organiser to make you one of "
                "its hosts.",
                None,
                status=403,
            )
        return await self.access.enter_account(as_role, account.display_name, account.id)

    async def _check_password(
        self, email: str, password: str, address: str
    ) -> accounts_repo.UserRow:
        wait = self.throttle.wait(email, address, self.committer.clock())
        if wait:
            raise AccessError(
                "Too many sign-ins with a wrong password have come from your network. Please "
                f"wait {wait} seconds before trying again.",
                None,
                status=429,
                retry_after=wait,
            )
        user = await accounts_repo.user_by_email(self.committer.db.reader, email)
        stored = user.password_hash if user is not None else None
        if await self._verify(stored, password) and user is not None:
            self.throttle.succeeded(email, address)
            return user
        now = self.committer.clock()
        self.throttle.failed(email, address, now)
        wait = self.throttle.wait(email, address, now)
        message = WRONG + (f" Please wait {wait} seconds before trying again." if wait else "")
        raise AccessError(message, "password")

    async def _verify(self, stored: str | None, password: str) -> bool:
        """Check ``password`` against ``stored``, in a worker thread. With no hash (no such
        account, or one that signs in only with OpenID) a dummy hash is checked, so the
        answer takes as long as for a real account."""
        async with self._hashing:
            return await asyncio.to_thread(self._verify_sync, stored, password)

    def _verify_sync(self, stored: str | None, password: str) -> bool:
        if self._dummy_hash is None:
            self._dummy_hash = self.hasher.hash("not a password: for unknown accounts")
        try:
            return self.hasher.verify(stored or self._dummy_hash, password) and bool(stored)
        except (VerificationError, InvalidHashError):
            return False

    async def _store_hash(self, user_id: int, password: str) -> None:
        """Rehash a password whose hash used older parameters (after a right sign-in)."""
        async with self._hashing:
            new_hash = await asyncio.to_thread(self.hasher.hash, password)

        async def work(tx: Tx, now: datetime) -> tuple[None, list[Outgoing]]:
            await accounts_repo.set_password_hash(tx, user_id, new_hash, end_sessions=False)
            return None, []

        await self.committer.commit(work)

    async def sign_in_oidc(
        self, claims: OidcClaims, *, event_id: int | None = None
    ) -> tuple[str, Participant]:
        """Sign in someone an OpenID provider vouched for: the account linked to their
        (issuer, subject), or on first sign-in the account with their verified email
        (which is then linked). ``AccessError`` (403) with a sentence when none matches."""
        account = await self.authenticate_oidc(claims)
        return await self._open_session(account, event_id or self.webinar_id)

    async def authenticate_oidc(self, claims: OidcClaims) -> Account:
        """The account an OpenID provider vouched for, as :meth:`sign_in_oidc` finds it,
        with no session opened (the organiser's programme keeps its own)."""
        reader = self.committer.db.reader
        by_subject = await accounts_repo.user_by_subject(reader, claims.issuer, claims.subject)
        by_email = None
        if by_subject is None and claims.email:
            try:
                by_email = await accounts_repo.user_by_email(reader, normalise_email(claims.email))
            except AccountError:
                by_email = None
        try:
            account, link = match_oidc(
                claims,
                by_subject.account if by_subject else None,
                by_email.account if by_email else None,
            )
        except AccountError as exc:
            raise AccessError(str(exc), None, status=403) from None
        if link:
            await self._link(account.id, claims)
        return account

    async def _link(self, user_id: int, claims: OidcClaims) -> None:
        async def work(tx: Tx, now: datetime) -> tuple[None, list[Outgoing]]:
            await accounts_repo.link_oidc(tx, user_id, claims.issuer, claims.subject)
            return None, []

        await self.committer.commit(work)

    async def _open_session(self, account: Account, event_id: int) -> tuple[str, Participant]:
        role = await self.role_on_event(account.id, event_id)
        if role is None:
            raise AccessError(
                "Your account has no role on this event. Ask an organiser to make you one of "
                "its hosts.",
                None,
                status=403,
            )
        return await self.access.enter_account(role, account.display_name, account.id)


# -- the command line: a database the server may or may not hold -----------------------------


def _offline(db_path: str, run: Callable[[Tx], Awaitable[T]]) -> T:
    """Run ``run`` in one transaction on ``db_path`` (created and migrated if needed).

    The database's own locking makes this safe beside a running server: a new account can sign
    in at once, and a removed one or a changed password ends its sessions at the server's
    next look at them.
    """
    migrate_sync(db_path)

    async def go() -> T:
        async with offline_transaction(db_path) as conn:
            return await run(conn)

    return asyncio.run(go())


def add_user(
    db_path: str,
    email: str,
    display_name: str,
    password: str | None,
    grants: tuple[Grant, ...],
    now: datetime,
) -> Account:
    """Add an account (``password`` None: it signs in only with OpenID Connect).

    Arguments must be cleaned already (``normalise_email``, ``clean_display_name``,
    ``check_new_password``). ``AccountError`` if the email has an account."""
    hashed = PasswordHasher().hash(password) if password is not None else None

    async def run(conn: Tx) -> Account:
        if await accounts_repo.user_by_email(conn, email) is not None:
            raise AccountError(f"There is already an account for {email}.", "email")
        await accounts_repo.add_user(conn, email, display_name, hashed, grants, iso(now))
        user = await accounts_repo.user_by_email(conn, email)
        assert user is not None
        return user.account

    return _offline(db_path, run)


def list_users(db_path: str) -> list[Account]:
    async def run(conn: Tx) -> list[Account]:
        return [u.account for u in await accounts_repo.all_users(conn)]

    return _offline(db_path, run)


async def _existing(conn: Tx, email: str) -> accounts_repo.UserRow:
    user = await accounts_repo.user_by_email(conn, email)
    if user is None:
        raise AccountError(f"There is no account for {email}.", "email")
    return user


def remove_user(db_path: str, email: str) -> Account:
    """Delete an account and end its sessions; ``AccountError`` if there is none."""

    async def run(conn: Tx) -> Account:
        user = await _existing(conn, email)
        await accounts_repo.delete_user(conn, user.account.id)
        return user.account

    return _offline(db_path, run)


def set_password(db_path: str, email: str, password: str) -> int:
    """Give an account a new password and end its sessions (how many); ``AccountError``
    if there is no account."""
    hashed = PasswordHasher().hash(password)

    async def run(conn: Tx) -> int:
        user = await _existing(conn, email)
        return await accounts_repo.set_password_hash(
            conn, user.account.id, hashed, end_sessions=True
        )

    return _offline(db_path, run)
