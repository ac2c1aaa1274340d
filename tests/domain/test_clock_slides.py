"""The presenter's slide: which slide of the current item every screen shows."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from agendas_for_tests import SEED, at
from webinar.domain.agenda import Agenda, Slide
from webinar.domain.clock import (
    ClockError,
    RunState,
    advance,
    back,
    next_item,
    next_slide,
    previous_slide,
    start,
    status,
)

DECK = (Slide("The Panel"), Slide("System Oversight"), Slide("System Learning"))


def with_slides() -> Agenda:
    """The seed agenda whose welcome has three slides and whose second talk has two."""
    items = list(SEED.items)
    items[0] = replace(items[0], slides=DECK)
    items[1] = replace(items[1], slides=DECK[:2])
    return replace(SEED, items=tuple(items))


AGENDA = with_slides()


def running() -> RunState:
    return start(AGENDA, RunState(), at("10:00"))


def test_an_item_starts_on_its_first_slide() -> None:
    assert status(AGENDA, running(), at("10:01")).slide == 0


def test_next_slide_moves_on_and_previous_slide_comes_back() -> None:
    state = next_slide(AGENDA, running(), at("10:01"))
    state = next_slide(AGENDA, state, at("10:02"))

    assert status(AGENDA, state, at("10:03")).slide == 2
    assert status(AGENDA, previous_slide(AGENDA, state, at("10:03")), at("10:03")).slide == 1


def test_next_slide_on_the_last_slide_is_refused() -> None:
    state = next_slide(AGENDA, next_slide(AGENDA, running(), at("10:01")), at("10:02"))

    with pytest.raises(ClockError) as error:
        next_slide(AGENDA, state, at("10:03"))

    assert str(error.value) == 'This is the last slide of "Welcome".'


def test_previous_slide_on_the_first_slide_is_refused() -> None:
    with pytest.raises(ClockError) as error:
        previous_slide(AGENDA, running(), at("10:01"))

    assert str(error.value) == 'This is the first slide of "Welcome".'


def test_an_item_without_slides_has_no_slide_to_step() -> None:
    state = start(SEED, RunState(), at("10:00"))

    with pytest.raises(ClockError) as error:
        next_slide(SEED, state, at("10:01"))

    assert str(error.value) == '"Welcome" has no slides.'
    assert status(SEED, state, at("10:01")).slide is None


def test_slides_before_the_start_are_refused() -> None:
    with pytest.raises(ClockError) as error:
        next_slide(AGENDA, RunState(), at("09:50"))

    assert str(error.value) == "The event has not started yet."


def test_the_next_item_starts_on_its_first_slide_by_command_or_by_time() -> None:
    state = next_slide(AGENDA, running(), at("10:01"))

    by_command = next_item(AGENDA, state, at("10:05"))
    by_time = advance(AGENDA, state, at("10:10"))
    back_again = back(AGENDA, next_slide(AGENDA, by_command, at("10:06")), at("10:07"))

    assert (by_command.slide, by_time.slide, back_again.slide) == (0, 0, 0)


def test_the_slide_survives_a_restart_through_the_saved_state() -> None:
    state = next_slide(AGENDA, running(), at("10:01"))

    reloaded = RunState.from_dict(json.loads(json.dumps(state.to_dict())))

    assert reloaded == state
    assert status(AGENDA, reloaded, at("10:02")).slide == 1


def test_a_state_saved_before_slides_were_stepped_reads_as_the_first_slide() -> None:
    data = running().to_dict()
    del data["slide"]

    assert RunState.from_dict(data).slide == 0


@pytest.mark.parametrize("bad", [-1, "2", True, 1.5])
def test_a_saved_slide_that_is_not_a_count_is_refused(bad: object) -> None:
    data = {**running().to_dict(), "slide": bad}

    with pytest.raises(ValueError) as error:
        RunState.from_dict(data)

    assert (
        str(error.value) == "The saved run state field 'slide' must be a whole number, 0 or more."
    )


def test_a_slide_beyond_an_edited_deck_shows_the_last_one() -> None:
    state = replace(running(), slide=7)

    assert status(AGENDA, state, at("10:01")).slide == 2
