"""The optional [qa] table of an agenda file."""

from __future__ import annotations

from datetime import date

import pytest

from webinar.domain.agenda_file import AgendaFileError, parse_agenda

pytestmark = pytest.mark.unit

BASE = """
[event]
title = "T"
date = "2026-01-05"
timezone = "Europe/London"

[[items]]
title = "Q&A"
kind = "qa"
start = "10:00"
end = "10:30"
"""


def test_qa_table_sets_limit_and_filter() -> None:
    text = BASE + '[qa]\nmax_length = 280\nword_filter = ["Jane Doe", "idiot"]\n'

    agenda = parse_agenda(text, "a.toml", today=date(2026, 1, 1))

    assert (agenda.qa_max_length, agenda.qa_word_filter) == (280, ("Jane Doe", "idiot"))


def test_qa_table_absent_uses_defaults() -> None:
    agenda = parse_agenda(BASE, "a.toml", today=date(2026, 1, 1))

    assert (agenda.qa_max_length, agenda.qa_word_filter) == (500, ())


@pytest.mark.parametrize(
    ("table", "field", "message"),
    [
        ("max_length = 5", "qa.max_length", "should be at least 20, but is 5."),
        ('max_length = "long"', "qa.max_length", None),
        ('word_filter = "x"', "qa.word_filter", None),
        ("maxlength = 3", "qa.maxlength", None),
    ],
)
def test_qa_table_problems_name_the_field(table: str, field: str, message: str | None) -> None:
    with pytest.raises(AgendaFileError) as error:
        parse_agenda(BASE + "[qa]\n" + table + "\n", "a.toml", today=date(2026, 1, 1))

    problems = error.value.problems
    assert [(p.file, p.field) for p in problems] == [("a.toml", field)]
    if message:
        assert problems[0].message == message
