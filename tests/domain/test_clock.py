"""Example tests of the live agenda engine, on a fixed clock (never sleeps)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest

from agendas_for_tests import SEED, at, make_agenda
from webinar.domain.agenda import Agenda
from webinar.domain.clock import (
    ClockError,
    ItemRun,
    RunState,
    ScheduledItem,
    advance,
    back,
    extend,
    format_drift,
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
        ("afternoon", "Afternoon talk", "talk", "11:00", "11:30"),
        ("closing", "Closing remarks", "closing", "11:30", "11:40"),
    )
)
NOT_STARTED = RunState()


def minutes(count: float) -> timedelta:
    return timedelta(minutes=count)


def started(agenda: Agenda = SEED, when: str = "10:00") -> RunState:
    return start(agenda, NOT_STARTED, at(when))


def finished_seed() -> RunState:
    return advance(SEED, started(), at("13:00"))


def slot_states(agenda: Agenda, state: RunState, now: datetime) -> dict[str, str]:
    return {slot.item.id: slot.state for slot in status(agenda, state, now).schedule}


# ------------------------------------------------------------------ before start


def test_status_before_start_shows_first_item_next() -> None:
    result = status(SEED, NOT_STARTED, at("09:30"))

    assert result.phase == "before"
    assert result.current is None
    assert result.remaining is None
    assert result.next == SEED.items[0]
    assert result.next_starts_at == at("10:00")
    assert result.drift == timedelta(0)
    assert result.projected_end == at("12:30")
    assert [slot.state for slot in result.schedule] == ["upcoming"] * 8


def test_status_before_start_after_planned_start_reports_drift() -> None:
    result = status(SEED, NOT_STARTED, at("10:05"))

    assert result.next_starts_at == at("10:05")
    assert result.drift == minutes(5)
    assert result.projected_end == at("12:35")
    assert format_drift(result.drift) == "running 5 min late"


def test_status_before_start_first_item_skipped_uses_next_item() -> None:
    state = skip(SEED, NOT_STARTED, at("09:00"), "welcome")

    result = status(SEED, state, at("10:05"))

    assert result.next == SEED.item("national")
    assert result.next_starts_at == at("10:10")
    assert result.drift == timedelta(0)
    assert result.schedule[0].state == "skipped"


# ------------------------------------------------------------------------ start


def test_start_on_time_runs_first_item() -> None:
    state = start(SEED, NOT_STARTED, at("10:00"))

    assert state == RunState(
        started_at=at("10:00"), current_id="welcome", current_started_at=at("10:00")
    )
    result = status(SEED, state, at("10:04"))
    assert result.phase == "running"
    assert result.current == SEED.item("welcome")
    assert result.current_ends_at == at("10:10")
    assert result.remaining == minutes(6)
    assert result.next == SEED.item("national")
    assert result.next_starts_at == at("10:10")
    assert result.drift == timedelta(0)
    assert format_drift(result.drift) == "on time"


def test_start_late_gives_drift() -> None:
    state = start(SEED, NOT_STARTED, at("10:04"))

    result = status(SEED, state, at("10:05"))

    assert result.current_started_at == at("10:04")
    assert result.current_ends_at == at("10:14")
    assert result.remaining == minutes(9)
    assert result.next_starts_at == at("10:14")
    assert result.drift == minutes(4)
    assert result.projected_end == at("12:34")
    assert format_drift(result.drift) == "running 4 min late"


def test_start_early_reports_ahead() -> None:
    state = start(SEED, NOT_STARTED, at("09:58"))

    result = status(SEED, state, at("09:59"))

    assert result.current_ends_at == at("10:08")
    assert result.drift == minutes(-2)
    assert format_drift(result.drift) == "2 min ahead"
    # No gap before National Review Updates, so it follows Welcome straight away.
    assert result.next_starts_at == at("10:08")
    assert result.projected_end == at("12:28")


def test_start_five_minutes_early_shifts_every_later_item_five_minutes_early() -> None:
    state = start(SEED, NOT_STARTED, at("09:55"))

    before = status(SEED, state, at("09:56"))
    later = status(SEED, state, at("10:50"))

    assert before.drift == minutes(-5)
    assert format_drift(before.drift) == "5 min ahead"
    assert before.current_ends_at == at("10:05")
    assert before.next_starts_at == at("10:05")
    assert before.projected_end == at("12:25")
    assert [(slot.state, slot.start, slot.end) for slot in before.schedule] == [
        ("current", at("09:55"), at("10:05")),
        ("upcoming", at("10:05"), at("10:25")),
        ("upcoming", at("10:25"), at("10:40")),
        ("upcoming", at("10:40"), at("11:05")),
        ("upcoming", at("11:05"), at("11:25")),
        ("upcoming", at("11:25"), at("11:45")),
        ("upcoming", at("11:45"), at("12:10")),
        ("upcoming", at("12:10"), at("12:25")),
    ]
    # Still five minutes ahead once the programme has moved on by itself.
    assert later.current == SEED.item("lcspr")
    assert later.current_started_at == at("10:40")
    assert later.current_ends_at == at("11:05")
    assert format_drift(later.drift) == "5 min ahead"
    assert later.next_starts_at == at("11:05")
    assert later.projected_end == at("12:25")


# ---------------------------------------------------------------------- advance


def test_advance_before_deadline_changes_nothing() -> None:
    state = started()

    assert advance(SEED, state, at("10:09", 59)) == state


def test_advance_at_deadline_starts_next_item() -> None:
    state = advance(SEED, started(), at("10:10"))

    assert state.current_id == "national"
    assert state.current_started_at == at("10:10")
    assert state.history == (
        ItemRun("welcome", at("10:00"), at("10:10"), "completed", timedelta(0), timedelta(0)),
    )


def test_advance_across_several_items_replays_each() -> None:
    state = advance(SEED, started(), at("10:40"))

    assert state.current_id == "review-qa"
    assert state.current_started_at == at("10:30")
    assert [(run.item_id, run.started_at, run.ended_at) for run in state.history] == [
        ("welcome", at("10:00"), at("10:10")),
        ("national", at("10:10"), at("10:30")),
    ]
    assert status(SEED, state, at("10:40")).remaining == minutes(5)


def test_advance_restart_after_40_minute_outage_lands_on_right_item() -> None:
    saved = json.dumps(advance(SEED, started(when="10:02"), at("10:05")).to_dict())

    restored = RunState.from_dict(json.loads(saved))
    result = status(SEED, restored, at("10:45"))

    # 10:02-10:12 Welcome, 10:12-10:32 National Review Updates, 10:32-10:47 Review Q&A.
    assert result.phase == "running"
    assert result.current == SEED.item("review-qa")
    assert result.current_started_at == at("10:32")
    assert result.remaining == minutes(2)
    assert result.next_starts_at == at("10:47")
    assert result.drift == minutes(2)


def test_advance_is_idempotent() -> None:
    once = advance(SEED, started(), at("11:00"))

    assert advance(SEED, once, at("11:00")) == once


def test_advance_past_last_item_finishes_event() -> None:
    state = advance(SEED, started(), at("13:00"))

    assert state.ended_at == at("12:30")
    assert state.current_id is None
    assert len(state.history) == 8
    result = status(SEED, state, at("13:00"))
    assert result.phase == "finished"
    assert result.drift == timedelta(0)
    assert result.projected_end == at("12:30")
    assert [slot.state for slot in result.schedule] == ["done"] * 8
    assert result.schedule[-1] == ScheduledItem(
        SEED.items[-1], "done", at("12:15"), at("12:30"), at("12:15"), at("12:30")
    )


def test_advance_naive_now_raises_value_error() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        advance(SEED, started(), datetime(2025, 6, 12, 10, 0))


# ------------------------------------------------------------------------- hold


def test_hold_past_deadline_does_not_advance() -> None:
    state = hold(SEED, started(), at("10:05"))

    result = status(SEED, state, at("10:12"))

    assert result.current == SEED.item("welcome")
    assert result.held is True
    assert result.remaining == minutes(-2)
    assert result.overrun is True
    assert result.current_ends_at == at("10:10")
    assert result.next_starts_at == at("10:12")
    assert result.drift == minutes(2)
    assert next_change_at(SEED, state, at("10:12")) is None


def test_release_past_deadline_advances_at_release_time() -> None:
    held = hold(SEED, started(), at("10:05"))

    state = release(SEED, held, at("10:12"))

    assert state.current_id == "national"
    assert state.current_started_at == at("10:12")
    assert state.held is False
    assert state.history == (
        ItemRun("welcome", at("10:00"), at("10:12"), "completed", minutes(2), timedelta(0)),
    )
    assert status(SEED, state, at("10:12")).current_ends_at == at("10:32")


def test_release_before_deadline_keeps_deadline() -> None:
    held = hold(SEED, started(), at("10:05"))

    state = release(SEED, held, at("10:07"))

    assert state.held is False
    assert state.extension == timedelta(0)
    assert next_change_at(SEED, state, at("10:07")) == at("10:10")


# ----------------------------------------------------------------------- extend


def test_extend_three_minutes_moves_current_end_next_start_and_drift() -> None:
    state = extend(SEED, started(), at("10:05"), 3)

    result = status(SEED, state, at("10:05"))

    assert result.current_ends_at == at("10:13")
    assert result.remaining == minutes(8)
    assert result.next_starts_at == at("10:13")
    assert result.projected_end == at("12:33")
    assert result.drift == minutes(3)
    assert format_drift(result.drift) == "running 3 min late"


def test_extend_then_advance_at_new_deadline() -> None:
    state = advance(SEED, extend(SEED, started(), at("10:05"), 3), at("10:13"))

    assert state.current_id == "national"
    assert state.current_started_at == at("10:13")
    assert state.extension == timedelta(0)
    assert state.history[-1].extension == minutes(3)


def test_extend_twice_adds_up() -> None:
    state = extend(SEED, extend(SEED, started(), at("10:01"), 3), at("10:02"), 2)

    assert state.extension == minutes(5)


@pytest.mark.parametrize("amount", [0, -1, 241])
def test_extend_out_of_range_raises(amount: int) -> None:
    with pytest.raises(ClockError) as error:
        extend(SEED, started(), at("10:05"), amount)

    assert str(error.value) == "An extension must be between 1 and 240 minutes."


# ------------------------------------------------------------------------- skip


def test_skip_current_ends_it_and_starts_next_now() -> None:
    state = skip(SEED, started(), at("10:05"))

    assert state.current_id == "national"
    assert state.current_started_at == at("10:05")
    assert state.history == (
        ItemRun("welcome", at("10:00"), at("10:05"), "skipped", timedelta(0), timedelta(0)),
    )
    assert slot_states(SEED, state, at("10:05"))["welcome"] == "skipped"


def test_skip_current_by_id_same_as_without_id() -> None:
    state = started()

    assert skip(SEED, state, at("10:05"), "welcome") == skip(SEED, state, at("10:05"))


def test_skip_upcoming_item_leaves_it_out_of_projection() -> None:
    state = skip(SEED, started(), at("10:05"), "review-qa")

    result = status(SEED, state, at("10:05"))

    assert state.skipped == frozenset({"review-qa"})
    assert result.schedule[2] == ScheduledItem(
        SEED.item("review-qa"), "skipped", at("10:30"), at("10:45"), at("10:30"), at("10:45")
    )
    # Its 15 minutes are not kept: LCSPR follows National Review Updates directly.
    assert result.schedule[3] == ScheduledItem(
        SEED.item("lcspr"), "upcoming", at("10:30"), at("10:55"), at("10:45"), at("11:10")
    )
    assert result.projected_end == at("12:15")


def test_skip_upcoming_item_starts_following_item_without_waiting() -> None:
    state = skip(SEED, started(), at("10:05"), "review-qa")

    result = status(SEED, state, at("10:35"))

    assert result.phase == "running"
    assert result.current == SEED.item("lcspr")
    assert result.current_started_at == at("10:30")
    assert result.current_ends_at == at("10:55")
    assert result.drift == minutes(-15)
    assert format_drift(result.drift) == "15 min ahead"
    assert next_change_at(SEED, state, at("10:35")) == at("10:55")


def test_skip_next_item_changes_next() -> None:
    state = skip(SEED, started(), at("10:05"), "national")

    result = status(SEED, state, at("10:05"))

    assert result.next == SEED.item("review-qa")
    assert result.next_starts_at == at("10:10")


def test_skip_last_remaining_item_finishes_event_now() -> None:
    state = jump(SEED, started(), at("10:05"), "closing")

    state = skip(SEED, state, at("10:06"))

    assert state.ended_at == at("10:06")
    assert status(SEED, state, at("10:06")).phase == "finished"


def test_skip_before_start_marks_item_and_start_uses_next() -> None:
    marked = skip(SEED, NOT_STARTED, at("09:50"), "welcome")

    state = start(SEED, marked, at("10:00"))

    assert state.current_id == "national"
    assert state.current_started_at == at("10:00")


def test_skip_waiting_item_starts_back_to_back_following_item_now() -> None:
    waiting = advance(GAP, started(GAP), at("10:35"))

    state = skip(GAP, waiting, at("10:35"))

    assert state.skipped == frozenset({"afternoon"})
    assert state.current_id == "closing"
    assert state.current_started_at == at("10:35")
    assert [run.item_id for run in state.history] == ["morning"]
    assert status(GAP, state, at("10:35")).current_ends_at == at("10:45")


def test_skip_waiting_item_keeps_gap_before_following_item_from_now() -> None:
    agenda = make_agenda(
        (
            ("morning", "Morning talk", "talk", "10:00", "10:30"),
            ("afternoon", "Afternoon talk", "talk", "10:45", "11:00"),
            ("closing", "Closing remarks", "closing", "11:10", "11:20"),
        )
    )
    waiting = advance(agenda, started(agenda), at("10:35"))

    state = skip(agenda, waiting, at("10:35"))

    assert state.current_id == "closing"
    assert state.current_started_at == at("10:45")
    result = status(agenda, state, at("10:35"))
    assert result.phase == "waiting"
    assert result.current_ends_at == at("10:55")


def test_unskip_restores_item_in_projection() -> None:
    skipped = skip(SEED, started(), at("10:05"), "review-qa")

    state = unskip(SEED, skipped, at("10:06"), "review-qa")

    assert state.skipped == frozenset()
    result = status(SEED, state, at("10:06"))
    assert result.schedule[2].state == "upcoming"
    assert result.schedule[2].start == at("10:30")


# ------------------------------------------------------------------------ pause


def test_pause_freezes_remaining() -> None:
    state = pause(SEED, started(), at("10:04"))

    result = status(SEED, state, at("10:20"))

    assert result.phase == "paused"
    assert result.paused is True
    assert result.current == SEED.item("welcome")
    assert result.remaining == minutes(6)
    assert result.current_ends_at == at("10:26")
    assert next_change_at(SEED, state, at("10:20")) is None


def test_resume_shifts_deadline_by_pause_length() -> None:
    paused = pause(SEED, started(), at("10:04"))

    state = resume(SEED, paused, at("10:20"))

    assert state.paused_total == minutes(16)
    result = status(SEED, state, at("10:20"))
    assert result.phase == "running"
    assert result.remaining == minutes(6)
    assert result.current_ends_at == at("10:26")
    assert next_change_at(SEED, state, at("10:20")) == at("10:26")


def test_resume_then_advance_records_paused_time() -> None:
    state = resume(SEED, pause(SEED, started(), at("10:04")), at("10:20"))

    state = advance(SEED, state, at("10:26"))

    assert state.current_id == "national"
    assert state.current_started_at == at("10:26")
    assert state.history[-1] == ItemRun(
        "welcome", at("10:00"), at("10:26"), "completed", timedelta(0), minutes(16)
    )


def test_next_item_while_paused_counts_pause_in_segment() -> None:
    paused = pause(SEED, started(), at("10:04"))

    state = next_item(SEED, paused, at("10:08"))

    assert state.history[-1] == ItemRun(
        "welcome", at("10:00"), at("10:08"), "ended_early", timedelta(0), minutes(4)
    )
    assert state.paused_at is None


# --------------------------------------------------------------------- next_item


def test_next_item_before_deadline_ends_early() -> None:
    state = next_item(SEED, started(), at("10:06"))

    assert state.current_id == "national"
    assert state.current_started_at == at("10:06")
    assert state.history[-1].outcome == "ended_early"
    assert status(SEED, state, at("10:06")).drift == minutes(-4)


def test_next_item_when_held_past_deadline_completes() -> None:
    held = hold(SEED, started(), at("10:05"))

    state = next_item(SEED, held, at("10:12"))

    assert state.history[-1].outcome == "completed"
    assert state.held is False


def test_next_item_on_last_item_finishes_event_now() -> None:
    on_last = jump(SEED, started(), at("10:05"), "closing")

    state = next_item(SEED, on_last, at("10:07"))

    assert state.ended_at == at("10:07")
    result = status(SEED, state, at("10:07"))
    assert result.phase == "finished"
    assert result.drift == at("10:07") - at("12:30")
    assert format_drift(result.drift) == "2 h 23 min ahead"


def test_next_item_while_waiting_starts_waiting_item_now() -> None:
    waiting = advance(GAP, started(GAP), at("10:40"))

    state = next_item(GAP, waiting, at("10:40"))

    assert state.current_id == "afternoon"
    assert state.current_started_at == at("10:40")
    assert [run.item_id for run in state.history] == ["morning"]


# -------------------------------------------------------------------------- back


def test_back_restarts_previous_item_in_full() -> None:
    on_second = advance(SEED, started(), at("10:15"))

    state = back(SEED, on_second, at("10:15"))

    assert state.current_id == "welcome"
    assert state.current_started_at == at("10:15")
    assert state.history[-1] == ItemRun(
        "national", at("10:10"), at("10:15"), "ended_early", timedelta(0), timedelta(0)
    )
    result = status(SEED, state, at("10:15"))
    assert result.current_ends_at == at("10:25")
    assert result.schedule[1].state == "upcoming"
    assert result.schedule[1].start == at("10:25")


def test_back_passes_over_skipped_items() -> None:
    state = skip(SEED, started(), at("10:01"), "national")
    on_qa = jump(SEED, state, at("10:02"), "review-qa")

    state = back(SEED, on_qa, at("10:03"))

    assert state.current_id == "welcome"


def test_back_after_finished_reopens_last_item() -> None:
    state = back(SEED, finished_seed(), at("13:00"))

    assert state.ended_at is None
    assert state.current_id == "closing"
    assert state.current_started_at == at("13:00")
    assert status(SEED, state, at("13:00")).current_ends_at == at("13:15")


# -------------------------------------------------------------------------- jump


def test_jump_starts_item_now_and_marks_passed_items_not_run() -> None:
    state = jump(SEED, started(), at("10:05"), "lcspr")

    result = status(SEED, state, at("10:05"))

    assert state.current_id == "lcspr"
    assert result.current_ends_at == at("10:30")
    assert [slot.state for slot in result.schedule[:5]] == [
        "done",
        "not_run",
        "not_run",
        "current",
        "upcoming",
    ]
    assert result.schedule[0].end == at("10:05")
    assert result.schedule[1] == ScheduledItem(
        SEED.item("national"), "not_run", at("10:10"), at("10:30"), at("10:10"), at("10:30")
    )
    assert result.next_starts_at == at("10:30")
    assert result.drift == minutes(-40)


def test_jump_after_finished_reopens_event() -> None:
    state = jump(SEED, finished_seed(), at("13:00"), "lcspr-qa")

    assert state.ended_at is None
    assert state.current_id == "lcspr-qa"
    assert state.current_started_at == at("13:00")
    result = status(SEED, state, at("13:00"))
    assert result.phase == "running"
    assert result.next == SEED.item("breakout")
    assert result.next_starts_at == at("13:20")


def test_jump_to_skipped_item_unskips_it() -> None:
    state = skip(SEED, started(), at("10:01"), "lcspr")

    state = jump(SEED, state, at("10:02"), "lcspr")

    assert state.current_id == "lcspr"
    assert state.skipped == frozenset()


def test_jump_to_waiting_item_starts_it_now() -> None:
    waiting = advance(GAP, started(GAP), at("10:40"))

    state = jump(GAP, waiting, at("10:41"), "afternoon")

    assert state.current_started_at == at("10:41")


# ---------------------------------------------------------------------------- gap


def test_gap_agenda_waits_out_planned_gap() -> None:
    state = advance(GAP, started(GAP), at("10:35"))

    result = status(GAP, state, at("10:35"))

    assert result.phase == "waiting"
    assert result.current == GAP.item("afternoon")
    assert result.current_started_at == at("11:00")
    assert result.current_ends_at == at("11:30")
    assert result.drift == timedelta(0)
    assert state.history[-1].ended_at == at("10:30")
    assert status(GAP, state, at("11:00")).phase == "running"


def test_gap_is_kept_when_running_late() -> None:
    state = started(GAP, "10:10")

    running = status(GAP, state, at("10:15"))
    waiting = status(GAP, state, at("10:45"))

    assert running.drift == minutes(10)
    assert running.next_starts_at == at("11:10")
    assert running.projected_end == at("11:50")
    assert waiting.phase == "waiting"
    assert waiting.current == GAP.item("afternoon")
    assert waiting.current_started_at == at("11:10")
    assert waiting.remaining == minutes(55)
    assert waiting.drift == minutes(10)
    assert format_drift(waiting.drift) == "running 10 min late"


def test_gap_is_kept_when_lateness_exceeds_it() -> None:
    state = extend(GAP, started(GAP), at("10:10"), 40)

    result = status(GAP, state, at("10:10"))

    assert result.current_ends_at == at("11:10")
    assert result.next_starts_at == at("11:40")
    assert result.projected_end == at("12:20")
    assert format_drift(result.drift) == "running 40 min late"


def test_planned_15_minute_break_stays_15_minutes_when_running_4_minutes_late() -> None:
    agenda = make_agenda(
        (
            ("first", "First talk", "talk", "10:00", "10:30"),
            ("second", "Second talk", "talk", "10:45", "11:15"),
        )
    )
    state = started(agenda, "10:04")

    running = status(agenda, state, at("10:20"))
    waiting = status(agenda, state, at("10:40"))
    done = advance(agenda, state, at("12:00"))

    assert running.drift == minutes(4)
    assert running.current_ends_at == at("10:34")
    assert running.next_starts_at == at("10:49")
    assert running.projected_end == at("11:19")
    assert waiting.phase == "waiting"
    assert waiting.current_started_at == at("10:49")
    assert format_drift(waiting.drift) == "running 4 min late"
    first, second = done.history
    assert (first.started_at, first.ended_at) == (at("10:04"), at("10:34"))
    assert (second.started_at, second.ended_at) == (at("10:49"), at("11:19"))
    assert second.started_at - first.ended_at == minutes(15)
    assert done.ended_at == at("11:19")


# ----------------------------------------------------------------- next_change_at


def test_next_change_at_before_start_is_none() -> None:
    assert next_change_at(SEED, NOT_STARTED, at("09:00")) is None


def test_next_change_at_running_is_deadline() -> None:
    assert next_change_at(SEED, started(), at("10:03")) == at("10:10")


def test_next_change_at_after_outage_is_new_deadline() -> None:
    assert next_change_at(SEED, started(), at("10:40")) == at("10:45")


def test_next_change_at_waiting_is_item_start() -> None:
    assert next_change_at(GAP, started(GAP), at("10:40")) == at("11:00")


def test_next_change_at_waiting_and_held_is_item_start() -> None:
    waiting = advance(GAP, started(GAP), at("10:40"))

    assert next_change_at(GAP, hold(GAP, waiting, at("10:40")), at("10:41")) == at("11:00")


def test_next_change_at_finished_is_none() -> None:
    assert next_change_at(SEED, finished_seed(), at("13:00")) is None


# -------------------------------------------------------------------- ClockErrors


def _cmd(name: str) -> Callable[[Agenda, RunState, datetime], RunState]:
    commands: dict[str, Callable[[Agenda, RunState, datetime], RunState]] = {
        "start": start,
        "next_item": next_item,
        "back": back,
        "jump": lambda a, s, n: jump(a, s, n, "lcspr"),
        "jump_unknown": lambda a, s, n: jump(a, s, n, "nope"),
        "skip": lambda a, s, n: skip(a, s, n),
        "skip_unknown": lambda a, s, n: skip(a, s, n, "nope"),
        "skip_upcoming": lambda a, s, n: skip(a, s, n, "lcspr"),
        "skip_done": lambda a, s, n: skip(a, s, n, "welcome"),
        "unskip": lambda a, s, n: unskip(a, s, n, "lcspr"),
        "unskip_unknown": lambda a, s, n: unskip(a, s, n, "nope"),
        "extend": lambda a, s, n: extend(a, s, n, 3),
        "pause": pause,
        "resume": resume,
        "hold": hold,
        "release": release,
    }
    return commands[name]


def _state(name: str) -> RunState:
    states: dict[str, Callable[[], RunState]] = {
        "before": lambda: NOT_STARTED,
        "running": started,
        "on_national": lambda: advance(SEED, started(), at("10:12")),
        "finished": finished_seed,
        "paused": lambda: pause(SEED, started(), at("10:01")),
        "held": lambda: hold(SEED, started(), at("10:01")),
        "lcspr_skipped": lambda: skip(SEED, started(), at("10:01"), "lcspr"),
        "all_skipped": lambda: _skip_all(),
        "on_lcspr": lambda: jump(SEED, started(), at("10:01"), "lcspr"),
    }
    return states[name]()


def _skip_all() -> RunState:
    state = NOT_STARTED
    for item in SEED.items:
        state = skip(SEED, state, at("09:00"), item.id)
    return state


@pytest.mark.parametrize(
    ("state_name", "command", "message"),
    [
        ("before", "next_item", "The event has not started yet."),
        ("before", "back", "The event has not started yet."),
        ("before", "jump", "The event has not started yet."),
        ("before", "skip", "The event has not started yet."),
        ("before", "extend", "The event has not started yet."),
        ("before", "pause", "The event has not started yet."),
        ("before", "resume", "The event has not started yet."),
        ("before", "hold", "The event has not started yet."),
        ("before", "release", "The event has not started yet."),
        ("running", "start", "The event has already started."),
        ("finished", "start", "The event has already started."),
        ("all_skipped", "start", "Every item is marked to skip, so there is nothing to start."),
        ("finished", "next_item", "The event has finished."),
        ("finished", "skip", "The event has finished."),
        ("finished", "skip_upcoming", "The event has finished."),
        ("finished", "extend", "The event has finished."),
        ("finished", "pause", "The event has finished."),
        ("finished", "resume", "The event has finished."),
        ("finished", "hold", "The event has finished."),
        ("finished", "release", "The event has finished."),
        ("running", "back", "This is the first item, so there is nothing to go back to."),
        ("running", "jump_unknown", 'There is no agenda item "nope".'),
        ("before", "jump_unknown", 'There is no agenda item "nope".'),
        ("running", "skip_unknown", 'There is no agenda item "nope".'),
        ("running", "unskip_unknown", 'There is no agenda item "nope".'),
        (
            "on_national",
            "skip_done",
            '"Welcome" is already past; only upcoming items can be skipped.',
        ),
        ("on_lcspr", "jump", '"Local Child Safeguarding Practice Reviews" is already running.'),
        (
            "lcspr_skipped",
            "skip_upcoming",
            '"Local Child Safeguarding Practice Reviews" is already marked to skip.',
        ),
        ("running", "unskip", '"Local Child Safeguarding Practice Reviews" is not marked to skip.'),
        ("paused", "pause", "The clock is already paused."),
        ("running", "resume", "The clock is not paused."),
        ("held", "hold", "The current item is already held."),
        ("running", "release", "The current item is not held."),
    ],
)
def test_command_not_allowed_raises_clock_error(
    state_name: str, command: str, message: str
) -> None:
    state = _state(state_name)

    with pytest.raises(ClockError) as error:
        _cmd(command)(SEED, state, at("13:30") if state_name == "finished" else at("10:02"))

    assert str(error.value) == message


def test_back_after_finished_all_skipped_raises() -> None:
    state = replace(finished_seed(), skipped=frozenset(item.id for item in SEED.items))

    with pytest.raises(ClockError) as error:
        back(SEED, state, at("13:01"))

    assert str(error.value) == "Every item is marked to skip, so there is nothing to go back to."


def test_pause_while_waiting_raises() -> None:
    waiting = advance(GAP, started(GAP), at("10:40"))

    with pytest.raises(ClockError) as error:
        pause(GAP, waiting, at("10:40"))

    assert str(error.value) == "The next item has not started yet, so there is nothing to pause."


def test_clock_error_is_value_error() -> None:
    assert issubclass(ClockError, ValueError)


def test_current_item_removed_from_agenda_raises_clock_error() -> None:
    state = RunState(started_at=at("10:00"), current_id="gone", current_started_at=at("10:00"))

    with pytest.raises(ClockError) as error:
        status(SEED, state, at("10:01"))

    assert str(error.value) == 'The current item "gone" is no longer on the agenda.'


# ------------------------------------------------------------------ serialisation


def test_to_dict_is_json_safe_with_offsets_and_seconds() -> None:
    state = extend(SEED, advance(SEED, started(), at("10:10")), at("10:11"), 3)
    state = pause(SEED, skip(SEED, state, at("10:12"), "lcspr"), at("10:13", 30))

    data = state.to_dict()

    assert data == {
        "started_at": "2025-06-12T10:00:00+01:00",
        "ended_at": None,
        "current_id": "national",
        "current_started_at": "2025-06-12T10:10:00+01:00",
        "extension": 180,
        "paused_at": "2025-06-12T10:13:30+01:00",
        "paused_total": 0,
        "held": False,
        "slide": 0,
        "skipped": ["lcspr"],
        "history": [
            {
                "item_id": "welcome",
                "started_at": "2025-06-12T10:00:00+01:00",
                "ended_at": "2025-06-12T10:10:00+01:00",
                "outcome": "completed",
                "extension": 0,
                "paused": 0,
            }
        ],
    }
    assert json.loads(json.dumps(data)) == data


def test_from_dict_round_trips_exactly() -> None:
    state = resume(SEED, pause(SEED, started(), at("10:01", 15)), at("10:02", 45))
    state = hold(
        SEED, skip(SEED, advance(SEED, state, at("10:20")), at("10:21"), "lcspr"), at("10:22")
    )
    state = replace(state, extension=timedelta(seconds=90.25))

    restored = RunState.from_dict(json.loads(json.dumps(state.to_dict())))

    assert restored == state
    assert restored.to_dict() == state.to_dict()


def test_from_dict_round_trips_empty_state() -> None:
    assert RunState.from_dict(NOT_STARTED.to_dict()) == NOT_STARTED


def _garbage(**changes: Any) -> dict[str, Any]:
    data = advance(SEED, started(), at("10:12")).to_dict()
    data.update(changes)
    return data


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "The saved run state is not a JSON object."),
        ({}, "The saved run state is missing 'skipped'."),
        (_garbage(started_at=5), "The saved run state field 'started_at' must be a timestamp."),
        (
            _garbage(started_at="yesterday"),
            "The saved run state field 'started_at' is not a valid timestamp: 'yesterday'.",
        ),
        (
            _garbage(started_at="2025-06-12T10:00:00"),
            "The saved run state field 'started_at' has no UTC offset: '2025-06-12T10:00:00'.",
        ),
        (
            _garbage(extension="3"),
            "The saved run state field 'extension' must be a number of seconds.",
        ),
        (_garbage(extension=-1), "The saved run state field 'extension' must not be negative."),
        (_garbage(held="no"), "The saved run state field 'held' must be true or false."),
        (
            _garbage(skipped="lcspr"),
            "The saved run state field 'skipped' must be a list of item ids.",
        ),
        (_garbage(history={}), "The saved run state field 'history' must be a list."),
        (_garbage(history=[1]), "The saved run state entry 'history[0]' is not an object."),
        (
            _garbage(current_id=3),
            "The saved run state field 'current_id' must be an item id or null.",
        ),
        (
            _garbage(current_started_at=None),
            "The saved run state is inconsistent: a current item needs a start time and a start "
            "time needs an item.",
        ),
        (
            _garbage(started_at=None),
            "The saved run state is inconsistent: the event has not started but has progress "
            "recorded.",
        ),
    ],
)
def test_from_dict_garbage_raises_value_error(data: Any, message: str) -> None:
    with pytest.raises(ValueError) as error:
        RunState.from_dict(data)

    assert str(error.value) == message


def test_from_dict_bad_outcome_raises_value_error() -> None:
    data = _garbage()
    data["history"][0]["outcome"] = "vanished"

    with pytest.raises(ValueError) as error:
        RunState.from_dict(data)

    assert str(error.value) == (
        "The saved run state field 'history[0].outcome' must be one of "
        "completed, ended_early, skipped, not 'vanished'."
    )


# ------------------------------------------------------------------ format_drift


@pytest.mark.parametrize(
    ("drift", "text"),
    [
        (timedelta(0), "on time"),
        (timedelta(seconds=59), "on time"),
        (timedelta(seconds=-59), "on time"),
        (minutes(1), "running 1 min late"),
        (minutes(3), "running 3 min late"),
        (timedelta(minutes=3, seconds=50), "running 3 min late"),
        (minutes(-2), "2 min ahead"),
        (minutes(60), "running 1 h late"),
        (minutes(65), "running 1 h 5 min late"),
        (minutes(-125), "2 h 5 min ahead"),
    ],
)
def test_format_drift_words(drift: timedelta, text: str) -> None:
    assert format_drift(drift) == text
