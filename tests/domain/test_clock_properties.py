"""Property tests of the live agenda engine: random host sessions at increasing times."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agendas_for_tests import SEED, at, make_agenda
from webinar.domain.agenda import Agenda
from webinar.domain.clock import (
    ClockError,
    RunState,
    Status,
    advance,
    back,
    extend,
    hold,
    jump,
    next_change_at,
    next_item,
    pause,
    release,
    resume,
    skip,
    start,
    status,
    unskip,
)

pytestmark = pytest.mark.unit

GAP = make_agenda(
    (
        ("morning", "Morning talk", "talk", "10:00", "10:30"),
        ("coffee", "Coffee", "break", "10:30", "10:45"),
        ("afternoon", "Afternoon talk", "talk", "11:15", "11:45"),
        ("closing", "Closing remarks", "closing", "11:45", "11:55"),
    )
)

Command = Callable[[Agenda, RunState, datetime], RunState]


@dataclass(frozen=True)
class Step:
    name: str
    command: Command
    gap: timedelta


def _commands(agenda: Agenda) -> st.SearchStrategy[tuple[str, Command]]:
    ids = st.sampled_from([item.id for item in agenda.items] + ["unknown"])
    plain: list[tuple[str, Command]] = [
        ("start", start),
        ("next_item", next_item),
        ("back", back),
        ("skip", lambda a, s, n: skip(a, s, n)),
        ("pause", pause),
        ("resume", resume),
        ("hold", hold),
        ("release", release),
        ("advance", advance),
    ]

    def with_id(
        name: str, fn: Callable[[Agenda, RunState, datetime, str], RunState]
    ) -> st.SearchStrategy[tuple[str, Command]]:
        return ids.map(lambda item_id: (f"{name}({item_id})", lambda a, s, n: fn(a, s, n, item_id)))

    extends = st.integers(min_value=-1, max_value=250).map(
        lambda m: (f"extend({m})", lambda a, s, n: extend(a, s, n, m))
    )
    return st.one_of(
        st.sampled_from(plain),
        with_id("jump", jump),
        with_id("skip", lambda a, s, n, i: skip(a, s, n, i)),
        with_id("unskip", unskip),
        extends,
    )


GAPS = st.one_of(
    st.just(timedelta(0)),
    st.integers(min_value=1, max_value=3600).map(lambda s: timedelta(seconds=s)),
    st.integers(min_value=0, max_value=10**7).map(lambda us: timedelta(microseconds=us)),
)


@st.composite
def sessions(draw: st.DrawFn) -> tuple[Agenda, datetime, list[Step]]:
    agenda = draw(st.sampled_from([SEED, GAP]))
    first = at("09:30") + timedelta(seconds=draw(st.integers(min_value=0, max_value=5400)))
    steps = draw(
        st.lists(
            st.builds(lambda pair, gap: Step(pair[0], pair[1], gap), _commands(agenda), GAPS),
            max_size=30,
        )
    )
    # Most sessions should actually start.
    if draw(st.booleans()):
        steps.insert(0, Step("start", start, timedelta(0)))
    return agenda, first, steps


def replay(
    agenda: Agenda, first: datetime, steps: list[Step]
) -> list[tuple[RunState, datetime, bool]]:
    """Apply the steps at increasing times; only ClockError may be raised (and is ignored).

    Returns ``(state, now, applied)`` after each step; ``applied`` is False when the command
    raised ClockError and the previous state was kept.
    """
    state = RunState()
    now = first
    seen = [(state, now, False)]
    for step in steps:
        now += step.gap
        try:
            state = step.command(agenda, state, now)
        except ClockError as error:
            assert str(error).endswith(".")
            seen.append((state, now, False))
        else:
            seen.append((state, now, True))
    return seen


def planned_gap(agenda: Agenda, index: int) -> timedelta:
    """The break the agenda plans right before item ``index`` (zero when back to back)."""
    if index == 0:
        return timedelta(0)
    return max(timedelta(0), agenda.items[index].start - agenda.items[index - 1].end)


def check_schedule(agenda: Agenda, state: RunState, now: datetime) -> None:
    result = status(agenda, state, now)
    assert [slot.item for slot in result.schedule] == list(agenda.items)
    upcoming = [slot for slot in result.schedule if slot.state == "upcoming"]
    starts = [slot.start for slot in upcoming]
    assert starts == sorted(starts)
    for slot in upcoming:
        assert slot.start >= now
        assert slot.end - slot.start == slot.planned_end - slot.planned_start
    check_gaps(agenda, result, now)
    check_drift(result)
    currents = [slot for slot in result.schedule if slot.state == "current"]
    assert len(currents) == (1 if result.current is not None else 0)
    if upcoming:
        assert result.next == upcoming[0].item
        assert result.next_starts_at == upcoming[0].start
        assert result.projected_end == upcoming[-1].end
    for slot in result.schedule:
        assert slot.start <= slot.end


def check_gaps(agenda: Agenda, result: Status, now: datetime) -> None:
    """Each upcoming item follows the previous live one (current or upcoming) after exactly
    the gap planned before it; before the start the first one is at max(now, planned)."""
    previous_end: datetime | None = None
    for index, slot in enumerate(result.schedule):
        if slot.state == "current":
            previous_end = slot.end
        elif slot.state == "upcoming":
            if previous_end is None:
                assert result.phase == "before"
                assert slot.start == max(now, slot.planned_start)
                assert result.drift == slot.start - slot.planned_start
            else:
                assert slot.start == previous_end + planned_gap(agenda, index)
            previous_end = slot.end


def check_drift(result: Status) -> None:
    """Where nothing is skipped in between, the programme shifts by one amount: the drift."""
    for earlier, later in pairwise(result.schedule):
        if earlier.state in ("current", "upcoming") and later.state == "upcoming":
            shift = later.start - later.planned_start
            assert shift == earlier.end - earlier.planned_end
            if earlier.state == "current":
                assert shift == result.drift


@settings(deadline=None, max_examples=300)
@given(sessions())
def test_random_commands_raise_only_clock_error(
    session: tuple[Agenda, datetime, list[Step]],
) -> None:
    agenda, first, steps = session

    seen = replay(agenda, first, steps)

    for state, now, _applied in seen:
        status(agenda, state, now)
        next_change_at(agenda, state, now)


@settings(deadline=None, max_examples=300)
@given(sessions())
def test_schedule_in_agenda_order_with_non_decreasing_upcoming(
    session: tuple[Agenda, datetime, list[Step]],
) -> None:
    agenda, first, steps = session

    seen = replay(agenda, first, steps)

    for state, now, _applied in seen:
        check_schedule(agenda, state, now)
        check_schedule(agenda, state, now + timedelta(minutes=47))


@settings(deadline=None, max_examples=300)
@given(sessions())
def test_history_segments_ordered_and_never_overlap(
    session: tuple[Agenda, datetime, list[Step]],
) -> None:
    agenda, first, steps = session

    seen = replay(agenda, first, steps)
    final, last_now, _applied = seen[-1]
    history = advance(agenda, final, last_now + timedelta(hours=5)).history

    for run in history:
        assert run.started_at <= run.ended_at
    for earlier, later in pairwise(history):
        assert earlier.ended_at <= later.started_at


@settings(deadline=None, max_examples=300)
@given(sessions(), st.integers(min_value=0, max_value=4 * 3600))
def test_advance_is_idempotent(
    session: tuple[Agenda, datetime, list[Step]], later_seconds: int
) -> None:
    agenda, first, steps = session

    seen = replay(agenda, first, steps)

    for state, now, applied in seen:
        if applied:
            assert advance(agenda, state, now) == state  # commands return advanced states
        later = now + timedelta(seconds=later_seconds)
        once = advance(agenda, state, later)
        assert advance(agenda, once, later) == once


@settings(deadline=None, max_examples=300)
@given(sessions())
def test_to_dict_from_dict_round_trips_reachable_states(
    session: tuple[Agenda, datetime, list[Step]],
) -> None:
    agenda, first, steps = session

    seen = replay(agenda, first, steps)

    for state, _now, _applied in seen:
        restored = RunState.from_dict(json.loads(json.dumps(state.to_dict())))
        assert restored == state
        assert restored.to_dict() == state.to_dict()


@settings(deadline=None, max_examples=300)
@given(sessions(), st.integers(min_value=0, max_value=4 * 3600))
def test_remaining_negative_only_when_held(
    session: tuple[Agenda, datetime, list[Step]], later_seconds: int
) -> None:
    agenda, first, steps = session

    seen = replay(agenda, first, steps)

    for state, now, _applied in seen:
        for moment in (now, now + timedelta(seconds=later_seconds)):
            result = status(agenda, state, moment)
            if result.remaining is not None and result.remaining < timedelta(0):
                assert result.held is True
                assert result.overrun is True


@settings(deadline=None, max_examples=200)
@given(sessions())
def test_next_change_at_is_never_in_the_past(
    session: tuple[Agenda, datetime, list[Step]],
) -> None:
    agenda, first, steps = session

    seen = replay(agenda, first, steps)

    for state, now, _applied in seen:
        change = next_change_at(agenda, state, now)
        if change is not None:
            assert change > now
            assert advance(agenda, state, change) != advance(agenda, state, now) or (
                status(agenda, state, now).phase == "waiting"
            )
