"""The ``[event]`` table: title, day, time zone, organiser, description, moderation."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from webinar.domain.agenda_file.keys import EVENT_KEYS
from webinar.domain.agenda_file.reader import MISSING, Missing, Reader, close_match, describe

FIRST_YEAR = 1970
LAST_YEAR = 9998

_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_DATE_EXAMPLE = 'like date = "2020-08-20", or date = "today"'


@dataclass(frozen=True, slots=True)
class EventFields:
    """What the ``[event]`` table gave; ``None`` (or empty) where it is missing or wrong."""

    title: str | None = None
    day: date | None = None
    zone: tzinfo | None = None
    zone_name: str = ""
    organiser: str = ""
    description: str = ""
    moderation: bool = False


def read_event(reader: Reader, document: Mapping[str, object], today: date) -> EventFields:
    """The ``[event]`` table of ``document``; ``today`` is the day ``date = "today"`` means."""
    event_value = document.get("event", MISSING)
    if isinstance(event_value, Missing):
        reader.problem(
            None,
            "event",
            "is missing; every agenda file needs an [event] table with the title, "
            "date and time zone of the webinar.",
        )
        return EventFields()
    event = reader.table(event_value, None, "event", "[event]")
    if event is None:
        return EventFields()
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
    day = _event_date(reader, event, today)
    zone, zone_name = _event_zone(reader, event)
    return EventFields(
        title=title,
        day=day,
        zone=zone,
        zone_name=zone_name,
        organiser=reader.text(event, "organiser", None, "event.organiser") or "",
        description=reader.text(event, "description", None, "event.description") or "",
        moderation=bool(reader.flag(event, "moderation", None, "event.moderation")),
    )


def _event_date(reader: Reader, event: Mapping[str, object], today: date) -> date | None:
    value = event.get("date", MISSING)
    if isinstance(value, Missing):
        reader.problem(
            None, "event.date", f"is missing; give the day of the webinar, {_DATE_EXAMPLE}."
        )
        return None
    if isinstance(value, datetime):
        reader.problem(
            None, "event.date", f"should be a day without a time of day, {_DATE_EXAMPLE}."
        )
        return None
    if isinstance(value, date):
        found: date | None = value
    elif isinstance(value, str):
        found = _date_from_text(reader, value, today)
    else:
        reader.problem(
            None,
            "event.date",
            f"should be a day in double quotes, {_DATE_EXAMPLE}, but is {describe(value)}.",
        )
        return None
    if found is not None and not FIRST_YEAR <= found.year <= LAST_YEAR:
        reader.problem(
            None,
            "event.date",
            f"should be a day between the years {FIRST_YEAR} and {LAST_YEAR}, "
            f"but is {found.isoformat()}.",
        )
        return None
    return found


def _date_from_text(reader: Reader, value: str, today: date) -> date | None:
    """``"today"`` or a day written year-month-day; ``None`` (a problem) otherwise."""
    cleaned = value.strip()
    if cleaned.lower() == "today":
        return today.date() if isinstance(today, datetime) else today
    if not _DATE_RE.fullmatch(cleaned):
        reader.problem(
            None,
            "event.date",
            f"should be a day written year-month-day, {_DATE_EXAMPLE}, but is {describe(value)}.",
        )
        return None
    try:
        return date.fromisoformat(cleaned)
    except ValueError:
        reader.problem(None, "event.date", f'is "{value}", which is not a day in the calendar.')
        return None


def _event_zone(reader: Reader, event: Mapping[str, object]) -> tuple[tzinfo | None, str]:
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
        suggestion = close_match(key, _zone_names())
        advice = (
            f'did you mean "{suggestion}"?'
            if suggestion
            else 'use a name from the IANA time zone list, like "Europe/London".'
        )
        reader.problem(None, "event.timezone", f'"{key}" is not a known time zone; {advice}')
        return None, ""
    return zone, key


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
