"""Tests of the post-event survey rules: answer checking, results, group breakdown, charts.

Pure domain code; the survey below mirrors the question kinds of ``agendas/seed.toml``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path

import pytest

from webinar.domain.agenda import Survey, SurveyQuestion
from webinar.domain.agenda_file import parse_agenda
from webinar.domain.survey import (
    QUESTION_ANSWERED_OPTIONS,
    TEXT_MAX_LENGTH,
    Answer,
    GroupSummary,
    OptionCount,
    QuestionSummary,
    SurveyError,
    clean_answers,
    split_by_group,
    summarise,
)

pytestmark = pytest.mark.unit

SEED_AGENDA = Path(__file__).parents[2] / "agendas" / "seed.toml"

SESSIONS = (
    "Welcome and reflections on Covid-19",
    "National Review Updates",
    "Review Q&A",
    "Local Child Safeguarding Practice Reviews",
    "LCSPR Q&A",
    "LCSPR Breakout",
    "Breakout Feedback",
)
SECTORS = (
    "Local authority children's services",
    "Police",
    "Health",
    "Education",
    "Safeguarding partnership business unit",
    "Other",
)

SURVEY = Survey(
    questions=(
        SurveyQuestion(
            code="overall",
            text="Overall, how would you rate today's webinar?",
            kind="rating",
            required=True,
            scale_min=1,
            scale_max=5,
            scale_min_label="Poor",
            scale_max_label="Excellent",
        ),
        SurveyQuestion(
            code="national_reviews_useful",
            text="How useful were the National Review Updates?",
            kind="rating",
            scale_min_label="Not useful",
            scale_max_label="Very useful",
        ),
        SurveyQuestion(
            code="lcspr_breakout_useful",
            text="How useful was the LCSPR breakout discussion?",
            kind="rating",
            scale_min_label="Not useful",
            scale_max_label="Very useful",
        ),
        SurveyQuestion(
            code="most_useful_sessions",
            text="Which sessions did you find most useful?",
            kind="multiple",
            options=SESSIONS,
        ),
        SurveyQuestion(
            code="role", text="Which sector do you work in?", kind="single", options=SECTORS
        ),
        SurveyQuestion(
            code="question_answered",
            text="If you asked a question, was it answered?",
            kind="question_answered",
        ),
        SurveyQuestion(
            code="cover_next",
            text="What should the Panel cover in future webinars?",
            kind="text",
        ),
        SurveyQuestion(code="comments", text="Any other comments?", kind="text"),
    )
)

#: A survey where several questions are required, for the "missing" messages.
STRICT = Survey(
    questions=(
        SurveyQuestion(code="a", text="First?", kind="rating", required=True),
        SurveyQuestion(
            code="b", text="Second?", kind="single", required=True, options=("Yes", "No")
        ),
        SurveyQuestion(code="c", text="Third?", kind="text", required=True),
        SurveyQuestion(
            code="asked", text="Was it answered?", kind="question_answered", required=True
        ),
    )
)

LONG_TEXT = "How would you rate the facilitation of the breakout group you were placed in today?"
LONG = Survey(
    questions=(
        SurveyQuestion(code="long", text=LONG_TEXT, kind="rating", scale_min=0, scale_max=10),
    )
)
LONG_REF = 'Question 1 ("How would you rate the facilitation of the breakout group...")'


def clean(
    raw: Mapping[str, object], *, asked: bool = True, final: bool = False
) -> dict[str, Answer]:
    return clean_answers(SURVEY, raw, asked_question=asked, final=final)


def refused(
    raw: Mapping[str, object],
    *,
    survey: Survey = SURVEY,
    asked: bool = True,
    final: bool = False,
) -> SurveyError:
    with pytest.raises(SurveyError) as caught:
        clean_answers(survey, raw, asked_question=asked, final=final)
    return caught.value


def by_code(summaries: list[QuestionSummary]) -> dict[str, QuestionSummary]:
    return {summary.code: summary for summary in summaries}


# --------------------------------------------------------------------------- the test survey


def test_test_survey_mirrors_seed_question_kinds() -> None:
    agenda = parse_agenda(
        SEED_AGENDA.read_text(encoding="utf-8"), str(SEED_AGENDA), today=date(2026, 11, 1)
    )
    assert agenda.survey is not None

    seed = agenda.survey.questions

    assert seed == SURVEY.questions


# --------------------------------------------------------------------------- clean_answers


def test_clean_answers_form_strings_become_typed_answers() -> None:
    raw = {
        "overall": "4",
        "national_reviews_useful": " 5 ",
        "most_useful_sessions": ["LCSPR Q&A", "Review Q&A"],
        "role": "Police",
        "question_answered": "Partly",
        "cover_next": "  Neglect.\r\nAnd drift.  ",
        "comments": "Thanks",
    }

    result = clean(raw, final=True)

    assert result == {
        "overall": 4,
        "national_reviews_useful": 5,
        "most_useful_sessions": ["Review Q&A", "LCSPR Q&A"],
        "role": "Police",
        "question_answered": "Partly",
        "cover_next": "Neglect.\nAnd drift.",
        "comments": "Thanks",
    }


def test_clean_answers_json_ints_and_lists_are_accepted() -> None:
    raw: dict[str, object] = {"overall": 3, "national_reviews_useful": 2.0, "role": ["Health"]}

    result = clean(raw)

    assert result == {"overall": 3, "national_reviews_useful": 2, "role": "Health"}


def test_clean_answers_result_follows_question_order() -> None:
    raw = {"comments": "Fine", "role": "Other", "overall": "1"}

    result = clean(raw)

    assert list(result) == ["overall", "role", "comments"]


def test_clean_answers_multiple_single_string_is_one_tick() -> None:
    result = clean({"most_useful_sessions": "LCSPR Breakout"})

    assert result == {"most_useful_sessions": ["LCSPR Breakout"]}


def test_clean_answers_multiple_duplicates_removed_in_option_order() -> None:
    raw = {"most_useful_sessions": ["Breakout Feedback", "Review Q&A", "Breakout Feedback", ""]}

    result = clean(raw)

    assert result == {"most_useful_sessions": ["Review Q&A", "Breakout Feedback"]}


def test_clean_answers_option_case_differs_matches_option() -> None:
    result = clean({"role": "police", "question_answered": "yes"})

    assert result == {"role": "Police", "question_answered": "Yes"}


def test_clean_answers_empty_values_are_dropped() -> None:
    raw: dict[str, object] = {
        "overall": "",
        "national_reviews_useful": None,
        "most_useful_sessions": [],
        "role": "   ",
        "question_answered": [""],
        "comments": "\n",
    }

    result = clean(raw)

    assert result == {}


def test_clean_answers_unknown_code_names_the_code() -> None:
    error = refused({"overall": "4", "favourite_colour": "blue"})

    assert (error.field, str(error)) == (
        "favourite_colour",
        'This survey has no question "favourite_colour".',
    )


def test_clean_answers_non_string_key_is_refused() -> None:
    error = refused({7: "4"})  # type: ignore[dict-item]

    assert (error.field, str(error)) == (
        None,
        "The answers could not be read; please send the form again.",
    )


def test_clean_answers_rating_above_scale_names_question_and_range() -> None:
    error = refused({"overall": "6"})

    assert (error.field, str(error)) == (
        "overall",
        'Question 1 ("Overall, how would you rate today\'s webinar?") takes a whole number '
        "from 1 (Poor) to 5 (Excellent).",
    )


@pytest.mark.parametrize("value", ["0", 0, -1, "four", "3.5", 3.5, True, "1e3", float("nan")])
def test_clean_answers_rating_not_on_scale_is_refused(value: object) -> None:
    raw = {"national_reviews_useful": value}

    error = refused(raw)

    assert (error.field, str(error)) == (
        "national_reviews_useful",
        'Question 2 ("How useful were the National Review Updates?") takes a whole number '
        "from 1 (Not useful) to 5 (Very useful).",
    )


def test_clean_answers_rating_long_question_text_is_shortened_to_60() -> None:
    error = refused({"long": "11"}, survey=LONG)

    assert str(error) == f"{LONG_REF} takes a whole number from 0 to 10."


def test_clean_answers_rating_huge_digit_string_is_refused() -> None:
    error = refused({"overall": "9" * 5000})

    assert error.field == "overall"


def test_clean_answers_rating_two_values_is_refused() -> None:
    error = refused({"overall": ["4", "5"]})

    assert str(error) == (
        'Question 1 ("Overall, how would you rate today\'s webinar?") takes one answer, '
        "but 2 were given."
    )


def test_clean_answers_unknown_single_option_quotes_it_and_lists_options() -> None:
    error = refused({"role": "Fire service"})

    assert (error.field, str(error)) == (
        "role",
        'Question 5 ("Which sector do you work in?") has no option "Fire service"; choose from '
        '"Local authority children\'s services", "Police", "Health", "Education", '
        '"Safeguarding partnership business unit" or "Other".',
    )


def test_clean_answers_unknown_multiple_option_is_quoted_shortened() -> None:
    error = refused({"most_useful_sessions": ["Review Q&A", "x" * 100]})

    assert str(error) == (
        'Question 4 ("Which sessions did you find most useful?") has no option '
        f'"{"x" * 57}..."; choose from "Welcome and reflections on Covid-19", '
        '"National Review Updates", "Review Q&A", "Local Child Safeguarding Practice Reviews", '
        '"LCSPR Q&A", "LCSPR Breakout" or "Breakout Feedback".'
    )


def test_clean_answers_single_non_string_is_refused() -> None:
    error = refused({"role": 3})

    assert str(error).startswith(
        'Question 5 ("Which sector do you work in?") takes one of its options; choose from '
    )


def test_clean_answers_question_answered_unknown_option_lists_fixed_options() -> None:
    error = refused({"question_answered": "not_asked"})

    assert str(error) == (
        'Question 6 ("If you asked a question, was it answered?") has no option "not_asked"; '
        'choose from "Yes", "Partly" or "No".'
    )


def test_clean_answers_question_answered_without_asking_is_refused() -> None:
    error = refused({"question_answered": "Yes"}, asked=False)

    assert (error.field, str(error)) == (
        "question_answered",
        "This question is only for people who asked a question.",
    )


def test_clean_answers_question_answered_empty_without_asking_is_dropped() -> None:
    result = clean({"overall": "5", "question_answered": ""}, asked=False)

    assert result == {"overall": 5}


def test_clean_answers_text_at_limit_is_accepted() -> None:
    text = "a" * TEXT_MAX_LENGTH

    result = clean({"comments": f"  {text}  "})

    assert result == {"comments": text}


def test_clean_answers_text_over_limit_is_refused() -> None:
    error = refused({"comments": "a" * (TEXT_MAX_LENGTH + 1)})

    assert (error.field, str(error)) == (
        "comments",
        'Your answer to question 8 ("Any other comments?") is 2,001 characters long; '
        "the limit is 2,000. Please shorten it.",
    )


def test_clean_answers_text_control_character_is_refused() -> None:
    error = refused({"comments": "bad\x00byte"})

    assert str(error) == (
        'Your answer to question 8 ("Any other comments?") contains a control character; remove it.'
    )


def test_clean_answers_text_non_string_is_refused() -> None:
    error = refused({"comments": 42})

    assert str(error) == 'Question 8 ("Any other comments?") takes a written answer.'


def test_clean_answers_final_missing_required_names_it() -> None:
    error = refused({"role": "Police"}, final=True)

    assert (error.field, str(error)) == (
        "overall",
        'Question 1 ("Overall, how would you rate today\'s webinar?") is required; '
        "please answer it.",
    )


def test_clean_answers_final_several_missing_says_how_many() -> None:
    error = refused({"b": "Yes"}, survey=STRICT, asked=True, final=True)

    assert (error.field, str(error)) == (
        "a",
        '3 required questions are unanswered, starting with question 1 ("First?").',
    )


def test_clean_answers_final_several_missing_lists_each_for_the_error_summary() -> None:
    error = refused({"b": "Yes"}, survey=STRICT, asked=True, final=True)

    assert error.errors == (
        ("a", 'Question 1 ("First?") is required; please answer it.'),
        ("c", 'Question 3 ("Third?") is required; please answer it.'),
        ("asked", 'Question 4 ("Was it answered?") is required; please answer it.'),
    )


def test_clean_answers_one_wrong_answer_is_its_only_error() -> None:
    error = refused({"comments": 42})

    assert error.errors == (("comments", str(error)),)


def test_clean_answers_final_required_question_answered_skipped_when_not_asked() -> None:
    raw = {"a": 2, "b": "No", "c": "ok"}

    result = clean_answers(STRICT, raw, asked_question=False, final=True)

    assert result == {"a": 2, "b": "No", "c": "ok"}


def test_clean_answers_final_required_question_answered_needed_when_asked() -> None:
    error = refused({"a": 2, "b": "No", "c": "ok"}, survey=STRICT, asked=True, final=True)

    assert (error.field, str(error)) == (
        "asked",
        'Question 4 ("Was it answered?") is required; please answer it.',
    )


def test_clean_answers_partial_save_skips_required_check() -> None:
    result = clean_answers(STRICT, {"c": "later"}, asked_question=True, final=False)

    assert result == {"c": "later"}


def test_clean_answers_error_is_value_error() -> None:
    error = refused({"overall": "9"})

    assert isinstance(error, ValueError)


# --------------------------------------------------------------------------- summarise


def test_summarise_rating_counts_percent_mean_median() -> None:
    responses: list[Mapping[str, Answer]] = [
        {"overall": 5},
        {"overall": 4},
        {"overall": 4},
        {"overall": 2},
        {"role": "Police"},
    ]

    overall = by_code(summarise(SURVEY, responses))["overall"]

    assert overall == QuestionSummary(
        code="overall",
        number=1,
        text="Overall, how would you rate today's webinar?",
        kind="rating",
        n=4,
        counts=(
            OptionCount("1 (Poor)", 0, 0.0, value=1),
            OptionCount("2", 1, 25.0, value=2),
            OptionCount("3", 0, 0.0, value=3),
            OptionCount("4", 2, 50.0, value=4),
            OptionCount("5 (Excellent)", 1, 25.0, value=5),
        ),
        mean=3.75,
        median=4.0,
    )


def test_summarise_rating_even_count_median_is_midpoint_and_mean_two_decimals() -> None:
    responses: list[Mapping[str, Answer]] = [{"overall": 1}, {"overall": 2}, {"overall": 2}]
    responses += [{"overall": 5}, {"overall": 5}, {"overall": 5}]

    overall = by_code(summarise(SURVEY, responses))["overall"]

    assert (overall.mean, overall.median) == (3.33, 3.5)


def test_summarise_single_percent_of_those_who_answered_one_decimal() -> None:
    responses: list[Mapping[str, Answer]] = [
        {"role": "Police"},
        {"role": "Health"},
        {"role": "Health"},
        {"overall": 3},
    ]

    role = by_code(summarise(SURVEY, responses))["role"]

    assert (role.n, [(c.label, c.count, c.percent) for c in role.counts]) == (
        3,
        [
            ("Local authority children's services", 0, 0.0),
            ("Police", 1, 33.3),
            ("Health", 2, 66.7),
            ("Education", 0, 0.0),
            ("Safeguarding partnership business unit", 0, 0.0),
            ("Other", 0, 0.0),
        ],
    )


def test_summarise_multiple_percent_of_respondents_can_exceed_100_in_total() -> None:
    responses: list[Mapping[str, Answer]] = [
        {"most_useful_sessions": ["Review Q&A", "LCSPR Q&A"]},
        {"most_useful_sessions": ["LCSPR Q&A"]},
    ]

    sessions = by_code(summarise(SURVEY, responses))["most_useful_sessions"]
    shown = [(c.label, c.count, c.percent) for c in sessions.counts if c.count]

    assert (sessions.n, sessions.ticks, shown, sum(c.percent for c in sessions.counts)) == (
        2,
        3,
        [("Review Q&A", 1, 50.0), ("LCSPR Q&A", 2, 100.0)],
        150.0,
    )


def test_summarise_question_answered_uses_fixed_options_and_asked_count() -> None:
    responses: list[Mapping[str, Answer]] = [
        {"question_answered": "Yes"},
        {"question_answered": "Yes"},
        {"question_answered": "No"},
        {"question_answered": "Partly"},
    ]

    answered = by_code(summarise(SURVEY, responses, asked_count=6))["question_answered"]

    assert (answered.n, answered.asked_count, answered.counts) == (
        4,
        6,
        (
            OptionCount("Yes", 2, 50.0),
            OptionCount("Partly", 1, 25.0),
            OptionCount("No", 1, 25.0),
        ),
    )
    assert tuple(c.label for c in answered.counts) == QUESTION_ANSWERED_OPTIONS


def test_summarise_text_lists_answers_in_response_order() -> None:
    responses: list[Mapping[str, Answer]] = [
        {"comments": "Second thoughts"},
        {"overall": 4},
        {"comments": "More on neglect"},
    ]

    comments = by_code(summarise(SURVEY, responses))["comments"]

    assert (comments.n, comments.texts, comments.counts) == (
        2,
        ("Second thoughts", "More on neglect"),
        (),
    )


def test_summarise_no_responses_gives_zero_without_division() -> None:
    summaries = summarise(SURVEY, [])

    assert [(s.code, s.n, s.mean, s.median) for s in summaries] == [
        ("overall", 0, None, None),
        ("national_reviews_useful", 0, None, None),
        ("lcspr_breakout_useful", 0, None, None),
        ("most_useful_sessions", 0, None, None),
        ("role", 0, None, None),
        ("question_answered", 0, None, None),
        ("cover_next", 0, None, None),
        ("comments", 0, None, None),
    ]
    assert {c.percent for s in summaries for c in s.counts} == {0.0}


def test_summarise_answers_not_fitting_question_are_not_counted() -> None:
    responses: list[Mapping[str, Answer]] = [
        {"overall": 9, "role": "Fire service", "most_useful_sessions": ["Gone"]},
        {"overall": "4", "role": 3, "question_answered": "Maybe"},
        {"overall": 4, "role": "Police", "unknown": "x"},
    ]

    summaries = by_code(summarise(SURVEY, responses))

    assert [summaries[c].n for c in summaries] == [1, 0, 0, 0, 1, 0, 0, 0]


# --------------------------------------------------------------------------- split_by_group


def group_responses(
    sizes: Mapping[int | None, int],
) -> list[tuple[int | None, Mapping[str, Answer]]]:
    result: list[tuple[int | None, Mapping[str, Answer]]] = []
    for group, size in sizes.items():
        result += [(group, {"overall": 4, "comments": f"from {group}"})] * size
    return result


def shape(groups: list[GroupSummary]) -> list[tuple[int | None, str, int | None, bool, str]]:
    return [(g.group, g.label, g.n, g.suppressed, g.message) for g in groups]


def test_split_by_group_orders_groups_and_labels_no_group() -> None:
    responses = group_responses({None: 5, 3: 6, 1: 5})

    groups = split_by_group(SURVEY, responses)

    assert shape(groups) == [
        (1, "Group 1", 5, False, ""),
        (3, "Group 3", 6, False, ""),
        (None, "No group", 5, False, ""),
    ]


def test_split_by_group_shown_group_has_counts_but_no_text_questions() -> None:
    responses = group_responses({1: 5})

    (group,) = split_by_group(SURVEY, responses)

    assert [q.code for q in group.questions] == [
        "overall",
        "national_reviews_useful",
        "lcspr_breakout_useful",
        "most_useful_sessions",
        "role",
        "question_answered",
    ]
    assert group.questions[0].counts[3] == OptionCount("4", 5, 100.0, value=4)


def test_split_by_group_small_groups_are_suppressed_without_counts() -> None:
    responses = group_responses({1: 4, 2: 3, 3: 8})

    groups = split_by_group(SURVEY, responses)

    assert shape(groups) == [
        (1, "Group 1", None, True, "Fewer than 5 responses: not shown."),
        (2, "Group 2", None, True, "Fewer than 5 responses: not shown."),
        (3, "Group 3", 8, False, ""),
    ]
    assert [g.questions for g in groups[:2]] == [(), ()]


def test_split_by_group_one_small_group_suppresses_next_smallest_too() -> None:
    responses = group_responses({1: 9, 2: 2, 3: 6, None: 7})

    groups = split_by_group(SURVEY, responses)

    assert shape(groups) == [
        (1, "Group 1", 9, False, ""),
        (2, "Group 2", None, True, "Fewer than 5 responses: not shown."),
        (
            3,
            "Group 3",
            None,
            True,
            "Not shown, so that a smaller group's results cannot be worked out from the totals.",
        ),
        (None, "No group", 7, False, ""),
    ]
    assert groups[2].questions == ()


def test_split_by_group_complementary_tie_takes_first_in_order() -> None:
    responses = group_responses({1: 6, 2: 6, 3: 1})

    groups = split_by_group(SURVEY, responses)

    assert [(g.group, g.suppressed) for g in groups] == [(1, True), (2, False), (3, True)]


def test_split_by_group_single_small_group_alone_is_suppressed() -> None:
    responses = group_responses({4: 2})

    groups = split_by_group(SURVEY, responses)

    assert shape(groups) == [(4, "Group 4", None, True, "Fewer than 5 responses: not shown.")]


def test_split_by_group_custom_minimum_is_in_message() -> None:
    responses = group_responses({1: 9, 2: 9})

    groups = split_by_group(SURVEY, responses, minimum=10)

    assert [g.message for g in groups] == ["Fewer than 10 responses: not shown."] * 2


def test_split_by_group_no_responses_gives_no_groups() -> None:
    groups = split_by_group(SURVEY, [])

    assert groups == []


def test_split_by_group_minimum_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="minimum must be at least 1"):
        split_by_group(SURVEY, [], minimum=0)
