"""Hand-made agendas for the agenda engine's tests: a fixed summer day in London.

Pure domain objects, built without an agenda file or the web stack. ``SEED`` has the seed
webinar's items and times; each row of ``make_agenda`` is ``(id, title, kind, start, end)``
with the times as ``"HH:MM"`` on the event day.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from webinar.domain.agenda import Agenda, BreakoutSettings, Item

LONDON = ZoneInfo("Europe/London")

Row = tuple[str, str, str, str, str]

#: The topics of every breakout item that ``make_agenda`` builds.
TOPICS = (
    "Information sharing",
    "Multi-agency working",
    "Voice of the child",
    "Neglect",
    "Learning into practice",
)


def at(hhmm: str, second: int = 0) -> datetime:
    """An aware London time on the event day (a summer day, so UTC+01:00)."""
    hour, minute = (int(part) for part in hhmm.split(":"))
    return datetime(2025, 6, 12, hour, minute, second, tzinfo=LONDON)


def make_agenda(rows: tuple[Row, ...]) -> Agenda:
    """An agenda of ``rows``; a breakout item gets ``TOPICS``."""
    items = tuple(
        Item(
            id=item_id,
            title=title,
            kind=kind,
            start=at(begins),
            end=at(ends),
            breakout=BreakoutSettings(topics=TOPICS) if kind == "breakout" else None,
        )
        for item_id, title, kind, begins, ends in rows
    )
    return Agenda(
        title="Safeguarding webinar", timezone=LONDON, timezone_name="Europe/London", items=items
    )


#: The seed webinar's items at their planned times.
SEED = make_agenda(
    (
        ("welcome", "Welcome", "welcome", "10:00", "10:10"),
        ("national", "National Review Updates", "talk", "10:10", "10:30"),
        ("review-qa", "Review Q&A", "qa", "10:30", "10:45"),
        ("lcspr", "Local Child Safeguarding Practice Reviews", "talk", "10:45", "11:10"),
        ("lcspr-qa", "LCSPR Q&A", "qa", "11:10", "11:30"),
        ("breakout", "LCSPR Breakout", "breakout", "11:30", "11:50"),
        ("feedback", "Breakout Feedback", "feedback", "11:50", "12:15"),
        ("closing", "Closing remarks", "closing", "12:15", "12:30"),
    )
)
