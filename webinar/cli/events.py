"""Events in a database, on the command line: ``webinar events list|add|remove``, and
choosing the event other commands work on (``--event SLUG``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import click

from webinar.domain.agenda import Agenda
from webinar.domain.agenda_file import AgendaFileError, parse_agenda
from webinar.services import prepare_event
from webinar.services.agenda_files import SEED_AGENDA, load_agenda
from webinar.services.plan import planned_agenda
from webinar.storage import webinars
from webinar.storage.db import InUse, database_exists, exclusive, migrate_sync
from webinar.storage.postgres import Unreachable
from webinar.storage.webinars import Webinar

F = TypeVar("F", bound=Callable[..., Any])


def event_option(function: F) -> F:
    return click.option(
        "--event",
        "slug",
        default=None,
        metavar="SLUG",
        help="The event's short name (default: the only event in the database).",
    )(function)


def events_in(db_path: str) -> list[Webinar]:
    """The events of an existing database (migrated first); [] when there is no file."""
    if not database_exists(db_path):
        return []
    try:
        migrate_sync(db_path)
        return webinars.list_webinars_sync(db_path)
    except Unreachable:
        raise  # a sentence of its own, without the URL's password
    except Exception as exc:  # sqlite3 errors: unreadable file, not a database, ...
        raise click.ClickException(f"The database {db_path} cannot be opened: {exc}") from None


def choose_event(db_path: str, slug: str | None) -> Webinar:
    """The event ``--event`` names, or the only one; ``click.ClickException`` saying what
    to give when there is no such event, none at all, or several."""
    if not database_exists(db_path):
        raise click.ClickException(f"The database {db_path} does not exist.")
    events = events_in(db_path)
    if slug is not None:
        for event in events:
            if event.slug == slug:
                return event
        raise click.ClickException(
            f"{db_path} holds no event '{slug}'. Its events: {_names(events)}."
        )
    if not events:
        raise click.ClickException(f"{db_path} holds no events yet.")
    if len(events) > 1:
        raise click.ClickException(
            f"{db_path} holds {len(events)} events: say which with --event SLUG ({_names(events)})."
        )
    return events[0]


def _names(events: list[Webinar]) -> str:
    return ", ".join(e.slug for e in events) or "none"


def event_agenda(db_path: str, event: Webinar, agenda: Path | None) -> Agenda:
    """The agenda ``event`` runs to (a moved rehearsal plan included): from ``agenda`` if
    given, else the one stored with it, else (an event from before agendas were stored)
    the seed webinar's. ``click.ClickException`` if it cannot be used."""
    try:
        if agenda is not None or event.agenda is None:
            parsed = read_agenda(agenda or SEED_AGENDA)
        else:
            parsed = parse_agenda(event.agenda, event.agenda_name or event.slug, today=today())
    except AgendaFileError as exc:
        raise click.ClickException(f"The agenda cannot be used:\n{exc}") from None
    return planned_agenda(db_path, event.id, parsed)


def today() -> date:
    """This computer's today: what ``date = "today"`` in an agenda file means. The one
    place the command line reads the calendar (the domain reads no clock)."""
    return date.today()


def read_agenda(path: Path) -> Agenda:
    """The agenda file at ``path``; ``AgendaFileError`` if it cannot be used."""
    return load_agenda(path, today=today())


def read_agenda_and_text(path: Path) -> tuple[Agenda, str]:
    """An agenda file, parsed, and its text; ``click.ClickException`` naming the file and
    field when it cannot be used."""
    try:
        parsed = read_agenda(path)
    except AgendaFileError as exc:
        raise click.ClickException(f"The agenda cannot be used:\n{exc}") from None
    # load_agenda has read and decoded it within its size limit: read the same text again.
    return parsed, path.read_bytes().decode("utf-8-sig")


def slug_for(path: Path, slug: str | None) -> str:
    """``--slug`` when given (checked), else one made from the file's name."""
    if slug is None:
        return webinars.slug_from(path.name)
    problem = webinars.slug_problem(slug)
    if problem:
        raise click.BadParameter(problem, param_hint="--slug")
    return slug


# -- webinar events ... ---------------------------------------------------------------------


@click.group()
def events() -> None:
    """List, add and remove the events a database holds."""


def _db(function: F) -> F:
    return click.option(
        "--db",
        "db_path",
        default="webinar.db",
        show_default=True,
        help="SQLite file, or a postgresql:// URL.",
    )(function)


@events.command("list")
@_db
def list_events(db_path: str) -> None:
    """List the events: short name, title, state and what each holds."""
    found = events_in(db_path)
    if not found:
        click.echo(f"{db_path} holds no events. Add one with: webinar events add AGENDA")
        return
    for event in found:
        started, ended = webinars.run_times_sync(db_path, event.id)
        state = "ended" if ended else "running" if started else "not started"
        counts = webinars.counts_sync(db_path, event.id)
        title = event.title or "(agenda not stored: served from a file before)"
        click.echo(
            f"{event.slug:<20} {state:<12} {title}  -  {counts['attendees']} attendees, "
            f"{counts['questions']} questions, {counts['responses']} survey responses"
        )


@events.command("add")
@click.argument("agenda", type=click.Path(dir_okay=False, path_type=Path))
@_db
@click.option("--slug", default=None, help="Short name in its addresses (default: from the file).")
def add_event(agenda: Path, db_path: str, slug: str | None) -> None:
    """Add an event from AGENDA (or update the agenda of the event with its short name).

    A running server serves a new event from the first visit to its address; a changed
    agenda takes effect when the server next starts.
    """
    parsed, text = read_agenda_and_text(agenda)
    name = slug_for(agenda, slug)
    try:
        event, created, _ = prepare_event(db_path, name, str(agenda), text, parsed.title)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    verb = "Added" if created else "Updated the agenda of"
    click.echo(f'{verb} "{parsed.title}" as {event.slug}: its pages are at /e/{event.slug}/.')
    click.echo(f"  Serve it with: webinar serve --db {db_path}")


@events.command("remove")
@click.argument("slug")
@_db
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--force", is_flag=True, help="Remove it even though it is running.")
def remove_event(slug: str, db_path: str, yes: bool, force: bool) -> None:
    """Remove the event SLUG and everything it holds (export first). Stop the server."""
    event = choose_event(db_path, slug)
    started, ended = webinars.run_times_sync(db_path, event.id)
    if started and not ended and not force:
        raise click.ClickException(
            f"{slug} is running (started, not ended). End it first, or use --force."
        )
    counts = webinars.counts_sync(db_path, event.id)
    what = (
        f"the event {slug} with its {counts['attendees']} attendees, {counts['questions']} "
        f"questions and {counts['responses']} survey responses"
    )
    if not yes and not click.confirm(f"Remove {what} from {db_path}? This cannot be undone"):
        raise click.Abort()
    try:
        with exclusive(db_path):
            webinars.remove_webinar_sync(db_path, event.id)
    except InUse:
        raise click.ClickException(
            f"A server is running on {db_path}. Stop it first: it holds {slug} in memory."
        ) from None
    click.echo(f"Removed {slug} from {db_path}.")
