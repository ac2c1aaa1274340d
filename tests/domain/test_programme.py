"""The programme's pure parts: an event's state, where a problem is in its file, and an
agenda re-dated for a duplicate, on fixed clocks."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from webinar.domain.agenda_file import AgendaFileError, parse_agenda
from webinar.domain.programme import RetimeError, event_state, problem_line, retimed_agenda
from webinar.services.agenda_files import SEED_AGENDA

pytestmark = pytest.mark.unit

SEED = SEED_AGENDA.read_text(encoding="utf-8")
START = datetime(2027, 1, 14, 10, 0, tzinfo=UTC)
END = datetime(2027, 1, 14, 12, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "started", "ended", "archived", "expected"),
    [
        (datetime(2027, 1, 13, tzinfo=UTC), None, None, False, "upcoming"),
        (
            datetime(2027, 1, 14, 10, 5, tzinfo=UTC),
            "2027-01-14T10:00:00+00:00",
            None,
            False,
            "running",
        ),
        (datetime(2027, 1, 14, 13, tzinfo=UTC), "2027-01-14T10:00:00+00:00", "x", False, "past"),
        (datetime(2027, 1, 15, tzinfo=UTC), None, None, False, "past"),
        (datetime(2027, 1, 13, tzinfo=UTC), None, None, True, "archived"),
    ],
)
def test_event_state_follows_the_clock_and_the_run(
    now: datetime, started: str | None, ended: str | None, archived: bool, expected: str
) -> None:
    assert event_state(now, START, END, started, ended, archived) == expected


def test_problem_line_an_item_field_is_placed_on_its_line() -> None:
    bad = SEED.replace('kind = "welcome"', 'kind = "welcom"', 1)
    with pytest.raises(AgendaFileError) as caught:
        parse_agenda(bad, "bad.toml", today=date(2027, 1, 1))

    lines = [problem_line(bad, p) for p in caught.value.problems]

    assert lines == [bad.splitlines().index('kind = "welcom"') + 1]


def test_problem_line_a_toml_error_is_placed_on_the_line_it_names() -> None:
    bad = SEED.replace('title = "Welcome"', 'title = "Welcome', 1)
    with pytest.raises(AgendaFileError) as caught:
        parse_agenda(bad, "bad.toml", today=date(2027, 1, 1))

    assert (
        problem_line(bad, caught.value.problems[0])
        == bad.splitlines().index('title = "Welcome') + 1
    )


def test_retimed_agenda_moves_the_date_and_every_item_keeping_the_rest() -> None:
    text = retimed_agenda(SEED, time(10, 0), date(2027, 2, 11), time(13, 30))

    agenda = parse_agenda(text, "copy.toml", today=date(2027, 1, 1))
    original = parse_agenda(SEED, "seed.toml", today=date(2027, 2, 11))

    assert agenda.planned_start.astimezone(agenda.timezone).replace(tzinfo=None) == datetime(
        2027, 2, 11, 13, 30
    )
    assert (
        agenda.planned_end - agenda.planned_start == original.planned_end - original.planned_start
    )
    assert [i.end - i.start for i in agenda.items] == [i.end - i.start for i in original.items]
    assert text.count("\n") == SEED.count("\n")
    assert "# The original webinar ran in August 2020." in text


def test_retimed_agenda_refuses_to_run_past_midnight() -> None:
    with pytest.raises(RetimeError, match="past midnight"):
        retimed_agenda(SEED, time(10, 0), date(2027, 2, 11), time(23, 0))


def test_retimed_agenda_adds_a_date_to_an_event_without_one() -> None:
    text = retimed_agenda('[event]\ntitle = "T"\n', time(10, 0), date(2027, 2, 11), time(10, 0))

    assert text == '[event]\ndate = "2027-02-11"\ntitle = "T"\n'
