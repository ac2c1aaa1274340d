"""Tests of the guessing backoff and the join bucket: pure, on fixed datetimes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from webinar.domain.ratelimit import GuessBackoff, TokenBucket

pytestmark = pytest.mark.unit

T0 = datetime(2026, 3, 12, 9, 45, tzinfo=UTC)


def seconds(n: float) -> datetime:
    return T0 + timedelta(seconds=n)


# -- GuessBackoff ---------------------------------------------------------------------------------


def test_backoff_free_failures_cost_nothing() -> None:
    guesses = GuessBackoff(free=5)

    for _ in range(5):
        guesses.failed("10.0.0.1", T0)

    assert guesses.wait("10.0.0.1", T0) == 0


def test_backoff_doubles_after_the_free_failures_up_to_the_cap() -> None:
    guesses = GuessBackoff(free=2, base=timedelta(seconds=2), cap=timedelta(seconds=20))
    now = T0
    waits = []

    for _ in range(7):
        guesses.failed("10.0.0.1", now)
        wait = guesses.wait("10.0.0.1", now)
        waits.append(wait)
        now += timedelta(seconds=wait)  # the client waits exactly as long as told

    assert waits == [0, 0, 2, 4, 8, 16, 20]


def test_backoff_failures_while_waiting_do_not_push_the_wait_out() -> None:
    guesses = GuessBackoff(free=1, base=timedelta(seconds=10))
    guesses.failed("10.0.0.1", T0)
    guesses.failed("10.0.0.1", T0)  # now waits 10 s

    for n in range(1, 10):
        guesses.failed("10.0.0.1", seconds(n))

    assert guesses.wait("10.0.0.1", seconds(9)) == 1
    assert guesses.wait("10.0.0.1", seconds(10)) == 0


def test_backoff_keys_are_apart() -> None:
    guesses = GuessBackoff(free=0, base=timedelta(seconds=30))

    guesses.failed("10.0.0.1", T0)

    assert guesses.wait("10.0.0.1", T0) == 30
    assert guesses.wait("10.0.0.2", T0) == 0


def test_backoff_a_quiet_key_starts_afresh() -> None:
    guesses = GuessBackoff(free=1, base=timedelta(seconds=5), forget=timedelta(minutes=15))
    for n in range(4):
        guesses.failed("10.0.0.1", seconds(n * 60))
    later = seconds(3 * 60 + 15 * 60)

    guesses.failed("10.0.0.1", later)

    assert guesses.wait("10.0.0.1", later) == 0  # the first failure of a new run is free


def test_backoff_global_ceiling_makes_every_key_wait() -> None:
    guesses = GuessBackoff(free=100, global_limit=50, global_window=timedelta(minutes=1))

    for n in range(50):  # spread over many addresses, each far under its own allowance
        guesses.failed(f"10.0.{n}.1", seconds(n))

    assert guesses.wait("192.168.1.1", seconds(50)) == 10  # the first failure leaves at 60 s
    assert guesses.wait("192.168.1.1", seconds(60)) == 0


# -- TokenBucket ----------------------------------------------------------------------------------


def test_bucket_burst_then_steady_rate() -> None:
    bucket = TokenBucket(burst=3, per_minute=60)

    taken = [bucket.take("office", T0) for _ in range(4)]

    assert taken == [0, 0, 0, 1]
    assert bucket.take("office", seconds(0.5)) == 1
    assert bucket.take("office", seconds(1)) == 0
    assert bucket.take("elsewhere", T0) == 0


def test_bucket_an_office_of_200_joins_within_a_minute_with_the_defaults() -> None:
    # The defaults of AccessLimits: a burst of 120, then 120 a minute.
    bucket = TokenBucket(burst=120, per_minute=120)
    now, admitted = T0, 0
    while admitted < 200:
        wait = bucket.take("council-nat", now)
        if wait:
            now += timedelta(seconds=wait)  # the refused browser tries again when told
        else:
            admitted += 1

    assert now - T0 <= timedelta(seconds=45)


def test_bucket_a_flood_of_2000_is_slowed_to_minutes() -> None:
    bucket = TokenBucket(burst=120, per_minute=120)

    admitted = sum(bucket.take("bot", seconds(n / 256)) == 0 for n in range(2000))  # 7.8 s

    assert admitted < 140
