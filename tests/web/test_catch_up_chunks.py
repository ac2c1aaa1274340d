"""Missed events on a resume go in as few messages as fit a bounded size."""

from __future__ import annotations

from webinar.web.ws import _chunks


def test_missed_events_go_in_runs_under_the_limit_in_order() -> None:
    items = [(n, "x" * 40) for n in range(1, 11)]

    runs = list(_chunks(items, 100))

    assert [[seq for seq, _ in run] for run in runs] == [[1, 2], [3, 4], [5, 6], [7, 8], [9, 10]]
    assert all(sum(len(wire) for _, wire in run) <= 100 for run in runs)


def test_an_event_longer_than_the_limit_goes_alone_and_nothing_is_lost() -> None:
    items = [(1, "a"), (2, "b" * 500), (3, "c")]

    assert list(_chunks(items, 100)) == [[(1, "a")], [(2, "b" * 500)], [(3, "c")]]
    assert list(_chunks([], 100)) == []
