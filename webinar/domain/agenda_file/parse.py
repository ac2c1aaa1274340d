"""The whole file: its top-level tables read in order, then checked across items."""

from __future__ import annotations

from datetime import UTC, date

from webinar.domain.agenda import Agenda, Survey
from webinar.domain.agenda_file.event import read_event
from webinar.domain.agenda_file.items import finish_item, read_items
from webinar.domain.agenda_file.keys import EVENT_KEYS, TOP_KEYS
from webinar.domain.agenda_file.problems import AgendaFileError, AgendaProblem
from webinar.domain.agenda_file.qa import read_qa
from webinar.domain.agenda_file.reader import MISSING, Missing, Reader
from webinar.domain.agenda_file.schedule import check_ids, check_serves, resolve_times
from webinar.domain.agenda_file.source import load_toml
from webinar.domain.agenda_file.stage import read_stage
from webinar.domain.agenda_file.survey import read_survey

_ELSEWHERE = {
    **{key: "it belongs in the [event] table" for key in EVENT_KEYS},
    "item": "write [[items]] (plural) above each item",
}


def parse_agenda(text: str, name: str, *, today: date) -> Agenda:
    """Parse and check the agenda file ``text``; ``name`` is how messages refer to the file.

    ``date = "today"`` in the file resolves to ``today``: the caller reads the clock.
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


def _parse(text: str, name: str, today: date) -> Agenda:
    name = str(name)
    document = load_toml(text, name)
    reader = Reader(name)
    reader.check_keys(document, TOP_KEYS, None, "", elsewhere=_ELSEWHERE)
    event = read_event(reader, document, today)
    stage = read_stage(reader, document["stage"], None, "stage") if "stage" in document else None
    raw_items = read_items(reader, document)
    resolve_times(reader, raw_items, event.day or date(2000, 1, 1), event.zone or UTC)
    check_ids(reader, raw_items)
    check_serves(reader, raw_items)
    # The optional top-level tables; a new one is read here, by its own module.
    qa_max_length, word_filter = read_qa(reader, document)
    survey: Survey | None = None
    survey_value = document.get("survey", MISSING)
    if not isinstance(survey_value, Missing):
        reader.section = (2, 0)
        survey_table = reader.table(survey_value, None, "survey", "[survey]")
        if survey_table is not None:
            survey = read_survey(reader, survey_table, raw_items)

    if reader.has_problems:
        raise AgendaFileError(reader.problems())
    assert event.title is not None and event.zone is not None
    return Agenda(
        title=event.title.strip(),
        timezone=event.zone,
        timezone_name=event.zone_name,
        items=tuple(finish_item(raw) for raw in raw_items),
        organiser=event.organiser.strip(),
        description=event.description,
        survey=survey,
        moderation=event.moderation,
        qa_max_length=qa_max_length,
        qa_word_filter=word_filter,
        source_name=name,
        stage=stage,
    )
