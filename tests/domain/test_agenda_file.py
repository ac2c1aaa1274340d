"""Tests for reading agenda files: the seed webinar, every problem type, and fuzzing."""

from __future__ import annotations

import copy
import textwrap
import tomllib
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from webinar.domain.agenda import ITEM_KINDS, QUESTION_KINDS, Agenda
from webinar.domain.agenda_file import AgendaFileError, AgendaProblem, parse_agenda
from webinar.domain.video import address_problem

SEED_PATH = Path(__file__).parents[2] / "agendas" / "seed.toml"
SEED_NAME = "agendas/seed.toml"
NAME = "agendas/test.toml"
TODAY = date(2020, 8, 20)
LONDON = ZoneInfo("Europe/London")

# Copied word for word from the seed event text (shared/seeds/000_321078f4b004f5df.txt).
SEED_TOPICS = (
    "When your partnership is considering a further review, are you confident that there is a "
    "flexibility of approach and an identification of a methodology best suited to expose the "
    "issues within the case?",
    "What might be the circumstances in your view when a review other than a LCSPR is warranted?",
    "In what ways would an alternative review differ from a proportionate LCSPR?",
    "Can you anticipate any difficulties in completing LCSPRs that adopt some of the different "
    "methodologies set out and still capture the voice of the practitioner and of the family?",
    "Can you anticipate any difficulties in conducting LCSPRs using a range of methodologies and "
    "then making them available through publication to the wider safeguarding system in the "
    "country?",
)
SEED_INSTRUCTION_LINES = (
    "You will now automatically be split into groups for a breakout session",
    "Each group will have twenty minutes to discuss at least two of the topics",
    "Select a Facilitator to write down responses and feedback to the main group",
    "Capture your responses to the topics in Meeting Sphere",
    "You will automatically be returned to the main session at the end of 20 minutes",
)

EVENT = """\
[event]
title = "Test webinar"
date = "2020-08-20"
timezone = "Europe/London"
"""

TWO_ITEMS = """\
[[items]]
title = "Welcome"
kind = "welcome"
start = "10:00"
end = "10:10"

[[items]]
title = "Talk"
kind = "talk"
start = "10:10"
end = "10:30"
"""


def seed_text() -> str:
    return SEED_PATH.read_text(encoding="utf-8")


def parse(text: str, name: str = NAME) -> Agenda:
    return parse_agenda(text, name, today=TODAY)


def problems(text: str, name: str = NAME) -> list[AgendaProblem]:
    with pytest.raises(AgendaFileError) as info:
        parse(text, name)
    return info.value.problems


def only_problem(text: str, name: str = NAME) -> AgendaProblem:
    found = problems(text, name)
    assert len(found) == 1, [str(problem) for problem in found]
    return found[0]


def doc(items: str = TWO_ITEMS, event: str = EVENT, extra: str = "") -> str:
    return textwrap.dedent(event) + "\n" + textwrap.dedent(items) + "\n" + textwrap.dedent(extra)


def seed_problem(old: str, new: str) -> AgendaProblem:
    text = seed_text()
    assert old in text
    return only_problem(text.replace(old, new, 1), SEED_NAME)


BREAKOUT_ITEM = """\
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
"""


# --------------------------------------------------------------------------------------------
# The seed webinar


def test_seed_parses_event() -> None:
    agenda = parse(seed_text(), SEED_NAME)
    assert agenda.title == "Child Safeguarding Practice Review Panel Webinar"
    assert agenda.organiser == "Child Safeguarding Practice Review Panel"
    assert agenda.timezone_name == "Europe/London"
    assert agenda.moderation is False
    assert agenda.source_name == SEED_NAME
    assert agenda.planned_start == datetime(2020, 8, 20, 10, 0, tzinfo=LONDON)
    assert agenda.planned_end == datetime(2020, 8, 20, 12, 30, tzinfo=LONDON)


def test_seed_items_titles_kinds_and_presenters() -> None:
    agenda = parse(seed_text(), SEED_NAME)
    assert [(item.title, item.kind, item.presenters) for item in agenda.items] == [
        ("Welcome", "welcome", ("Karen Manners QPM",)),
        ("National Review Updates", "talk", ("Dale Simon", "Peter Sidebotham", "Mark Gurrey")),
        ("Review Q&A", "qa", ()),
        ("Local Child Safeguarding Practice Reviews", "talk", ("Mark Gurrey",)),
        ("LCSPR Q&A", "qa", ()),
        ("LCSPR Breakout", "breakout", ()),
        ("Breakout Feedback", "feedback", ()),
        ("Closing remarks", "closing", ("Karen Manners QPM",)),
    ]


def test_seed_items_times_are_aware_london_times() -> None:
    agenda = parse(seed_text(), SEED_NAME)
    assert len(agenda.items) == 8
    expected = [
        ("10:00", "10:10"),
        ("10:10", "10:30"),
        ("10:30", "10:45"),
        ("10:45", "11:10"),
        ("11:10", "11:30"),
        ("11:30", "11:50"),
        ("11:50", "12:15"),
        ("12:15", "12:30"),
    ]
    assert [(f"{i.start:%H:%M}", f"{i.end:%H:%M}") for i in agenda.items] == expected
    for item in agenda.items:
        assert item.start.tzinfo == LONDON
        assert item.end.tzinfo == LONDON
        assert item.start.date() == TODAY
        assert item.start.utcoffset() == timedelta(hours=1)  # British Summer Time in August


def test_seed_ids_and_serves() -> None:
    agenda = parse(seed_text(), SEED_NAME)
    assert agenda.item("review-qa").serves == ("national-review-updates",)
    assert agenda.item("lcspr-qa").serves == ("lcspr",)
    assert agenda.item("lcspr").title == "Local Child Safeguarding Practice Reviews"
    assert agenda.index_of("closing-remarks") == 7


def test_seed_breakout_topics_word_for_word() -> None:
    breakout = parse(seed_text(), SEED_NAME).items[5].breakout
    assert breakout is not None
    assert breakout.topics == SEED_TOPICS
    assert breakout.min_topics == 2
    assert breakout.group_size == 6
    instructions = breakout.instructions
    assert [line.removeprefix("- ") for line in instructions.splitlines() if line] == list(
        SEED_INSTRUCTION_LINES
    )


def test_seed_slides_keep_the_seed_wording() -> None:
    agenda = parse(seed_text(), SEED_NAME)
    welcome, national = agenda.items[0], agenda.items[1]
    assert [slide.title for slide in welcome.slides] == [
        "First, who are we & what do we do?",
        "Reflections on Covid-19",
        "Reflections on Covid-19",
    ]
    assert "  - Changing family dynamics" in welcome.slides[2].body
    assert "- **Flexible, tailored, relationship-based approaches**" in national.slides[2].body
    assert "- Known risk factors around vulnerability don't always act as predictors" in (
        national.slides[0].body
    )
    assert len(agenda.item("lcspr").slides) == 8
    for qa_id in ("review-qa", "lcspr-qa"):
        assert agenda.item(qa_id).slides[0].body == "Please submit your questions in the Q&A forum"
    assert "MeetingSphere" not in seed_text()


def test_seed_survey_opens_at_closing_remarks() -> None:
    survey = parse(seed_text(), SEED_NAME).survey
    assert survey is not None
    assert survey.opens_at_item == "closing-remarks"
    assert survey.open_days == 14
    assert survey.anonymous is True
    kinds = [question.kind for question in survey.questions]
    assert len(kinds) == 8
    assert kinds.count("rating") == 3
    assert {"multiple", "single", "question_answered", "text"} <= set(kinds)
    overall = survey.questions[0]
    assert (overall.scale_min, overall.scale_max) == (1, 5)
    role = next(question for question in survey.questions if question.kind == "single")
    assert "Police" in role.options
    assert "Safeguarding partnership business unit" in role.options


def test_seed_date_today_is_the_day_the_caller_passes() -> None:
    # The domain reads no clock: the command line passes the real today (tests/cli).
    agenda = parse_agenda(seed_text(), SEED_NAME, today=date(2031, 5, 6))
    assert agenda.planned_start.date() == date(2031, 5, 6)


def test_docs_complete_example_parses() -> None:
    docs = (Path(__file__).parents[2] / "docs" / "agenda-format.md").read_text(encoding="utf-8")
    example = docs.split("## A complete example", 1)[1].split("```toml\n", 1)[1].split("```")[0]
    agenda = parse(example, "docs/agenda-format.md")
    assert [item.kind for item in agenda.items] == [
        "welcome",
        "talk",
        "qa",
        "break",
        "breakout",
        "closing",
    ]
    assert agenda.items[2].start == datetime(2024, 10, 15, 10, 40, tzinfo=LONDON)
    assert agenda.survey is not None
    assert agenda.survey.opens_at_item == "closing-remarks"


def test_docs_error_examples_are_real_messages() -> None:
    docs = (Path(__file__).parents[2] / "docs" / "agenda-format.md").read_text(encoding="utf-8")
    shown = docs.split("```text\n", 1)[1].split("```")[0].splitlines()
    produced = [
        str(seed_problem("min_topics = 2", "min_topics = 6")),
        str(
            seed_problem('presenters = ["Karen Manners QPM"]', 'presenter = ["Karen Manners QPM"]')
        ),
        str(seed_problem('start = "10:45"', 'start = "10:40"')),
        str(seed_problem('timezone = "Europe/London"', 'timezone = "Europe/Londn"')),
        str(only_problem('[event]\ntitle = "x"\nstart = 10:00\n', SEED_NAME)),
    ]
    assert shown == produced


# --------------------------------------------------------------------------------------------
# Valid variations


def test_start_missing_defaults_to_previous_end() -> None:
    agenda = parse(doc(TWO_ITEMS.replace('start = "10:10"\n', "")))
    assert agenda.items[1].start == datetime(2020, 8, 20, 10, 10, tzinfo=LONDON)


def test_duration_sets_the_end() -> None:
    agenda = parse(doc(TWO_ITEMS.replace('end = "10:30"', "duration = 25")))
    assert agenda.items[1].end == datetime(2020, 8, 20, 10, 35, tzinfo=LONDON)
    assert agenda.items[1].duration == timedelta(minutes=25)


def test_toml_local_times_and_dates_are_accepted() -> None:
    text = doc(
        TWO_ITEMS.replace('start = "10:00"', "start = 10:00:00"),
        EVENT.replace('"2020-08-20"', "2020-08-20"),
    )
    assert parse(text).items[0].start == datetime(2020, 8, 20, 10, 0, tzinfo=LONDON)


def test_gaps_between_items_are_allowed() -> None:
    items = TWO_ITEMS.replace('start = "10:10"', 'start = "11:00"').replace(
        'end = "10:30"', 'end = "11:30"'
    )
    agenda = parse(doc(items))
    assert agenda.items[1].start - agenda.items[0].end == timedelta(minutes=50)


def test_id_defaults_to_slug_of_title() -> None:
    agenda = parse(doc(TWO_ITEMS.replace('title = "Talk"', 'title = "Étude: Q&A, part 2!"')))
    assert [item.id for item in agenda.items] == ["welcome", "etude-q-a-part-2"]


def test_min_topics_defaults_to_topic_count_when_fewer_than_two() -> None:
    text = doc(BREAKOUT_ITEM + '[items.breakout]\ntopics = ["Only one"]\n')
    breakout = parse(text).items[1].breakout
    assert breakout is not None
    assert (breakout.min_topics, breakout.group_size) == (1, 6)


def test_survey_opens_at_first_closing_item_by_default() -> None:
    items = TWO_ITEMS.replace('kind = "talk"', 'kind = "closing"')
    extra = """\
    [survey]
    [[survey.questions]]
    code = "q1"
    text = "Comments?"
    kind = "text"
    """
    survey = parse(doc(items, extra=extra)).survey
    assert survey is not None
    assert survey.opens_at_item == "talk"
    assert survey.title == "Post-event survey"


# --------------------------------------------------------------------------------------------
# Problem and error objects


def test_problem_str_names_file_item_and_field() -> None:
    problem = AgendaProblem(SEED_NAME, 'item 6 "LCSPR Breakout"', "breakout.min_topics", "bad.")
    assert (
        str(problem)
        == 'agendas/seed.toml, item 6 "LCSPR Breakout", field breakout.min_topics: bad.'
    )
    assert str(AgendaProblem(NAME, None, None, "is empty.")) == "agendas/test.toml: is empty."


def test_error_str_joins_problems_one_per_line() -> None:
    first = AgendaProblem(NAME, None, "event", "one.")
    second = AgendaProblem(NAME, "item 1", "kind", "two.")
    error = AgendaFileError([first, second])
    assert isinstance(error, ValueError)
    assert error.problems == [first, second]
    assert str(error) == f"{first}\n{second}"


# --------------------------------------------------------------------------------------------
# One test per problem type


def test_min_topics_above_topic_count_matches_example_message() -> None:
    problem = seed_problem("min_topics = 2", "min_topics = 6")
    assert str(problem) == (
        'agendas/seed.toml, item 6 "LCSPR Breakout", field breakout.min_topics: asks for 6 '
        "topics per group but only 5 topics are listed."
    )


def test_toml_invalid_reports_line_and_column() -> None:
    problem = only_problem('[event]\ntitle = "x"\ndate = \n')
    assert problem == AgendaProblem(
        NAME, None, None, "is not valid TOML at line 3, column 8: invalid value."
    )


def test_toml_bare_time_hints_at_quotes() -> None:
    problem = only_problem("[event]\nstart = 10:00\n")
    assert problem.message == (
        "is not valid TOML at line 2, column 11: expected newline or end of document after a "
        'statement (put times in double quotes, like start = "10:30").'
    )


def test_toml_nested_too_deeply_is_a_problem() -> None:
    problem = only_problem("a = " + "[" * 5000 + "]" * 5000)
    assert problem.message == "is not valid TOML: it is nested too deeply."


def test_event_table_missing() -> None:
    problem = only_problem(doc(event=""))
    assert (problem.item, problem.field) == (None, "event")
    assert problem.message == (
        "is missing; every agenda file needs an [event] table with the title, date and time "
        "zone of the webinar."
    )


def test_event_title_missing() -> None:
    problem = only_problem(doc(event=EVENT.replace('title = "Test webinar"\n', "")))
    assert (
        str(problem)
        == "agendas/test.toml, field event.title: is missing; give the webinar a title."
    )


def test_event_title_empty() -> None:
    problem = only_problem(doc(event=EVENT.replace('"Test webinar"', '"  "')))
    assert (problem.field, problem.message) == (
        "event.title",
        "is empty; give the webinar a title.",
    )


def test_item_title_missing() -> None:
    problem = only_problem(doc(TWO_ITEMS.replace('title = "Talk"\n', "")))
    assert (
        str(problem) == "agendas/test.toml, item 2, field title: is missing; give the item a title."
    )


def test_item_title_empty() -> None:
    problem = only_problem(doc(TWO_ITEMS.replace('"Talk"', '""')))
    assert (problem.item, problem.field, problem.message) == (
        "item 2",
        "title",
        "is empty; give the item a title.",
    )


def test_kind_unknown_lists_allowed_kinds() -> None:
    problem = only_problem(doc(TWO_ITEMS.replace('"talk"', '"tlak"')))
    assert str(problem) == (
        'agendas/test.toml, item 2 "Talk", field kind: "tlak" is not a kind of item (did you '
        'mean "talk"?); use one of "welcome", "talk", "qa", "breakout", "feedback", "closing", '
        '"break".'
    )


def test_kind_missing() -> None:
    problem = only_problem(doc(TWO_ITEMS.replace('kind = "talk"\n', "")))
    assert (problem.item, problem.field) == ('item 2 "Talk"', "kind")
    assert problem.message.startswith('is missing; use one of "welcome", "talk"')


def test_time_format_bad() -> None:
    problem = only_problem(doc(TWO_ITEMS.replace('end = "10:30"', 'end = "half past ten"')))
    assert str(problem) == (
        'agendas/test.toml, item 2 "Talk", field end: should be a time like "10:30" (24-hour '
        'clock, hours:minutes), but is the text "half past ten".'
    )


def test_time_with_full_stop_gets_a_hint() -> None:
    problem = only_problem(doc(TWO_ITEMS.replace('start = "10:00"', 'start = "10.00"')))
    assert (problem.item, problem.field) == ('item 1 "Welcome"', "start")
    assert "use a colon between hours and minutes, not a full stop" in problem.message


def test_time_out_of_range() -> None:
    problem = only_problem(doc(TWO_ITEMS.replace('end = "10:30"', 'end = "24:00"')))
    assert (problem.item, problem.field) == ('item 2 "Talk"', "end")


def test_time_wrong_type() -> None:
    problem = only_problem(doc(TWO_ITEMS.replace('end = "10:30"', "end = 1030")))
    assert problem.message == (
        'should be a time in double quotes, like "10:30", but is the number 1030.'
    )


def test_end_before_start() -> None:
    problem = only_problem(doc(TWO_ITEMS.replace('end = "10:30"', 'end = "10:05"')))
    assert str(problem) == (
        'agendas/test.toml, item 2 "Talk", field end: is 10:05, which is not after the start '
        "time 10:10."
    )


def test_end_equal_to_start() -> None:
    problem = only_problem(doc(TWO_ITEMS.replace('end = "10:30"', 'end = "10:10"')))
    assert (problem.item, problem.field, problem.message) == (
        'item 2 "Talk"',
        "end",
        "is 10:10, which is not after the start time 10:10.",
    )


def test_end_and_duration_both_given() -> None:
    problem = only_problem(doc(TWO_ITEMS.replace('end = "10:30"', 'end = "10:30"\nduration = 20')))
    assert (problem.item, problem.field, problem.message) == (
        'item 2 "Talk"',
        "end",
        "is given together with duration; give only one of the two.",
    )


def test_end_and_duration_both_missing() -> None:
    problem = only_problem(doc(TWO_ITEMS.replace('end = "10:30"\n', "")))
    assert (problem.item, problem.field) == ('item 2 "Talk"', "end")
    assert problem.message == (
        'is missing; give either an end time, like end = "10:30", or a length in minutes, like '
        "duration = 20."
    )


def test_duration_not_positive() -> None:
    problem = only_problem(doc(TWO_ITEMS.replace('end = "10:30"', "duration = 0")))
    assert (problem.field, problem.message) == ("duration", "should be at least 1, but is 0.")


def test_start_missing_on_first_item() -> None:
    problem = only_problem(doc(TWO_ITEMS.replace('start = "10:00"\n', "")))
    assert (problem.item, problem.field) == ('item 1 "Welcome"', "start")


def test_items_overlapping_names_both_items_and_times() -> None:
    problem = only_problem(doc(TWO_ITEMS.replace('start = "10:10"', 'start = "10:05"')))
    assert str(problem) == (
        'agendas/test.toml, item 2 "Talk", field start: makes this item (10:05 to 10:30) '
        'overlap item 1 "Welcome" (10:00 to 10:10); an item can only start when the one before '
        "it has ended."
    )


def test_items_out_of_order() -> None:
    items = TWO_ITEMS.replace('start = "10:10"', 'start = "09:00"').replace(
        'end = "10:30"', 'end = "09:30"'
    )
    problem = only_problem(doc(items))
    assert str(problem) == (
        'agendas/test.toml, item 2 "Talk", field start: is 09:00, before item 1 "Welcome", which '
        "comes earlier in the file but starts at 10:00; list the items in the order they happen."
    )


def test_ids_duplicate_given() -> None:
    items = TWO_ITEMS.replace('title = "Talk"', 'title = "Talk"\nid = "welcome"')
    problem = only_problem(doc(items))
    assert (problem.item, problem.field, problem.message) == (
        'item 2 "Talk"',
        "id",
        'is "welcome", which item 1 "Welcome" already uses; give each item its own id.',
    )


def test_ids_duplicate_from_titles() -> None:
    problem = only_problem(doc(TWO_ITEMS.replace('title = "Talk"', 'title = "welcome!"')))
    assert (problem.item, problem.field) == ('item 2 "welcome!"', "id")
    assert 'add a line like id = "welcome-2"' in problem.message


def test_id_bad_characters() -> None:
    problem = only_problem(
        doc(TWO_ITEMS.replace('title = "Talk"', 'title = "Talk"\nid = "My Talk"'))
    )
    assert str(problem) == (
        'agendas/test.toml, item 2 "Talk", field id: is "My Talk", but an id may only use '
        'lower-case letters a-z, digits and hyphens, like "my-talk".'
    )


def test_timezone_unknown_suggests_close_name() -> None:
    problem = only_problem(doc(event=EVENT.replace("Europe/London", "Europe/Londn")))
    assert str(problem) == (
        'agendas/test.toml, field event.timezone: "Europe/Londn" is not a known time zone; '
        'did you mean "Europe/London"?'
    )


def test_timezone_unknown_without_suggestion() -> None:
    problem = only_problem(doc(event=EVENT.replace("Europe/London", "../../etc/passwd")))
    assert problem.field == "event.timezone"
    assert problem.message.startswith('"../../etc/passwd" is not a known time zone')


def test_date_not_in_calendar() -> None:
    problem = only_problem(doc(event=EVENT.replace("2020-08-20", "2020-02-30")))
    assert str(problem) == (
        'agendas/test.toml, field event.date: is "2020-02-30", which is not a day in the calendar.'
    )


def test_date_bad_format() -> None:
    problem = only_problem(doc(event=EVENT.replace("2020-08-20", "20 August 2020")))
    assert (problem.item, problem.field) == (None, "event.date")
    assert problem.message == (
        'should be a day written year-month-day, like date = "2020-08-20", or date = "today", '
        'but is the text "20 August 2020".'
    )


def test_date_missing() -> None:
    problem = only_problem(doc(event=EVENT.replace('date = "2020-08-20"\n', "")))
    assert (problem.item, problem.field) == (None, "event.date")


def test_breakout_without_breakout_table() -> None:
    problem = only_problem(doc(BREAKOUT_ITEM))
    assert str(problem) == (
        'agendas/test.toml, item 2 "Groups", field breakout: is missing; a breakout item needs '
        "an [items.breakout] table listing its topics."
    )


def test_breakout_without_topics() -> None:
    problem = only_problem(doc(BREAKOUT_ITEM + "[items.breakout]\ngroup_size = 4\n"))
    assert (problem.item, problem.field) == ('item 2 "Groups"', "breakout.topics")
    assert problem.message.startswith("is missing; list the topics")


def test_breakout_topics_empty() -> None:
    problem = only_problem(doc(BREAKOUT_ITEM + "[items.breakout]\ntopics = []\n"))
    assert (problem.field, problem.message) == (
        "breakout.topics",
        "is empty; list at least one topic for the groups.",
    )


def test_breakout_topics_duplicate_or_blank() -> None:
    found = problems(doc(BREAKOUT_ITEM + '[items.breakout]\ntopics = ["A", " ", "A"]\n'))
    assert [(p.field, p.message) for p in found] == [
        ("breakout.topics", "topic 2 is empty."),
    ]
    problem = only_problem(doc(BREAKOUT_ITEM + '[items.breakout]\ntopics = ["A", "B", "A"]\n'))
    assert problem.message == 'topic 3 "A" is listed twice.'


def test_breakout_group_size_below_two() -> None:
    problem = seed_problem("group_size = 6", "group_size = 1")
    assert str(problem) == (
        'agendas/seed.toml, item 6 "LCSPR Breakout", field breakout.group_size: should be at '
        "least 2, but is 1."
    )


def test_breakout_group_size_wrong_type() -> None:
    problem = seed_problem("group_size = 6", 'group_size = "six"')
    assert str(problem) == (
        'agendas/seed.toml, item 6 "LCSPR Breakout", field breakout.group_size: should be a '
        'whole number, like group_size = 6, but is the text "six".'
    )


def test_breakout_table_on_non_breakout_item() -> None:
    items = TWO_ITEMS + '[items.breakout]\ntopics = ["A"]\n'
    problem = only_problem(doc(items))
    assert str(problem) == (
        'agendas/test.toml, item 2 "Talk", field breakout: is only allowed on breakout items '
        '(kind = "breakout"), but this item is a "talk" item.'
    )


def test_breakout_video_url_must_be_web_address() -> None:
    text = doc(
        BREAKOUT_ITEM + '[items.breakout]\ntopics = ["A"]\nvideo_url_template = "x{group}"\n'
    )
    problem = only_problem(text)
    assert (problem.item, problem.field) == ('item 2 "Groups"', "breakout.video_url_template")


QA_ITEMS = (
    TWO_ITEMS
    + """
[[items]]
title = "Questions"
kind = "qa"
start = "10:30"
end = "10:45"
serves = [SERVES]

[[items]]
title = "Later talk"
kind = "talk"
start = "10:45"
end = "11:00"
"""
)


def serves_problem(serves: str) -> AgendaProblem:
    return only_problem(doc(QA_ITEMS.replace("SERVES", serves)))


def test_serves_valid_talk() -> None:
    agenda = parse(doc(QA_ITEMS.replace("SERVES", '"talk"')))
    assert agenda.items[2].serves == ("talk",)


def test_serves_unknown_item() -> None:
    problem = serves_problem('"tallk"')
    assert str(problem) == (
        'agendas/test.toml, item 3 "Questions", field serves: names "tallk", but no item has '
        'that id; did you mean "talk"?'
    )


def test_serves_later_item() -> None:
    problem = serves_problem('"later-talk"')
    assert (problem.item, problem.field, problem.message) == (
        'item 3 "Questions"',
        "serves",
        'names "later-talk" (item 4 "Later talk"), which does not come before this item; a Q&A '
        "can only answer talks that come before it.",
    )


def test_serves_non_talk() -> None:
    problem = serves_problem('"welcome"')
    assert problem.message == (
        'names "welcome" (item 1 "Welcome"), which is a "welcome" item, not a talk (kind = "talk").'
    )


def test_serves_on_non_qa_item() -> None:
    problem = only_problem(doc(TWO_ITEMS + 'serves = ["welcome"]\n'))
    assert (problem.item, problem.field, problem.message) == (
        'item 2 "Talk"',
        "serves",
        'is only allowed on Q&A items (kind = "qa"), but this item is a "talk" item.',
    )


def test_items_missing() -> None:
    problem = only_problem(doc(items=""))
    assert (problem.item, problem.field) == (None, "items")
    assert problem.message == (
        "is missing; an agenda needs at least one item, started by [[items]]."
    )


def test_items_empty_list() -> None:
    problem = only_problem(doc(items="", event="items = []\n" + EVENT))
    assert (problem.field, problem.message) == (
        "items",
        "is empty; an agenda needs at least one item, started by [[items]].",
    )


def test_items_single_brackets() -> None:
    problem = only_problem(doc(items='[items]\ntitle = "x"\n'))
    assert problem.field == "items"
    assert "double square brackets" in problem.message


# --------------------------------------------------------------------------------------------
# Unknown keys and wrong types


def test_unknown_key_suggests_close_match() -> None:
    problem = seed_problem('title = "Welcome"', 'title = "Welcome"\ntitel = "Welcome"')
    assert str(problem) == (
        'agendas/seed.toml, item 1 "Welcome", field titel: is not a known setting; did you mean '
        '"title"?'
    )


def test_unknown_key_in_event_suggests_british_spelling() -> None:
    problem = only_problem(doc(event=EVENT + 'organizer = "Panel"\n'))
    assert (problem.field, problem.message) == (
        "event.organizer",
        'is not a known setting; did you mean "organiser"?',
    )


def test_unknown_key_without_close_match_lists_allowed() -> None:
    problem = only_problem(doc(event=EVENT + "zzz = 1\n"))
    assert problem.message == (
        "is not a known setting; the settings allowed here are title, date, timezone, "
        "organiser, description, moderation."
    )


def test_unknown_key_belonging_to_breakout_table() -> None:
    problem = only_problem(doc(TWO_ITEMS + "group_size = 4\n"))
    assert (problem.item, problem.field, problem.message) == (
        'item 2 "Talk"',
        "group_size",
        "is not a setting here; it belongs in the item's [items.breakout] table.",
    )


def test_unknown_key_in_slide_belonging_to_item() -> None:
    items = TWO_ITEMS.replace('end = "10:30"', '[[items.slides]]\ntitle = "One"\nend = "10:30"')
    found = problems(doc(items))
    assert [(p.item, p.field) for p in found] == [
        ('item 2 "Talk"', "end"),
        ('item 2 "Talk"', "slides[1].end"),
    ]


def test_unknown_top_level_key() -> None:
    problem = only_problem(doc(extra="[servey]\n"))
    assert (problem.item, problem.field, problem.message) == (
        None,
        "servey",
        'is not a known setting; did you mean "survey"?',
    )


def test_wrong_type_boolean() -> None:
    problem = only_problem(doc(event=EVENT + 'moderation = "yes"\n'))
    assert (problem.field, problem.message) == (
        "event.moderation",
        'should be true or false (no quotes), but is the text "yes".',
    )


def test_wrong_type_presenters_single_text() -> None:
    problem = only_problem(doc(TWO_ITEMS + 'presenters = "Mark Gurrey"\n'))
    assert (problem.item, problem.field) == ('item 2 "Talk"', "presenters")
    assert problem.message == (
        'should be a list in square brackets, like presenters = ["Ann Smith"], but is a single '
        "text; put square brackets around it."
    )


def test_wrong_type_duration_text() -> None:
    problem = only_problem(doc(TWO_ITEMS.replace('end = "10:30"', 'duration = "20"')))
    assert problem.message == (
        'should be a whole number, like duration = 20 (minutes), but is the text "20".'
    )


def test_wrong_type_boolean_is_not_a_number() -> None:
    problem = seed_problem("group_size = 6", "group_size = true")
    assert problem.message == "should be a whole number, like group_size = 6, but is true."


def test_wrong_type_event_not_a_table() -> None:
    problem = only_problem('event = "x"\n' + TWO_ITEMS)
    assert (problem.field, problem.message) == (
        "event",
        'should be a table, started by a line [event], but is the text "x".',
    )


# --------------------------------------------------------------------------------------------
# Survey problems

QUESTION = """\
[survey]
[[survey.questions]]
code = "q1"
text = "How was it?"
"""


def survey_problem(question_lines: str) -> AgendaProblem:
    items = TWO_ITEMS.replace('kind = "talk"', 'kind = "closing"')
    return only_problem(doc(items, extra=QUESTION + textwrap.dedent(question_lines)))


def test_survey_single_without_options() -> None:
    problem = survey_problem('kind = "single"\n')
    assert str(problem) == (
        'agendas/test.toml, survey question 1 "q1", field options: is missing; a "single" '
        'question needs at least two options to choose from, like options = ["Yes", "No"].'
    )


def test_survey_options_too_few() -> None:
    problem = survey_problem('kind = "multiple"\noptions = ["Only"]\n')
    assert (problem.field, problem.message) == (
        "options",
        "lists 1 option; give at least two to choose from.",
    )


def test_survey_options_duplicate() -> None:
    problem = survey_problem('kind = "single"\noptions = ["Yes", "No", "Yes"]\n')
    assert (problem.field, problem.message) == ("options", 'option 3 "Yes" is listed twice.')


def test_survey_options_on_rating() -> None:
    problem = survey_problem('kind = "rating"\noptions = ["a", "b"]\n')
    assert (problem.item, problem.field, problem.message) == (
        'survey question 1 "q1"',
        "options",
        'is only used by "single" and "multiple" questions, but this question is a "rating" '
        "question.",
    )


def test_survey_scale_on_text_question() -> None:
    problem = survey_problem('kind = "text"\nscale_max = 7\n')
    assert (problem.field, problem.message) == (
        "scale_max",
        'is only used by "rating" questions, but this question is a "text" question.',
    )


def test_survey_scale_min_not_below_max() -> None:
    problem = survey_problem('kind = "rating"\nscale_min = 5\nscale_max = 5\n')
    assert (problem.field, problem.message) == (
        "scale_max",
        "makes the scale run from 5 to 5; scale_min must be smaller than scale_max.",
    )


def test_survey_scale_span_too_wide() -> None:
    problem = survey_problem('kind = "rating"\nscale_min = 0\nscale_max = 11\n')
    assert (problem.field, problem.message) == (
        "scale_max",
        "makes the scale run from 0 to 11; a rating scale may span at most 10 steps.",
    )


def test_survey_scale_span_of_ten_is_allowed() -> None:
    items = TWO_ITEMS.replace('kind = "talk"', 'kind = "closing"')
    extra = QUESTION + 'kind = "rating"\nscale_min = 0\nscale_max = 10\n'
    survey = parse(doc(items, extra=extra)).survey
    assert survey is not None
    assert (survey.questions[0].scale_min, survey.questions[0].scale_max) == (0, 10)


def test_survey_question_kind_unknown() -> None:
    problem = survey_problem('kind = "ratings"\n')
    assert (problem.field, problem.message) == (
        "kind",
        '"ratings" is not a kind of question (did you mean "rating"?); use one of "rating", '
        '"single", "multiple", "text", "question_answered".',
    )


def test_survey_code_bad_characters() -> None:
    items = TWO_ITEMS.replace('kind = "talk"', 'kind = "closing"')
    extra = QUESTION.replace('"q1"', '"Q-1"') + 'kind = "text"\n'
    found = only_problem(doc(items, extra=extra))
    assert (found.item, found.field) == ('survey question 1 "Q-1"', "code")


def test_survey_code_duplicate() -> None:
    items = TWO_ITEMS.replace('kind = "talk"', 'kind = "closing"')
    extra = QUESTION + 'kind = "text"\n' + QUESTION.replace("[survey]\n", "") + 'kind = "text"\n'
    problem = only_problem(doc(items, extra=extra))
    assert (problem.item, problem.field, problem.message) == (
        'survey question 2 "q1"',
        "code",
        'is "q1", which survey question 1 "q1" already uses; codes must differ.',
    )


def test_survey_opens_at_item_unknown() -> None:
    problem = seed_problem('opens_at_item = "closing-remarks"', 'opens_at_item = "closing"')
    assert str(problem) == (
        'agendas/seed.toml, field survey.opens_at_item: names "closing", but no item has that '
        'id; did you mean "closing-remarks"?'
    )


def test_survey_without_closing_item_needs_opens_at_item() -> None:
    problem = only_problem(doc(extra=QUESTION + 'kind = "text"\n'))
    assert (problem.item, problem.field) == (None, "survey.opens_at_item")


def test_survey_without_questions() -> None:
    items = TWO_ITEMS.replace('kind = "talk"', 'kind = "closing"')
    problem = only_problem(doc(items, extra="[survey]\n"))
    assert (problem.field, problem.message) == (
        "survey.questions",
        "is missing; a survey needs at least one question, started by [[survey.questions]].",
    )


# --------------------------------------------------------------------------------------------
# Several problems at once


def test_several_problems_reported_together() -> None:
    text = (
        seed_text()
        .replace('timezone = "Europe/London"', 'timezone = "Europe/Londn"')
        .replace('title = "Welcome"', 'titel = "Welcome"')
        .replace('end = "10:30"', 'end = "10:05"')
        .replace("group_size = 6", 'group_size = "six"')
        .replace('serves = ["lcspr"]', 'serves = ["nope"]')
        .replace('kind = "single"', 'kind = "singel"')
    )
    found = problems(text, SEED_NAME)
    assert [(p.item, p.field) for p in found] == [
        (None, "event.timezone"),
        ("item 1", "titel"),
        ("item 1", "title"),
        ('item 2 "National Review Updates"', "end"),
        ('item 5 "LCSPR Q&A"', "serves"),
        ('item 6 "LCSPR Breakout"', "breakout.group_size"),
        ('survey question 5 "role"', "kind"),
    ]
    assert str(found[3]) in str(AgendaFileError(found)).splitlines()


# --------------------------------------------------------------------------------------------
# Fuzzing: nothing but AgendaFileError ever escapes

_NO_SURROGATES = st.characters(exclude_categories=["Cs"])


def toml_string(text: str) -> str:
    out = []
    for char in text:
        if char in '"\\':
            out.append("\\" + char)
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(entry) for entry in value) + "]"
    assert isinstance(value, dict)
    pairs = (f"{toml_string(key)} = {toml_value(entry)}" for key, entry in value.items())
    return "{" + ", ".join(pairs) + "}"


def toml_document(data: dict[str, Any]) -> str:
    return "".join(f"{toml_string(key)} = {toml_value(value)}\n" for key, value in data.items())


SCALARS = st.one_of(
    st.sampled_from(["today", "2020-08-20", "Europe/London", "10:00", "talk", "rating", "a"]),
    st.text(alphabet=_NO_SURROGATES, max_size=12),
    st.integers(min_value=-3, max_value=30),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.dates(),
    st.times(),
    st.datetimes(),
)
KEYS = st.text(alphabet=_NO_SURROGATES, max_size=8)
ANYTHING = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=3),
    max_leaves=8,
)


def mostly(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``strategy`` nine times in ten, anything at all otherwise."""
    return st.integers(0, 9).flatmap(lambda n: ANYTHING if n == 0 else strategy)


def table_of(
    required: dict[str, st.SearchStrategy[Any]],
    optional: dict[str, st.SearchStrategy[Any]] | None = None,
) -> st.SearchStrategy[dict[str, Any]]:
    """Tables close to the format: mostly plausible values, now and then noise or a stray key."""
    stray = st.integers(0, 9).flatmap(
        lambda n: st.dictionaries(KEYS, ANYTHING, min_size=1, max_size=1) if n == 0 else st.just({})
    )
    known = st.fixed_dictionaries(
        {key: mostly(strategy) for key, strategy in required.items()},
        optional={key: mostly(strategy) for key, strategy in (optional or {}).items()},
    )
    return st.builds(lambda known, stray: {**stray, **known}, known, stray)


TITLES = st.sampled_from(["Welcome", "Talk", "Q&A", "Closing", "welcome", " ", ""])
TEXTS = st.lists(st.sampled_from(["A", "B", "C", " "]) | st.text(max_size=3), max_size=4)
IDS = st.sampled_from(["welcome", "talk", "q-a", "closing", "a", "Bad Id"])
TIMES = st.sampled_from(["09:00", "10:00", "10:10", "10:30", "11:00", "24:00", "10.00"])
SLIDE = table_of({"title": TITLES}, {"body": st.text(max_size=5)})
ADDRESSES = st.sampled_from(
    ["https://m.example", "http://127.0.0.1:9/s", "http://m.example", "javascript:x", "https://"]
)
STAGE = table_of(
    {"kind": st.sampled_from(["youtube", "hls", "teams", "twitch"]), "url": ADDRESSES},
    {"title": st.text(max_size=5), "captions": ADDRESSES},
)
CALL = table_of(
    {"provider": st.sampled_from(["jitsi", "bbb", "link", "skype"]), "url": ADDRESSES},
    {"secret": st.text(max_size=5)},
)
BREAKOUT = table_of(
    {"topics": TEXTS},
    {
        "group_size": st.integers(-1, 8),
        "min_topics": st.integers(-1, 5),
        "instructions": st.text(max_size=5),
        "grace_seconds": st.integers(-1, 100),
        "warning_seconds": st.integers(-1, 100),
        "volunteer_seconds": st.integers(-1, 100),
        "video_url_template": st.sampled_from(["https://v.example/{group}", "javascript:x"]),
        "call": CALL,
    },
)
ITEM = table_of(
    {"title": TITLES, "kind": st.sampled_from([*ITEM_KINDS, "tlak"])},
    {
        "id": IDS,
        "start": TIMES | st.times(),
        "end": TIMES,
        "duration": st.integers(-1, 2000),
        "presenters": TEXTS,
        "summary": st.text(max_size=5),
        "serves": st.lists(IDS, max_size=3),
        "slides": st.lists(SLIDE, max_size=2),
        "breakout": BREAKOUT,
        "stage": STAGE | st.booleans(),
    },
)
QUESTION_TABLE = table_of(
    {
        "code": st.sampled_from(["q1", "q2", "Q 3"]),
        "text": st.sampled_from(["How was it?", ""]),
        "kind": st.sampled_from([*QUESTION_KINDS, "ratings"]),
    },
    {
        "required": st.booleans(),
        "options": TEXTS,
        "scale_min": st.integers(-200, 12),
        "scale_max": st.integers(-2, 200),
        "scale_min_label": st.text(max_size=3),
        "scale_max_label": st.text(max_size=3),
    },
)
EVENT_TABLE = table_of(
    {
        "title": TITLES,
        "date": st.sampled_from(["today", "2020-08-20", "2020-02-30", "1900-01-01"]) | st.dates(),
        "timezone": st.sampled_from(["Europe/London", "UTC", "Europe/Londn", "Europe", ".."]),
    },
    {
        "organiser": st.text(max_size=5),
        "description": st.text(max_size=5),
        "moderation": st.booleans(),
    },
)
SURVEY_TABLE = table_of(
    {"questions": st.lists(QUESTION_TABLE, max_size=3)},
    {
        "title": TITLES,
        "opens_at_item": IDS,
        "open_days": st.integers(-1, 400),
        "anonymous": st.booleans(),
    },
)
DOCUMENTS = table_of(
    {"event": EVENT_TABLE, "items": st.lists(ITEM, min_size=1, max_size=4)},
    {"survey": SURVEY_TABLE, "stage": STAGE},
)
TOML_LINES = st.sampled_from(
    [
        "[event]",
        "[[items]]",
        "[items.breakout]",
        "[[items.slides]]",
        "[survey]",
        "[[survey.questions]]",
        'title = "x"',
        'date = "today"',
        'timezone = "UTC"',
        'kind = "talk"',
        'kind = "breakout"',
        'start = "10:00"',
        'end = "10:30"',
        "duration = 5",
        'topics = ["a"]',
        "start = 10:00",
        '"""',
        "[",
        "=",
        "#",
        "\\",
    ]
)

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def assert_only_agenda_errors(text: str) -> Agenda | None:
    try:
        return parse_agenda(text, NAME, today=TODAY)
    except AgendaFileError as error:
        assert error.problems
        for problem in error.problems:
            assert problem.file == NAME
            assert "internal error" not in problem.message, problem
            assert str(problem).startswith(NAME)
        return None


def check_invariants(agenda: Agenda) -> None:
    assert agenda.items
    ids = [item.id for item in agenda.items]
    assert len(ids) == len(set(ids))
    for before, after in zip(agenda.items, agenda.items[1:], strict=False):
        assert before.end <= after.start
    for stage in agenda.stages():  # only addresses that may be embedded get through
        assert address_problem(stage.url, "https://x") is None
    for item in agenda.items:
        assert item.start < item.end
        assert item.start.tzinfo is not None
        assert (item.breakout is not None) == (item.kind == "breakout")
        if item.breakout is not None:
            assert 1 <= item.breakout.min_topics <= len(item.breakout.topics)
    if agenda.survey is not None:
        assert agenda.has_item(agenda.survey.opens_at_item)


@FUZZ
@given(st.text())
def test_fuzz_arbitrary_text_raises_only_agenda_file_error(text: str) -> None:
    assert_only_agenda_errors(text)


@FUZZ
@given(st.lists(TOML_LINES | st.text(max_size=6), max_size=12))
def test_fuzz_toml_like_lines_raise_only_agenda_file_error(lines: list[str]) -> None:
    assert_only_agenda_errors("\n".join(lines))


@FUZZ
@given(st.dictionaries(KEYS, ANYTHING, max_size=4))
def test_fuzz_random_toml_documents_raise_only_agenda_file_error(data: dict[str, Any]) -> None:
    text = toml_document(data)
    assert tomllib.loads(text) == data
    assert_only_agenda_errors(text)


@FUZZ
@given(DOCUMENTS)
def test_fuzz_agenda_shaped_documents_raise_only_agenda_file_error(data: dict[str, Any]) -> None:
    text = toml_document(data)
    assert tomllib.loads(text) == data
    agenda = assert_only_agenda_errors(text)
    if agenda is not None:
        check_invariants(agenda)


SEED_DATA: dict[str, Any] = tomllib.loads(seed_text())
REPLACEMENTS = st.one_of(
    ANYTHING,
    TIMES,
    IDS,
    TITLES,
    st.integers(-2, 12),
    st.sampled_from([*ITEM_KINDS, *QUESTION_KINDS]),
)


def containers(value: Any) -> list[tuple[Any, Any]]:
    """Every (container, key) pair inside ``value``, depth first."""
    found: list[tuple[Any, Any]] = []
    if isinstance(value, dict):
        for key, entry in value.items():
            found.append((value, key))
            found.extend(containers(entry))
    elif isinstance(value, list):
        for index, entry in enumerate(value):
            found.append((value, index))
            found.extend(containers(entry))
    return found


@FUZZ
@given(st.data())
def test_fuzz_mutated_seed_raises_only_agenda_file_error(data: st.DataObject) -> None:
    document = copy.deepcopy(SEED_DATA)
    for _ in range(data.draw(st.integers(0, 3), label="mutations")):
        places = containers(document)
        if not places:
            break
        container, key = data.draw(st.sampled_from(places), label="place")
        action = data.draw(st.sampled_from(["delete", "replace", "stray"]), label="action")
        if action == "delete":
            del container[key]
        elif action == "replace":
            container[key] = data.draw(REPLACEMENTS, label="value")
        elif isinstance(container, dict):
            container[data.draw(KEYS, label="key")] = data.draw(REPLACEMENTS, label="value")
    text = toml_document(document)
    assert tomllib.loads(text) == document
    agenda = assert_only_agenda_errors(text)
    if agenda is not None:
        check_invariants(agenda)


def test_fuzz_strategy_reaches_valid_agendas() -> None:
    """The agenda-shaped strategy is close enough to the format to produce valid agendas."""
    data = {
        "event": {"title": "a", "date": "today", "timezone": "UTC"},
        "items": [{"title": "a", "kind": "talk", "start": "10:00", "duration": 5}],
    }
    agenda = assert_only_agenda_errors(toml_document(data))
    assert agenda is not None
    check_invariants(agenda)
