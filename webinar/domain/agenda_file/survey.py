"""The ``[survey]`` table and its ``[[survey.questions]]``."""

from __future__ import annotations

import re
from collections.abc import Mapping

from webinar.domain.agenda import QUESTION_KINDS, Survey, SurveyQuestion
from webinar.domain.agenda_file.items import RawItem
from webinar.domain.agenda_file.keys import QUESTION_KEYS, SCALE_KEYS, SURVEY_KEYS
from webinar.domain.agenda_file.reader import (
    MISSING,
    Missing,
    Reader,
    clip,
    close_match,
    read_kind,
)

#: Widest rating scale (``scale_max - scale_min``).
MAX_SCALE_SPAN = 10

_CODE_RE = re.compile(r"[a-z0-9_]+")
_NO_QUESTIONS = "a survey needs at least one question, started by [[survey.questions]]."


def read_survey(reader: Reader, table: Mapping[str, object], items: list[RawItem]) -> Survey | None:
    """The survey, opening at one of ``items``; ``None`` if anything in it is wrong."""
    reader.check_keys(table, SURVEY_KEYS, None, "survey.")
    mark = reader.mark()
    title = reader.text(table, "title", None, "survey.title")
    if title is not None and not title.strip():
        reader.problem(None, "survey.title", "is empty; leave it out or give the survey a title.")
    opens_at = _read_opens_at(reader, table, items)
    open_days = reader.whole(
        table, "open_days", None, "survey.open_days", low=1, high=365, example="open_days = 14"
    )
    anonymous = reader.flag(table, "anonymous", None, "survey.anonymous")
    questions = _read_questions(reader, table)
    if not reader.clean_since(mark):
        return None
    return Survey(
        questions=tuple(questions),
        title=title.strip() if title else "Post-event survey",
        opens_at_item=opens_at,
        open_days=open_days if open_days is not None else 14,
        anonymous=anonymous if anonymous is not None else True,
    )


def _read_opens_at(reader: Reader, table: Mapping[str, object], items: list[RawItem]) -> str:
    """The id of the item at whose start the survey opens: given, or the closing item."""
    ids = [raw.id for raw in items if raw.id is not None]
    if "opens_at_item" in table:
        given = reader.text(table, "opens_at_item", None, "survey.opens_at_item")
        if given is None or given in ids:
            return given or ""
        suggestion = close_match(given, ids)
        advice = f'; did you mean "{suggestion}"?' if suggestion else "."
        reader.problem(
            None, "survey.opens_at_item", f'names "{given}", but no item has that id{advice}'
        )
        return ""
    closing = [raw.id for raw in items if raw.kind == "closing" and raw.id is not None]
    if closing:
        return closing[0]
    if items:
        reader.problem(
            None,
            "survey.opens_at_item",
            'is missing and the agenda has no closing item (kind = "closing"); name the '
            'item at whose start the survey opens, like opens_at_item = "closing-remarks".',
        )
    return ""


def _read_questions(reader: Reader, table: Mapping[str, object]) -> list[SurveyQuestion]:
    value = table.get("questions", MISSING)
    if isinstance(value, Missing):
        reader.problem(None, "survey.questions", f"is missing; {_NO_QUESTIONS}")
        return []
    entries = reader.table_list(value, None, "survey.questions", "[[survey.questions]]")
    if entries is not None and not entries:
        reader.problem(None, "survey.questions", f"is empty; {_NO_QUESTIONS}")
    questions: list[SurveyQuestion] = []
    codes: dict[str, str] = {}
    for number, entry in entries or ():
        reader.section = (2, number)
        question = None if entry is None else read_question(reader, number, entry, codes)
        if question is not None:
            questions.append(question)
    return questions


def read_question(
    reader: Reader, number: int, table: Mapping[str, object], codes: dict[str, str]
) -> SurveyQuestion | None:
    """Survey question ``number``; ``codes`` maps the codes used so far to their labels."""
    code_value = table.get("code")
    label = f"survey question {number}"
    if isinstance(code_value, str) and code_value.strip():
        label += f' "{clip(code_value.strip(), 30)}"'
    reader.check_keys(table, QUESTION_KEYS, label, "")
    mark = reader.mark()
    code = _read_code(reader, label, table, codes)
    text = reader.text(
        table, "text", label, "text", required=True, hint="; give the question to ask"
    )
    kind = read_kind(reader, table, label, QUESTION_KINDS, "question")
    required = reader.flag(table, "required", label, "required")
    options = _read_options(reader, label, table, kind)
    scale_min, scale_max, min_label, max_label = _read_scale(reader, label, table, kind)
    if not reader.clean_since(mark) or code is None or text is None or kind is None:
        return None
    return SurveyQuestion(
        code=code,
        text=text.strip(),
        kind=kind,
        required=bool(required),
        options=tuple(options or ()),
        scale_min=scale_min,
        scale_max=scale_max,
        scale_min_label=min_label,
        scale_max_label=max_label,
    )


def _read_code(
    reader: Reader, label: str, table: Mapping[str, object], codes: dict[str, str]
) -> str | None:
    """The question's code: required, well formed, and not used by another question."""
    code = reader.text(
        table, "code", label, "code", required=True, hint='; give a short code, like code = "q1"'
    )
    if code is None:
        return None
    if not _CODE_RE.fullmatch(code):
        reader.problem(
            label,
            "code",
            f'is "{code}", but a code may only use lower-case letters a-z, digits and '
            'underscores, like "q1" or "overall_rating".',
        )
    elif code in codes:
        reader.problem(
            label, "code", f'is "{code}", which {codes[code]} already uses; codes must differ.'
        )
    else:
        codes[code] = label
    return code


def _read_options(
    reader: Reader, label: str, table: Mapping[str, object], kind: str | None
) -> list[str] | None:
    """The options of a "single" or "multiple" question; refused on other kinds."""
    if kind not in ("single", "multiple"):
        if kind is not None and "options" in table:
            reader.problem(
                label,
                "options",
                'is only used by "single" and "multiple" questions, but this question is a '
                f'"{kind}" question.',
            )
        return None
    if "options" not in table:
        reader.problem(
            label,
            "options",
            f'is missing; a "{kind}" question needs at least two options to choose from, '
            'like options = ["Yes", "No"].',
        )
        return None
    options = reader.text_list(
        table, "options", label, "options", example='options = ["Yes", "No"]', entry_word="option"
    )
    if options is None:
        return None
    if len(options) < 2:
        reader.problem(
            label,
            "options",
            f"lists {len(options)} option{'' if len(options) == 1 else 's'}; "
            "give at least two to choose from.",
        )
        return options
    seen: set[str] = set()
    for index, option in enumerate(options, start=1):
        if option in seen:
            reader.problem(label, "options", f'option {index} "{clip(option)}" is listed twice.')
        seen.add(option)
    return options


def _read_scale(
    reader: Reader, label: str, table: Mapping[str, object], kind: str | None
) -> tuple[int, int, str, str]:
    """A rating question's scale (lowest, highest and their labels); refused on others."""
    if kind == "rating":
        return _read_rating_scale(reader, label, table)
    if kind is not None:
        for key in SCALE_KEYS:
            if key in table:
                reader.problem(
                    label,
                    key,
                    f'is only used by "rating" questions, but this question is a "{kind}" '
                    "question.",
                )
    return 1, 5, "", ""


def _read_rating_scale(
    reader: Reader, label: str, table: Mapping[str, object]
) -> tuple[int, int, str, str]:
    mark = reader.mark()
    given_min = reader.whole(
        table, "scale_min", label, "scale_min", low=-100, high=100, example="scale_min = 1"
    )
    given_max = reader.whole(
        table, "scale_max", label, "scale_max", low=-100, high=100, example="scale_max = 5"
    )
    scale_min = 1 if given_min is None else given_min
    scale_max = 5 if given_max is None else given_max
    if reader.clean_since(mark):
        _check_span(
            reader,
            label,
            "scale_max" if "scale_max" in table else "scale_min",
            scale_min,
            scale_max,
        )
    min_label = reader.text(table, "scale_min_label", label, "scale_min_label")
    max_label = reader.text(table, "scale_max_label", label, "scale_max_label")
    return scale_min, scale_max, (min_label or "").strip(), (max_label or "").strip()


def _check_span(reader: Reader, label: str, field: str, low: int, high: int) -> None:
    if low >= high:
        reader.problem(
            label,
            field,
            f"makes the scale run from {low} to {high}; scale_min must be smaller than scale_max.",
        )
    elif high - low > MAX_SCALE_SPAN:
        reader.problem(
            label,
            field,
            f"makes the scale run from {low} to {high}; a rating scale may span at most "
            f"{MAX_SCALE_SPAN} steps.",
        )
