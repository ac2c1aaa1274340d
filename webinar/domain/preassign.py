"""Pre-assigning people to breakout groups from an organiser's CSV file.

Pure parsing and matching, no I/O. :func:`parse_preassignments` takes the decoded text of the
uploaded file and its display name (used in messages) and returns one :class:`Preassignment`
per person listed, or raises :class:`PreassignError` listing every problem found, each as one
plain sentence with the line it is on. Nothing is ever returned half.

The file format:

* The first row is a header naming the columns, in any letter case. It needs a group column
  (``group``, ``group number``, ``breakout group`` or ``room``) and a name column (``name``,
  ``full name``, ``attendee``), an email column (``email``, ``e-mail``, ``email address``) or
  both. Other columns are ignored.
* Values are separated by commas, semicolons or tabs; the separator is guessed from the header
  row. An Excel ``sep=;`` first line is honoured.
* Each row lists one person: a name or an email address (or both) and a group number, written
  as a positive whole number such as ``3`` or as ``Group 3``. Completely empty rows are skipped.

:func:`match` then pairs the rows with the people actually present: by email address first,
then by name (compared with :func:`name_key`: Unicode NFC, case-insensitive, whitespace
collapsed).
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import _csv

__all__ = [
    "MAX_GROUP",
    "MAX_ROWS",
    "CsvProblem",
    "PreassignError",
    "Preassignment",
    "match",
    "name_key",
    "parse_preassignments",
]

#: The most people one file may list.
MAX_ROWS = 20_000
#: The highest group number accepted when the number of groups is not yet known.
MAX_GROUP = 10_000
#: The most characters of a value from the file echoed back in a message.
QUOTE_LIMIT = 60
#: The most header columns listed in a message about the header.
_COLUMNS_SHOWN = 10

_ALIASES: dict[str, str] = {
    "group": "group",
    "group number": "group",
    "breakout group": "group",
    "room": "group",
    "name": "name",
    "full name": "name",
    "attendee": "name",
    "email": "email",
    "e-mail": "email",
    "email address": "email",
    "e-mail address": "email",
}
_ROLES = ("name", "email", "group")
_DELIMITERS = (",", ";", "\t")
_SEP_LINE_RE = re.compile(r'"?sep=(.)"?[,;\t]*', re.IGNORECASE)
_GROUP_RE = re.compile(r"(?:group|room)?\s*#?\s*([0-9]+)", re.IGNORECASE)
_EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_QUOTED_RE = re.compile(r'"[^"]*"')
_EXAMPLE_HEADER = '"name,email,group"'


@dataclass(frozen=True, slots=True)
class Preassignment:
    """One row of the file: who goes to which group.

    ``line`` is the line of the file the row starts on. ``name`` has its whitespace collapsed
    (``""`` when not given); ``email`` is lower-cased (``""`` when not given). At least one of
    the two is set. ``group`` counts from 1.
    """

    line: int
    name: str
    email: str
    group: int


@dataclass(frozen=True, slots=True)
class CsvProblem:
    """One thing wrong with the file, on ``line`` (``None`` for the file as a whole).

    ``file`` is the display name given to the parser; ``str()`` reads like
    ``groups.csv, line 7: the group "x" is not a positive whole number such as 3.``
    """

    line: int | None
    message: str
    file: str = ""

    def __str__(self) -> str:
        parts = [self.file] if self.file else []
        if self.line is not None:
            parts.append(f"line {self.line}")
        where = ", ".join(parts)
        return f"{where}: {self.message}" if where else self.message


class PreassignError(ValueError):
    """A pre-assignment file could not be used; ``problems`` lists everything wrong with it."""

    def __init__(self, problems: Iterable[CsvProblem]) -> None:
        self.problems: list[CsvProblem] = list(problems)
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(str(problem) for problem in self.problems)

    def __reduce__(self) -> tuple[type[PreassignError], tuple[list[CsvProblem]]]:
        return (type(self), (self.problems,))


def name_key(name: str) -> str:
    """The form of ``name`` used for matching: NFC, case-folded, whitespace collapsed."""
    folded = unicodedata.normalize("NFC", name).casefold()
    return " ".join(unicodedata.normalize("NFC", folded).split())


def parse_preassignments(
    text: str, name: str, *, group_count: int | None = None
) -> list[Preassignment]:
    """Parse the pre-assignment file ``text``; ``name`` is how messages refer to the file.

    When ``group_count`` is given, group numbers above it are problems. Raises
    :class:`PreassignError` listing every problem found; never raises anything else.
    """
    reader = _Reader(text, group_count)
    rows = reader.rows()
    if reader.problems:
        raise PreassignError(CsvProblem(line, message, name) for line, message in reader.problems)
    return rows


def match(
    assignments: Sequence[Preassignment], people: Mapping[str, tuple[str, str]]
) -> tuple[dict[str, int], list[Preassignment]]:
    """Pair rows of a pre-assignment file with the people present.

    ``people`` maps participant ids to ``(name, email)``. Returns the group of every participant
    matched, and the rows that could not be used, in file order.

    A row is matched by email address first (case-insensitively), then, if its email matches
    nobody, by name (see :func:`name_key`), only among people not already matched. Each person
    is assigned by at most one row, the first that matches them. A row is unused, and returned
    in the second list, when it matches nobody *or* when it matches several people equally well
    (say two people called "Sam Lee" and no email to tell them apart): rather than guess, the
    ambiguous row is reported back for the organiser to resolve. When several people share the
    row's email address, the row's name is used to pick one of them.
    """
    by_email: dict[str, list[str]] = {}
    by_name: dict[str, list[str]] = {}
    for person_id in sorted(people):
        person_name, person_email = people[person_id]
        email = person_email.strip().lower()
        key = name_key(person_name)
        if email:
            by_email.setdefault(email, []).append(person_id)
        if key:
            by_name.setdefault(key, []).append(person_id)

    assigned: dict[str, int] = {}
    unused: set[int] = set()
    by_name_later: list[int] = []
    for index, row in enumerate(assignments):
        email = row.email.strip().lower()
        candidates = [pid for pid in by_email.get(email, []) if pid not in assigned]
        if len(candidates) > 1 and row.name:
            key = name_key(row.name)
            candidates = [pid for pid in candidates if name_key(people[pid][0]) == key]
        if len(candidates) == 1:
            assigned[candidates[0]] = row.group
        elif candidates or not name_key(row.name):
            unused.add(index)
        else:
            by_name_later.append(index)

    for index in by_name_later:
        row = assignments[index]
        candidates = [pid for pid in by_name.get(name_key(row.name), []) if pid not in assigned]
        if len(candidates) == 1:
            assigned[candidates[0]] = row.group
        else:
            unused.add(index)

    return assigned, [row for index, row in enumerate(assignments) if index in unused]


# --- reading -------------------------------------------------------------------------------


#: A row of the file with something in it: (line number, cells).
Record = tuple[int, list[str]]


class _Reader:
    """One pass over the file, collecting ``(line, message)`` problems."""

    def __init__(self, text: str, group_count: int | None) -> None:
        self.text = text.removeprefix("\ufeff")
        self.problems: list[tuple[int | None, str]] = []
        self.group_count = group_count
        self.emails_seen: dict[str, int] = {}
        self.names_seen: dict[str, list[tuple[int, str]]] = {}
        self.last_line = 0

    def rows(self) -> list[Preassignment]:
        delimiter, skip_first = _delimiter(self.text)
        reader = csv.reader(io.StringIO(self.text, newline=""), delimiter=delimiter)
        self.last_line = 0
        try:
            return self.read(self.records(reader, skip_first))
        except csv.Error as exc:
            self.unreadable(self.last_line + 1, exc)
            return []

    def records(self, reader: _csv.Reader, skip_first: bool) -> Iterator[Record]:
        """``(line, cells)`` of each row with something in it (past a first row to skip);
        ``last_line`` follows the reader, for the message when the file is unreadable."""
        for record in reader:
            line = self.last_line + 1
            self.last_line = reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            if skip_first:
                skip_first = False
                continue
            yield line, record

    def read(self, records: Iterator[Record]) -> list[Preassignment]:
        columns: dict[str, int] | None = None
        found: list[Preassignment] = []
        listed = 0
        for line, record in records:
            if columns is None:
                columns = self.header(record, line)
                if columns is None:
                    return []
                continue
            listed += 1
            if listed > MAX_ROWS:
                self.too_many()
                return []
            row = self.row(record, line, columns)
            if row is not None:
                found.append(row)
        if columns is None:
            self.problem(
                None,
                f"the file is empty; it needs a header row such as {_EXAMPLE_HEADER} "
                "and then one row per person.",
            )
            return []
        if listed == 0:
            self.problem(
                None,
                "the file lists nobody: it has a header row but no rows of people below it.",
            )
        return found

    # --- header ----------------------------------------------------------------------------

    def header(self, record: list[str], line: int) -> dict[str, int] | None:
        positions: dict[str, list[int]] = {}
        for index, cell in enumerate(record):
            role = _ALIASES.get(_header_word(cell))
            if role is not None:
                positions.setdefault(role, []).append(index)
        shown = _columns(record)
        if not positions:
            self.problem(
                line,
                "the first row should be a header naming the columns, such as "
                f"{_EXAMPLE_HEADER}, but it has {shown}.",
            )
            return None
        ok = True
        for role in _ROLES:
            indexes = positions.get(role, [])
            if len(indexes) > 1:
                ok = False
                both = ", ".join(_quote(record[index].strip()) for index in indexes)
                self.problem(
                    line,
                    f"the header has more than one {role} column ({both}); keep only one.",
                )
        if "group" not in positions:
            ok = False
            self.problem(
                line,
                f'the header has no group column (it has {shown}); add a column headed "group".',
            )
        if "name" not in positions and "email" not in positions:
            ok = False
            self.problem(
                line,
                f"the header has neither a name nor an email column (it has {shown}); "
                'add a column headed "name" or "email".',
            )
        if not ok:
            return None
        return {role: indexes[0] for role, indexes in positions.items()}

    # --- rows ------------------------------------------------------------------------------

    def row(self, record: list[str], line: int, columns: Mapping[str, int]) -> Preassignment | None:
        raw = {role: _cell(record, columns.get(role)) for role in _ROLES}
        for role in _ROLES:
            if "\n" in raw[role] or "\r" in raw[role]:
                label = "email address" if role == "email" else role
                self.problem(
                    line,
                    f"the {label} {_quote(raw[role].strip())} runs over more than one line; "
                    'check this row for a stray double quote (").',
                )
                return None

        person = unicodedata.normalize("NFC", " ".join(raw["name"].split()))
        written_email = raw["email"].strip()
        email = written_email.lower()
        ok = True
        if not person and not email:
            ok = False
            self.missing_person(line, columns)
        if email and not _EMAIL_RE.fullmatch(email):
            ok = False
            self.problem(
                line,
                f"the email address {_quote(written_email)} is not valid; "
                "write it like name@example.org.",
            )
        group = self.group(raw["group"], line)
        ok = self.unique(line, person, email) and ok
        if not ok or group is None:
            return None
        return Preassignment(line=line, name=person, email=email, group=group)

    def missing_person(self, line: int, columns: Mapping[str, int]) -> None:
        if "name" in columns and "email" in columns:
            what = "neither a name nor an email address; fill one in"
        elif "name" in columns:
            what = "no name; fill it in"
        else:
            what = "no email address; fill it in"
        self.problem(line, f"this row has {what} or delete the row.")

    def group(self, written: str, line: int) -> int | None:
        value = written.strip()
        if not value:
            self.problem(line, "this row has no group; give a group number such as 3.")
            return None
        found = _GROUP_RE.fullmatch(value)
        digits = found.group(1).lstrip("0") if found else ""
        if not digits:
            self.problem(
                line, f"the group {_quote(value)} is not a positive whole number such as 3."
            )
            return None
        too_long = len(digits) > len(str(MAX_GROUP))
        number = MAX_GROUP + 1 if too_long else int(digits)
        shown = _quote(value) if too_long else str(number)
        if self.group_count is not None and number > self.group_count:
            self.problem(line, f"there is no group {shown}: {_groups(self.group_count)}.")
            return None
        if number > MAX_GROUP:
            self.problem(
                line, f"the group {shown} is too large; groups are numbered 1 to {MAX_GROUP:,}."
            )
            return None
        return number

    def unique(self, line: int, person: str, email: str) -> bool:
        """Record the row's person; report it if an earlier row already listed them."""
        earlier: int | None = None
        who = ""
        key = name_key(person)
        if email and email in self.emails_seen:
            earlier = self.emails_seen[email]
            who = f"the email address {_quote(email)}"
        elif key:
            for seen_line, seen_email in self.names_seen.get(key, []):
                # Two rows with the same name but different email addresses are two people.
                if not (email and seen_email and seen_email != email):
                    earlier = seen_line
                    who = _quote(person)
                    break
        if email:
            self.emails_seen.setdefault(email, line)
        if key:
            self.names_seen.setdefault(key, []).append((line, email))
        if earlier is None:
            return True
        self.problem(
            line,
            f"{who} is listed twice, on lines {earlier} and {line}; keep only one of the rows.",
        )
        return False

    # --- whole-file problems ---------------------------------------------------------------

    def problem(self, line: int | None, message: str) -> None:
        self.problems.append((line, message))

    def too_many(self) -> None:
        self.problems.clear()
        self.problem(
            None,
            f"the file lists more than {MAX_ROWS:,} people; "
            f"at most {MAX_ROWS:,} can be pre-assigned at once.",
        )

    def unreadable(self, line: int, exc: csv.Error) -> None:
        reason = str(exc)
        if "field limit" in reason:
            message = (
                f"a value on this line is longer than {csv.field_size_limit():,} characters, "
                'so the file could not be read; check for a stray double quote (").'
            )
        else:
            message = f"this line could not be read as CSV ({_clip(reason)})."
        self.problem(line, message)


# --- helpers -------------------------------------------------------------------------------


def _delimiter(text: str) -> tuple[str, bool]:
    """The separator to read ``text`` with, and whether the first line is a ``sep=`` line."""
    for physical in io.StringIO(text, newline=""):
        stripped = physical.strip()
        if not stripped:
            continue
        sep = _SEP_LINE_RE.fullmatch(physical.rstrip("\r\n").strip(" "))
        if sep and sep.group(1) in _DELIMITERS:
            return sep.group(1), True
        unquoted = _QUOTED_RE.sub("", physical)
        counts = [unquoted.count(delimiter) for delimiter in _DELIMITERS]
        best = max(counts)
        return (_DELIMITERS[counts.index(best)] if best else ","), False
    return ",", False


def _header_word(cell: str) -> str:
    return " ".join(cell.replace("_", " ").casefold().split())


def _cell(record: Sequence[str], index: int | None) -> str:
    return record[index] if index is not None and index < len(record) else ""


def _columns(record: Sequence[str]) -> str:
    cells = [cell.strip() for cell in record if cell.strip()]
    shown = ", ".join(_quote(cell) for cell in cells[:_COLUMNS_SHOWN])
    more = len(cells) - _COLUMNS_SHOWN
    return f"{shown} and {more} more" if more > 0 else shown


def _groups(count: int) -> str:
    if count <= 0:
        return "the breakout has no groups"
    if count == 1:
        return "the breakout has only 1 group"
    return f"the breakout has {count} groups, numbered 1 to {count}"


def _clip(text: str, limit: int = QUOTE_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _quote(value: str) -> str:
    """``value`` in double quotes, at most 60 characters of it, unprintables escaped."""
    clipped = _clip(value)
    shown = "".join(_escape(char) for char in clipped)
    return f'"{shown}"'


def _escape(char: str) -> str:
    if char in '"\\':
        return "\\" + char
    return char if char.isprintable() else repr(char)[1:-1]
