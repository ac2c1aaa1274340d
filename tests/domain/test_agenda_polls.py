"""Polls in the agenda file: ``[[items.polls]]`` under an item."""

from __future__ import annotations

from datetime import date

import pytest

from webinar.domain.agenda_file import AgendaFileError, parse_agenda
from webinar.domain.polls import PollSpec

pytestmark = pytest.mark.unit

BASE = """
[event]
title = "T"
date = "2026-01-05"
timezone = "Europe/London"

[[items]]
title = "Opening"
kind = "talk"
start = "10:00"
end = "10:30"
"""


def parse(polls: str) -> tuple[PollSpec, ...]:
    return parse_agenda(BASE + polls, "a.toml", today=date(2026, 1, 1)).items[0].polls


def test_polls_are_read_in_order_with_their_settings() -> None:
    specs = parse(
        """
[[items.polls]]
question = "How confident are you commissioning an LCSPR?"
kind = "rating"
opens = "start"
results = "live"

[[items.polls]]
question = "Which have you seen?"
kind = "multiple"
options = ["Neglect", "Exploitation", "Online harm"]
max_choices = 2
anonymous = false

[[items.polls]]
question = "Which year?"
kind = "quiz"
options = ["2017", "2018"]
correct = 2
"""
    )
    assert specs == (
        PollSpec(
            "How confident are you commissioning an LCSPR?", "rating", opens="start", results="live"
        ),
        PollSpec(
            "Which have you seen?",
            "multiple",
            ("Neglect", "Exploitation", "Online harm"),
            max_choices=2,
            anonymous=False,
        ),
        PollSpec("Which year?", "quiz", ("2017", "2018"), max_choices=1, correct=1),
    )


def test_an_item_without_polls_has_none() -> None:
    assert parse("") == ()


@pytest.mark.parametrize(
    ("table", "field", "words"),
    [
        ('kind = "single"\noptions = ["A", "B"]', "polls[1].question", "is missing"),
        ('question = "Q"\nkind = "poll"', "polls[1].kind", '"single"'),
        ('question = "Q"\nkind = "single"\noptions = ["A"]', "polls[1].options", "between 2"),
        ('question = "Q"\nkind = "quiz"\noptions = ["A", "B"]', "polls[1].correct", "correct"),
        ('question = "Q"\nkind = "words"\nopens = "later"', "polls[1].opens", '"start"'),
        ('question = "Q"\nkind = "words"\nmax_choice = 2', "polls[1].max_choice", "max_choices"),
        ('question = "Q"\nkind = "rating"\nscale_max = 11', "polls[1].scale_max", "at most 10"),
    ],
)
def test_poll_problems_name_the_item_and_field(table: str, field: str, words: str) -> None:
    with pytest.raises(AgendaFileError) as caught:
        parse("[[items.polls]]\n" + table + "\n")
    problems = [p for p in caught.value.problems if p.field == field]
    assert len(problems) == 1, caught.value.problems
    assert problems[0].item is not None and "Opening" in problems[0].item
    assert words in problems[0].message


def test_polls_written_as_one_table_are_explained() -> None:
    with pytest.raises(AgendaFileError) as caught:
        parse('[items.polls]\nquestion = "Q"\n')
    assert "double square brackets" in str(caught.value)
