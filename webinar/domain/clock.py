"""The live agenda engine: where the programme stands now, and what the host can do to it.

Everything here is a pure function of ``(agenda, state, now)``:

* :class:`RunState` is all that is persisted. It holds absolute timestamps only, so a
  process that restarts after an outage resumes from the truth: :func:`advance` replays
  every automatic transition that should have happened meanwhile.
* :func:`status` describes the programme at ``now`` for screens (countdown, drift,
  projected schedule).
* :func:`next_change_at` tells a service how long it may sleep.
* The host commands (:func:`start`, :func:`next_item`, :func:`back`, :func:`jump`,
  :func:`skip`, :func:`unskip`, :func:`extend`, :func:`pause`, :func:`resume`,
  :func:`hold`, :func:`release`, :func:`next_slide`, :func:`previous_slide`) each
  return a new, already advanced :class:`RunState`, or raise :class:`ClockError` with a
  sentence that can be shown to the host as is.

``now`` is always passed in and must be timezone-aware; it is expected never to go
backwards between calls.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Literal, cast

from webinar.domain.agenda import Agenda, Item

#: Phase of the programme at a given moment.
Phase = Literal["before", "running", "paused", "waiting", "finished"]
#: How a segment of an item ended.
Outcome = Literal["completed", "ended_early", "skipped"]
#: State of one item in the schedule shown to people.
SlotState = Literal["done", "current", "upcoming", "skipped", "not_run"]

OUTCOMES: tuple[str, ...] = ("completed", "ended_early", "skipped")
MIN_EXTEND_MINUTES = 1
MAX_EXTEND_MINUTES = 240

_ZERO = timedelta(0)
_MINUTE = timedelta(minutes=1)


class ClockError(ValueError):
    """A host command that cannot be applied now.

    ``str(error)`` is a plain sentence for the host, e.g. "The event has not started yet.".
    """


@dataclass(frozen=True, slots=True)
class ItemRun:
    """One finished segment of an item; an item may run more than once after back/jump.

    ``outcome`` is ``"completed"`` (its time ran out, or it ended at or after its
    deadline), ``"ended_early"`` (the host moved on before the deadline) or ``"skipped"``
    (the host skipped it while it ran). ``extension`` and ``paused`` are the totals
    given to / spent in this segment.
    """

    item_id: str
    started_at: datetime
    ended_at: datetime
    outcome: Outcome
    extension: timedelta
    paused: timedelta


@dataclass(frozen=True, slots=True)
class RunState:
    """Everything persisted about a live run, as absolute timestamps.

    ``current_started_at`` may lie in the future: the current item waits out the gap the
    agenda plans before it. ``extension``, ``paused_at``, ``paused_total`` and
    ``held`` belong to the current item and reset when it changes, as does ``slide``, the
    index of the current item's slide the presenter shows. ``skipped`` holds the ids of
    items the host marked to skip before they ran.
    """

    started_at: datetime | None = None
    ended_at: datetime | None = None
    current_id: str | None = None
    current_started_at: datetime | None = None
    extension: timedelta = _ZERO
    paused_at: datetime | None = None
    paused_total: timedelta = _ZERO
    held: bool = False
    skipped: frozenset[str] = frozenset()
    history: tuple[ItemRun, ...] = ()
    slide: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict of this state.

        Timestamps become ISO-8601 strings with their UTC offset (or ``None``), durations
        become numbers of seconds, ``skipped`` a sorted list. :meth:`from_dict` reads it
        back to an equal state.
        """
        return {
            "started_at": _dt_out(self.started_at),
            "ended_at": _dt_out(self.ended_at),
            "current_id": self.current_id,
            "current_started_at": _dt_out(self.current_started_at),
            "extension": _td_out(self.extension),
            "paused_at": _dt_out(self.paused_at),
            "paused_total": _td_out(self.paused_total),
            "held": self.held,
            "slide": self.slide,
            "skipped": sorted(self.skipped),
            "history": [
                {
                    "item_id": run.item_id,
                    "started_at": run.started_at.isoformat(),
                    "ended_at": run.ended_at.isoformat(),
                    "outcome": run.outcome,
                    "extension": _td_out(run.extension),
                    "paused": _td_out(run.paused),
                }
                for run in self.history
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunState:
        """Rebuild a state from :meth:`to_dict` output (e.g. after ``json.loads``).

        Every key written by :meth:`to_dict` is required except ``slide`` (states saved
        before slides were stepped through have none: the first slide); unknown keys are
        ignored.
        Raises ``ValueError`` with a plain message when the data is malformed or
        inconsistent (e.g. a naive timestamp, a negative duration, a current item
        without a start time).
        """
        if not isinstance(data, Mapping):
            raise ValueError("The saved run state is not a JSON object.")
        skipped_raw = _field(data, "skipped")
        if not isinstance(skipped_raw, list) or not all(isinstance(s, str) for s in skipped_raw):
            raise ValueError("The saved run state field 'skipped' must be a list of item ids.")
        history_raw = _field(data, "history")
        if not isinstance(history_raw, list):
            raise ValueError("The saved run state field 'history' must be a list.")
        held = _field(data, "held")
        if not isinstance(held, bool):
            raise ValueError("The saved run state field 'held' must be true or false.")
        slide = data.get("slide", 0)
        if isinstance(slide, bool) or not isinstance(slide, int) or slide < 0:
            raise ValueError("The saved run state field 'slide' must be a whole number, 0 or more.")
        state = cls(
            started_at=_dt_in(data, "started_at"),
            ended_at=_dt_in(data, "ended_at"),
            current_id=_optional_str(data, "current_id"),
            current_started_at=_dt_in(data, "current_started_at"),
            extension=_td_in(data, "extension"),
            paused_at=_dt_in(data, "paused_at"),
            paused_total=_td_in(data, "paused_total"),
            held=held,
            skipped=frozenset(skipped_raw),
            history=tuple(_run_in(entry, index) for index, entry in enumerate(history_raw)),
            slide=slide,
        )
        _check_consistent(state)
        return state


@dataclass(frozen=True, slots=True)
class ScheduledItem:
    """One agenda item in the live schedule.

    ``start``/``end`` are actual for ``done`` (its last segment), actual start and
    projected end for ``current``, projected for ``upcoming`` and planned for
    ``skipped`` and ``not_run`` (passed over by a jump, never ran).
    """

    item: Item
    state: SlotState
    start: datetime
    end: datetime
    planned_start: datetime
    planned_end: datetime


@dataclass(frozen=True, slots=True)
class Status:
    """The programme at one moment, as :func:`status` sees it.

    ``current_ends_at`` is the current item's deadline; ``remaining`` is the deadline
    minus ``now`` (frozen while paused, negative when held past the deadline, and
    including the wait while ``waiting``). ``drift`` is how late the programme runs
    (negative: ahead). ``schedule`` has one entry per agenda item, in agenda order.
    ``slide`` is the index of the current item's slide on show, ``None`` when there is no
    current item or it has no slides.
    """

    phase: Phase
    now: datetime
    current: Item | None
    current_started_at: datetime | None
    current_ends_at: datetime | None
    remaining: timedelta | None
    overrun: bool
    held: bool
    paused: bool
    next: Item | None
    next_starts_at: datetime | None
    drift: timedelta
    projected_end: datetime
    schedule: tuple[ScheduledItem, ...]
    slide: int | None = None


# --------------------------------------------------------------------------- engine


def advance(agenda: Agenda, state: RunState, now: datetime) -> RunState:
    """Apply every automatic transition due up to ``now``; idempotent.

    While an item runs (not paused, not held) and ``now`` has reached its deadline, the
    item ends at its deadline (outcome ``"completed"``) and the next non-skipped item
    becomes current after the gap the agenda plans before it (none between back-to-back
    items), counted from the deadline, not at its planned start; this repeats, so a long
    outage is replayed item by item. With no next item the event ends at the deadline.
    Returns the (possibly unchanged) state. Raises ``ValueError`` for a naive ``now`` and
    :class:`ClockError` if the current item is no longer on the agenda.
    """
    _check_now(now)
    while state.started_at is not None and state.ended_at is None:
        if state.paused_at is not None or state.held:
            break
        current = _current(agenda, state)
        if current is None:
            break
        deadline = _deadline(current, state, now)
        if now < deadline:
            break
        run = _segment(state, current, deadline, "completed")
        state = replace(state, history=(*state.history, run))
        following = _next_index(agenda, state.skipped, current.index)
        if following is None:
            state = _finish(state, deadline)
        else:
            item = agenda.items[following]
            state = _begin(state, item.id, deadline + _gap_before(agenda, following))
    return state


def status(agenda: Agenda, state: RunState, now: datetime) -> Status:
    """Describe the programme at ``now`` (after :func:`advance`).

    Takes the agenda, a state and an aware ``now``; returns a :class:`Status` with the
    phase, the current and next item, countdown, drift, projected end and the full
    schedule. Raises like :func:`advance`.
    """
    state = advance(agenda, state, now)
    if state.started_at is None:
        return _status_before(agenda, state, now)
    current = _current(agenda, state)
    if state.ended_at is not None or current is None:
        return _status_finished(agenda, state, now)
    return _status_live(agenda, state, current, now)


def next_change_at(agenda: Agenda, state: RunState, now: datetime) -> datetime | None:
    """When the next automatic change happens, for a service to sleep until.

    Returns the waiting item's start while ``waiting``, the current item's deadline while
    it runs, and ``None`` when nothing changes by itself (before start, paused, held,
    finished). Raises like :func:`advance`.
    """
    state = advance(agenda, state, now)
    if state.started_at is None or state.ended_at is not None:
        return None
    current = _current(agenda, state)
    if current is None:
        return None
    if now < current.started_at:
        return current.started_at
    if state.paused_at is not None or state.held:
        return None
    return _deadline(current, state, now)


def format_drift(drift: timedelta) -> str:
    """Drift in words: ``"on time"`` (under a minute either way), ``"running 3 min late"``,
    ``"2 min ahead"``, ``"running 1 h 5 min late"``. Whole minutes, rounded down."""
    minutes = abs(drift) // _MINUTE
    if minutes < 1:
        return "on time"
    hours, rest = divmod(minutes, 60)
    if hours == 0:
        amount = f"{rest} min"
    elif rest == 0:
        amount = f"{hours} h"
    else:
        amount = f"{hours} h {rest} min"
    return f"running {amount} late" if drift > _ZERO else f"{amount} ahead"


# ------------------------------------------------------------------------- commands


def start(agenda: Agenda, state: RunState, now: datetime) -> RunState:
    """Start the event now with its first non-skipped item, started now.

    Returns the new state. Raises :class:`ClockError` if the event already started or
    every item is marked to skip.
    """
    state = advance(agenda, state, now)
    if state.started_at is not None:
        raise ClockError("The event has already started.")
    first = _next_index(agenda, state.skipped, -1)
    if first is None:
        raise ClockError("Every item is marked to skip, so there is nothing to start.")
    state = _begin(replace(state, started_at=now), agenda.items[first].id, now)
    return advance(agenda, state, now)


def next_item(agenda: Agenda, state: RunState, now: datetime) -> RunState:
    """End the current item now and start the next non-skipped item now.

    The ended segment's outcome is ``"ended_early"`` before its deadline, else
    ``"completed"``. With no item left the event finishes now. While ``waiting`` out a
    planned gap, the waiting item starts now instead. Raises
    :class:`ClockError` before the start and after the end of the event.
    """
    state = advance(agenda, state, now)
    current = _require_current(agenda, state)
    if now < current.started_at:
        return advance(agenda, replace(state, current_started_at=now), now)
    state = _close(state, current, now, None)
    return _move_to(agenda, state, _next_index(agenda, state.skipped, current.index), now)


def back(agenda: Agenda, state: RunState, now: datetime) -> RunState:
    """End the current item now and restart the non-skipped item before it, now, in full.

    After the event finished, reopens its last non-skipped item. Raises
    :class:`ClockError` before the start, or when there is no item to go back to.
    """
    state = advance(agenda, state, now)
    if state.started_at is None:
        raise ClockError("The event has not started yet.")
    current = _current(agenda, state)
    if state.ended_at is not None or current is None:
        last = _prev_index(agenda, state.skipped, len(agenda.items))
        if last is None:
            raise ClockError("Every item is marked to skip, so there is nothing to go back to.")
        return _move_to(agenda, state, last, now)
    previous = _prev_index(agenda, state.skipped, current.index)
    if previous is None:
        raise ClockError("This is the first item, so there is nothing to go back to.")
    state = _close(state, current, now, None)
    return _move_to(agenda, state, previous, now)


def jump(agenda: Agenda, state: RunState, now: datetime, item_id: str) -> RunState:
    """End the current item now and start ``item_id`` now, unmarking it as skipped.

    Works after the event finished (reopens it). Jumping to the item that is waiting out
    the gap before it starts it now. Raises :class:`ClockError` for an unknown item,
    before the start, or when the item is already running.
    """
    target = _require_item(agenda, item_id)
    state = advance(agenda, state, now)
    if state.started_at is None:
        raise ClockError("The event has not started yet.")
    current = _current(agenda, state)
    if state.ended_at is None and current is not None:
        if current.item.id == item_id:
            if now < current.started_at:
                return advance(agenda, replace(state, current_started_at=now), now)
            raise ClockError(f'"{target.title}" is already running.')
        state = _close(state, current, now, None)
    state = replace(state, skipped=state.skipped - {item_id})
    return _move_to(agenda, state, agenda.index_of(item_id), now)


def skip(agenda: Agenda, state: RunState, now: datetime, item_id: str | None = None) -> RunState:
    """Skip the current item (``item_id`` None or the current id) or mark an upcoming one.

    Skipping the running item ends it now (outcome ``"skipped"``) and starts the next
    non-skipped item now (the event finishes when none is left). Skipping the item that
    is waiting out a gap marks it skipped and starts the following non-skipped item after
    the gap the agenda plans before that item, counted from now. Skipping an upcoming item
    marks it, also before the start. Raises
    :class:`ClockError` for an unknown item, an item already past or already marked, a
    current skip before the start, and after the end.
    """
    target = _require_item(agenda, item_id) if item_id is not None else None
    state = advance(agenda, state, now)
    if state.started_at is None:
        if target is None:
            raise ClockError("The event has not started yet.")
        return _mark_skipped(state, target)
    current = _current(agenda, state)
    if state.ended_at is not None or current is None:
        raise ClockError("The event has finished.")
    if target is None or target.id == current.item.id:
        following = _next_index(agenda, state.skipped | {current.item.id}, current.index)
        if now < current.started_at:
            state = replace(state, skipped=state.skipped | {current.item.id})
            if following is None:
                return advance(agenda, _finish(state, now), now)
            item = agenda.items[following]
            begins = now + _gap_before(agenda, following)
            return advance(agenda, _begin(state, item.id, begins), now)
        state = _close(state, current, now, "skipped")
        return _move_to(agenda, state, following, now)
    if agenda.index_of(target.id) < current.index:
        raise ClockError(f'"{target.title}" is already past; only upcoming items can be skipped.')
    return _mark_skipped(state, target)


def unskip(agenda: Agenda, state: RunState, now: datetime, item_id: str) -> RunState:
    """Unmark ``item_id`` as skipped; allowed at any time.

    Raises :class:`ClockError` for an unknown item or one not marked to skip.
    """
    target = _require_item(agenda, item_id)
    state = advance(agenda, state, now)
    if target.id not in state.skipped:
        raise ClockError(f'"{target.title}" is not marked to skip.')
    return advance(agenda, replace(state, skipped=state.skipped - {target.id}), now)


def extend(agenda: Agenda, state: RunState, now: datetime, minutes: int) -> RunState:
    """Give the current item ``minutes`` more (1 to 240); extensions add up.

    Raises :class:`ClockError` for minutes out of range, before the start and after the
    end of the event.
    """
    if (
        isinstance(minutes, bool)
        or not isinstance(minutes, int)
        or not MIN_EXTEND_MINUTES <= minutes <= MAX_EXTEND_MINUTES
    ):
        raise ClockError(
            f"An extension must be between {MIN_EXTEND_MINUTES} and {MAX_EXTEND_MINUTES} minutes."
        )
    state = advance(agenda, state, now)
    _require_current(agenda, state)
    state = replace(state, extension=state.extension + timedelta(minutes=minutes))
    return advance(agenda, state, now)


def pause(agenda: Agenda, state: RunState, now: datetime) -> RunState:
    """Stop the current item's countdown now.

    Raises :class:`ClockError` before the start, after the end, when already paused and
    while waiting out a planned gap (nothing is counting down).
    """
    state = advance(agenda, state, now)
    current = _require_current(agenda, state)
    if state.paused_at is not None:
        raise ClockError("The clock is already paused.")
    if now < current.started_at:
        raise ClockError("The next item has not started yet, so there is nothing to pause.")
    return replace(state, paused_at=now)


def resume(agenda: Agenda, state: RunState, now: datetime) -> RunState:
    """Restart the countdown; the deadline moves later by the length of the pause.

    Raises :class:`ClockError` before the start, after the end and when not paused.
    """
    state = advance(agenda, state, now)
    _require_current(agenda, state)
    if state.paused_at is None:
        raise ClockError("The clock is not paused.")
    state = replace(
        state, paused_total=state.paused_total + (now - state.paused_at), paused_at=None
    )
    return advance(agenda, state, now)


def hold(agenda: Agenda, state: RunState, now: datetime) -> RunState:
    """Keep the current item on past its deadline: it no longer advances by itself.

    Raises :class:`ClockError` before the start, after the end and when already held.
    """
    state = advance(agenda, state, now)
    _require_current(agenda, state)
    if state.held:
        raise ClockError("The current item is already held.")
    return replace(state, held=True)


def release(agenda: Agenda, state: RunState, now: datetime) -> RunState:
    """Let the current item advance by itself again.

    If ``now`` is past its deadline, the overrun is added to its extension so the
    deadline becomes ``now``, and the item ends at ``now`` (the returned state is already
    advanced). Raises :class:`ClockError` before the start, after the end and when not
    held.
    """
    state = advance(agenda, state, now)
    current = _require_current(agenda, state)
    if not state.held:
        raise ClockError("The current item is not held.")
    overrun = max(_ZERO, now - _deadline(current, state, now))
    state = replace(state, held=False, extension=state.extension + overrun)
    return advance(agenda, state, now)


def next_slide(agenda: Agenda, state: RunState, now: datetime) -> RunState:
    """Show the current item's next slide on every screen.

    Raises :class:`ClockError` before the start, after the end, when the current item has
    no slides and when its last slide is already on show.
    """
    state = advance(agenda, state, now)
    current = _require_current(agenda, state)
    slides = current.item.slides
    if not slides:
        raise ClockError(f'"{current.item.title}" has no slides.')
    if state.slide >= len(slides) - 1:
        raise ClockError(f'This is the last slide of "{current.item.title}".')
    return replace(state, slide=state.slide + 1)


def previous_slide(agenda: Agenda, state: RunState, now: datetime) -> RunState:
    """Show the current item's previous slide on every screen.

    Raises :class:`ClockError` before the start, after the end, when the current item has
    no slides and when its first slide is on show.
    """
    state = advance(agenda, state, now)
    current = _require_current(agenda, state)
    if not current.item.slides:
        raise ClockError(f'"{current.item.title}" has no slides.')
    if state.slide <= 0:
        raise ClockError(f'This is the first slide of "{current.item.title}".')
    return replace(state, slide=state.slide - 1)


# -------------------------------------------------------------------------- helpers


@dataclass(frozen=True, slots=True)
class _Current:
    index: int
    item: Item
    started_at: datetime


def _check_now(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime.")


def _current(agenda: Agenda, state: RunState) -> _Current | None:
    if state.current_id is None or state.current_started_at is None:
        return None
    if not agenda.has_item(state.current_id):
        raise ClockError(f'The current item "{state.current_id}" is no longer on the agenda.')
    index = agenda.index_of(state.current_id)
    return _Current(index, agenda.items[index], state.current_started_at)


def _require_current(agenda: Agenda, state: RunState) -> _Current:
    if state.started_at is None:
        raise ClockError("The event has not started yet.")
    current = _current(agenda, state)
    if state.ended_at is not None or current is None:
        raise ClockError("The event has finished.")
    return current


def _require_item(agenda: Agenda, item_id: str) -> Item:
    if not agenda.has_item(item_id):
        raise ClockError(f'There is no agenda item "{item_id}".')
    return agenda.item(item_id)


def _deadline(current: _Current, state: RunState, now: datetime) -> datetime:
    deadline = current.started_at + current.item.duration + state.extension + state.paused_total
    if state.paused_at is not None:
        deadline += now - state.paused_at
    return deadline


def _next_index(agenda: Agenda, skipped: frozenset[str], after: int) -> int | None:
    for index in range(after + 1, len(agenda.items)):
        if agenda.items[index].id not in skipped:
            return index
    return None


def _prev_index(agenda: Agenda, skipped: frozenset[str], before: int) -> int | None:
    for index in range(before - 1, -1, -1):
        if agenda.items[index].id not in skipped:
            return index
    return None


def _begin(state: RunState, item_id: str, at: datetime) -> RunState:
    return replace(
        state,
        ended_at=None,
        current_id=item_id,
        current_started_at=at,
        extension=_ZERO,
        paused_at=None,
        paused_total=_ZERO,
        held=False,
        slide=0,
    )


def _finish(state: RunState, at: datetime) -> RunState:
    return replace(
        state,
        ended_at=at,
        current_id=None,
        current_started_at=None,
        extension=_ZERO,
        paused_at=None,
        paused_total=_ZERO,
        held=False,
        slide=0,
    )


def _move_to(agenda: Agenda, state: RunState, index: int | None, now: datetime) -> RunState:
    """Make the item at ``index`` current from ``now``, or finish the event at ``now``."""
    if index is None:
        return advance(agenda, _finish(state, now), now)
    return advance(agenda, _begin(state, agenda.items[index].id, now), now)


def _segment(state: RunState, current: _Current, end: datetime, outcome: Outcome) -> ItemRun:
    paused = state.paused_total
    if state.paused_at is not None:
        paused += end - state.paused_at
    return ItemRun(current.item.id, current.started_at, end, outcome, state.extension, paused)


def _close(state: RunState, current: _Current, now: datetime, outcome: Outcome | None) -> RunState:
    """Record the current item's segment ending ``now`` (nothing if it never started)."""
    if now < current.started_at:
        return state
    if outcome is None:
        outcome = "ended_early" if now < _deadline(current, state, now) else "completed"
    return replace(state, history=(*state.history, _segment(state, current, now, outcome)))


def _mark_skipped(state: RunState, target: Item) -> RunState:
    if target.id in state.skipped:
        raise ClockError(f'"{target.title}" is already marked to skip.')
    return replace(state, skipped=state.skipped | {target.id})


def _gap_before(agenda: Agenda, index: int) -> timedelta:
    """The pause the agenda plans between the item at ``index`` and the one before it.

    ``max(0, start - previous item's planned end)``: zero for the first item and for
    back-to-back items. The next item starts this long after the previous one's actual
    (or projected) end, so starting early or late shifts the rest of the programme, a
    planned break keeps its length, and a skipped item's time is not kept.
    """
    if index == 0:
        return _ZERO
    return max(_ZERO, agenda.items[index].start - agenda.items[index - 1].end)


def _planned(item: Item, slot: SlotState) -> ScheduledItem:
    return ScheduledItem(item, slot, item.start, item.end, item.start, item.end)


def _past(state: RunState, item: Item) -> ScheduledItem:
    if item.id in state.skipped:
        return _planned(item, "skipped")
    last = next((run for run in reversed(state.history) if run.item_id == item.id), None)
    if last is None:
        return _planned(item, "not_run")
    if last.outcome == "skipped":
        return _planned(item, "skipped")
    return ScheduledItem(item, "done", last.started_at, last.ended_at, item.start, item.end)


def _status_before(agenda: Agenda, state: RunState, now: datetime) -> Status:
    """The first non-skipped item projects at max(now, its planned start); each later
    one follows the previous projected end after its planned gap."""
    schedule: list[ScheduledItem] = []
    cursor = now
    first: Item | None = None
    first_start: datetime | None = None
    drift = _ZERO
    for item in agenda.items:
        if item.id in state.skipped:
            schedule.append(_planned(item, "skipped"))
            continue
        index = agenda.index_of(item.id)
        begins = max(now, item.start) if first is None else cursor + _gap_before(agenda, index)
        cursor = begins + item.duration
        if first is None:
            first, first_start, drift = item, begins, begins - item.start
        schedule.append(ScheduledItem(item, "upcoming", begins, cursor, item.start, item.end))
    return Status(
        phase="before",
        now=now,
        current=None,
        current_started_at=None,
        current_ends_at=None,
        remaining=None,
        overrun=False,
        held=False,
        paused=False,
        next=first,
        next_starts_at=first_start,
        drift=drift,
        projected_end=cursor,
        schedule=tuple(schedule),
    )


def _status_live(agenda: Agenda, state: RunState, current: _Current, now: datetime) -> Status:
    deadline = _deadline(current, state, now)
    current_end = max(deadline, now)
    paused = state.paused_at is not None
    phase: Phase = "paused" if paused else "waiting" if now < current.started_at else "running"
    schedule: list[ScheduledItem] = []
    cursor = current_end
    following: Item | None = None
    following_start: datetime | None = None
    for index, item in enumerate(agenda.items):
        if index < current.index:
            schedule.append(_past(state, item))
        elif index == current.index:
            schedule.append(
                ScheduledItem(
                    item, "current", current.started_at, current_end, item.start, item.end
                )
            )
        elif item.id in state.skipped:
            schedule.append(_planned(item, "skipped"))
        else:
            begins = cursor + _gap_before(agenda, index)
            cursor = begins + item.duration
            if following is None:
                following, following_start = item, begins
            schedule.append(ScheduledItem(item, "upcoming", begins, cursor, item.start, item.end))
    remaining = deadline - now
    return Status(
        phase=phase,
        now=now,
        current=current.item,
        current_started_at=current.started_at,
        current_ends_at=deadline,
        remaining=remaining,
        overrun=remaining < _ZERO,
        held=state.held,
        paused=paused,
        next=following,
        next_starts_at=following_start,
        drift=current_end - current.item.end,
        projected_end=cursor,
        schedule=tuple(schedule),
        slide=min(state.slide, len(current.item.slides) - 1) if current.item.slides else None,
    )


def _status_finished(agenda: Agenda, state: RunState, now: datetime) -> Status:
    ended = state.ended_at if state.ended_at is not None else now
    return Status(
        phase="finished",
        now=now,
        current=None,
        current_started_at=None,
        current_ends_at=None,
        remaining=None,
        overrun=False,
        held=False,
        paused=False,
        next=None,
        next_starts_at=None,
        drift=ended - agenda.planned_end if agenda.items else _ZERO,
        projected_end=ended,
        schedule=tuple(_past(state, item) for item in agenda.items),
    )


# ------------------------------------------------------------------ serialisation


def _dt_out(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _td_out(value: timedelta) -> int | float:
    seconds = value.total_seconds()
    return int(seconds) if seconds.is_integer() else seconds


def _field(data: Mapping[str, Any], key: str) -> Any:
    if key not in data:
        raise ValueError(f"The saved run state is missing '{key}'.")
    return data[key]


def _parse_dt(raw: Any, label: str) -> datetime:
    if not isinstance(raw, str):
        raise ValueError(f"The saved run state field '{label}' must be a timestamp.")
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise ValueError(
            f"The saved run state field '{label}' is not a valid timestamp: {raw!r}."
        ) from None
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"The saved run state field '{label}' has no UTC offset: {raw!r}.")
    return value


def _parse_td(raw: Any, label: str) -> timedelta:
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
        raise ValueError(f"The saved run state field '{label}' must be a number of seconds.")
    if raw < 0:
        raise ValueError(f"The saved run state field '{label}' must not be negative.")
    try:
        return timedelta(seconds=raw)
    except OverflowError:
        raise ValueError(f"The saved run state field '{label}' is too large.") from None


def _dt_in(data: Mapping[str, Any], key: str) -> datetime | None:
    raw = _field(data, key)
    return None if raw is None else _parse_dt(raw, key)


def _td_in(data: Mapping[str, Any], key: str) -> timedelta:
    return _parse_td(_field(data, key), key)


def _optional_str(data: Mapping[str, Any], key: str) -> str | None:
    raw = _field(data, key)
    if raw is not None and not isinstance(raw, str):
        raise ValueError(f"The saved run state field '{key}' must be an item id or null.")
    return raw


def _run_in(entry: Any, index: int) -> ItemRun:
    label = f"history[{index}]"
    if not isinstance(entry, Mapping):
        raise ValueError(f"The saved run state entry '{label}' is not an object.")
    for key in ("item_id", "started_at", "ended_at", "outcome", "extension", "paused"):
        if key not in entry:
            raise ValueError(f"The saved run state entry '{label}' is missing '{key}'.")
    item_id = entry["item_id"]
    if not isinstance(item_id, str):
        raise ValueError(f"The saved run state field '{label}.item_id' must be an item id.")
    outcome = entry["outcome"]
    if outcome not in OUTCOMES:
        raise ValueError(
            f"The saved run state field '{label}.outcome' must be one of "
            f"{', '.join(OUTCOMES)}, not {outcome!r}."
        )
    started_at = _parse_dt(entry["started_at"], f"{label}.started_at")
    ended_at = _parse_dt(entry["ended_at"], f"{label}.ended_at")
    if ended_at < started_at:
        raise ValueError(f"The saved run state entry '{label}' ends before it starts.")
    return ItemRun(
        item_id=item_id,
        started_at=started_at,
        ended_at=ended_at,
        outcome=cast(Outcome, outcome),
        extension=_parse_td(entry["extension"], f"{label}.extension"),
        paused=_parse_td(entry["paused"], f"{label}.paused"),
    )


def _check_consistent(state: RunState) -> None:
    def bad(reason: str) -> ValueError:
        return ValueError(f"The saved run state is inconsistent: {reason}.")

    if (state.current_id is None) != (state.current_started_at is None):
        raise bad("a current item needs a start time and a start time needs an item")
    if state.started_at is None:
        if state.ended_at is not None or state.current_id is not None or state.history:
            raise bad("the event has not started but has progress recorded")
    elif state.ended_at is None and state.current_id is None:
        raise bad("the event is running without a current item")
    elif state.ended_at is not None and state.current_id is not None:
        raise bad("the event has finished but still has a current item")
    if state.current_id is None and (state.paused_at is not None or state.held):
        raise bad("there is a pause or hold without a current item")
