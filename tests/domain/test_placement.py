"""Which worker writes for an event: spread over the live workers, and never an event
left without a writer."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from webinar.domain.placement import preferred_worker, should_bid

WORKERS = ("127.0.0.1:40001", "127.0.0.1:40002")


def test_consecutive_events_go_round_the_workers() -> None:
    chosen = [preferred_worker(n, WORKERS) for n in range(1, 5)]

    assert chosen == [WORKERS[1], WORKERS[0], WORKERS[1], WORKERS[0]]


def test_the_choice_does_not_depend_on_the_order_the_workers_are_seen_in() -> None:
    assert preferred_worker(3, reversed(WORKERS)) == preferred_worker(3, WORKERS)
    assert preferred_worker(3, [*WORKERS, WORKERS[0]]) == preferred_worker(3, WORKERS)


def test_no_live_worker_prefers_nobody() -> None:
    assert preferred_worker(1, ()) is None


def test_the_preferred_worker_bids_for_a_free_lease_at_once() -> None:
    assert should_bid(2, WORKERS[0], WORKERS, free_for=0.0, grace=2.0)


def test_another_worker_waits_for_the_grace_period() -> None:
    assert not should_bid(2, WORKERS[1], WORKERS, free_for=1.9, grace=2.0)
    assert should_bid(2, WORKERS[1], WORKERS, free_for=2.0, grace=2.0)


def test_a_lease_that_is_held_is_never_bid_for_even_by_the_preferred_worker() -> None:
    assert not should_bid(2, WORKERS[0], WORKERS, free_for=None, grace=2.0)
    assert not should_bid(2, WORKERS[1], WORKERS, free_for=None, grace=2.0)


def test_a_worker_not_yet_seen_live_counts_itself() -> None:
    # Alone: it is every event's preferred worker.
    assert should_bid(7, WORKERS[0], (), free_for=0.0, grace=2.0)
    # Among the others, it takes its share at once.
    third = "127.0.0.1:40003"
    mine = [n for n in range(1, 7) if should_bid(n, third, WORKERS, free_for=0.0, grace=2.0)]
    assert mine == [2, 5]


def test_when_a_worker_is_gone_its_events_follow_the_others() -> None:
    # Event 2 preferred the first worker; once it is not live, the second takes it at once.
    assert not should_bid(2, WORKERS[1], WORKERS, free_for=0.0, grace=2.0)
    assert should_bid(2, WORKERS[1], WORKERS[1:], free_for=0.0, grace=2.0)


@given(
    st.integers(min_value=1, max_value=10_000),
    st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=16, unique=True),
)
def test_exactly_one_live_worker_is_preferred_for_each_event(
    webinar_id: int, workers: list[str]
) -> None:
    at_once = [w for w in workers if should_bid(webinar_id, w, workers, 0.0, 2.0)]

    assert at_once == [preferred_worker(webinar_id, workers)]


@given(st.integers(min_value=1, max_value=1_000), st.integers(min_value=1, max_value=16))
def test_the_events_are_spread_evenly(first: int, count: int) -> None:
    workers = [f"10.0.0.{n}:8000" for n in range(count)]
    events = range(first, first + count * 3)
    shares = [sum(preferred_worker(e, workers) == w for e in events) for w in workers]

    assert shares == [3] * count
