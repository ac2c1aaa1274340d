"""Reading values out of the TOML document, collecting every problem as a plain sentence.

:class:`Reader` is the one place problems are recorded: each look-up (a text, a whole
number, a list of texts, a table, ...) either returns the value or records what is wrong
with it, naming the item and the field, and returns ``None``; the parse goes on, so an
organiser sees every problem at once.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time

from webinar.domain.agenda_file.problems import AgendaProblem

_PLAIN_KEY_RE = re.compile(r"[A-Za-z0-9_-]+")
_TIME_RE = re.compile(r"(\d{1,2}):(\d{2})", re.ASCII)
_DOTTED_TIME_RE = re.compile(r"\d{1,2}\.\d{2}", re.ASCII)


def describe(value: object) -> str:
    """A value as an organiser would read it, for 'but is ...' in messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f'the text "{shown}"' if value else "empty text"
    if isinstance(value, datetime):
        return "a date and time"
    if isinstance(value, date):
        return f"the date {value.isoformat()}"
    if isinstance(value, time):
        return f"the time {value.isoformat()}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return "a value of an unknown sort"


def show_key(key: str) -> str:
    if _PLAIN_KEY_RE.fullmatch(key):
        return key
    shown = "".join(
        char
        if char.isprintable()
        else (f"\\u{ord(char):04x}" if ord(char) <= 0xFFFF else f"\\U{ord(char):08x}")
        for char in key
    )
    return f'"{clip(shown, 40)}"'


def clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def close_match(word: str, choices: Sequence[str]) -> str | None:
    matches = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if not matches:
        lowered = {choice.lower(): choice for choice in choices}
        matches = [lowered[m] for m in difflib.get_close_matches(word.lower(), list(lowered))]
    return matches[0] if matches else None


def quoted_list(words: Iterable[str]) -> str:
    return ", ".join(f'"{word}"' for word in words)


class Missing:
    """The type of :data:`MISSING`: a key the table does not have."""


MISSING = Missing()


class Reader:
    """Typed look-ups into one agenda file's tables; every problem found is kept.

    ``section`` orders the problems as the file reads (event and items, then the survey),
    whatever order they were found in. A part of the file read with problems (a breakout,
    a survey question) is not built: :meth:`mark` and :meth:`clean_since` tell, and since
    a file with any problem is refused whole, nothing half-read is ever used.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.section: tuple[int, int] = (0, 0)
        self._problems: list[tuple[tuple[int, int], AgendaProblem]] = []

    # -- collecting problems -----------------------------------------------------------------

    def problem(self, item: str | None, field: str | None, message: str) -> None:
        self._problems.append((self.section, AgendaProblem(self.name, item, field, message)))

    @property
    def has_problems(self) -> bool:
        return bool(self._problems)

    def problems(self) -> list[AgendaProblem]:
        return [problem for _, problem in sorted(self._problems, key=lambda entry: entry[0])]

    def mark(self) -> int:
        """A point to ask :meth:`clean_since` about: how many problems there are so far."""
        return len(self._problems)

    def clean_since(self, mark: int) -> bool:
        """Whether no problem was found since :meth:`mark` gave ``mark``."""
        return len(self._problems) == mark

    # -- typed look-ups -----------------------------------------------------------------------

    def check_keys(
        self,
        table: Mapping[str, object],
        allowed: Sequence[str],
        item: str | None,
        prefix: str,
        elsewhere: Mapping[str, str] | None = None,
    ) -> None:
        for key in table:
            if key in allowed:
                continue
            field = prefix + show_key(key)
            if elsewhere and key in elsewhere:
                self.problem(item, field, f"is not a setting here; {elsewhere[key]}.")
                continue
            match = close_match(key, allowed)
            if match is not None:
                self.problem(item, field, f'is not a known setting; did you mean "{match}"?')
            else:
                self.problem(
                    item,
                    field,
                    f"is not a known setting; the settings allowed here are {', '.join(allowed)}.",
                )

    def text(
        self,
        table: Mapping[str, object],
        key: str,
        item: str | None,
        field: str,
        *,
        required: bool = False,
        hint: str = "",
    ) -> str | None:
        """A text value; ``None`` when absent or wrong. Required text must not be blank."""
        value = table.get(key, MISSING)
        if isinstance(value, Missing):
            if required:
                self.problem(item, field, f"is missing{hint}.")
            return None
        if not isinstance(value, str):
            self.problem(item, field, f"should be text in double quotes, but is {describe(value)}.")
            return None
        if required and not value.strip():
            self.problem(item, field, f"is empty{hint}.")
            return None
        return value

    def whole(
        self,
        table: Mapping[str, object],
        key: str,
        item: str | None,
        field: str,
        *,
        low: int,
        high: int | None = None,
        example: str,
        required: bool = False,
    ) -> int | None:
        """A whole number between ``low`` and ``high``; ``None`` when absent or wrong."""
        value = table.get(key, MISSING)
        if isinstance(value, Missing):
            if required:
                self.problem(item, field, f"is missing; give a whole number, like {example}.")
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(
                item,
                field,
                f"should be a whole number, like {example}, but is {describe(value)}.",
            )
            return None
        if value < low:
            self.problem(item, field, f"should be at least {low}, but is {value}.")
            return None
        if high is not None and value > high:
            self.problem(item, field, f"should be at most {high}, but is {value}.")
            return None
        return value

    def flag(
        self, table: Mapping[str, object], key: str, item: str | None, field: str
    ) -> bool | None:
        value = table.get(key, MISSING)
        if isinstance(value, Missing):
            return None
        if not isinstance(value, bool):
            self.problem(
                item, field, f"should be true or false (no quotes), but is {describe(value)}."
            )
            return None
        return value

    def text_list(
        self,
        table: Mapping[str, object],
        key: str,
        item: str | None,
        field: str,
        *,
        example: str,
        entry_word: str = "entry",
    ) -> list[str] | None:
        """A list of non-blank texts, each stripped; ``None`` when absent or wrong."""
        value = table.get(key, MISSING)
        if isinstance(value, Missing):
            return None
        if isinstance(value, str):
            self.problem(
                item,
                field,
                f"should be a list in square brackets, like {example}, but is a single text; "
                "put square brackets around it.",
            )
            return None
        if not isinstance(value, list):
            self.problem(
                item,
                field,
                f"should be a list in square brackets, like {example}, but is {describe(value)}.",
            )
            return None
        result: list[str] = []
        ok = True
        for number, entry in enumerate(value, start=1):
            if not isinstance(entry, str):
                self.problem(
                    item,
                    field,
                    f"{entry_word} {number} should be text in double quotes, "
                    f"but is {describe(entry)}.",
                )
                ok = False
            elif not entry.strip():
                self.problem(item, field, f"{entry_word} {number} is empty.")
                ok = False
            else:
                result.append(entry.strip())
        return result if ok else None

    def table(
        self, value: object, item: str | None, field: str, header: str
    ) -> dict[str, object] | None:
        if isinstance(value, dict):
            return value
        self.problem(
            item,
            field,
            f"should be a table, started by a line {header}, but is {describe(value)}.",
        )
        return None

    def table_list(
        self, value: object, item: str | None, field: str, header: str
    ) -> list[tuple[int, dict[str, object] | None]] | None:
        """Entries of an array of tables, numbered from 1; ``None`` entries are not tables."""
        if isinstance(value, dict):
            self.problem(
                item,
                field,
                f"should be a list of tables: write {header} with double square brackets "
                "above each one.",
            )
            return None
        if not isinstance(value, list):
            self.problem(
                item,
                field,
                f"should be a list of tables, each started by a line {header}, "
                f"but is {describe(value)}.",
            )
            return None
        entries: list[tuple[int, dict[str, object] | None]] = []
        for number, entry in enumerate(value, start=1):
            if isinstance(entry, dict):
                entries.append((number, entry))
            else:
                self.problem(
                    item,
                    field,
                    f"entry {number} should be a table, started by a line {header}, "
                    f"but is {describe(entry)}.",
                )
                entries.append((number, None))
        return entries

    def clock_time(
        self, table: Mapping[str, object], key: str, item: str | None, field: str
    ) -> time | None:
        value = table[key]
        if isinstance(value, time):
            return value.replace(tzinfo=None)
        if isinstance(value, str):
            match = _TIME_RE.fullmatch(value.strip())
            if match:
                hours, minutes = int(match.group(1)), int(match.group(2))
                if hours <= 23 and minutes <= 59:
                    return time(hours, minutes)
            hint = ""
            if _DOTTED_TIME_RE.fullmatch(value.strip()):
                hint = " (use a colon between hours and minutes, not a full stop)"
            self.problem(
                item,
                field,
                f'should be a time like "10:30" (24-hour clock, hours:minutes){hint}, '
                f"but is {describe(value)}.",
            )
            return None
        self.problem(
            item,
            field,
            f'should be a time in double quotes, like "10:30", but is {describe(value)}.',
        )
        return None


def read_kind(
    reader: Reader,
    table: Mapping[str, object],
    label: str,
    kinds: Sequence[str],
    noun: str,
) -> str | None:
    """The table's ``kind``, one of ``kinds``; a problem (with a suggestion) otherwise."""
    value = table.get("kind", MISSING)
    allowed = quoted_list(kinds)
    if isinstance(value, Missing):
        reader.problem(label, "kind", f"is missing; use one of {allowed}.")
    elif not isinstance(value, str):
        reader.problem(
            label,
            "kind",
            f"should be one of {allowed} in double quotes, but is {describe(value)}.",
        )
    elif value.strip() not in kinds:
        suggestion = close_match(value.strip(), kinds)
        advice = f' (did you mean "{suggestion}"?)' if suggestion else ""
        reader.problem(
            label, "kind", f'"{value}" is not a kind of {noun}{advice}; use one of {allowed}.'
        )
    else:
        return value.strip()
    return None
