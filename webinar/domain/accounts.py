"""Staff accounts: email addresses, roles on events, OpenID matching and sign-in
throttling. Pure: no I/O, ``now`` is passed in."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from webinar.domain.ratelimit import GuessBackoff

StaffRole = Literal["organiser", "host"]
STAFF_ROLES: tuple[StaffRole, ...] = ("organiser", "host")

EMAIL_MAX = 254
DISPLAY_NAME_MAX = 80
PASSWORD_MIN = 12
#: Long enough for any passphrase; short enough that hashing it costs nothing extra.
PASSWORD_MAX = 1024


class AccountError(ValueError):
    """Input about an account that cannot be used; ``str()`` is a plain sentence, ``field``
    names the form field (or ``None``)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class Grant:
    """One role of an account: organiser of the whole install (``event_id`` None) or host
    of one event."""

    role: StaffRole
    event_id: int | None = None

    def __post_init__(self) -> None:
        if (self.role == "organiser") != (self.event_id is None):
            raise AccountError(
                "An organiser runs the whole install (no event); a host hosts one event."
            )

    def describe(self, names: Mapping[int, str] | None = None) -> str:
        """``organiser``, or ``host of <event>``: its short name from ``names`` (id -> slug)
        when known, else its id."""
        if self.event_id is None:
            return "organiser"
        return f"host of {(names or {}).get(self.event_id, f'event {self.event_id}')}"


@dataclass(frozen=True, slots=True)
class Account:
    id: int
    email: str
    display_name: str
    has_password: bool
    oidc_issuer: str | None
    oidc_subject: str | None
    grants: tuple[Grant, ...] = ()


def role_on_event(grants: Iterable[Grant], event_id: int) -> StaffRole | None:
    """The role an account with ``grants`` has on event ``event_id``: ``organiser`` (an
    organiser of the install has it on every event, whatever else it holds), ``host``
    (a host of that event), or ``None``."""
    held = list(grants)
    if any(g.role == "organiser" for g in held):
        return "organiser"
    if any(g.role == "host" and g.event_id == event_id for g in held):
        return "host"
    return None


def normalise_email(value: str) -> str:
    """The form an email address is stored and compared in (trimmed, NFKC, case-folded).

    ``AccountError`` (field ``email``) when it is not an address."""
    text = unicodedata.normalize("NFKC", value).strip().casefold()
    local, at, domain = text.rpartition("@")
    bad_char = any(ch.isspace() or unicodedata.category(ch).startswith("C") for ch in text)
    if not at or not local or "." not in domain.strip(".") or bad_char:
        raise AccountError("Enter an email address, like name@example.org.", "email")
    if len(text) > EMAIL_MAX:
        raise AccountError(f"An email address can be at most {EMAIL_MAX} characters.", "email")
    return text


def clean_display_name(value: str) -> str:
    """A display name on one line; ``AccountError`` (field ``name``) when empty or long."""
    text = " ".join(unicodedata.normalize("NFC", value).split())
    if any(unicodedata.category(ch).startswith("C") for ch in text):
        raise AccountError("A name cannot contain control characters.", "name")
    if not text:
        raise AccountError("Enter the person's name, as hosts and attendees will see it.", "name")
    if len(text) > DISPLAY_NAME_MAX:
        raise AccountError(f"A name can be at most {DISPLAY_NAME_MAX} characters.", "name")
    return text


def check_new_password(password: str) -> None:
    """``AccountError`` (field ``password``) unless the password is long enough to keep."""
    if len(password) < PASSWORD_MIN:
        raise AccountError(
            f"Choose a password of at least {PASSWORD_MIN} characters (a few words make a "
            "good one).",
            "password",
        )
    if len(password) > PASSWORD_MAX:
        raise AccountError(f"A password can be at most {PASSWORD_MAX} characters.", "password")


@dataclass(frozen=True, slots=True)
class OidcClaims:
    """What an OpenID provider said about who signed in (from the checked ID token)."""

    issuer: str
    subject: str
    email: str | None
    email_verified: bool


NO_ACCOUNT = (
    "There is no staff account for {email}. Ask an organiser to add you "
    "(webinar users add), then sign in again."
)


def match_oidc(
    claims: OidcClaims, by_subject: Account | None, by_email: Account | None
) -> tuple[Account, bool]:
    """The account someone signed in with OpenID Connect is, and whether to remember the
    provider's (issuer, subject) on it (the first sign-in).

    ``by_subject``: the account already linked to (issuer, subject); ``by_email``: the
    account with the claimed email. The first sign-in is matched by a *verified* email to
    an account an organiser created, and only if that account is not already linked to
    another subject of the same provider. Nothing is ever created. ``AccountError`` with a
    sentence for the person when no account matches.
    """
    if by_subject is not None:
        return by_subject, False
    if not claims.email:
        raise AccountError(
            "Your organisation's sign-in did not share your email address, so we cannot "
            "tell which staff account is yours. Ask an organiser to check the set-up."
        )
    if not claims.email_verified:
        raise AccountError(
            f"Your organisation's sign-in has not confirmed that {claims.email} is yours, so "
            "it cannot be used to sign in here. Sign in with your password instead."
        )
    if by_email is None:
        raise AccountError(NO_ACCOUNT.format(email=claims.email))
    if by_email.oidc_subject is not None:
        raise AccountError(
            f"The staff account for {claims.email} is linked to a different sign-in. Ask an "
            "organiser to check it."
        )
    return by_email, True


def _per_address() -> GuessBackoff:
    # An office behind one address has several staff: more free tries than one person.
    # Over all addresses, 1,200 wrong passwords a minute (a distributed attack that would
    # otherwise spend the server's processor on hashing) make everyone wait.
    return GuessBackoff(free=20, global_limit=1200)


def _per_account() -> GuessBackoff:
    # The global ceiling is the per-address limiter's; this one counts per key only.
    return GuessBackoff(free=5, global_limit=10**9, forget=timedelta(hours=1))


@dataclass
class SigninThrottle:
    """Wrong passwords slowed per address and per (account, address).

    A caller asks :meth:`wait` *before* checking a password and refuses the attempt
    unchecked while it is not 0, so a throttled guesser learns nothing however often it
    asks. Failures count against the address (20 free, then a doubling wait) and against
    the account from that address (5 free, then a doubling wait); the account's own
    count is per address, so someone guessing from one network never locks the real
    person out from another. A right password forgets that account's failures from
    that address.
    """

    per_address: GuessBackoff = field(default_factory=_per_address)
    per_account: GuessBackoff = field(default_factory=_per_account)

    @staticmethod
    def _account_key(email: str, address: str) -> str:
        return f"{email}\x00{address}"

    def wait(self, email: str, address: str, now: datetime) -> int:
        """Whole seconds before an attempt for ``email`` from ``address`` is checked."""
        return max(
            self.per_address.wait(address, now),
            self.per_account.wait(self._account_key(email, address), now),
        )

    def failed(self, email: str, address: str, now: datetime) -> None:
        self.per_address.failed(address, now)
        self.per_account.failed(self._account_key(email, address), now)

    def succeeded(self, email: str, address: str) -> None:
        self.per_account.clear(self._account_key(email, address))
