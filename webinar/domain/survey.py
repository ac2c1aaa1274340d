"""The post-event survey's rules: checking answers, summing up results.

Pure: the service layer loads the survey (from the agenda) and the stored responses,
calls these functions, and saves or renders the result.

* :func:`clean_answers` turns what a form or JSON body sent into checked answers, or raises
  :class:`SurveyError` with a plain sentence naming the question.
* :func:`summarise` counts the answers for the organiser's results page.
* :func:`split_by_group` breaks the results down by breakout group, hiding small groups.

Small-group suppression
-----------------------
A breakout group with fewer than ``minimum`` respondents is *suppressed*: its counts are not
shown, nor is its number of respondents. Free-text answers are never broken down by group at
all, because free text can identify its writer.

Suppression alone is not enough: the overall results are shown too, so if exactly one group
were hidden its counts would be the overall counts minus the shown groups' counts. Hence the
*complementary suppression* rule: if exactly one group is suppressed and other groups are
shown, the shown group with the fewest respondents (the first in display order on a tie) is
suppressed as well. Subtraction then only gives the two hidden groups' combined counts.
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypeAlias

from webinar.domain.agenda import Survey, SurveyQuestion
from webinar.domain.text import LINE_BREAKS_AND_TABS, has_control_character

#: A checked answer: ``int`` for a rating; ``str`` for single, text and question_answered;
#: ``list[str]`` for multiple (no duplicates, in the question's option order).
Answer: TypeAlias = int | str | list[str]

#: The fixed options of a ``question_answered`` question, in display order.
QUESTION_ANSWERED_OPTIONS: tuple[str, ...] = ("Yes", "Partly", "No")
#: The longest text answer accepted, in characters (after trimming surrounding whitespace).
TEXT_MAX_LENGTH = 2000
#: Groups with fewer respondents than this are not shown in the per-group breakdown.
MINIMUM_GROUP_SIZE = 5
#: Label of the responses of people who were in no breakout group.
NO_GROUP_LABEL = "No group"

_CLIP = 60
_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]{1,12}", re.ASCII)


class SurveyError(ValueError):
    """A refused survey answer, with a plain sentence and the question's code in ``field``.

    ``errors`` lists every question in error as (code, sentence) when there are several
    (the unanswered required questions of a submit); otherwise it is ``((field,
    message),)`` when ``field`` is given, and empty when not.
    """

    def __init__(
        self,
        message: str,
        field: str | None = None,
        errors: Sequence[tuple[str, str]] = (),
    ) -> None:
        super().__init__(message)
        self.field = field
        self.errors: tuple[tuple[str, str], ...] = tuple(errors) or (
            ((field, message),) if field else ()
        )


# --------------------------------------------------------------------------- validation


def clean_answers(
    survey: Survey, raw: Mapping[str, object], *, asked_question: bool, final: bool
) -> dict[str, Answer]:
    """Check the answers ``raw`` (question code -> value) and return them cleaned.

    Values are accepted as the web layer gives them: strings from forms (``"4"``), ints and
    lists from JSON, a list of strings or a single string for a ``multiple`` question, and a
    one-item list for the other kinds. ``None``, empty or blank strings and empty lists mean
    "no answer" and are left out of the result. The result is in question order.

    ``asked_question``: whether this respondent asked a question during the event; only then
    is a ``question_answered`` answer accepted. ``final``: a submission (every required
    question must be answered) rather than a partial save.

    Raises :class:`SurveyError`, and nothing else, for any ``raw``.
    """
    _check_codes(survey, raw)
    cleaned: dict[str, Answer] = {}
    for number, question in enumerate(survey.questions, start=1):
        if question.code not in raw:
            continue
        answer = _clean_one(number, question, raw[question.code])
        if answer is None:
            continue
        if question.kind == "question_answered" and not asked_question:
            raise SurveyError(
                "This question is only for people who asked a question.", field=question.code
            )
        cleaned[question.code] = answer
    if final:
        _check_required(survey, cleaned, asked_question=asked_question)
    return cleaned


def _check_codes(survey: Survey, raw: Mapping[str, object]) -> None:
    """Raise :class:`SurveyError` unless ``raw`` maps this survey's question codes."""
    if not isinstance(raw, Mapping):
        raise SurveyError("The answers could not be read; please send the form again.")
    codes = {question.code for question in survey.questions}
    for code in raw:
        if not isinstance(code, str):
            raise SurveyError("The answers could not be read; please send the form again.")
        if code not in codes:
            raise SurveyError(f'This survey has no question "{_clip(code)}".', field=code)


def _check_required(survey: Survey, cleaned: Mapping[str, Answer], *, asked_question: bool) -> None:
    """Raise :class:`SurveyError` naming the required questions ``cleaned`` leaves out."""
    missing = [
        (number, question)
        for number, question in enumerate(survey.questions, start=1)
        if question.required
        and question.code not in cleaned
        and (question.kind != "question_answered" or asked_question)
    ]
    if not missing:
        return
    errors = [
        (q.code, f"{_ref(n, q, capital=True)} is required; please answer it.") for n, q in missing
    ]
    number, question = missing[0]
    if len(missing) == 1:
        message = errors[0][1]
    else:
        message = (
            f"{len(missing)} required questions are unanswered, starting with "
            f"{_ref(number, question)}."
        )
    raise SurveyError(message, field=question.code, errors=errors)


def _clean_one(number: int, question: SurveyQuestion, value: object) -> Answer | None:
    """The cleaned answer to one question, or ``None`` for no answer."""
    if _is_empty(value):
        return None
    if question.kind == "multiple":
        return _clean_multiple(number, question, value)
    if isinstance(value, list | tuple):
        given = [item for item in value if not _is_empty(item)]
        if len(given) > 1:
            raise SurveyError(
                f"{_ref(number, question, capital=True)} takes one answer, "
                f"but {len(given)} were given.",
                field=question.code,
            )
        value = given[0]
    if question.kind == "rating":
        return _clean_rating(number, question, value)
    if question.kind == "text":
        return _clean_text(number, question, value)
    if question.kind == "question_answered":
        return _match_option(number, question, QUESTION_ANSWERED_OPTIONS, value)
    if question.kind == "single":
        return _match_option(number, question, question.options, value)
    raise SurveyError(
        f"{_ref(number, question, capital=True)} cannot be answered.", field=question.code
    )


def _is_empty(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | tuple):
        return all(_is_empty(item) for item in value)
    return False


def _clean_rating(number: int, question: SurveyQuestion, value: object) -> int:
    whole: int | None = None
    if isinstance(value, bool):
        whole = None
    elif isinstance(value, int):
        whole = value
    elif isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            whole = int(value)
    elif isinstance(value, str) and _WHOLE_NUMBER.fullmatch(value.strip()):
        whole = int(value.strip())
    if whole is None or not question.scale_min <= whole <= question.scale_max:
        low = _scale_point(question.scale_min, question.scale_min_label)
        high = _scale_point(question.scale_max, question.scale_max_label)
        raise SurveyError(
            f"{_ref(number, question, capital=True)} takes a whole number from {low} to {high}.",
            field=question.code,
        )
    return whole


def _scale_point(point: int, label: str) -> str:
    return f"{point} ({label})" if label else str(point)


def _clean_text(number: int, question: SurveyQuestion, value: object) -> str:
    if not isinstance(value, str):
        raise SurveyError(
            f"{_ref(number, question, capital=True)} takes a written answer.", field=question.code
        )
    text = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    if has_control_character(text, allow=LINE_BREAKS_AND_TABS):
        raise SurveyError(
            f"Your answer to {_ref(number, question)} contains a control character; remove it.",
            field=question.code,
        )
    if len(text) > TEXT_MAX_LENGTH:
        raise SurveyError(
            f"Your answer to {_ref(number, question)} is {len(text):,} characters long; "
            f"the limit is {TEXT_MAX_LENGTH:,}. Please shorten it.",
            field=question.code,
        )
    return text


def _clean_multiple(number: int, question: SurveyQuestion, value: object) -> list[str]:
    items = list(value) if isinstance(value, list | tuple) else [value]
    ticked: set[str] = set()
    for item in items:
        if _is_empty(item):
            continue
        ticked.add(_match_option(number, question, question.options, item))
    return [option for option in question.options if option in ticked]


def _match_option(
    number: int, question: SurveyQuestion, options: Sequence[str], value: object
) -> str:
    """The option ``value`` names: exactly (after trimming), else the one option equal
    ignoring case."""
    if isinstance(value, str):
        given = value.strip()
        if given in options:
            return given
        folded = [option for option in options if option.casefold() == given.casefold()]
        if len(folded) == 1:
            return folded[0]
        problem = f'has no option "{_clip(given)}"'
    else:
        problem = "takes one of its options"
    raise SurveyError(
        f"{_ref(number, question, capital=True)} {problem}; choose from {_or_list(options)}.",
        field=question.code,
    )


def _ref(number: int, question: SurveyQuestion, *, capital: bool = False) -> str:
    word = "Question" if capital else "question"
    return f'{word} {number} ("{_clip(question.text)}")'


def _clip(text: str, limit: int = _CLIP) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _or_list(options: Sequence[str]) -> str:
    quoted = [f'"{_clip(option)}"' for option in options]
    if len(quoted) <= 1:
        return "".join(quoted) or "nothing"
    return ", ".join(quoted[:-1]) + " or " + quoted[-1]


# --------------------------------------------------------------------------- aggregation


@dataclass(frozen=True, slots=True)
class OptionCount:
    """How many respondents gave one option (or one rating scale point)."""

    #: The option as written; for a rating, the scale point, with the scale's end label on
    #: the first and last point if the survey has one: ``"1 (Poor)"``, ``"2"``, ...
    label: str
    count: int
    #: Percent of the respondents who answered this question, rounded to 1 decimal.
    percent: float
    #: For a rating: the scale point. ``None`` for other kinds.
    value: int | None = None


@dataclass(frozen=True, slots=True)
class QuestionSummary:
    """The results of one question."""

    code: str
    #: The question's position in the survey, from 1.
    number: int
    text: str
    kind: str
    #: Respondents who answered this question.
    n: int
    #: Per scale point (rating, lowest first) or per option (single, multiple,
    #: question_answered, in option order); empty for text.
    counts: tuple[OptionCount, ...] = ()
    #: Rating only: the mean to 2 decimals and the median; ``None`` when n is 0.
    mean: float | None = None
    median: float | None = None
    #: Multiple only: ticks in all (a respondent may tick several options).
    ticks: int = 0
    #: Text only: the answers in response order.
    texts: tuple[str, ...] = ()
    #: question_answered only: how many respondents asked a question (``asked_count``).
    asked_count: int | None = None


def summarise(
    survey: Survey,
    responses: Sequence[Mapping[str, Answer]],
    *,
    asked_count: int | None = None,
) -> list[QuestionSummary]:
    """One :class:`QuestionSummary` per survey question, in survey order.

    Percentages are of the respondents who answered that question; for a ``multiple``
    question they may add up to more than 100. Answers that do not fit the question as it is
    now (an option since removed, a rating off the scale, a value of the wrong type) are not
    counted. ``asked_count`` (respondents who asked a question) is passed through to the
    ``question_answered`` summaries.
    """
    summaries: list[QuestionSummary] = []
    for number, question in enumerate(survey.questions, start=1):
        answers = [response.get(question.code) for response in responses]
        if question.kind == "rating":
            summaries.append(_summarise_rating(number, question, answers))
        elif question.kind == "multiple":
            summaries.append(_summarise_multiple(number, question, answers))
        elif question.kind == "text":
            texts = tuple(a for a in answers if isinstance(a, str) and a.strip())
            summaries.append(_summary(number, question, n=len(texts), texts=texts))
        else:
            options = (
                QUESTION_ANSWERED_OPTIONS
                if question.kind == "question_answered"
                else question.options
            )
            chosen = [a for a in answers if isinstance(a, str) and a in options]
            counts = _counts(options, [[a] for a in chosen], len(chosen))
            summaries.append(
                _summary(
                    number,
                    question,
                    n=len(chosen),
                    counts=counts,
                    asked_count=asked_count if question.kind == "question_answered" else None,
                )
            )
    return summaries


def _summary(
    number: int,
    question: SurveyQuestion,
    *,
    n: int,
    counts: tuple[OptionCount, ...] = (),
    mean: float | None = None,
    median: float | None = None,
    ticks: int = 0,
    texts: tuple[str, ...] = (),
    asked_count: int | None = None,
) -> QuestionSummary:
    return QuestionSummary(
        code=question.code,
        number=number,
        text=question.text,
        kind=question.kind,
        n=n,
        counts=counts,
        mean=mean,
        median=median,
        ticks=ticks,
        texts=texts,
        asked_count=asked_count,
    )


def _summarise_rating(
    number: int, question: SurveyQuestion, answers: Sequence[object]
) -> QuestionSummary:
    points = range(question.scale_min, question.scale_max + 1)
    values = [
        a
        for a in answers
        if isinstance(a, int)
        and not isinstance(a, bool)
        and question.scale_min <= a <= question.scale_max
    ]
    n = len(values)
    counts = []
    for point in points:
        label = str(point)
        if point == question.scale_min and question.scale_min_label:
            label = f"{point} ({question.scale_min_label})"
        elif point == question.scale_max and question.scale_max_label:
            label = f"{point} ({question.scale_max_label})"
        count = values.count(point)
        counts.append(OptionCount(label, count, _percent(count, n), value=point))
    mean = round(sum(values) / n, 2) if n else None
    median = float(statistics.median(values)) if n else None
    return _summary(number, question, n=n, counts=tuple(counts), mean=mean, median=median)


def _summarise_multiple(
    number: int, question: SurveyQuestion, answers: Sequence[object]
) -> QuestionSummary:
    ticked: list[list[str]] = []
    for answer in answers:
        given = [answer] if isinstance(answer, str) else answer
        if not isinstance(given, list | tuple):
            continue
        chosen = [option for option in question.options if option in given]
        if chosen:
            ticked.append(chosen)
    n = len(ticked)
    counts = _counts(question.options, ticked, n)
    return _summary(number, question, n=n, counts=counts, ticks=sum(len(t) for t in ticked))


def _counts(
    options: Sequence[str], chosen: Sequence[Sequence[str]], n: int
) -> tuple[OptionCount, ...]:
    result = []
    for option in options:
        count = sum(1 for picks in chosen if option in picks)
        result.append(OptionCount(option, count, _percent(count, n)))
    return tuple(result)


def _percent(count: int, n: int) -> float:
    return round(100 * count / n, 1) if n else 0.0


# --------------------------------------------------------------------------- by group


@dataclass(frozen=True, slots=True)
class GroupSummary:
    """The results of one breakout group (or of the people in no group)."""

    #: The breakout group number; ``None`` for people who were in no group.
    group: int | None
    #: ``"Group 3"`` or ``"No group"``.
    label: str
    #: Respondents in the group; ``None`` when suppressed.
    n: int | None
    suppressed: bool
    #: Why the group is not shown; ``""`` when it is shown.
    message: str = ""
    #: Per-question results as :func:`summarise` gives them, without text questions; empty
    #: when suppressed.
    questions: tuple[QuestionSummary, ...] = ()


def split_by_group(
    survey: Survey,
    responses_with_group: Sequence[tuple[int | None, Mapping[str, Answer]]],
    *,
    minimum: int = MINIMUM_GROUP_SIZE,
) -> list[GroupSummary]:
    """The results per breakout group: numbered groups in ascending order, then "No group".

    Only groups with at least one response are listed. A group with fewer than ``minimum``
    respondents is suppressed; if that leaves exactly one suppressed group beside shown ones,
    the smallest shown group is suppressed too (complementary suppression, see the module
    docstring). Text questions are left out of every group's results.
    """
    if minimum < 1:
        raise ValueError("minimum must be at least 1")
    by_group: dict[int | None, list[Mapping[str, Answer]]] = {}
    for group, response in responses_with_group:
        by_group.setdefault(group, []).append(response)
    order = sorted(by_group, key=lambda g: (g is None, g if g is not None else 0))

    small = {g for g in order if len(by_group[g]) < minimum}
    complementary: set[int | None] = set()
    if len(small) == 1 and len(order) > 1:
        shown = [g for g in order if g not in small]
        complementary.add(min(shown, key=lambda g: len(by_group[g])))

    result = []
    for group in order:
        label = NO_GROUP_LABEL if group is None else f"Group {group}"
        if group in small:
            message = f"Fewer than {minimum} responses: not shown."
            result.append(GroupSummary(group, label, None, True, message))
        elif group in complementary:
            message = (
                "Not shown, so that a smaller group's results cannot be worked out from the totals."
            )
            result.append(GroupSummary(group, label, None, True, message))
        else:
            questions = tuple(
                summary for summary in summarise(survey, by_group[group]) if summary.kind != "text"
            )
            result.append(GroupSummary(group, label, len(by_group[group]), False, "", questions))
    return result
