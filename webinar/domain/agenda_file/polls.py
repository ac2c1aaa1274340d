"""Reading an item's ``[[items.polls]]`` tables from the agenda file.

Called by the agenda file reader with its problem collector, so that every mistake is
reported in words with its place (``item 2 "Opening", field polls[1].options: ...``),
as the rest of ``webinar check`` does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from webinar.domain.agenda_file.reader import Reader
from webinar.domain.polls import KINDS, PollError, PollSpec, check_spec

POLL_KEYS = (
    "question",
    "kind",
    "options",
    "max_choices",
    "scale_min",
    "scale_max",
    "correct",
    "anonymous",
    "opens",
    "results",
)
HEADER = "[[items.polls]]"


def read_polls(reader: Reader, label: str, value: object) -> tuple[PollSpec, ...]:
    """The item's polls; each problem goes to ``reader`` and leaves that poll out."""
    polls: list[PollSpec] = []
    for number, entry in reader.table_list(value, label, "polls", HEADER) or ():
        if entry is not None:
            spec = _read_poll(reader, label, f"polls[{number}].", entry)
            if spec is not None:
                polls.append(spec)
    return tuple(polls)


def _choice(
    reader: Reader,
    entry: Mapping[str, object],
    key: str,
    label: str,
    field: str,
    allowed: Sequence[str],
    default: str,
) -> str | None:
    value = reader.text(entry, key, label, field)
    if value is None:
        return None if key in entry else default
    if value not in allowed:
        choices = ", ".join(f'"{a}"' for a in allowed)
        reader.problem(label, field, f'is "{value}", but should be one of {choices}.')
        return None
    return value


def _read_poll(
    reader: Reader, label: str, prefix: str, entry: Mapping[str, object]
) -> PollSpec | None:
    reader.check_keys(entry, POLL_KEYS, label, prefix)
    question = reader.text(
        entry, "question", label, prefix + "question", required=True, hint="; write the question"
    )
    kind = _choice(reader, entry, "kind", label, prefix + "kind", KINDS, "single")
    opens = _choice(reader, entry, "opens", label, prefix + "opens", ("host", "start"), "host")
    results = _choice(
        reader, entry, "results", label, prefix + "results", ("hidden", "live"), "hidden"
    )
    options = reader.text_list(
        entry,
        "options",
        label,
        prefix + "options",
        example='options = ["Yes", "No"]',
        entry_word="option",
    )
    numbers = {
        key: reader.whole(entry, key, label, prefix + key, low=low, high=high, example=example)
        for key, low, high, example in (
            ("max_choices", 1, 12, "max_choices = 2"),
            ("scale_min", 0, 10, "scale_min = 1"),
            ("scale_max", 0, 10, "scale_max = 5"),
            ("correct", 1, 12, "correct = 2 (the second option)"),
        )
    }
    anonymous = reader.flag(entry, "anonymous", label, prefix + "anonymous")
    if question is None or kind is None or opens is None or results is None:
        return None
    correct = numbers["correct"]
    spec = PollSpec(
        question=question,
        kind=kind,  # type: ignore[arg-type]  # checked against KINDS above
        options=tuple(options or ()),
        max_choices=numbers["max_choices"] or 0,
        scale_min=1 if numbers["scale_min"] is None else numbers["scale_min"],
        scale_max=5 if numbers["scale_max"] is None else numbers["scale_max"],
        correct=None if correct is None else correct - 1,
        anonymous=True if anonymous is None else anonymous,
        opens=opens,  # type: ignore[arg-type]
        results=results,  # type: ignore[arg-type]
    )
    try:
        return check_spec(spec)
    except PollError as exc:
        reader.problem(label, prefix + (exc.field or "question"), _lower_first(str(exc)))
        return None


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]
