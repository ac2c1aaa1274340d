"""Agenda file checks found by writing agendas the project had never seen (issue 17):
breakout group counts, items past midnight, size limits, encodings and TOML mistakes."""

from __future__ import annotations

import textwrap
from datetime import date

import pytest

from webinar.domain.agenda import Agenda
from webinar.domain.agenda_file import AgendaFileError, AgendaProblem, decode_agenda, parse_agenda
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


# --- size limits -----------------------------------------------------------------------------

ONE_ITEM = '[[items]]\ntitle = "Talk {n}"\nkind = "talk"\nstart = "10:00"\nduration = 1\n'


def test_a_file_over_the_size_limit_is_refused_before_it_is_read() -> None:
    text = doc(BREAKOUT, "  instructions = '''\n" + "Discuss.\n" * 70_000 + "'''\n")

    problem = only_problem(text)

    assert str(problem) == (
        "agendas/test.toml: is 630 KB; an agenda file may be at most 500 KB. Take out what "
        "the webinar does not need (long slide texts, repeated items) or split it into "
        "several webinars."
    )


def test_more_items_than_allowed_are_refused_in_one_sentence() -> None:
    text = doc("\n".join(ONE_ITEM.format(n=n) for n in range(1, 1_002)))

    problem = only_problem(text)

    assert str(problem) == (
        "agendas/test.toml, field items: lists 1,001 items; an agenda may have at most 200. "
        "A longer programme is several webinars."
    )


def test_two_hundred_items_are_allowed() -> None:
    first = ONE_ITEM.format(n=1)
    rest = [ONE_ITEM.format(n=n).replace('start = "10:00"\n', "") for n in range(2, 201)]

    agenda = parse(doc("\n".join([first, *rest])))

    assert len(agenda.items) == 200


def test_many_problems_are_listed_up_to_a_hundred_then_counted() -> None:
    # 200 items, each with two problems: an unknown kind and a start before the first's.
    items = [ONE_ITEM.format(n=n).replace('"talk"', '"tlak"') for n in range(1, 201)]

    error = AgendaFileError(problems(doc("\n".join(items))))
    lines = str(error).splitlines()

    assert len(error.problems) == 399
    assert len(lines) == 101
    assert lines[:100] == [str(problem) for problem in error.problems[:100]]
    assert lines[100] == (
        "agendas/test.toml: … and 299 more problems not listed; fix the ones above and check "
        "the file again."
    )


# --- encodings and TOML mistakes ---------------------------------------------------------------


def test_bytes_that_are_not_utf8_are_named_by_line_and_column() -> None:
    data = (EVENT + "\n" + BREAKOUT).replace('"Groups"', '"Caf\u00e9 groups"').encode("cp1252")

    with pytest.raises(AgendaFileError) as info:
        decode_agenda(data, NAME)

    assert str(info.value) == (
        "agendas/test.toml: is not UTF-8 text at line 13, column 13: the byte 0xE9 there is "
        'not UTF-8, perhaps "\u00e9" saved in another encoding. Save the file as UTF-8 (most '
        "editors offer the encoding under Save As)."
    )


def test_utf8_with_a_byte_order_mark_is_read() -> None:
    data = b"\xef\xbb\xbf" + (EVENT + "\n" + BREAKOUT).encode("utf-8")

    agenda = parse(decode_agenda(data, NAME))

    assert agenda.title == "Test webinar"


def test_an_unclosed_text_is_called_that() -> None:
    problem = only_problem(EVENT.replace('"Test webinar"', '"Test webinar'))

    assert problem.message == (
        "is not valid TOML at line 2, column 22: a text in quotes is not closed before the end "
        "of the line; add the closing quote, or put text over several lines between three "
        'double quotes ("""), as slide bodies are.'
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            'topics = ["A" "B"]\n',
            "is not valid TOML at line 1, column 15: a list in square brackets is not closed, "
            "or two of its entries have no comma between them; separate entries with commas "
            "and end the list with ].",
        ),
        (
            EVENT + EVENT,
            "is not valid TOML at line 5, column 7: the section [event] appears twice; keep one "
            "[event] line and put all its settings under it.",
        ),
        (
            EVENT + 'title = "Again"\n',
            "is not valid TOML at line 5, column 16: this setting is given twice in the same "
            "section (or a section has the name of a setting); keep one of them.",
        ),
        (
            "[event]\ngroup size = 6\n",
            "is not valid TOML at line 2, column 7: a setting needs an equals sign after its "
            'name, like title = "Welcome" (names have no spaces: group_size, not group size).',
        ),
        (
            "[[items]\n",
            "is not valid TOML at line 1, column 8: a section name in double square brackets "
            "needs two closing brackets, like [[items]].",
        ),
        (
            'title = "A\x07bell"\n',
            "is not valid TOML at line 1, column 11: the text contains the control character "
            "'\\x07', which TOML does not allow there; delete it (it is often invisible: "
            "retype the line).",
        ),
    ],
)
def test_toml_mistakes_are_said_in_words(text: str, message: str) -> None:
    assert only_problem(text).message == message
