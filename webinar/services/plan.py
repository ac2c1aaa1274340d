"""Which plan an event runs to: the agenda file's, or a rehearsal's moved one.

``webinar serve --start`` moves a rehearsal's whole agenda (see :func:`shifted`). Only an
event that has not started moves: once the host has started it, the plan it started with
stays across restarts, whatever ``--start`` says, so finished items keep their planned
times and the drift stays true.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from webinar.domain.agenda import Agenda, shifted
from webinar.storage import repo


def plan_event(
    db_path: str | Path, webinar_id: int, agenda: Agenda, start: datetime | None
) -> tuple[Agenda, str]:
    """The agenda to serve from the database ``db_path``, and a sentence for the organiser.

    ``start`` is where ``--start`` asks the first item to begin (``None``: the file's own
    times). Before the event has started, the plan moves there (and is remembered) or goes
    back to the file's; after, the plan it started with is kept, and the sentence says
    that ``--start`` was ignored (otherwise it is ``""``). The database must exist
    (:func:`webinar.services.prepare_database`).
    """
    started, stored = repo.event_plan_sync(db_path, webinar_id)
    if not started:
        repo.store_planned_start_sync(db_path, webinar_id, start.isoformat() if start else None)
        return (shifted(agenda, start) if start else agenda), ""
    planned = shifted(agenda, datetime.fromisoformat(stored)) if stored else agenda
    if start is None:
        return planned, ""
    begins = planned.planned_start.astimezone(agenda.timezone)
    return planned, (
        "The event has already started, so --start is ignored: it keeps the plan it started "
        f"with, beginning at {begins:%H:%M} on {begins:%d %B %Y}."
    )


def planned_agenda(db_path: str | Path, webinar_id: int, agenda: Agenda) -> Agenda:
    """The agenda as the event in ``db_path`` planned it, for exports and reports."""
    _, stored = repo.event_plan_sync(db_path, webinar_id)
    return shifted(agenda, datetime.fromisoformat(stored)) if stored else agenda
