"""Reading agenda files: TOML text in, a checked :class:`~webinar.domain.agenda.Agenda` out.

Pure parsing and validation, no file I/O: :func:`parse_agenda` takes the text of the file and a
display name for it (used in messages). Every problem found is collected, so an organiser sees
all of them at once, each as one plain sentence naming the file, the item and the field.

The file format is documented for organisers in ``docs/agenda-format.md``.
"""

from __future__ import annotations

import difflib
import re
import tomllib
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from webinar.domain.agenda import (
    ITEM_KINDS,
    QUESTION_KINDS,
    Agenda,
    BreakoutSettings,
    Item,
    Slide,
    Survey,
    SurveyQuestion,
)
from webinar.domain.agenda_polls import read_polls
from webinar.domain.polls import PollSpec

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_ITEMS",
    "AgendaFileError",
    "AgendaProblem",
    "decode_agenda",
    "parse_agenda",
    "too_large",
]

TOP_KEYS = ("event", "items", "survey", "qa")
QA_KEYS = ("max_length", "word_filter")
EVENT_KEYS = ("title", "date", "timezone", "organiser", "description", "moderation")
ITEM_KEYS = (
    "id",
    "title",
    "kind",
    "start",
    "end",
    "duration",
    "presenters",
    "summary",
    "serves",
    "slides",
    "breakout",
    "polls",
)
SLIDE_KEYS = ("title", "body")
BREAKOUT_KEYS = (
    "topics",
    "group_size",
    "groups",
    "min_topics",
    "instructions",
    "grace_seconds",
    "warning_seconds",
    "volunteer_seconds",
    "video_url_template",
)
SURVEY_KEYS = ("title", "opens_at_item", "open_days", "anonymous", "questions")
QUESTION_KEYS = (
    "code",
    "text",
    "kind",
    "required",
    "options",
    "scale_min",
    "scale_max",
    "scale_min_label",
    "scale_max_label",
)
SCALE_KEYS = ("scale_min", "scale_max", "scale_min_label", "scale_max_label")

#: Longest item given with ``duration``, in minutes.
MAX_DURATION_MINUTES = 24 * 60
#: Largest agenda file, in bytes: about 40 times the seed webinar. Every page carries
#: the agenda, so a larger one would make every attendee's page (on a phone) as large.
MAX_FILE_BYTES = 500_000
#: Most items on one agenda: a full day in five-minute items is 288; real ones have dozens.
MAX_ITEMS = 200
#: Problems listed in full; the rest are counted ("... and 58,154 more problems.").
MAX_PROBLEMS_SHOWN = 100
#: Widest rating scale (``scale_max - scale_min``).
MAX_SCALE_SPAN = 10
FIRST_YEAR = 1970
LAST_YEAR = 9998

_ID_RE = re.compile(r"[a-z0-9-]+")
_CODE_RE = re.compile(r"[a-z0-9_]+")
_TIME_RE = re.compile(r"(\d{1,2}):(\d{2})", re.ASCII)
_DOTTED_TIME_RE = re.compile(r"\d{1,2}\.\d{2}", re.ASCII)
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_PLAIN_KEY_RE = re.compile(r"[A-Za-z0-9_-]+")
_TOML_POSITION_RE = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_TOML_END_RE = re.compile(r"\s*\(at end of document\)\s*$")
_BARE_TIME_RE = re.compile(r"=\s*\d{1,2}[:.]\d{2}\s*(#.*)?$")


@dataclass(frozen=True, slots=True)
class AgendaProblem:
    """One thing wrong with an agenda file.

    ``item`` is a label such as ``item 6 "LCSPR Breakout"`` or ``survey question 2 "q2"`` (or
    ``None`` for the event as a whole); ``field`` is the setting, such as ``breakout.min_topics``.
    """

    file: str
    item: str | None
    field: str | None
    message: str

    def __str__(self) -> str:
        parts = [self.file]
        if self.item:
            parts.append(self.item)
        if self.field:
            parts.append(f"field {self.field}")
        return ", ".join(parts) + ": " + self.message


class AgendaFileError(ValueError):
    """An agenda file could not be used; ``problems`` lists everything wrong with it."""

    def __init__(self, problems: Iterable[AgendaProblem]) -> None:
        self.problems: list[AgendaProblem] = list(problems)
        super().__init__(str(self))

    def __str__(self) -> str:
        """Every problem on its own line, up to ``MAX_PROBLEMS_SHOWN``; then how many more."""
        lines = [str(problem) for problem in self.problems[:MAX_PROBLEMS_SHOWN]]
        rest = len(self.problems) - MAX_PROBLEMS_SHOWN
        if rest > 0:
            lines.append(
                f"{self.problems[0].file}: … and {rest:,} more problem{'' if rest == 1 else 's'}"
                " not listed; fix the ones above and check the file again."
            )
        return "\n".join(lines)

    def __reduce__(self) -> tuple[type[AgendaFileError], tuple[list[AgendaProblem]]]:
        return (type(self), (self.problems,))


def parse_agenda(text: str, name: str, *, today: date | None = None) -> Agenda:
    """Parse and check the agenda file ``text``; ``name`` is how messages refer to the file.

    ``date = "today"`` in the file resolves to ``today`` (default: :meth:`date.today`).
    Raises :class:`AgendaFileError` listing every problem found; never raises anything else.
    """
    try:
        return _parse(text, name, today)
    except AgendaFileError:
        raise
    except Exception as exc:  # a safety net: a bug here must not crash the caller
        problem = AgendaProblem(
            str(name), None, None, f"could not be read because of an internal error ({exc!r})."
        )
        raise AgendaFileError([problem]) from exc


def _size(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB" if size >= 1_000_000 else f"{size / 1000:.0f} KB"


def too_large(name: str, size: int) -> AgendaProblem | None:
    """The problem with an agenda file of ``size`` bytes, or ``None`` if it is small enough."""
    if size <= MAX_FILE_BYTES:
        return None
    return AgendaProblem(
        str(name),
        None,
        None,
        f"is {_size(size)}; an agenda file may be at most {_size(MAX_FILE_BYTES)}. Take out "
        "what the webinar does not need (long slide texts, repeated items) or split it into "
        "several webinars.",
    )


def decode_agenda(data: bytes, name: str) -> str:
    """The text of an agenda file's bytes, which must be UTF-8 (a leading BOM is dropped).

    Raises :class:`AgendaFileError` naming the line and column of the first byte that is
    not UTF-8, as a TOML error names where it is.
    """
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        start = exc.start
    before = data[:start].decode("utf-8-sig")
    line = before.count("\n") + 1
    column = len(before) - (before.rfind("\n") + 1) + 1
    bad = data[start]
    guess = bytes([bad]).decode("cp1252", "replace")
    perhaps = f', perhaps "{guess}" saved in another encoding' if guess.isprintable() else ""
    raise AgendaFileError(
        [
            AgendaProblem(
                str(name),
                None,
                None,
                f"is not UTF-8 text at line {line}, column {column}: the byte 0x{bad:02X} "
                f"there is not UTF-8{perhaps}. Save the file as UTF-8 (most editors offer "
                "the encoding under Save As).",
            )
        ]
    ) from None


# --------------------------------------------------------------------------------------------
# Small helpers


def _describe(value: object) -> str:
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


def _show_key(key: str) -> str:
    if _PLAIN_KEY_RE.fullmatch(key):
        return key
    shown = "".join(
        char
        if char.isprintable()
        else (f"\\u{ord(char):04x}" if ord(char) <= 0xFFFF else f"\\U{ord(char):08x}")
        for char in key
    )
    return f'"{_clip(shown, 40)}"'


def _slug(title: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def _hhmm(moment: datetime) -> str:
    return f"{moment:%H:%M}"


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _close(word: str, choices: Sequence[str]) -> str | None:
    matches = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if not matches:
        lowered = {choice.lower(): choice for choice in choices}
        matches = [lowered[m] for m in difflib.get_close_matches(word.lower(), list(lowered))]
    return matches[0] if matches else None


def _quoted_list(words: Iterable[str]) -> str:
    return ", ".join(f'"{word}"' for word in words)


@lru_cache(maxsize=1)
def _zone_names() -> tuple[str, ...]:
    try:
        return tuple(sorted(available_timezones()))
    except Exception:  # pragma: no cover - a broken tz database only costs the suggestion
        return ()


def _load_zone(key: str) -> tzinfo | None:
    try:
        return ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError, OSError, TypeError):
        return None


@dataclass(slots=True)
class _RawItem:
    """One ``[[items]]`` table, read field by field, before cross-item checks."""

    number: int
    label: str
    title: str | None = None
    kind: str | None = None
    id: str | None = None
    id_given: bool = False
    start: time | None = None
    start_given: bool = False
    end: time | None = None
    end_given: bool = False
    duration: int | None = None
    duration_given: bool = False
    presenters: tuple[str, ...] = ()
    summary: str = ""
    slides: tuple[Slide, ...] = ()
    serves: tuple[str, ...] | None = None
    breakout: BreakoutSettings | None = None
    polls: tuple[PollSpec, ...] = ()
    start_at: datetime | None = None
    end_at: datetime | None = None


class _Missing:
    pass


_MISSING = _Missing()


# --------------------------------------------------------------------------------------------
# The reader


class _Reader:
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
            field = prefix + _show_key(key)
            if elsewhere and key in elsewhere:
                self.problem(item, field, f"is not a setting here; {elsewhere[key]}.")
                continue
            match = _close(key, allowed)
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
        value = table.get(key, _MISSING)
        if isinstance(value, _Missing):
            if required:
                self.problem(item, field, f"is missing{hint}.")
            return None
        if not isinstance(value, str):
            self.problem(
                item, field, f"should be text in double quotes, but is {_describe(value)}."
            )
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
        value = table.get(key, _MISSING)
        if isinstance(value, _Missing):
            if required:
                self.problem(item, field, f"is missing; give a whole number, like {example}.")
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(
                item,
                field,
                f"should be a whole number, like {example}, but is {_describe(value)}.",
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
        value = table.get(key, _MISSING)
        if isinstance(value, _Missing):
            return None
        if not isinstance(value, bool):
            self.problem(
                item, field, f"should be true or false (no quotes), but is {_describe(value)}."
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
        value = table.get(key, _MISSING)
        if isinstance(value, _Missing):
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
                f"should be a list in square brackets, like {example}, but is {_describe(value)}.",
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
                    f"but is {_describe(entry)}.",
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
            f"should be a table, started by a line {header}, but is {_describe(value)}.",
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
                f"but is {_describe(value)}.",
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
                    f"but is {_describe(entry)}.",
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
                f"but is {_describe(value)}.",
            )
            return None
        self.problem(
            item,
            field,
            f'should be a time in double quotes, like "10:30", but is {_describe(value)}.',
        )
        return None


# --------------------------------------------------------------------------------------------
# The parse


_TOML_CHARACTER_RE = re.compile(r"(?:Illegal|Found invalid) character (.+)")
_TOML_TWICE_RE = re.compile(r"Cannot declare \((.*)\) twice")
#: tomllib's wording for common mistakes, put in words an organiser can act on.
_TOML_REASONS = {
    "Unterminated string": "a text in quotes is never closed; add the closing quotes",
    "Expected \"'''\"": "a text in three single quotes is never closed; add the closing '''",
    'Expected "\'"': "a text in single quotes is never closed; add the closing '",
    "Unclosed array": "a list in square brackets is not closed, or two of its entries have "
    "no comma between them; separate entries with commas and end the list with ]",
    "Unclosed inline table": "a table in curly braces is not closed, or two of its settings "
    "have no comma between them; end it with }",
    "Cannot overwrite a value": "this setting is given twice in the same section (or a "
    "section has the name of a setting); keep one of them",
    "Expected '=' after a key in a key/value pair": "a setting needs an equals sign after "
    'its name, like title = "Welcome" (names have no spaces: group_size, not group size)',
    "Expected ']' at the end of a table declaration": "a section name needs a closing "
    "square bracket, like [event]",
    "Expected ']]' at the end of an array declaration": "a section name in double square "
    "brackets needs two closing brackets, like [[items]]",
    "Invalid statement": "this line is neither a setting (name = value) nor a section name "
    "in square brackets",
}


def _toml_reason(reason: str) -> str:
    """A TOML error message in plain words, where tomllib's own would puzzle an organiser."""
    if reason in _TOML_REASONS:
        return _TOML_REASONS[reason]
    character = _TOML_CHARACTER_RE.fullmatch(reason)
    if character:
        if character.group(1) == repr("\n"):
            return (
                "a text in quotes is not closed before the end of the line; add the closing "
                'quote, or put text over several lines between three double quotes ("""), '
                "as slide bodies are"
            )
        return (
            f"the text contains the control character {character.group(1)}, which TOML does "
            "not allow there; delete it (it is often invisible: retype the line)"
        )
    twice = _TOML_TWICE_RE.fullmatch(reason)
    if twice:
        parts = [part.strip().strip("'\"") for part in twice.group(1).split(",")]
        section = ".".join(part for part in parts if part)
        return (
            f"the section [{section}] appears twice; keep one [{section}] line and put all "
            "its settings under it"
        )
    return reason


def _toml_problem(name: str, text: str, exc: tomllib.TOMLDecodeError) -> AgendaProblem:
    message = str(exc)
    position = _TOML_POSITION_RE.search(message)
    if position:
        line, column = int(position.group(1)), int(position.group(2))
        reason = message[: position.start()]
        where = f"at line {line}, column {column}"
    else:
        line = 0
        reason = _TOML_END_RE.sub("", message)
        where = "at the end of the file" if _TOML_END_RE.search(message) else "somewhere"
    reason = _toml_reason(reason.strip().rstrip(".")) or "it cannot be read"
    reason = reason[0].lower() + reason[1:]
    hint = ""
    lines = text.splitlines()
    if 1 <= line <= len(lines) and _BARE_TIME_RE.search(lines[line - 1]):
        hint = ' (put times in double quotes, like start = "10:30")'
    return AgendaProblem(name, None, None, f"is not valid TOML {where}: {reason}{hint}.")


def _parse(text: str, name: str, today: date | None) -> Agenda:
    name = str(name)
    if not isinstance(text, str):
        raise AgendaFileError([AgendaProblem(name, None, None, "is not text.")])
    large = too_large(name, len(text.encode("utf-8", "surrogatepass")))
    if large is not None:
        raise AgendaFileError([large])
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise AgendaFileError([_toml_problem(name, text, exc)]) from None
    except RecursionError:
        raise AgendaFileError(
            [AgendaProblem(name, None, None, "is not valid TOML: it is nested too deeply.")]
        ) from None

    reader = _Reader(name)
    reader.check_keys(
        document,
        TOP_KEYS,
        None,
        "",
        elsewhere={
            **{key: "it belongs in the [event] table" for key in EVENT_KEYS},
            "item": "write [[items]] (plural) above each item",
        },
    )

    # -- event ------------------------------------------------------------------------------
    title, event_date, zone, zone_name = None, None, None, ""
    organiser, description, moderation = "", "", False
    event_value = document.get("event", _MISSING)
    if isinstance(event_value, _Missing):
        reader.problem(
            None,
            "event",
            "is missing; every agenda file needs an [event] table with the title, "
            "date and time zone of the webinar.",
        )
        event: dict[str, object] | None = None
    else:
        event = reader.table(event_value, None, "event", "[event]")
    if event is not None:
        reader.check_keys(
            event,
            EVENT_KEYS,
            None,
            "event.",
            elsewhere={
                "items": "write [[items]] on its own line above each item instead",
                "survey": "write [survey] on its own line above the survey settings instead",
            },
        )
        title = reader.text(
            event, "title", None, "event.title", required=True, hint="; give the webinar a title"
        )
        event_date = _event_date(reader, event, today)
        zone, zone_name = _event_zone(reader, event)
        organiser = reader.text(event, "organiser", None, "event.organiser") or ""
        description = reader.text(event, "description", None, "event.description") or ""
        moderation = bool(reader.flag(event, "moderation", None, "event.moderation"))

    # -- items ------------------------------------------------------------------------------
    raw_items: list[_RawItem] = []
    items_value = document.get("items", _MISSING)
    if isinstance(items_value, _Missing):
        reader.problem(
            None, "items", "is missing; an agenda needs at least one item, started by [[items]]."
        )
    else:
        entries = reader.table_list(items_value, None, "items", "[[items]]")
        if entries is not None and len(entries) > MAX_ITEMS:
            raise AgendaFileError(
                [
                    AgendaProblem(
                        name,
                        None,
                        "items",
                        f"lists {len(entries):,} items; an agenda may have at most "
                        f"{MAX_ITEMS}. A longer programme is several webinars.",
                    )
                ]
            )
        if entries is not None and not entries:
            reader.problem(
                None, "items", "is empty; an agenda needs at least one item, started by [[items]]."
            )
        for number, entry in entries or ():
            reader.section = (1, number)
            if entry is not None:
                raw_items.append(_read_item(reader, number, entry))

    check_date = event_date or date(2000, 1, 1)
    check_zone = zone or UTC
    _resolve_times(reader, raw_items, check_date, check_zone)
    _check_ids(reader, raw_items)
    _check_serves(reader, raw_items)

    # -- Q&A forum --------------------------------------------------------------------------
    qa_max_length = 500
    word_filter: tuple[str, ...] = ()
    qa_value = document.get("qa", _MISSING)
    if not isinstance(qa_value, _Missing):
        qa_table = reader.table(qa_value, None, "qa", "[qa]")
        if qa_table is not None:
            reader.check_keys(qa_table, QA_KEYS, None, "qa.")
            qa_max_length = (
                reader.whole(
                    qa_table,
                    "max_length",
                    None,
                    "qa.max_length",
                    low=20,
                    high=5000,
                    example="max_length = 500",
                )
                or 500
            )
            word_filter = tuple(
                reader.text_list(
                    qa_table,
                    "word_filter",
                    None,
                    "qa.word_filter",
                    example='word_filter = ["word", "a phrase"]',
                    entry_word="word",
                )
                or ()
            )

    # -- survey -----------------------------------------------------------------------------
    survey: Survey | None = None
    survey_value = document.get("survey", _MISSING)
    if not isinstance(survey_value, _Missing):
        reader.section = (2, 0)
        survey_table = reader.table(survey_value, None, "survey", "[survey]")
        if survey_table is not None:
            survey = _read_survey(reader, survey_table, raw_items)

    if reader.has_problems:
        raise AgendaFileError(reader.problems())
    assert title is not None and zone is not None
    items = tuple(_finish_item(raw) for raw in raw_items)
    return Agenda(
        title=title.strip(),
        timezone=zone,
        timezone_name=zone_name,
        items=items,
        organiser=organiser.strip(),
        description=description,
        survey=survey,
        moderation=moderation,
        qa_max_length=qa_max_length,
        qa_word_filter=word_filter,
        source_name=name,
    )


def _kind(
    reader: _Reader,
    table: Mapping[str, object],
    label: str,
    kinds: Sequence[str],
    noun: str,
) -> str | None:
    """The table's ``kind``, one of ``kinds``; a problem (with a suggestion) otherwise."""
    value = table.get("kind", _MISSING)
    allowed = _quoted_list(kinds)
    if isinstance(value, _Missing):
        reader.problem(label, "kind", f"is missing; use one of {allowed}.")
    elif not isinstance(value, str):
        reader.problem(
            label,
            "kind",
            f"should be one of {allowed} in double quotes, but is {_describe(value)}.",
        )
    elif value.strip() not in kinds:
        suggestion = _close(value.strip(), kinds)
        advice = f' (did you mean "{suggestion}"?)' if suggestion else ""
        reader.problem(
            label, "kind", f'"{value}" is not a kind of {noun}{advice}; use one of {allowed}.'
        )
    else:
        return value.strip()
    return None


def _event_date(reader: _Reader, event: Mapping[str, object], today: date | None) -> date | None:
    value = event.get("date", _MISSING)
    example = 'like date = "2020-08-20", or date = "today"'
    if isinstance(value, _Missing):
        reader.problem(None, "event.date", f"is missing; give the day of the webinar, {example}.")
        return None
    found: date | None = None
    if isinstance(value, datetime):
        reader.problem(None, "event.date", f"should be a day without a time of day, {example}.")
        return None
    if isinstance(value, date):
        found = value
    elif isinstance(value, str):
        cleaned = value.strip()
        if cleaned.lower() == "today":
            found = today if today is not None else date.today()
            if isinstance(found, datetime):
                found = found.date()
        elif _DATE_RE.fullmatch(cleaned):
            try:
                found = date.fromisoformat(cleaned)
            except ValueError:
                reader.problem(
                    None, "event.date", f'is "{value}", which is not a day in the calendar.'
                )
                return None
        else:
            reader.problem(
                None,
                "event.date",
                f"should be a day written year-month-day, {example}, but is {_describe(value)}.",
            )
            return None
    else:
        reader.problem(
            None,
            "event.date",
            f"should be a day in double quotes, {example}, but is {_describe(value)}.",
        )
        return None
    if not FIRST_YEAR <= found.year <= LAST_YEAR:
        reader.problem(
            None,
            "event.date",
            f"should be a day between the years {FIRST_YEAR} and {LAST_YEAR}, "
            f"but is {found.isoformat()}.",
        )
        return None
    return found


def _event_zone(reader: _Reader, event: Mapping[str, object]) -> tuple[tzinfo | None, str]:
    key = reader.text(
        event,
        "timezone",
        None,
        "event.timezone",
        required=True,
        hint='; give the time zone the times are in, like timezone = "Europe/London"',
    )
    if key is None:
        return None, ""
    key = key.strip()
    zone = _load_zone(key)
    if zone is None:
        suggestion = _close(key, _zone_names())
        advice = (
            f'did you mean "{suggestion}"?'
            if suggestion
            else 'use a name from the IANA time zone list, like "Europe/London".'
        )
        reader.problem(None, "event.timezone", f'"{key}" is not a known time zone; {advice}')
        return None, ""
    return zone, key


def _item_label(number: int, table: Mapping[str, object]) -> str:
    title = table.get("title")
    if isinstance(title, str) and title.strip():
        return f'item {number} "{_clip(title.strip())}"'
    return f"item {number}"


def _read_item(reader: _Reader, number: int, table: Mapping[str, object]) -> _RawItem:
    label = _item_label(number, table)
    raw = _RawItem(number=number, label=label)
    reader.check_keys(
        table,
        ITEM_KEYS,
        label,
        "",
        elsewhere={key: "it belongs in the item's [items.breakout] table" for key in BREAKOUT_KEYS},
    )
    title = reader.text(
        table, "title", label, "title", required=True, hint="; give the item a title"
    )
    raw.title = title.strip() if title is not None else None

    kind = _kind(reader, table, label, ITEM_KINDS, "item")
    if kind is not None:
        raw.kind = kind

    if "id" in table:
        raw.id_given = True
        given = reader.text(table, "id", label, "id")
        if given is not None:
            if _ID_RE.fullmatch(given):
                raw.id = given
            else:
                better = _slug(given)
                advice = f', like "{better}"' if better else ""
                reader.problem(
                    label,
                    "id",
                    f'is "{given}", but an id may only use lower-case letters a-z, digits and '
                    f"hyphens{advice}.",
                )
    elif raw.title is not None:
        raw.id = _slug(raw.title) or f"item-{number}"

    if "start" in table:
        raw.start_given = True
        raw.start = reader.clock_time(table, "start", label, "start")
    if "end" in table:
        raw.end_given = True
        raw.end = reader.clock_time(table, "end", label, "end")
    if "duration" in table:
        raw.duration_given = True
        raw.duration = reader.whole(
            table,
            "duration",
            label,
            "duration",
            low=1,
            high=MAX_DURATION_MINUTES,
            example="duration = 20 (minutes)",
        )
    if raw.end_given and raw.duration_given:
        reader.problem(label, "end", "is given together with duration; give only one of the two.")
    elif not raw.end_given and not raw.duration_given:
        reader.problem(
            label,
            "end",
            'is missing; give either an end time, like end = "10:30", or a length in minutes, '
            "like duration = 20.",
        )

    presenters = reader.text_list(
        table, "presenters", label, "presenters", example='presenters = ["Ann Smith"]'
    )
    raw.presenters = tuple(presenters or ())
    raw.summary = reader.text(table, "summary", label, "summary") or ""

    if "slides" in table:
        raw.slides = _read_slides(reader, label, table["slides"])

    if "serves" in table:
        serves = reader.text_list(
            table, "serves", label, "serves", example='serves = ["national-review-updates"]'
        )
        raw.serves = tuple(serves) if serves is not None else None

    has_breakout = "breakout" in table
    if raw.kind == "breakout" and not has_breakout:
        reader.problem(
            label,
            "breakout",
            "is missing; a breakout item needs an [items.breakout] table listing its topics.",
        )
    elif raw.kind is not None and raw.kind != "breakout" and has_breakout:
        reader.problem(
            label,
            "breakout",
            f'is only allowed on breakout items (kind = "breakout"), but this item is a '
            f'"{raw.kind}" item.',
        )
    if has_breakout:
        breakout = reader.table(table["breakout"], label, "breakout", "[items.breakout]")
        if breakout is not None:
            raw.breakout = _read_breakout(reader, label, breakout)
    if "polls" in table:  # live polls: webinar/domain/agenda_polls.py
        raw.polls = read_polls(reader, label, table["polls"])
    return raw


def _read_slides(reader: _Reader, label: str, value: object) -> tuple[Slide, ...]:
    entries = reader.table_list(value, label, "slides", "[[items.slides]]")
    slides: list[Slide] = []
    for number, entry in entries or ():
        if entry is None:
            continue
        prefix = f"slides[{number}]."
        reader.check_keys(
            entry,
            SLIDE_KEYS,
            label,
            prefix,
            elsewhere={
                key: "it belongs to the item, so move it above the item's first "
                "[[items.slides]] line"
                for key in ITEM_KEYS
                if key not in SLIDE_KEYS
            },
        )
        title = reader.text(
            entry, "title", label, prefix + "title", required=True, hint="; give the slide a title"
        )
        body = reader.text(entry, "body", label, prefix + "body")
        if title is not None:
            slides.append(Slide(title=title.strip(), body=body or ""))
    return tuple(slides)


def _read_breakout(
    reader: _Reader, label: str, table: Mapping[str, object]
) -> BreakoutSettings | None:
    reader.check_keys(
        table,
        BREAKOUT_KEYS,
        label,
        "breakout.",
        elsewhere={
            key: "it belongs to the item, so move it above the [items.breakout] line"
            for key in ITEM_KEYS
        },
    )
    ok = True
    topics: list[str] | None = None
    if "topics" not in table:
        reader.problem(
            label,
            "breakout.topics",
            'is missing; list the topics the groups discuss, like topics = ["First topic"].',
        )
        ok = False
    else:
        topics = reader.text_list(
            table,
            "topics",
            label,
            "breakout.topics",
            example='topics = ["First topic", "Second topic"]',
            entry_word="topic",
        )
        if topics is None:
            ok = False
        elif not topics:
            reader.problem(
                label, "breakout.topics", "is empty; list at least one topic for the groups."
            )
            ok = False
        else:
            seen: set[str] = set()
            for number, topic in enumerate(topics, start=1):
                if topic in seen:
                    reader.problem(
                        label,
                        "breakout.topics",
                        f'topic {number} "{_clip(topic)}" is listed twice.',
                    )
                    ok = False
                seen.add(topic)

    group_size = reader.whole(
        table, "group_size", label, "breakout.group_size", low=2, example="group_size = 6"
    )
    if group_size is None and "group_size" in table:
        ok = False
    group_count = reader.whole(
        table, "groups", label, "breakout.groups", low=1, example="groups = 4"
    )
    if group_count is None and "groups" in table:
        ok = False
    if "groups" in table and "group_size" in table:
        reader.problem(
            label,
            "breakout.groups",
            "is given together with group_size; give only one of the two: group_size for "
            "the most people per group, or groups for a fixed number of groups.",
        )
        ok = False
    min_topics = reader.whole(
        table, "min_topics", label, "breakout.min_topics", low=1, example="min_topics = 2"
    )
    if min_topics is None and "min_topics" in table:
        ok = False
    if min_topics is not None and topics:
        count = len(topics)
        if min_topics > count:
            listed = "only 1 topic is" if count == 1 else f"only {count} topics are"
            reader.problem(
                label,
                "breakout.min_topics",
                f"asks for {min_topics} topics per group but {listed} listed.",
            )
            ok = False
    seconds: dict[str, int] = {"grace_seconds": 60, "warning_seconds": 120, "volunteer_seconds": 60}
    for key, default in list(seconds.items()):
        given = reader.whole(
            table, key, label, f"breakout.{key}", low=0, example=f"{key} = {default}"
        )
        if given is not None:
            seconds[key] = given
        elif key in table:
            ok = False
    instructions = reader.text(table, "instructions", label, "breakout.instructions")
    if instructions is None and "instructions" in table:
        ok = False
    template = reader.text(table, "video_url_template", label, "breakout.video_url_template")
    if template is None and "video_url_template" in table:
        ok = False
    if template and not template.strip().lower().startswith(("https://", "http://")):
        reader.problem(
            label,
            "breakout.video_url_template",
            'should be a web address starting with "https://", like '
            '"https://video.example.org/room-{group}".',
        )
        ok = False
    if not ok or not topics:
        return None
    return BreakoutSettings(
        topics=tuple(topics),
        group_size=None if group_count is not None else (group_size or 6),
        group_count=group_count,
        min_topics=min_topics if min_topics is not None else min(2, len(topics)),
        instructions=instructions or "",
        grace_seconds=seconds["grace_seconds"],
        warning_seconds=seconds["warning_seconds"],
        volunteer_seconds=seconds["volunteer_seconds"],
        video_url_template=(template or "").strip(),
    )


def _resolve_times(reader: _Reader, items: list[_RawItem], day: date, zone: tzinfo) -> None:
    """Turn the items' clock times into aware datetimes; check order and overlaps."""
    previous: _RawItem | None = None
    for raw in items:
        reader.section = (1, raw.number)
        if raw.start_given:
            if raw.start is not None:
                raw.start_at = datetime.combine(day, raw.start, tzinfo=zone)
        elif previous is None:
            reader.problem(
                raw.label,
                "start",
                'is missing; the first item needs a start time, like start = "10:00".',
            )
        elif previous.end_at is not None:
            raw.start_at = previous.end_at
        if raw.end_given and raw.end is not None and not raw.duration_given:
            raw.end_at = datetime.combine(day, raw.end, tzinfo=zone)
            if raw.start_at is not None and raw.end_at <= raw.start_at:
                reader.problem(
                    raw.label,
                    "end",
                    f"is {_hhmm(raw.end_at)}, which is not after the start time "
                    f"{_hhmm(raw.start_at)}.",
                )
                raw.end_at = None
        elif raw.duration is not None and raw.start_at is not None and not raw.end_given:
            raw.end_at = raw.start_at + timedelta(minutes=raw.duration)
            if raw.end_at.date() != day:
                # The same rule as for end: an end of "00:30" is not after a start of
                # "23:30", and an item cannot run into the next day by its length either.
                reader.problem(
                    raw.label,
                    "duration",
                    f"is {raw.duration} minutes, so this item, starting at "
                    f"{_hhmm(raw.start_at)}, would end at {_hhmm(raw.end_at)} on a later day; "
                    "all items are on the event's day, so the latest an item can end is 23:59.",
                )
                raw.end_at = None
        previous = raw

    before: _RawItem | None = None
    latest: _RawItem | None = None
    for raw in items:
        if raw.start_at is None:
            continue
        reader.section = (1, raw.number)
        runs = _hhmm(raw.start_at) + (f" to {_hhmm(raw.end_at)}" if raw.end_at else "")
        if before is not None and before.start_at is not None and raw.start_at < before.start_at:
            reader.problem(
                raw.label,
                "start",
                f"is {_hhmm(raw.start_at)}, before {before.label}, which comes earlier in the "
                f"file but starts at {_hhmm(before.start_at)}; list the items in the order "
                "they happen.",
            )
        elif latest is not None and latest.end_at is not None and raw.start_at < latest.end_at:
            assert latest.start_at is not None
            reader.problem(
                raw.label,
                "start",
                f"makes this item ({runs}) overlap {latest.label} "
                f"({_hhmm(latest.start_at)} to {_hhmm(latest.end_at)}); an item can only start "
                "when the one before it has ended.",
            )
        before = raw
        if raw.end_at is not None and (
            latest is None or latest.end_at is None or raw.end_at > latest.end_at
        ):
            latest = raw


def _check_ids(reader: _Reader, items: list[_RawItem]) -> None:
    owners: dict[str, _RawItem] = {}
    for raw in items:
        if raw.id is None:
            continue
        reader.section = (1, raw.number)
        owner = owners.get(raw.id)
        if owner is None:
            owners[raw.id] = raw
        elif raw.id_given:
            reader.problem(
                raw.label,
                "id",
                f'is "{raw.id}", which {owner.label} already uses; give each item its own id.',
            )
        else:
            reader.problem(
                raw.label,
                "id",
                f'is missing, and the id made from the title, "{raw.id}", is already used by '
                f'{owner.label}; add a line like id = "{raw.id}-2" to tell them apart.',
            )


def _check_serves(reader: _Reader, items: list[_RawItem]) -> None:
    positions = {raw.id: raw for raw in reversed(items) if raw.id is not None}
    ids = [raw.id for raw in items if raw.id is not None]
    for raw in items:
        if raw.serves is None:
            continue
        reader.section = (1, raw.number)
        if raw.kind is not None and raw.kind != "qa":
            reader.problem(
                raw.label,
                "serves",
                f'is only allowed on Q&A items (kind = "qa"), but this item is a "{raw.kind}" '
                "item.",
            )
            continue
        seen: set[str] = set()
        for target_id in raw.serves:
            if target_id in seen:
                reader.problem(raw.label, "serves", f'names "{target_id}" twice.')
                continue
            seen.add(target_id)
            target = positions.get(target_id)
            if target is None:
                suggestion = _close(target_id, ids)
                advice = f'; did you mean "{suggestion}"?' if suggestion else "."
                reader.problem(
                    raw.label, "serves", f'names "{target_id}", but no item has that id{advice}'
                )
            elif target.number >= raw.number:
                reader.problem(
                    raw.label,
                    "serves",
                    f'names "{target_id}" ({target.label}), which does not come before this '
                    "item; a Q&A can only answer talks that come before it.",
                )
            elif target.kind is not None and target.kind != "talk":
                reader.problem(
                    raw.label,
                    "serves",
                    f'names "{target_id}" ({target.label}), which is a "{target.kind}" item, '
                    'not a talk (kind = "talk").',
                )


def _read_survey(
    reader: _Reader, table: Mapping[str, object], items: list[_RawItem]
) -> Survey | None:
    reader.check_keys(table, SURVEY_KEYS, None, "survey.")
    ok = True
    title = reader.text(table, "title", None, "survey.title")
    if title is not None and not title.strip():
        reader.problem(None, "survey.title", "is empty; leave it out or give the survey a title.")
        ok = False
    elif title is None and "title" in table:
        ok = False

    ids = [raw.id for raw in items if raw.id is not None]
    opens_at = ""
    if "opens_at_item" in table:
        given = reader.text(table, "opens_at_item", None, "survey.opens_at_item")
        if given is None:
            ok = False
        elif given not in ids:
            suggestion = _close(given, ids)
            advice = f'; did you mean "{suggestion}"?' if suggestion else "."
            reader.problem(
                None, "survey.opens_at_item", f'names "{given}", but no item has that id{advice}'
            )
            ok = False
        else:
            opens_at = given
    else:
        closing = [raw for raw in items if raw.kind == "closing" and raw.id is not None]
        if closing and closing[0].id is not None:
            opens_at = closing[0].id
        elif items:
            reader.problem(
                None,
                "survey.opens_at_item",
                'is missing and the agenda has no closing item (kind = "closing"); name the '
                'item at whose start the survey opens, like opens_at_item = "closing-remarks".',
            )
            ok = False

    open_days = reader.whole(
        table, "open_days", None, "survey.open_days", low=1, high=365, example="open_days = 14"
    )
    if open_days is None and "open_days" in table:
        ok = False
    anonymous = reader.flag(table, "anonymous", None, "survey.anonymous")
    if anonymous is None and "anonymous" in table:
        ok = False

    questions: list[SurveyQuestion] = []
    value = table.get("questions", _MISSING)
    if isinstance(value, _Missing):
        reader.problem(
            None,
            "survey.questions",
            "is missing; a survey needs at least one question, started by [[survey.questions]].",
        )
        ok = False
    else:
        entries = reader.table_list(value, None, "survey.questions", "[[survey.questions]]")
        if entries is None:
            ok = False
        elif not entries:
            reader.problem(
                None,
                "survey.questions",
                "is empty; a survey needs at least one question, started by [[survey.questions]].",
            )
            ok = False
        codes: dict[str, str] = {}
        for number, entry in entries or ():
            reader.section = (2, number)
            if entry is None:
                ok = False
                continue
            question = _read_question(reader, number, entry, codes)
            if question is None:
                ok = False
            else:
                questions.append(question)
    if not ok:
        return None
    return Survey(
        questions=tuple(questions),
        title=title.strip() if title else "Post-event survey",
        opens_at_item=opens_at,
        open_days=open_days if open_days is not None else 14,
        anonymous=anonymous if anonymous is not None else True,
    )


def _read_question(
    reader: _Reader, number: int, table: Mapping[str, object], codes: dict[str, str]
) -> SurveyQuestion | None:
    code_value = table.get("code")
    label = f"survey question {number}"
    if isinstance(code_value, str) and code_value.strip():
        label += f' "{_clip(code_value.strip(), 30)}"'
    reader.check_keys(table, QUESTION_KEYS, label, "")
    ok = True

    code = reader.text(
        table, "code", label, "code", required=True, hint='; give a short code, like code = "q1"'
    )
    if code is None:
        ok = False
    elif not _CODE_RE.fullmatch(code):
        reader.problem(
            label,
            "code",
            f'is "{code}", but a code may only use lower-case letters a-z, digits and '
            'underscores, like "q1" or "overall_rating".',
        )
        ok = False
    elif code in codes:
        reader.problem(
            label, "code", f'is "{code}", which {codes[code]} already uses; codes must differ.'
        )
        ok = False
    else:
        codes[code] = label

    text = reader.text(
        table, "text", label, "text", required=True, hint="; give the question to ask"
    )
    if text is None:
        ok = False

    kind = _kind(reader, table, label, QUESTION_KINDS, "question")
    if kind is None:
        ok = False

    required = reader.flag(table, "required", label, "required")
    if required is None and "required" in table:
        ok = False

    options: list[str] | None = None
    if kind in ("single", "multiple"):
        if "options" not in table:
            reader.problem(
                label,
                "options",
                f'is missing; a "{kind}" question needs at least two options to choose from, '
                'like options = ["Yes", "No"].',
            )
            ok = False
        else:
            options = reader.text_list(
                table,
                "options",
                label,
                "options",
                example='options = ["Yes", "No"]',
                entry_word="option",
            )
            if options is None:
                ok = False
            elif len(options) < 2:
                reader.problem(
                    label,
                    "options",
                    f"lists {len(options)} option{'' if len(options) == 1 else 's'}; "
                    "give at least two to choose from.",
                )
                ok = False
            else:
                seen: set[str] = set()
                for index, option in enumerate(options, start=1):
                    if option in seen:
                        reader.problem(
                            label, "options", f'option {index} "{_clip(option)}" is listed twice.'
                        )
                        ok = False
                    seen.add(option)
    elif kind is not None and "options" in table:
        reader.problem(
            label,
            "options",
            'is only used by "single" and "multiple" questions, but this question is a '
            f'"{kind}" question.',
        )
        ok = False

    scale_min, scale_max = 1, 5
    min_label = max_label = ""
    if kind == "rating":
        scale_ok = True
        given_min = reader.whole(
            table, "scale_min", label, "scale_min", low=-100, high=100, example="scale_min = 1"
        )
        if given_min is not None:
            scale_min = given_min
        elif "scale_min" in table:
            scale_ok = False
        given_max = reader.whole(
            table, "scale_max", label, "scale_max", low=-100, high=100, example="scale_max = 5"
        )
        if given_max is not None:
            scale_max = given_max
        elif "scale_max" in table:
            scale_ok = False
        field = "scale_max" if "scale_max" in table else "scale_min"
        if not scale_ok:
            ok = False
        elif scale_min >= scale_max:
            reader.problem(
                label,
                field,
                f"makes the scale run from {scale_min} to {scale_max}; scale_min must be "
                "smaller than scale_max.",
            )
            ok = False
        elif scale_max - scale_min > MAX_SCALE_SPAN:
            reader.problem(
                label,
                field,
                f"makes the scale run from {scale_min} to {scale_max}; a rating scale may span "
                f"at most {MAX_SCALE_SPAN} steps.",
            )
            ok = False
        given_label = reader.text(table, "scale_min_label", label, "scale_min_label")
        if given_label is not None:
            min_label = given_label.strip()
        elif "scale_min_label" in table:
            ok = False
        given_label = reader.text(table, "scale_max_label", label, "scale_max_label")
        if given_label is not None:
            max_label = given_label.strip()
        elif "scale_max_label" in table:
            ok = False
    elif kind is not None:
        for key in SCALE_KEYS:
            if key in table:
                reader.problem(
                    label,
                    key,
                    f'is only used by "rating" questions, but this question is a "{kind}" '
                    "question.",
                )
                ok = False

    if not ok or code is None or text is None or kind is None:
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


def _finish_item(raw: _RawItem) -> Item:
    assert raw.id is not None and raw.title is not None and raw.kind is not None
    assert raw.start_at is not None and raw.end_at is not None
    return Item(
        id=raw.id,
        title=raw.title,
        kind=raw.kind,
        start=raw.start_at,
        end=raw.end_at,
        presenters=raw.presenters,
        summary=raw.summary,
        slides=raw.slides,
        serves=raw.serves or (),
        breakout=raw.breakout,
        polls=raw.polls,
    )
