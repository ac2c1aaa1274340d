"""Exports from an event's database outside the server: ``webinar export`` (a running server
may share the database). Its own module because it needs both the file formats
(``exports``) and the report (``report``, which uses ``exports``): kept here, neither of
those imports the other back.
"""

from __future__ import annotations

from webinar.domain.agenda import Agenda
from webinar.services import open_services, stop
from webinar.services.commit import Clock
from webinar.services.exports import breakout_export, question_export, survey_export
from webinar.services.poll_exports import poll_export
from webinar.services.report import report_data, report_markdown


async def export_from_database(
    agenda: Agenda, db_path: str, webinar_id: int, what: str, fmt: str, *, clock: Clock
) -> bytes:
    """Open an event's handle on the database (a running server may share it), export,
    close.

    ``clock``: what time it is (the survey's and agenda's state depend on it).
    """
    services = await open_services(
        agenda, db_path, lambda event, fmt: None, clock, webinar_id=webinar_id
    )
    try:
        if what == "survey":
            body, _ = await survey_export(services, fmt)
            return body
        if what == "report":
            return report_markdown(await report_data(services)).encode("utf-8")
        if what == "polls":
            body, _ = await poll_export(services, fmt)
            return body
        exporters = {"questions": question_export, "breakouts": breakout_export}
        body, _ = exporters[what](services, fmt)
        return body
    finally:
        await stop(services)
