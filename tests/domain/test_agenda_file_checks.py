"""Agenda file checks found by writing agendas the project had never seen (issue 17):
breakout group counts, items past midnight, size limits, encodings and TOML mistakes."""

from __future__ import annotations

import textwrap
from datetime import date

import pytest

from webinar.domain.agenda import Agenda
from webinar.domain.agenda_file import AgendaFileError, AgendaProblem, parse_agenda
from webinar.domain.allocator import Person, allocate_breakout

pytestmark = pytest.mark.unit

NAME = "agendas/test.toml"
TODAY = date(2020, 8, 20)

EVENT = """\
[event]
title = "Test webinar"
date = "2020-08-20"
timezone = "Europe/London"
"""

BREAKOUT = """\
[[items]]
title = "Welcome"
kind = "welcome"
start = "10:00"
end = "10:10"

[[items]]
title = "Groups"
kind = "breakout"
start = "10:10"
end = "10:30"

  [items.breakout]
  topics = ["A", "B", "C"]
"""


def parse(text: str) -> Agenda:
    return parse_agenda(text, NAME, today=TODAY)


def problems(text: str) -> list[AgendaProblem]:
    with pytest.raises(AgendaFileError) as info:
        parse(text)
    return info.value.problems


def only_problem(text: str) -> AgendaProblem:
    found = problems(text)
    assert len(found) == 1, [str(problem) for problem in found]
    return found[0]


def doc(items: str, extra: str = "") -> str:
    return EVENT + "\n" + textwrap.dedent(items) + textwrap.dedent(extra)


# --- breakouts: a group size or a number of groups -------------------------------------------


def test_breakout_groups_sets_a_fixed_number_of_groups() -> None:
    agenda = parse(doc(BREAKOUT, "  groups = 4\n"))

    settings = agenda.items[1].breakout
    assert settings is not None
    assert (settings.group_count, settings.group_size) == (4, None)


def test_breakout_group_size_alone_still_sets_the_size() -> None:
    settings = parse(doc(BREAKOUT, "  group_size = 8\n")).items[1].breakout

    assert settings is not None
    assert (settings.group_count, settings.group_size) == (None, 8)


def test_breakout_groups_and_group_size_together_are_refused() -> None:
    problem = only_problem(doc(BREAKOUT, "  groups = 4\n  group_size = 8\n"))

    assert str(problem) == (
        'agendas/test.toml, item 2 "Groups", field breakout.groups: is given together with '
        "group_size; give only one of the two: group_size for the most people per group, or "
        "groups for a fixed number of groups."
    )


def test_breakout_groups_of_zero_are_refused() -> None:
    problem = only_problem(doc(BREAKOUT, "  groups = 0\n"))

    assert (problem.field, problem.message) == (
        "breakout.groups",
        "should be at least 1, but is 0.",
    )


def test_breakout_with_groups_splits_into_that_many() -> None:
    settings = parse(doc(BREAKOUT, "  groups = 4\n")).items[1].breakout
    assert settings is not None
    people = [Person(f"p{number:02d}") for number in range(10)]

    allocation = allocate_breakout(settings, people, seed=7)

    assert sorted(allocation.sizes) == [2, 2, 3, 3]


def test_breakout_with_more_groups_than_pairs_present_makes_one_per_pair() -> None:
    settings = parse(doc(BREAKOUT, "  groups = 4\n")).items[1].breakout
    assert settings is not None
    people = [Person(f"p{number}") for number in range(7)]

    allocation = allocate_breakout(settings, people, seed=7)

    assert sorted(allocation.sizes) == [2, 2, 3]


def test_breakout_group_size_of_eight_with_fifty_present_makes_seven_groups() -> None:
    settings = parse(doc(BREAKOUT, "  group_size = 8\n")).items[1].breakout
    assert settings is not None
    people = [Person(f"p{number:02d}") for number in range(50)]

    allocation = allocate_breakout(settings, people, seed=7)

    assert sorted(allocation.sizes) == [7, 7, 7, 7, 7, 7, 8]


# --- items past midnight ---------------------------------------------------------------------

LATE = """\
[[items]]
title = "Late talk"
kind = "talk"
start = "23:30"
{length}

[[items]]
title = "Later still"
kind = "talk"
duration = 30
"""


def test_an_end_after_midnight_is_refused() -> None:
    problem = only_problem(doc(LATE.format(length='end = "00:30"')))

    assert (problem.item, problem.field) == ('item 1 "Late talk"', "end")


def test_a_duration_running_past_midnight_is_refused_like_an_end() -> None:
    problem = only_problem(doc(LATE.format(length="duration = 60")))

    assert str(problem) == (
        'agendas/test.toml, item 1 "Late talk", field duration: is 60 minutes, so this item, '
        "starting at 23:30, would end at 00:30 on a later day; all items are on the event's "
        "day, so the latest an item can end is 23:59."
    )


def test_a_duration_ending_at_midnight_is_refused_like_end_00_00() -> None:
    problem = only_problem(doc(LATE.format(length="duration = 30")))

    assert (problem.field, problem.message.split(";")[0]) == (
        "duration",
        "is 30 minutes, so this item, starting at 23:30, would end at 00:00 on a later day",
    )


def test_a_duration_ending_at_23_59_is_accepted() -> None:
    text = doc(LATE.format(length="duration = 29").split('[[items]]\ntitle = "Later')[0])

    agenda = parse(text)

    assert f"{agenda.planned_end:%H:%M}" == "23:59"


def test_items_chained_by_duration_past_midnight_are_refused_once() -> None:
    first = '[[items]]\ntitle = "Item 1"\nkind = "talk"\nstart = "00:00"\nduration = 10\n'
    rest = [f'[[items]]\ntitle = "Item {n}"\nkind = "talk"\nduration = 10\n' for n in range(2, 151)]

    found = problems(doc("\n".join([first, *rest])))

    # Item 144 would end at midnight; the items after it have no start to check.
    assert [(p.item, p.field) for p in found] == [('item 144 "Item 144"', "duration")]
