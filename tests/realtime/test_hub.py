"""The hub: per-audience fan-out, encode once, replay ring, slow clients dropped."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from webinar.realtime.hub import Client, Event, Hub

pytestmark = pytest.mark.unit


class CountingEncoder:
    def __init__(self) -> None:
        self.calls: list[tuple[int, str]] = []

    def __call__(self, event: Event, fmt: str) -> str | None:
        self.calls.append((event.seq, fmt))
        return f"{fmt}:{event.seq}:{event.type}"


def event(seq: int, audience: str = "all", type_: str = "x") -> Event:
    return Event(seq, type_, audience, {}, "2026-01-01T00:00:00+00:00")


def drain(client: Client) -> list[tuple[int, str]]:
    out = list(client.queue or ())
    client.queue = None
    return out


def test_publish_encodes_once_per_format_for_many_clients() -> None:
    encoder = CountingEncoder()
    hub = Hub(encoder)
    clients = [hub.subscribe({"all"}, "html") for _ in range(100)]
    clients += [hub.subscribe({"all"}, "json") for _ in range(50)]

    hub.publish(event(1))

    assert sorted(encoder.calls) == [(1, "html"), (1, "json")]
    assert all(drain(c) == [(1, f"{c.fmt}:1:x")] for c in clients)


def test_events_reach_only_their_audience() -> None:
    hub = Hub(CountingEncoder())
    staff = hub.subscribe({"staff"}, "json")
    attendee = hub.subscribe({"p:1"}, "json")

    hub.publish(event(1, "staff"))
    hub.publish(event(2, "p:1"))
    hub.publish(event(3, "all"))

    assert [item[0] for item in drain(staff)] == [1, 3]
    assert [item[0] for item in drain(attendee)] == [2, 3]


def test_slow_client_is_dropped_without_slowing_the_others() -> None:
    hub = Hub(CountingEncoder(), queue_size=8)
    slow = hub.subscribe({"all"}, "json")
    fast = hub.subscribe({"all"}, "json")

    received: list[int] = []
    for seq in range(1, 21):
        hub.publish(event(seq))
        if seq % 4 == 0:  # the fast client keeps up; the slow one never reads
            received += [item[0] for item in drain(fast)]

    assert slow.dropped is True
    assert drain(slow) == []  # its backlog is freed at once; its screen closes with 1013
    assert fast.dropped is False
    assert received == list(range(1, 21))
    assert hub.dropped_clients == 1


def test_missed_replays_exactly_the_events_after_a_sequence() -> None:
    hub = Hub(CountingEncoder(), ring_size=10)
    for seq in range(1, 8):
        hub.publish(event(seq, "all" if seq % 2 else "staff"))
    client = hub.subscribe({"all"}, "json")

    missed = hub.missed(client, 2)

    assert [seq for seq, _ in missed or []] == [3, 5, 7]
    assert hub.missed(client, 7) == []


def test_missed_is_none_when_the_ring_no_longer_covers_it() -> None:
    hub = Hub(CountingEncoder(), ring_size=5)
    for seq in range(1, 21):
        hub.publish(event(seq))
    client = hub.subscribe({"all"}, "json")

    assert hub.missed(client, 3) is None
    assert hub.missed(client, 25) is None  # a sequence from another database
    assert [seq for seq, _ in hub.missed(client, 16) or []] == [17, 18, 19, 20]


def test_publishing_out_of_order_is_refused() -> None:
    hub = Hub(CountingEncoder())
    hub.publish(event(5))

    with pytest.raises(ValueError, match="published after"):
        hub.publish(event(4))


def test_audience_added_later_reaches_every_screen_of_the_owner() -> None:
    hub = Hub(CountingEncoder())
    phone = hub.subscribe({"p:ann"}, "json", owner="ann")
    laptop = hub.subscribe({"p:ann"}, "json", owner="ann")
    other = hub.subscribe({"p:bob"}, "json", owner="bob")

    hub.add_audience_for("ann", "g:1:2")
    hub.publish(event(1, "g:1:2"))

    assert (drain(phone), drain(laptop), drain(other)) == (
        [(1, "json:1:x")],
        [(1, "json:1:x")],
        [],
    )
    assert hub.owners() == {"ann", "bob"}
    hub.unsubscribe(phone)
    hub.unsubscribe(laptop)
    assert hub.owners() == {"bob"}


class FakeSink:
    """A screen that takes writes while ``idle`` and records wake-ups."""

    def __init__(self) -> None:
        self.idle = True
        self.written: list[int] = []
        #: The sequence numbers of each message written (several when folded together).
        self.messages: list[list[int]] = []
        self.wakes = 0
        self.ended = ""

    def write_now(self, seq: int, wire: str) -> bool:
        return self.write_many([(seq, wire)])

    def write_many(self, items: Sequence[tuple[int, str]]) -> bool:
        if not self.idle:
            return False
        self.written.extend(seq for seq, _ in items)
        self.messages.append([seq for seq, _ in items])
        return True

    def wake(self) -> None:
        self.wakes += 1

    def end(self, reason: str) -> None:
        self.ended = reason


def test_an_idle_screen_gets_events_written_at_once_with_no_queue() -> None:
    hub = Hub(CountingEncoder())
    sink = FakeSink()
    client = hub.subscribe({"all"}, "json", sink=sink)

    for seq in range(1, 4):
        hub.publish(event(seq))

    assert sink.written == [1, 2, 3]
    assert not client.queue
    assert sink.wakes == 0


def test_a_busy_screen_queues_in_order_and_is_woken_once_per_backlog() -> None:
    hub = Hub(CountingEncoder())
    sink = FakeSink()
    client = hub.subscribe({"all"}, "json", sink=sink)
    hub.publish(event(1))
    sink.idle = False

    hub.publish(event(2))
    hub.publish(event(3))
    sink.idle = True  # idle again, but a backlog is waiting: nothing may overtake it
    hub.publish(event(4))

    assert sink.written == [1]
    assert [seq for seq, _ in client.queue or ()] == [2, 3, 4]
    assert sink.wakes == 1


def test_a_dropped_screen_is_woken_to_close_and_its_backlog_freed() -> None:
    hub = Hub(CountingEncoder(), queue_size=3)
    sink = FakeSink()
    sink.idle = False
    client = hub.subscribe({"all"}, "json", sink=sink)

    for seq in range(1, 6):
        hub.publish(event(seq))

    assert client.dropped is True
    assert not client.queue
    assert sink.wakes == 2  # once for the backlog, once to close
    assert hub.dropped_clients == 1


class InterleavingSink(FakeSink):
    """Records, across screens, the order in which writes happen."""

    def __init__(self, name: str, log: list[tuple[str, int]]) -> None:
        super().__init__()
        self.name, self.log = name, log

    def write_many(self, items: Sequence[tuple[int, str]]) -> bool:
        self.log.extend((self.name, seq) for seq, _ in items)
        return super().write_many(items)


def test_a_commit_reaches_each_screen_in_one_burst_in_order() -> None:
    encoder = CountingEncoder()
    hub = Hub(encoder)
    log: list[tuple[str, int]] = []
    staff = hub.subscribe({"staff"}, "json", sink=InterleavingSink("staff", log))
    ann = hub.subscribe({"p:ann"}, "html", sink=InterleavingSink("ann", log))

    hub.publish_all([event(1), event(2, "staff"), event(3, "p:ann"), event(4)])

    assert [seq for name, seq in log if name == "staff"] == [1, 2, 4]
    assert [seq for name, seq in log if name == "ann"] == [1, 3, 4]
    names = [name for name, _ in log]
    assert names in (["staff"] * 3 + ["ann"] * 3, ["ann"] * 3 + ["staff"] * 3)
    assert sorted(encoder.calls) == [
        (1, "html"),
        (1, "json"),
        (2, "json"),
        (3, "html"),
        (4, "html"),
        (4, "json"),
    ]
    assert hub.last_seq == 4 and not staff.queue and not ann.queue
    assert [seq for seq, _ in hub.missed(ann, 0) or []] == [1, 3, 4]


def test_an_event_that_fails_to_encode_is_skipped_and_the_rest_delivered(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def encode(ev: Event, fmt: str) -> str | None:
        if ev.seq == 2:
            raise KeyError("missing field")
        return f"{fmt}:{ev.seq}"

    hub = Hub(encode)
    client = hub.subscribe({"all"}, "json")

    hub.publish_all([event(1), event(2), event(3)])

    assert drain(client) == [(1, "json:1"), (3, "json:3")]
    assert "encoding event 2 as json failed" in caplog.text


def test_a_commit_with_an_event_out_of_order_is_refused_whole() -> None:
    hub = Hub(CountingEncoder())
    client = hub.subscribe({"all"}, "json")
    hub.publish(event(3))
    drain(client)

    with pytest.raises(ValueError, match="published after"):
        hub.publish_all([event(5), event(4)])

    assert hub.last_seq == 3
    assert drain(client) == []
    assert hub.missed(client, 3) == []


def test_no_replay_from_before_the_floor() -> None:
    hub = Hub(CountingEncoder())
    for seq in range(1, 6):
        hub.publish(event(seq))
    client = hub.subscribe({"all"}, "json")
    hub.replay_floor = 3  # something shown by events up to 3 was taken back

    assert hub.missed(client, 2) is None  # a snapshot instead
    assert [seq for seq, _ in hub.missed(client, 3) or []] == [4, 5]


def test_end_screens_closes_the_oldest_of_one_owner_and_keeps_the_newest() -> None:
    hub = Hub(CountingEncoder())
    sinks = [FakeSink() for _ in range(4)]
    for sink in sinks:
        hub.subscribe({"p:ann"}, "json", owner="ann", sink=sink)
    bob = FakeSink()
    hub.subscribe({"p:bob"}, "json", owner="bob", sink=bob)

    ended = hub.end_screens("ann", "too many", keep=2)

    assert ended == 2
    assert [s.ended for s in sinks] == ["too many", "too many", "", ""]
    assert bob.ended == ""
    assert [c.sink for c in hub.screens_of("ann")] == sinks  # closing is the sink's job
    assert hub.end_screens("ann", "removed") == 4
