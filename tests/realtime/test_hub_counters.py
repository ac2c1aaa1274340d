"""The hub's counters for operators: deliveries, screens closed, backlog (read by /metrics)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from webinar.realtime.hub import Event, Hub

pytestmark = pytest.mark.unit


def encode(event: Event, fmt: str) -> str | None:
    return None if event.type == "hidden" else f"{event.seq}"


def event(seq: int, audience: str = "all", type_: str = "x") -> Event:
    return Event(seq, type_, audience, {}, "2026-01-01T00:00:00+00:00")


class Ending:
    """A sink that records how its screen was closed."""

    def __init__(self) -> None:
        self.ended: list[str] = []

    def write_now(self, seq: int, wire: str) -> bool:
        return False

    def write_many(self, items: Sequence[tuple[int, str]]) -> bool:
        return False

    def wake(self) -> None:
        pass

    def end(self, reason: str) -> None:
        self.ended.append(reason)


def test_deliveries_count_one_per_screen_of_the_audience_and_none_for_nothing_to_show() -> None:
    hub = Hub(encode)
    for _ in range(3):
        hub.subscribe({"all"}, "json")
    hub.subscribe({"staff"}, "json")  # everyone's events too

    hub.publish(event(1))  # four screens
    hub.publish(event(2, "staff"))  # one
    hub.publish(event(3, type_="hidden"))  # nothing to show: none
    hub.publish_all([event(4), event(5, "staff")])  # four and one, in one commit

    assert hub.deliveries == 4 + 1 + 0 + 5


def test_a_full_backlog_drops_the_screen_and_is_counted_as_too_slow() -> None:
    hub = Hub(encode, queue_size=2)
    slow = hub.subscribe({"all"}, "json")  # no sink: everything queues
    hub.publish(event(1))
    hub.publish(event(2))

    assert hub.backlog() == 2
    hub.publish(event(3))

    assert slow.dropped
    assert hub.dropped_clients == 1
    assert hub.deliveries == 2
    assert hub.backlog() == 0  # a dropped screen's backlog is freed at once
    hub.publish(event(4))  # a dropped screen gets nothing more, and is not counted again
    assert (hub.deliveries, hub.dropped_clients) == (2, 1)


def test_screens_closed_for_good_are_counted() -> None:
    hub = Hub(encode)
    sinks = [Ending() for _ in range(3)]
    for sink in sinks:
        hub.subscribe({"all"}, "json", owner="p1", sink=sink)

    closed = hub.end_screens("p1", "signed out", keep=1)

    assert closed == 2
    assert hub.ended_screens == 2
    assert [s.ended for s in sinks] == [["signed out"], ["signed out"], []]
