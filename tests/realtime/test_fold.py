"""Folding: at most one push per window per screen, every event keeping its sequence
number (fixed clock, a recorded scheduler: nothing waits)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest

from webinar.realtime.hub import Event, FoldGate, Hub

pytestmark = pytest.mark.unit


def test_the_first_events_after_a_quiet_window_go_at_once() -> None:
    gate = FoldGate(0.5)
    assert gate.ask(100.0) == 0.0
    gate.pushed(100.0)
    assert gate.ask(100.7) == 0.0  # more than a window later


def test_events_within_the_window_wait_for_its_end_and_ask_once() -> None:
    gate = FoldGate(0.5)
    gate.ask(10.0)
    gate.pushed(10.0)
    assert gate.ask(10.1) == pytest.approx(0.4)
    assert gate.ask(10.2) is None  # the push already due takes these too
    assert gate.ask(10.45) is None
    gate.pushed(10.5)
    assert gate.ask(10.6) == pytest.approx(0.4)


def test_a_push_asked_for_but_not_yet_run_is_not_asked_again() -> None:
    gate = FoldGate(0.5)
    assert gate.ask(0.0) == 0.0
    assert gate.ask(0.0) is None  # "now" is scheduled, not yet run


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Scheduler:
    """Records what the hub asks to run later, and when; the test moves the clock."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.calls: list[tuple[float, Callable[[], None]]] = []

    def __call__(self, delay: float, callback: Callable[[], None]) -> None:
        self.calls.append((self.clock.now + delay, callback))

    def run(self) -> None:
        """Run the next call now, whenever it was due."""
        _, callback = self.calls.pop(0)
        callback()

    def advance_to(self, moment: float) -> None:
        """Move the clock to ``moment``, running each call at its due time on the way."""
        while self.calls and self.calls[0][0] <= moment + 1e-9:
            due, callback = self.calls.pop(0)
            self.clock.now = max(self.clock.now, due)
            callback()
        self.clock.now = moment


class Sink:
    def __init__(self) -> None:
        self.messages: list[list[int]] = []
        self.idle = True
        self.wakes = 0

    def write_now(self, seq: int, wire: str) -> bool:
        return self.write_many([(seq, wire)])

    def write_many(self, items: Sequence[tuple[int, str]]) -> bool:
        if not self.idle:
            return False
        self.messages.append([seq for seq, _ in items])
        return True

    def wake(self) -> None:
        self.wakes += 1

    def end(self, reason: str) -> None:
        raise AssertionError("not ended in these tests")


def event(seq: int, audience: str = "all") -> Event:
    return Event(seq, "qa.question", audience, {}, "2026-01-01T00:00:00+00:00")


def folding_hub(**options: int) -> tuple[Hub, Clock, Scheduler]:
    clock = Clock()
    scheduler = Scheduler(clock)
    hub = Hub(
        lambda ev, fmt: f"{fmt}{ev.seq}",
        fold_seconds=0.5,
        clock=clock,
        schedule=scheduler,
        **options,
    )
    return hub, clock, scheduler


def test_ten_questions_a_second_reach_a_screen_in_two_pushes_a_second() -> None:
    hub, clock, scheduler = folding_hub()
    sink = Sink()
    hub.subscribe({"all"}, "json", sink=sink)

    start = clock.now
    for seq in range(1, 11):  # one second of questions, one every 0.1 s
        scheduler.advance_to(start + (seq - 1) * 0.1)
        hub.publish(event(seq))
    scheduler.advance_to(start + 2.0)

    # The first at once; then what each window gathered, in one message per push.
    assert sink.messages == [[1], [2, 3, 4, 5], [6, 7, 8, 9, 10]]
    assert hub.pushes == 3
    assert hub.held == 0


def test_folded_events_are_in_the_ring_at_once_for_resumes_and_snapshots() -> None:
    hub, _, scheduler = folding_hub()
    sink = Sink()
    client = hub.subscribe({"all"}, "json", sink=sink)
    hub.publish(event(1))
    scheduler.run()
    hub.publish_all([event(2), event(3)])

    assert hub.last_seq == 3 and hub.held == 2
    assert hub.missed(client, 1) == [(2, "json2"), (3, "json3")]
    assert sink.messages == [[1]]
    scheduler.run()
    assert sink.messages == [[1], [2, 3]]


def test_each_screen_gets_only_its_audiences_share_in_order() -> None:
    hub, _, scheduler = folding_hub()
    staff_sink, ann_sink = Sink(), Sink()
    hub.subscribe({"staff"}, "html-staff", sink=staff_sink)
    hub.subscribe({"p:ann"}, "html", sink=ann_sink)

    hub.publish(event(1, "staff"))
    hub.publish(event(2, "p:ann"))
    hub.publish(event(3))
    hub.publish(event(4, "staff"))
    assert len(scheduler.calls) == 1  # one push for all four
    scheduler.run()

    assert staff_sink.messages == [[1, 3, 4]]
    assert ann_sink.messages == [[2, 3]]
    assert hub.pushes == 1


def test_a_busy_screen_queues_a_fold_whole_and_is_woken_once() -> None:
    hub, _, scheduler = folding_hub()
    sink = Sink()
    sink.idle = False
    client = hub.subscribe({"all"}, "json", sink=sink)
    hub.publish_all([event(1), event(2), event(3)])
    scheduler.run()

    assert [seq for seq, _ in client.queue or ()] == [1, 2, 3]
    assert sink.wakes == 1


def test_a_fold_larger_than_the_backlog_drops_the_screen_alone() -> None:
    hub, _, scheduler = folding_hub(queue_size=2)
    slow, fast = Sink(), Sink()
    slow.idle = False
    slow_client = hub.subscribe({"all"}, "json", sink=slow)
    hub.subscribe({"all"}, "json", sink=fast)
    hub.publish_all([event(1), event(2), event(3)])
    scheduler.run()

    assert slow_client.dropped and hub.dropped_clients == 1
    assert fast.messages == [[1, 2, 3]]


def test_without_a_window_every_publish_goes_at_once() -> None:
    hub = Hub(lambda ev, fmt: f"{ev.seq}")
    sink = Sink()
    hub.subscribe({"all"}, "json", sink=sink)
    hub.publish(event(1))
    hub.publish_all([event(2), event(3)])
    assert sink.messages == [[1], [2, 3]]
    assert hub.held == 0


def test_a_push_goes_out_in_slices_that_let_the_loop_run_between() -> None:
    hub, _, scheduler = folding_hub(slice_size=2)
    sinks = [Sink() for _ in range(5)]
    for sink in sinks:
        hub.subscribe({"all"}, "json", sink=sink)
    hub.publish_all([event(1), event(2)])
    scheduler.run()  # the push: its first slice
    assert sum(1 for s in sinks if s.messages) == 2
    assert len(scheduler.calls) == 1  # the next slice, after whatever else is ready
    scheduler.run()
    assert sum(1 for s in sinks if s.messages) == 4
    scheduler.run()
    assert all(s.messages == [[1, 2]] for s in sinks)
    assert not scheduler.calls and hub.pushes == 1


def test_a_push_finishes_the_one_still_going_out_first_so_nothing_overtakes() -> None:
    hub, clock, scheduler = folding_hub(slice_size=2)
    sinks = [Sink() for _ in range(5)]
    for sink in sinks:
        hub.subscribe({"all"}, "json", sink=sink)
    hub.publish(event(1))
    scheduler.run()  # first slice of the push of event 1
    clock.now += 1.0
    hub.publish(event(2))  # the window has passed: event 2's push is due at once
    hub.push()  # ...and runs before the rest of event 1's slices
    while scheduler.calls:
        scheduler.run()  # stale slices of event 1 do nothing more
    assert all(s.messages == [[1], [2]] for s in sinks)


def test_stopping_folding_sends_what_is_held() -> None:
    hub, _, scheduler = folding_hub()
    sink = Sink()
    hub.subscribe({"all"}, "json", sink=sink)
    hub.publish(event(1))
    scheduler.run()
    hub.publish(event(2))
    hub.fold_seconds = 0
    hub.publish(event(3))
    assert sink.messages == [[1], [2], [3]]


def test_a_screen_in_a_later_slice_gets_exactly_its_events_once_and_in_order() -> None:
    hub, _, scheduler = folding_hub(slice_size=2)
    plain = [Sink() for _ in range(3)]
    staff, ann = Sink(), Sink()
    for sink in plain:
        hub.subscribe({"all"}, "json", sink=sink)
    hub.subscribe({"staff"}, "json", sink=staff)
    hub.subscribe({"p:ann"}, "json", sink=ann)
    hub.publish_all([event(1, "staff"), event(2), event(3, "p:ann"), event(4), event(5, "staff")])

    written: list[int] = []
    everyone = [*plain, staff, ann]
    while scheduler.calls:  # the push, then its slices: two screens each
        scheduler.run()
        written.append(sum(1 for sink in everyone if sink.messages))
    assert written == [2, 4, 5]  # three slices, each after the loop ran
    assert all(sink.messages == [[2, 4]] for sink in plain)
    assert staff.messages == [[1, 2, 4, 5]]
    assert ann.messages == [[2, 3, 4]]
    assert hub.deliveries == 3 * 2 + 4 + 3
    assert hub.pushes == 1


def test_a_screen_gets_its_share_as_of_its_slice_as_a_resume_would() -> None:
    hub, _, scheduler = folding_hub(slice_size=1)
    sinks = {"ann": Sink(), "bob": Sink()}
    clients = {
        owner: hub.subscribe({"all"}, "json", owner=owner, sink=sink)
        for owner, sink in sinks.items()
    }
    hub.publish_all([event(1), event(2, "g:1:2")])
    scheduler.run()  # the first slice: one screen
    (done,) = [owner for owner, sink in sinks.items() if sink.messages]
    (waiting,) = [owner for owner in sinks if owner != done]
    # Before the other's slice, its owner joins the group (as a move between groups does).
    hub.add_audience_for(waiting, "g:1:2")
    while scheduler.calls:
        scheduler.run()

    assert sinks[done].messages == [[1]]
    assert sinks[waiting].messages == [[1, 2]]
    assert hub.missed(clients[waiting], 0) == [(1, "json1"), (2, "json2")]


class Recorder(Sink):
    """Keeps what it was handed, as handed."""

    def __init__(self) -> None:
        super().__init__()
        self.handed: list[Sequence[tuple[int, str]]] = []

    def write_many(self, items: Sequence[tuple[int, str]]) -> bool:
        self.handed.append(items)
        return super().write_many(items)


def test_screens_that_see_only_what_everyone_sees_share_one_list_per_format() -> None:
    hub, _, scheduler = folding_hub(slice_size=2)
    html = [Recorder() for _ in range(3)]
    json_ = [Recorder() for _ in range(2)]
    host = Recorder()
    for sink in html:
        hub.subscribe({"all"}, "html", sink=sink)
    for sink in json_:
        hub.subscribe({"all"}, "json", sink=sink)
    hub.subscribe({"staff"}, "html", sink=host)
    hub.publish_all([event(1), event(2, "staff"), event(3)])
    while scheduler.calls:
        scheduler.run()

    # One list for every HTML screen, another for every JSON one, across the slices.
    assert len({id(sink.handed[0]) for sink in html}) == 1
    assert len({id(sink.handed[0]) for sink in json_}) == 1
    assert html[0].handed[0] == ((1, "html1"), (3, "html3"))
    assert json_[0].handed[0] == ((1, "json1"), (3, "json3"))
    # The host's share is its own: it sees the staff event too.
    assert host.handed == [((1, "html1"), (2, "html2"), (3, "html3"))]
