"""The organiser's programme: an event's state, where an agenda problem is in its file, and
an agenda re-dated for a duplicate. Pure: no I/O, ``now`` is passed in."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal

from webinar.domain.agenda_file import AgendaProblem

EventState = Literal["upcoming", "running", "past", "archived"]
#: The order the programme lists its states in.
STATES: tuple[EventState, ...] = ("running", "upcoming", "past", "archived")

_AT_LINE = re.compile(r"at line (\d+)")
_ITEM = re.compile(r"^item (\d+)")
_SURVEY_QUESTION = re.compile(r"^survey question (\d+)")
_HEADER = re.compile(r"^\s*\[\[?\s*([A-Za-z0-9_.\-\s]+?)\s*\]\]?\s*(#.*)?$")
_TIME_LINE = re.compile(r'^(\s*(?:start|end)\s*=\s*)"(\d{1,2})[:.](\d{2})"(.*)$')
_DATE_LINE = re.compile(r"^(\s*date\s*=\s*)(\"[^\"]*\"|\S+)(.*)$")


class RetimeError(ValueError):
    """A duplicate cannot be given that date and time; ``str()`` is a plain sentence."""


def event_state(
    now: datetime,
    planned_start: datetime,
    planned_end: datetime,
    started_at: str | None,
    ended_at: str | None,
    archived: bool,
) -> EventState:
    """Where an event stands: archived by an organiser; running once started and until
    ended; past once ended, or once its planned end has gone by without it starting;
    upcoming otherwise."""
    if archived:
        return "archived"
    if ended_at is not None:
        return "past"
    if started_at is not None:
        return "running"
    return "past" if now >= planned_end else "upcoming"


@dataclass(frozen=True, slots=True)
class _Section:
    name: str
    number: int  # 1 for the first table of that name ([[items]] repeats)
    first: int  # line number of its header (1-based)
    last: int


def _sections(lines: list[str]) -> list[_Section]:
    found: list[_Section] = []
    seen: dict[str, int] = {}
    for index, line in enumerate(lines, start=1):
        match = _HEADER.match(line)
        if match is None:
            continue
        name = re.sub(r"\s+", "", match.group(1))
        seen[name] = seen.get(name, 0) + 1
        if found:
            last = found[-1]
            found[-1] = _Section(last.name, last.number, last.first, index - 1)
        found.append(_Section(name, seen[name], index, len(lines)))
    return found


def _key_line(lines: list[str], first: int, last: int, key: str) -> int | None:
    pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
    for number in range(first, last + 1):
        if pattern.match(lines[number - 1]):
            return number
    return None


def _block(sections: list[_Section], name: str, number: int) -> tuple[int, int] | None:
    """The lines of the ``number``-th ``[[name]]`` with its sub-tables (``[name.x]``)."""
    start = end = None
    for section in sections:
        if section.name == name:
            if section.number == number:
                start, end = section.first, section.last
            elif start is not None:
                break
        elif start is not None and section.name.startswith(name + "."):
            end = section.last
        elif start is not None:
            break
    return None if start is None or end is None else (start, end)


def problem_line(text: str, problem: AgendaProblem) -> int | None:
    """The line of ``text`` (1-based) a problem of ``parse_agenda`` is about, to show it
    beside that line; ``None`` when it is about the file as a whole (or cannot be found).

    A TOML or UTF-8 problem names its line; a problem of an item (``item 3 "Q&A"``) or a
    survey question is placed on the line of its field in that table, else on the table's
    header; an ``[event]`` problem on its field's line in ``[event]``.
    """
    at = _AT_LINE.search(problem.message)
    if at and problem.item is None and problem.field is None:
        return int(at.group(1))
    lines = text.splitlines()
    sections = _sections(lines)
    block = _problem_block(sections, problem.item)
    if block is None:
        return None
    first, last = block
    if problem.field:
        for key in (problem.field.split(".")[-1], problem.field.split(".")[0]):
            found = _key_line(lines, first, last, re.sub(r"\[\d+\]$", "", key))
            if found is not None:
                return found
    return first


def _problem_block(sections: list[_Section], item: str | None) -> tuple[int, int] | None:
    if item is None:
        return _block(sections, "event", 1)
    match = _ITEM.match(item)
    if match:
        return _block(sections, "items", int(match.group(1)))
    match = _SURVEY_QUESTION.match(item)
    if match:
        return _block(sections, "survey.questions", int(match.group(1)))
    return None


def retimed_agenda(text: str, first_start: time, new_date: date, new_start: time) -> str:
    """An agenda file's text for a duplicate on ``new_date``, its first item starting at
    ``new_start`` (the original's first item started at ``first_start``): the ``[event]``
    ``date`` is replaced and every item's ``start`` and ``end`` moved by the same amount.
    Comments and everything else are kept as they were.

    ``RetimeError`` when an item would no longer fit in the day.
    """
    shift = _minutes(new_start) - _minutes(first_start)
    lines = text.splitlines(keepends=True)
    section = ""
    dated = False
    out: list[str] = []
    for line in lines:
        header = _HEADER.match(line)
        if header:
            section = re.sub(r"\s+", "", header.group(1))
        elif section == "event" and (match := _DATE_LINE.match(line)):
            line = f'{match.group(1)}"{new_date.isoformat()}"{match.group(3)}'
            line += "\n" if not line.endswith("\n") else ""
            dated = True
        elif section == "items" and (match := _TIME_LINE.match(line)):
            line = _moved(match, shift) + ("\n" if line.endswith("\n") else "")
        out.append(line)
    result = "".join(out)
    if not dated:
        result = re.sub(
            r"^(\s*\[event\]\s*\n)",
            lambda m: f'{m.group(1)}date = "{new_date.isoformat()}"\n',
            result,
            count=1,
            flags=re.MULTILINE,
        )
    return result


def _minutes(value: time) -> int:
    return value.hour * 60 + value.minute


def _moved(match: re.Match[str], shift: int) -> str:
    total = int(match.group(2)) * 60 + int(match.group(3)) + shift
    if not 0 <= total < 24 * 60:
        raise RetimeError(
            "At that start time the agenda would run past midnight. Choose an earlier time."
        )
    moved = (datetime.min + timedelta(minutes=total)).strftime("%H:%M")
    return f'{match.group(1)}"{moved}"{match.group(4).rstrip(chr(10))}'


#: Days after an event ends before the programme purges it (as ``webinar purge``'s default).
RETENTION_DAYS = 30


def edit_problem(state: EventState) -> str | None:
    """Why an event's agenda can no longer be changed, or None while it can: until the
    event starts."""
    if state == "upcoming":
        return None
    if state == "running":
        return "The event has started: its agenda can no longer be changed."
    return "The event is over: its agenda can no longer be changed. Duplicate it to run it again."


def purge_problem(ended_at: datetime | None, now: datetime, retention_days: int) -> str | None:
    """Why an event's personal data cannot be purged yet, or None once its retention
    period (``retention_days`` after it ended) is over."""
    if ended_at is None:
        return (
            "The event has not ended, so its retention period has not started: nothing was purged."
        )
    due = ended_at + timedelta(days=retention_days)
    if now < due:
        return (
            f"The retention period runs until {due:%-d %B %Y}: nothing was purged. Come back "
            "after that day."
        )
    return None
