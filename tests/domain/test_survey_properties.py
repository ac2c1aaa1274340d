"""Property tests of the survey rules on random surveys, answers and responses."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from webinar.domain.agenda import Survey, SurveyQuestion
from webinar.domain.survey import (
    QUESTION_ANSWERED_OPTIONS,
    Answer,
    SurveyError,
    clean_answers,
    split_by_group,
    summarise,
)

pytestmark = pytest.mark.unit

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

OPTION_WORDS = ["Yes", "No", "yes", "Police", "Health", "Q&A", "<b>", "Other", "OTHER", "é"]


@st.composite
def questions(draw: st.DrawFn, code: str) -> SurveyQuestion:
    kind = draw(st.sampled_from(["rating", "single", "multiple", "text", "question_answered"]))
    required = draw(st.booleans())
    if kind == "rating":
        low = draw(st.integers(-3, 3))
        high = draw(st.integers(low + 1, low + 10))
        return SurveyQuestion(code, f"Rate {code}?", kind, required, (), low, high)
    if kind in ("single", "multiple"):
        options = draw(st.lists(st.sampled_from(OPTION_WORDS), min_size=2, max_size=6, unique=True))
        return SurveyQuestion(code, f"Pick for {code}?", kind, required, tuple(options))
    return SurveyQuestion(code, f"Tell us about {code}?", kind, required)


@st.composite
def surveys(draw: st.DrawFn) -> Survey:
    count = draw(st.integers(1, 6))
    return Survey(questions=tuple(draw(questions(f"q{i}")) for i in range(count)))


#: Values as a web client might send them, good and bad.
RAW_VALUES: st.SearchStrategy[Any] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=30)
    | st.sampled_from(
        [*OPTION_WORDS, *QUESTION_ANSWERED_OPTIONS, "4", " 2 ", "-1", "9" * 5000, "x" * 2500]
    ),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=3), children)
    ),
    max_leaves=8,
)


def form_value(question: SurveyQuestion) -> st.SearchStrategy[Any]:
    """A valid answer as a form or JSON client might send it (case and spacing vary)."""

    def spaced(text: str) -> st.SearchStrategy[str]:
        return st.sampled_from([text, f" {text} ", text.upper(), text.lower()])

    if question.kind == "rating":
        points = st.integers(question.scale_min, question.scale_max)
        return points | points.map(str) | points.map(float) | points.map(lambda p: [str(p)])
    if question.kind == "multiple":
        return st.sampled_from(question.options).flatmap(spaced) | st.lists(
            st.sampled_from(question.options).flatmap(spaced), max_size=5
        )
    if question.kind == "single":
        return st.sampled_from(question.options).flatmap(spaced)
    if question.kind == "question_answered":
        return st.sampled_from(QUESTION_ANSWERED_OPTIONS).flatmap(spaced)
    return st.text(max_size=40)


@st.composite
def raw_answers(draw: st.DrawFn, survey: Survey) -> dict[Any, Any]:
    raw: dict[Any, Any] = {}
    for question in survey.questions:
        choice = draw(st.sampled_from(["skip", "valid", "valid", "valid", "junk"]))
        if choice == "valid":
            raw[question.code] = draw(form_value(question))
        elif choice == "junk":
            raw[question.code] = draw(RAW_VALUES)
    if draw(st.integers(0, 9)) == 0:
        raw[draw(st.text(max_size=8) | st.integers(0, 3))] = draw(RAW_VALUES)
    return raw


def valid_answer(question: SurveyQuestion) -> st.SearchStrategy[Answer]:
    if question.kind == "rating":
        return st.integers(question.scale_min, question.scale_max)
    if question.kind == "single":
        return st.sampled_from(question.options)
    if question.kind == "question_answered":
        return st.sampled_from(QUESTION_ANSWERED_OPTIONS)
    if question.kind == "multiple":
        return st.lists(st.sampled_from(question.options), min_size=1, unique=True).map(
            lambda ticked: [o for o in question.options if o in ticked]
        )
    return st.text(min_size=1, max_size=20).filter(str.strip)


@st.composite
def responses(draw: st.DrawFn, survey: Survey) -> list[Mapping[str, Answer]]:
    result: list[Mapping[str, Answer]] = []
    for _ in range(draw(st.integers(0, 12))):
        response: dict[str, Answer] = {}
        for question in survey.questions:
            choice = draw(st.sampled_from(["skip", "valid", "valid", "junk"]))
            if choice == "valid":
                response[question.code] = draw(valid_answer(question))
            elif choice == "junk":
                response[question.code] = draw(
                    st.integers(-20, 20) | st.text(max_size=5) | st.lists(st.text(max_size=5))
                )
        result.append(response)
    return result


@st.composite
def survey_and_raw(draw: st.DrawFn) -> tuple[Survey, dict[Any, Any]]:
    survey = draw(surveys())
    return survey, draw(raw_answers(survey))


@st.composite
def survey_and_responses(draw: st.DrawFn) -> tuple[Survey, list[Mapping[str, Answer]]]:
    survey = draw(surveys())
    return survey, draw(responses(survey))


@SETTINGS
@given(case=survey_and_raw(), asked=st.booleans(), final=st.booleans())
def test_clean_answers_any_input_raises_only_survey_error(
    case: tuple[Survey, dict[Any, Any]], asked: bool, final: bool
) -> None:
    survey, raw = case

    try:
        result = clean_answers(survey, raw, asked_question=asked, final=final)
    except SurveyError as error:
        outcome: object = ("refused", isinstance(error.field, str | None), bool(str(error)))
        assert outcome == ("refused", True, True)
        return

    assert set(result) <= {q.code for q in survey.questions}
    assert clean_answers(survey, result, asked_question=asked, final=final) == result


@SETTINGS
@given(case=survey_and_raw(), asked=st.booleans())
def test_clean_answers_accepted_answers_fit_their_questions(
    case: tuple[Survey, dict[Any, Any]], asked: bool
) -> None:
    survey, raw = case

    try:
        result = clean_answers(survey, raw, asked_question=asked, final=False)
    except SurveyError:
        return

    for question in survey.questions:
        if question.code not in result:
            continue
        answer = result[question.code]
        if question.kind == "rating":
            assert type(answer) is int
            assert question.scale_min <= answer <= question.scale_max
        elif question.kind == "multiple":
            assert isinstance(answer, list)
            assert answer == [o for o in question.options if o in answer]
            assert answer != []
        elif question.kind == "single":
            assert answer in question.options
        elif question.kind == "question_answered":
            assert (asked, answer in QUESTION_ANSWERED_OPTIONS) == (True, True)
        else:
            assert isinstance(answer, str)
            assert answer == answer.strip() != ""
            assert len(answer) <= 2000


@SETTINGS
@given(case=survey_and_responses())
def test_summarise_choice_percentages_sum_to_100_when_answered(
    case: tuple[Survey, list[Mapping[str, Answer]]],
) -> None:
    survey, answers = case

    summaries = summarise(survey, answers)

    for summary in summaries:
        if summary.kind in ("single", "question_answered", "rating") and summary.n > 0:
            total = sum(c.percent for c in summary.counts)
            assert abs(total - 100) <= 0.1 * len(summary.counts) + 1e-9
            assert sum(c.count for c in summary.counts) == summary.n


@SETTINGS
@given(case=survey_and_responses())
def test_summarise_counts_never_exceed_n(
    case: tuple[Survey, list[Mapping[str, Answer]]],
) -> None:
    survey, answers = case

    summaries = summarise(survey, answers)

    for summary in summaries:
        assert 0 <= summary.n <= len(answers)
        assert all(0 <= c.count <= summary.n for c in summary.counts)
        assert all(0.0 <= c.percent <= 100.0 for c in summary.counts)
        if summary.kind == "multiple":
            assert sum(c.count for c in summary.counts) == summary.ticks
            assert summary.n <= summary.ticks
        if summary.n == 0:
            assert {c.percent for c in summary.counts} <= {0.0}


@st.composite
def grouped(draw: st.DrawFn) -> list[tuple[int | None, Mapping[str, Answer]]]:
    sizes = draw(st.dictionaries(st.none() | st.integers(1, 12), st.integers(1, 12), max_size=7))
    return [(group, {"q0": 3}) for group, size in sizes.items() for _ in range(size)]


SMALL_SURVEY = Survey(
    questions=(
        SurveyQuestion("q0", "Rate it?", "rating"),
        SurveyQuestion("q1", "Comments?", "text"),
    )
)


@SETTINGS
@given(pairs=grouped(), minimum=st.integers(1, 8))
def test_split_by_group_never_shows_small_or_derivable_groups(
    pairs: list[tuple[int | None, Mapping[str, Answer]]], minimum: int
) -> None:
    sizes = Counter(group for group, _ in pairs)

    groups = split_by_group(SMALL_SURVEY, pairs, minimum=minimum)

    shown = [g for g in groups if not g.suppressed]
    hidden = [g for g in groups if g.suppressed]
    assert {g.group for g in groups} == set(sizes)
    for group in shown:
        assert group.n == sizes[group.group] >= minimum
        assert [q.kind for q in group.questions] == ["rating"]
    for group in hidden:
        assert (group.n, group.questions, group.message != "") == (None, (), True)
    assert all(g.suppressed for g in groups if sizes[g.group] < minimum)
    if hidden and shown:
        unaccounted = len(pairs) - sum(sizes[g.group] for g in shown)
        assert len(hidden) >= 2
        assert unaccounted not in {sizes[g.group] for g in hidden}
