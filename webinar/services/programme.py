"""The organiser's programme: the events an account may see, with their state and figures;
new events from an uploaded agenda file, a shipped template or a past event; archiving.

The storage functions are synchronous (they share the database file with the running
events through SQLite's own locking, as the command line does) and run in a worker thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import lru_cache
from pathlib import Path

from webinar.domain.accounts import Account, role_on_event
from webinar.domain.agenda import Agenda
from webinar.domain.agenda_file import (
    AgendaFileError,
    AgendaProblem,
    decode_agenda,
    parse_agenda,
    too_large,
)
from webinar.domain.programme import (
    RETENTION_DAYS,
    STATES,
    EventState,
    RetimeError,
    edit_problem,
    event_state,
    purge_problem,
    retimed_agenda,
)
from webinar.services.agenda_files import shipped
from webinar.storage import programme as programme_repo
from webinar.storage import webinars
from webinar.storage.programme import ProgrammeRow
from webinar.storage.purge import purge_sync
from webinar.storage.webinars import Webinar, slug_problem


class ProgrammeError(ValueError):
    """A request about the programme that cannot be done; ``str()`` is a plain sentence,
    ``field`` the form field it is about (or None)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class ProgrammeEvent:
    row: ProgrammeRow
    state: EventState
    starts: datetime
    title: str

    @property
    def slug(self) -> str:
        return self.row.webinar.slug


@lru_cache(maxsize=256)
def _parsed(text: str, name: str, today: date) -> Agenda:
    """An agenda file read once per text and day: the programme lists every event's at
    each visit. ``AgendaFileError`` as :func:`parse_agenda` (not cached)."""
    return parse_agenda(text, name, today=today)


def templates() -> dict[str, Path]:
    """The agenda files shipped with the package, by file name."""
    return {p.name: p for p in sorted(shipped("agendas").glob("*.toml"))}


class ProgrammeService:
    def __init__(
        self,
        db_path: str,
        clock: Callable[[], datetime],
        served: Callable[[str], Agenda | None] = lambda slug: None,
    ) -> None:
        """``served``: the agenda a server serves an event from by its slug, for an event
        with no stored agenda (one served from a file named on the command line)."""
        self.db_path = db_path
        self.clock = clock
        self.served = served

    def _parse(self, text: str, name: str) -> Agenda:
        return _parsed(text, name, self.clock().date())

    async def events(self, account: Account) -> dict[EventState, list[ProgrammeEvent]]:
        """The events ``account`` has a role on, by state (in :data:`STATES` order), each
        state's soonest first. An event whose stored agenda no longer reads is left out."""
        return await asyncio.to_thread(self._events_sync, account)

    def _events_sync(self, account: Account) -> dict[EventState, list[ProgrammeEvent]]:
        # In a worker thread: reading every event's agenda (about 1.4 ms for the seed's)
        # would hold up every live event's loop with a long programme.
        rows = programme_repo.programme_sync(self.db_path)
        now = self.clock()
        by_state: dict[EventState, list[ProgrammeEvent]] = {state: [] for state in STATES}
        for row in rows:
            if role_on_event(account.grants, row.webinar.id) is None:
                continue
            event = self._event(row, now)
            if event is not None:
                by_state[event.state].append(event)
        for events in by_state.values():
            events.sort(key=lambda e: e.starts)
        return by_state

    def _event(self, row: ProgrammeRow, now: datetime) -> ProgrammeEvent | None:
        text = row.webinar.agenda
        try:
            agenda = (
                self.served(row.webinar.slug)
                if text is None
                else self._parse(text, row.webinar.agenda_name or row.webinar.slug)
            )
        except AgendaFileError:
            return None
        if agenda is None:
            return None
        state = event_state(
            now,
            agenda.planned_start,
            agenda.planned_end,
            row.started_at,
            row.ended_at,
            row.archived_at is not None,
        )
        starts = agenda.planned_start.astimezone(agenda.timezone)
        return ProgrammeEvent(row, state, starts, agenda.title)

    def decode_upload(self, data: bytes, name: str) -> str:
        """An uploaded agenda file's text; ``AgendaFileError`` (the messages of ``webinar
        check``) when it is too large or not UTF-8."""
        large = too_large(name, len(data))
        if large is not None:
            raise AgendaFileError([large])
        return decode_agenda(data, name)

    def check(self, text: str, name: str) -> Agenda:
        """The agenda in ``text``; ``AgendaFileError`` with every problem ``webinar check``
        finds (not TOML, settings missing or wrong)."""
        return self._parse(text, name)

    def template(self, name: str) -> tuple[str, Agenda]:
        """A shipped template's text and agenda; ``ProgrammeError`` for an unknown name."""
        path = templates().get(name)
        if path is None:
            raise ProgrammeError("Choose one of the templates listed.", "template")
        text = path.read_text(encoding="utf-8")
        return text, self._parse(text, name)

    async def create(self, slug: str, name: str, text: str, agenda: Agenda) -> Webinar:
        """Store a new event; ``ProgrammeError`` when ``slug`` cannot name one or is taken
        (nothing is stored then)."""
        problem = slug_problem(slug)
        if problem:
            raise ProgrammeError(problem, "slug")
        now = self.clock().isoformat(timespec="seconds")
        created = await asyncio.to_thread(
            programme_repo.add_new_webinar_sync, self.db_path, slug, agenda.title, name, text, now
        )
        if created is None:
            raise ProgrammeError(
                f"There is already an event called '{slug}'. Choose another short name.", "slug"
            )
        return created

    async def find(self, slug: str) -> Webinar | None:
        return await asyncio.to_thread(webinars.find_webinar_sync, self.db_path, slug)

    def duplicate(self, source: Webinar, new_date: date, new_start: time) -> tuple[str, Agenda]:
        """The agenda file of a copy of ``source`` on ``new_date`` starting at ``new_start``;
        ``ProgrammeError`` when it cannot be (no stored agenda, past midnight, or the
        re-dated file no longer checks)."""
        if source.agenda is None:
            raise ProgrammeError("This event has no stored agenda file to copy.")
        name = source.agenda_name or f"{source.slug}.toml"
        original = self._parse(source.agenda, name)
        first = original.planned_start.astimezone(original.timezone).time()
        try:
            text = retimed_agenda(source.agenda, first, new_date, new_start)
        except RetimeError as exc:
            raise ProgrammeError(str(exc), "start") from None
        if new_date < self.clock().astimezone(original.timezone).date():
            raise ProgrammeError("Choose a date from today on.", "date")
        try:
            return text, self._parse(text, name)
        except AgendaFileError as exc:
            raise ProgrammeError(str(exc), "date") from None

    async def row(self, webinar: Webinar) -> ProgrammeEvent | None:
        """The event as the programme lists it (state and figures)."""
        rows = await asyncio.to_thread(programme_repo.programme_sync, self.db_path)
        found = next((r for r in rows if r.webinar.id == webinar.id), None)
        return None if found is None else self._event(found, self.clock())

    async def edit(self, webinar: Webinar, name: str, text: str, agenda: Agenda) -> Webinar:
        """Replace an event's agenda (already checked); ``ProgrammeError`` once the event
        has started (nothing is stored then)."""
        event = await self.row(webinar)
        problem = edit_problem(event.state) if event is not None else "There is no such event."
        if problem:
            raise ProgrammeError(problem, "file")
        saved, _ = await asyncio.to_thread(
            webinars.save_webinar_sync,
            self.db_path,
            webinar.slug,
            title=agenda.title,
            agenda_name=name,
            agenda=text,
        )
        return saved

    def purge_check(self, ended_at: str | None) -> None:
        """``ProgrammeError`` saying why the event cannot be purged yet, if it cannot."""
        ended = None if ended_at is None else datetime.fromisoformat(ended_at)
        problem = purge_problem(ended, self.clock(), RETENTION_DAYS)
        if problem:
            raise ProgrammeError(problem)

    def purge(self, webinar: Webinar, agenda: Agenda | None) -> dict[str, int]:
        """Erase the event's personal data and free text (as ``webinar purge --free-text``):
        the caller has stopped serving it. Synchronous: run it in a worker thread."""
        survey = agenda.survey if agenda is not None else None
        codes = [q.code for q in survey.questions if q.kind == "text"] if survey else []
        return purge_sync(self.db_path, webinar.id, free_text=True, text_codes=codes)

    def agenda_of(self, webinar: Webinar) -> Agenda | None:
        """The event's agenda: stored, or served (None if neither reads)."""
        if webinar.agenda is None:
            return self.served(webinar.slug)
        try:
            return self._parse(webinar.agenda, webinar.agenda_name or webinar.slug)
        except AgendaFileError:
            return None

    async def archive(self, webinar: Webinar, archived: bool) -> None:
        at = self.clock().isoformat(timespec="seconds") if archived else None
        await asyncio.to_thread(programme_repo.set_archived_sync, self.db_path, webinar.id, at)


__all__ = [
    "AgendaProblem",
    "ProgrammeError",
    "ProgrammeEvent",
    "ProgrammeService",
    "templates",
]
