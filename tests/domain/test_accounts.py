"""Staff accounts in the domain: roles on events, email addresses, OpenID matching and
the sign-in throttle, on fixed datetimes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from webinar.domain.accounts import (
    Account,
    AccountError,
    Grant,
    OidcClaims,
    SigninThrottle,
    check_new_password,
    clean_display_name,
    match_oidc,
    normalise_email,
    role_on_event,
)
from webinar.domain.ratelimit import GuessBackoff

pytestmark = pytest.mark.unit

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
ISSUER = "https://login.example.org/tenant/v2.0"


def account(
    email: str = "ann@example.org", subject: str | None = None, grants: tuple[Grant, ...] = ()
) -> Account:
    issuer = ISSUER if subject is not None else None
    return Account(7, email, "Ann", True, issuer, subject, grants)


def claims(
    subject: str = "s-1", email: str | None = "ann@example.org", verified: bool = True
) -> OidcClaims:
    return OidcClaims(ISSUER, subject, email, verified)


# -- roles ----------------------------------------------------------------------------------


def test_role_an_organiser_of_the_install_is_organiser_of_every_event() -> None:
    grants = [Grant("organiser")]

    assert [role_on_event(grants, event) for event in (1, 2, 99)] == ["organiser"] * 3


def test_role_a_host_hosts_only_the_named_events() -> None:
    grants = [Grant("host", 1), Grant("host", 3)]

    assert [role_on_event(grants, event) for event in (1, 2, 3)] == ["host", None, "host"]


def test_role_organiser_wins_over_host() -> None:
    assert role_on_event([Grant("host", 1), Grant("organiser")], 1) == "organiser"


def test_role_none_without_grants() -> None:
    assert role_on_event([], 1) is None


def test_grant_refuses_an_organiser_of_one_event_and_a_host_of_none() -> None:
    with pytest.raises(AccountError):
        Grant("organiser", 1)
    with pytest.raises(AccountError):
        Grant("host", None)


def test_grant_describes_itself() -> None:
    assert [Grant("organiser").describe(), Grant("host", 4).describe()] == [
        "organiser",
        "host of event 4",
    ]


# -- emails, names, passwords ---------------------------------------------------------------


def test_email_is_trimmed_and_case_folded() -> None:
    assert normalise_email("  Ann.Smith@Example.ORG ") == "ann.smith@example.org"


@pytest.mark.parametrize(
    "value", ["", "ann", "@example.org", "ann@", "ann@localhost", "a b@example.org", "a\x00@x.org"]
)
def test_email_refuses_what_is_not_an_address(value: str) -> None:
    with pytest.raises(AccountError) as raised:
        normalise_email(value)

    assert (str(raised.value), raised.value.field) == (
        "Enter an email address, like name@example.org.",
        "email",
    )


def test_email_refuses_one_too_long() -> None:
    with pytest.raises(AccountError, match="at most 254"):
        normalise_email("a" * 250 + "@example.org")


def test_display_name_is_put_on_one_line() -> None:
    assert clean_display_name("  Ann \n  Smith ") == "Ann Smith"


def test_display_name_must_be_given() -> None:
    with pytest.raises(AccountError) as raised:
        clean_display_name("   ")

    assert raised.value.field == "name"


def test_password_shorter_than_twelve_is_refused_with_advice() -> None:
    with pytest.raises(AccountError) as raised:
        check_new_password("short pass1")

    assert str(raised.value) == (
        "Choose a password of at least 12 characters (a few words make a good one)."
    )


def test_password_of_twelve_is_kept() -> None:
    check_new_password("twelve chars")


# -- OpenID matching ------------------------------------------------------------------------


def test_oidc_a_linked_subject_is_its_account_whatever_the_email() -> None:
    linked = account(subject="s-1")

    assert match_oidc(claims(email="changed@example.org"), linked, None) == (linked, False)


def test_oidc_first_sign_in_matches_a_verified_email_and_links_it() -> None:
    created = account()

    assert match_oidc(claims(), None, created) == (created, True)


def test_oidc_unverified_email_is_refused() -> None:
    with pytest.raises(AccountError, match=r"has not confirmed that ann@example\.org is yours"):
        match_oidc(claims(verified=False), None, account())


def test_oidc_without_email_is_refused() -> None:
    with pytest.raises(AccountError, match="did not share your email address"):
        match_oidc(claims(email=None), None, None)


def test_oidc_no_account_is_refused_and_nothing_is_created() -> None:
    with pytest.raises(AccountError) as raised:
        match_oidc(claims(email="new@example.org"), None, None)

    assert str(raised.value) == (
        "There is no staff account for new@example.org. Ask an organiser to add you "
        "(webinar users add), then sign in again."
    )


def test_oidc_an_account_linked_to_another_subject_is_not_taken_over() -> None:
    with pytest.raises(AccountError, match="linked to a different sign-in"):
        match_oidc(claims(subject="s-2"), None, account(subject="s-1"))


# -- throttle -------------------------------------------------------------------------------

ANN = "ann@example.org"
ATTACKER = "203.0.113.9"
OFFICE = "198.51.100.20"


def test_throttle_five_wrong_passwords_cost_nothing_the_sixth_makes_the_guesser_wait() -> None:
    throttle = SigninThrottle()
    for _ in range(5):
        assert throttle.wait(ANN, ATTACKER, T0) == 0
        throttle.failed(ANN, ATTACKER, T0)

    throttle.failed(ANN, ATTACKER, T0)

    assert throttle.wait(ANN, ATTACKER, T0) == 2


def test_throttle_a_guesser_who_keeps_going_waits_longer_and_longer() -> None:
    throttle = SigninThrottle()
    now = T0
    waits = []

    for _ in range(10):
        throttle.failed(ANN, ATTACKER, now)
        wait = throttle.wait(ANN, ATTACKER, now)
        waits.append(wait)
        now += timedelta(seconds=wait)  # tries again exactly when allowed

    assert waits == [0, 0, 0, 0, 0, 2, 4, 8, 16, 32]
    throttle.failed(ANN, ATTACKER, now)
    assert throttle.wait(ANN, ATTACKER, now) == 64
    # An attempt while waiting is refused unchecked by the caller, and does not count.
    throttle.failed(ANN, ATTACKER, now + timedelta(seconds=1))
    assert throttle.wait(ANN, ATTACKER, now + timedelta(seconds=1)) == 63


def test_throttle_the_real_user_elsewhere_is_never_slowed_by_a_guesser() -> None:
    throttle = SigninThrottle()
    now = T0
    for _ in range(40):  # a guesser hammering Ann's account from one address
        throttle.failed(ANN, ATTACKER, now)
        now += timedelta(seconds=throttle.wait(ANN, ATTACKER, now))
    throttle.failed(ANN, ATTACKER, now)

    assert throttle.wait(ANN, ATTACKER, now) == 300  # the cap: five minutes a guess
    assert throttle.wait(ANN, OFFICE, now) == 0


def test_throttle_an_address_trying_many_accounts_is_slowed_after_twenty() -> None:
    throttle = SigninThrottle()
    for n in range(20):
        throttle.failed(f"person{n}@example.org", ATTACKER, T0)
    assert throttle.wait("person99@example.org", ATTACKER, T0) == 0

    throttle.failed("person20@example.org", ATTACKER, T0)

    assert throttle.wait("person99@example.org", ATTACKER, T0) == 2
    assert throttle.wait("person99@example.org", OFFICE, T0) == 0


def test_throttle_a_right_password_forgets_that_accounts_failures_from_there() -> None:
    throttle = SigninThrottle()
    for _ in range(4):
        throttle.failed(ANN, OFFICE, T0)

    throttle.succeeded(ANN, OFFICE)
    for _ in range(5):
        throttle.failed(ANN, OFFICE, T0)

    assert throttle.wait(ANN, OFFICE, T0) == 0


def test_throttle_failures_are_forgotten_after_an_hour_of_quiet() -> None:
    throttle = SigninThrottle()
    for _ in range(6):
        throttle.failed(ANN, OFFICE, T0)

    assert throttle.wait(ANN, OFFICE, T0 + timedelta(hours=1)) == 0


def test_backoff_clear_starts_a_key_afresh() -> None:
    guesses = GuessBackoff(free=0, base=timedelta(seconds=30))
    guesses.failed("k", T0)

    guesses.clear("k")

    assert guesses.wait("k", T0) == 0
