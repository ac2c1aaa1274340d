"""The ``webinar`` command line: ``serve`` (the default) and ``check``."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, time, tzinfo
from pathlib import Path
from typing import Any, TypeVar

import click

from webinar import __version__
from webinar.cli.serving import check_port, joining_hint, timing_hint
from webinar.domain.agenda import Agenda
from webinar.domain.agenda_file import AgendaFileError
from webinar.services import prepare_database
from webinar.services.agenda_files import SEED_AGENDA, load_agenda
from webinar.services.plan import plan_event, planned_agenda
from webinar.storage.db import InUse, exclusive

F = TypeVar("F", bound=Callable[..., Any])


def db_option(function: F) -> F:
    return click.option(
        "--db", "db_path", default="webinar.db", show_default=True, help="SQLite file."
    )(function)


def agenda_option(help_text: str) -> Callable[[F], F]:
    return click.option(
        "--agenda",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help=help_text,
    )


def existing_event(db_path: str, agenda: Path | None) -> Agenda:
    """The agenda of an existing event's database; ``click.ClickException`` if unusable."""
    if not Path(db_path).is_file():
        raise click.ClickException(f"The database {db_path} does not exist.")
    try:
        return planned_agenda(db_path, load_agenda(agenda or SEED_AGENDA))
    except AgendaFileError as exc:
        raise click.ClickException(f"The agenda cannot be used:\n{exc}") from None


@contextmanager
def server_stopped(db_path: str, command: str) -> Iterator[None]:
    """Hold the database exclusively for ``command``; a plain refusal if a server runs."""
    try:
        with exclusive(db_path):
            yield
    except InUse:
        raise click.ClickException(
            f"A server is running on {db_path}. Stop it first: {command} changes the "
            "database under it, and it would write back what it holds in memory."
        ) from None


#: The options of ``webinar`` itself, which are not ``serve``'s.
OWN_OPTIONS = ("--help", "-h", "--version")


class DefaultServe(click.Group):
    """``webinar`` alone (or with an agenda path) means ``webinar serve``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in OWN_OPTIONS):
            args = ["serve", *args]
        return super().parse_args(ctx, args)


@click.group(cls=DefaultServe)
@click.version_option(__version__, prog_name="webinar")
def cli() -> None:
    """Run a live webinar: timed agenda, Q&A, breakout groups, feedback and survey."""


@cli.command()
@click.argument("agenda", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--db", "db_path", default="webinar.db", show_default=True, help="SQLite file.")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    envvar="WEBINAR_HOST",
    show_envvar=True,
    help="Address to listen on (0.0.0.0: every network this computer is on).",
)
@click.option(
    "--port",
    default=8000,
    show_default=True,
    type=click.IntRange(1, 65535),
    envvar="WEBINAR_PORT",
    show_envvar=True,
)
@click.option(
    "--public-url",
    default=None,
    envvar="WEBINAR_PUBLIC_URL",
    show_envvar=True,
    help="The address people use to reach this server, put in the printed links.",
)
@click.option("--https", "https_only", is_flag=True, help="Mark cookies Secure (served over TLS).")
@click.option(
    "--start",
    "start_at",
    default=None,
    metavar="HH:MM|now",
    help="Rehearsal: move the whole agenda so that it starts at this time today.",
)
@click.option(
    "--allow-origin", "allowed_origins", multiple=True, help="Another allowed Origin (repeatable)."
)
@click.option(
    "--header-timeout",
    default=10.0,
    show_default=True,
    type=click.FloatRange(0.5, 600),
    help="Seconds a request may take to send its headers before it is closed.",
)
def serve(
    agenda: Path | None,
    db_path: str,
    host: str,
    port: int,
    public_url: str | None,
    https_only: bool,
    allowed_origins: tuple[str, ...],
    start_at: str | None,
    header_timeout: float,
) -> None:
    """Serve AGENDA (default: the seed webinar) and print the host and organiser links."""
    from webinar.web import server
    from webinar.web.app import Settings, create_app, links

    path = agenda or SEED_AGENDA
    try:
        parsed = load_agenda(path)
    except AgendaFileError as exc:
        raise click.ClickException(f"The agenda cannot be used:\n{exc}") from None
    requested = _start_time(start_at, parsed.timezone) if start_at is not None else None
    try:
        with exclusive(db_path):  # only a check here: the server takes it when it starts
            pass
    except InUse:
        raise click.ClickException(
            f"Another server is already running on {db_path}. Stop it first, or give this "
            "one its own --db."
        ) from None
    check_port(host, port)  # before any link is printed
    try:
        secrets = prepare_database(db_path)
    except Exception as exc:  # sqlite3 errors: unreadable file, not a database, ...
        raise click.ClickException(f"The database {db_path} cannot be opened: {exc}") from None
    # A rehearsal moves only until it starts; then a restart keeps the plan it started with.
    parsed, note = plan_event(db_path, parsed, requested)
    base_url = public_url or f"http://{host}:{port}"
    settings = Settings(
        agenda=parsed,
        db_path=db_path,
        secrets=secrets,
        base_url=base_url,
        allowed_origins=allowed_origins,
        https_only=https_only,
        tune_gc=True,
    )
    app = create_app(settings)
    shown = links(settings)
    click.echo(f"{parsed.title}")
    click.echo(f"  agenda:    {path}")
    click.echo(f"  database:  {db_path}")
    click.echo(f"  attendees: {shown['attendee']}  (event code {shown['code']})")
    click.echo(f"  host:      {shown['host']}")
    click.echo(f"  organiser: {shown['organiser']}")
    click.echo("  Keep the host and organiser links secret: they grant control.")
    if note:
        click.echo(f"  {note}")
    for line in joining_hint(host, port, public_url) + timing_hint(
        parsed, datetime.now(UTC), rehearsal=start_at is not None
    ):
        click.echo(line)
    sys.stdout.flush()
    server.run(app, host=host, port=port, header_timeout=header_timeout)


def _start_time(value: str, tz: tzinfo) -> datetime:
    """``now`` or ``HH:MM`` today in the agenda's time zone; ``click.BadParameter`` if not."""
    now = datetime.now(tz)
    if value == "now":
        return now.replace(second=0, microsecond=0)
    try:
        clock = time.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"'{value}' is not a time: give HH:MM (like 09:30) or 'now'.", param_hint="--start"
        ) from None
    return datetime.combine(now.date(), clock, tzinfo=tz)


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
def check(files: tuple[Path, ...]) -> None:
    """Check agenda FILES and say, in plain words, what is wrong and where."""
    failed = False
    for path in files:
        try:
            agenda = load_agenda(path)
        except AgendaFileError as exc:
            failed = True
            click.echo(str(exc), err=True)
            continue
        click.echo(f'{path}: OK, {len(agenda.items)} items, "{agenda.title}".')
    if failed:
        sys.exit(1)


@cli.command()
@click.argument("what", type=click.Choice(["questions", "breakouts", "survey", "report"]))
@db_option
@agenda_option("The agenda the event ran from (default: the seed webinar).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "xlsx", "md"]),
    default=None,
    help="csv or xlsx for tables (default csv); the report is Markdown (md).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=None,
    help="File to write (default: WHAT.FORMAT in the current folder).",
)
def export(what: str, db_path: str, agenda: Path | None, fmt: str | None, out: Path | None) -> None:
    """Export WHAT (questions, breakouts, survey, report) from an event's database, also
    while the event runs."""
    if what == "report":
        if fmt not in (None, "md"):
            raise click.UsageError("The report is exported as Markdown: use --format md.")
        fmt = "md"
    elif fmt is None:
        fmt = "csv"
    elif fmt == "md":
        raise click.UsageError(f"Export {what} as csv or xlsx.")
    import asyncio

    from webinar.services.offline_export import export_from_database

    parsed = existing_event(db_path, agenda)
    body = asyncio.run(export_from_database(parsed, db_path, what, fmt))
    target = out or Path(f"{what}.{fmt}")
    try:
        target.write_bytes(body)
    except OSError as exc:
        raise click.ClickException(f"Cannot write {target}: {exc.strerror}.") from None
    click.echo(f"Wrote {target} ({len(body):,} bytes).")


@cli.command()
@db_option
@agenda_option("The agenda the event ran from (its survey's free-text questions are erased too).")
@click.option(
    "--retention-days",
    type=click.IntRange(0, 3650),
    default=30,
    show_default=True,
    help="Refuse to purge until this many days after the event ended.",
)
@click.option("--free-text", is_flag=True, help="Also erase questions, replies and responses.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def purge(
    db_path: str, agenda: Path | None, retention_days: int, free_text: bool, yes: bool
) -> None:
    """Erase names, organisations and links between people and what they did.

    Counts, vote totals, ratings and responses by group stay. Stop the server first.
    """
    from datetime import UTC, datetime, timedelta

    from webinar.storage.purge import ended_at_sync, purge_sync

    parsed = existing_event(db_path, agenda)
    ended = ended_at_sync(db_path)
    if retention_days:
        if ended is None:
            raise click.ClickException(
                f"{db_path}: the event has not ended, so the retention period has not started. "
                "Use --retention-days 0 to purge anyway."
            )
        due = datetime.fromisoformat(ended) + timedelta(days=retention_days)
        if datetime.now(UTC) < due:
            raise click.ClickException(
                f"{db_path}: the retention period runs until {due:%d %B %Y}. "
                "Use a smaller --retention-days to purge earlier."
            )
    what = "names, organisations and who-did-what" + (" and all free text" if free_text else "")
    if not yes and not click.confirm(f"Erase {what} from {db_path}? This cannot be undone"):
        raise click.Abort()
    codes = [q.code for q in parsed.survey.questions if q.kind == "text"] if parsed.survey else []
    with server_stopped(db_path, "purge"):
        counts = purge_sync(db_path, free_text=free_text, text_codes=codes)
    click.echo(
        f"Purged {db_path}: {counts['participants']} people's names and organisations, "
        f"links from {counts['questions']} questions and {counts['survey_responses']} survey "
        f"responses to people{'; free text erased' if free_text else ''}."
    )


@cli.command()
@db_option
@agenda_option("The agenda the event ran from (its survey's free-text questions are erased too).")
@click.option("--name", help="The person's name as they gave it (any case or spacing).")
@click.option("--id", "person_id", help="The person's id, when several share a name.")
@click.option("--free-text", is_flag=True, help="Also erase what they wrote.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def erase(
    db_path: str,
    agenda: Path | None,
    name: str | None,
    person_id: str | None,
    free_text: bool,
    yes: bool,
) -> None:
    """Erase one person on request: their name and organisation, and every link to what
    they did.

    Their questions, replies and points stay as anonymous contributions (their text too,
    unless --free-text); vote totals and group sizes stay. Stop the server first.
    """
    from webinar.storage.purge import erase_person_sync, find_people_sync

    if (name is None) == (person_id is None):
        raise click.UsageError("Give either --name or --id.")
    parsed = existing_event(db_path, agenda)
    people = find_people_sync(db_path, name=name, person_id=person_id)
    if not people:
        who = f"named {name!r}" if name is not None else f"with id {person_id!r}"
        raise click.ClickException(
            f"{db_path}: no one {who} took part (names match in full, ignoring case and "
            "spacing; anyone already erased or purged has no name)."
        )
    if len(people) > 1:
        listed = "\n".join(
            f"  --id {p.id}  {p.name}, {p.organisation or 'no organisation'}, joined {p.joined_at}"
            for p in people
        )
        raise click.ClickException(
            f"{db_path}: {len(people)} people are named {name!r}. "
            f"Run again with the --id of the one to erase:\n{listed}"
        )
    (person,) = people
    what = f"{person.name} ({person.organisation or 'no organisation'}, joined {person.joined_at})"
    extra = " and everything they wrote" if free_text else ""
    if not yes and not click.confirm(f"Erase {what}{extra} from {db_path}? This cannot be undone"):
        raise click.Abort()
    codes = [q.code for q in parsed.survey.questions if q.kind == "text"] if parsed.survey else []
    with server_stopped(db_path, "erase"):
        counts = erase_person_sync(db_path, person, free_text=free_text, text_codes=codes)
    click.echo(
        f"Erased {person.name} from {db_path}: name and organisation. No longer linked to "
        f"them: questions {counts['questions']}, replies {counts['replies']}, breakout points "
        f"{counts['points']}, survey responses {counts['survey_responses']}. Sessions ended: "
        f"{counts['sessions']}.{' Their text is erased.' if free_text else ''}"
    )


@cli.command()
@db_option
@click.option("--code", "code", is_flag=True, help="Replace the event code (and attendee link).")
@click.option("--host-link", "host", is_flag=True, help="Replace the host link.")
@click.option("--organiser-link", "organiser", is_flag=True, help="Replace the organiser link.")
@click.option(
    "--end-sessions", is_flag=True, help="Also sign out everyone who came in with what is replaced."
)
@click.option(
    "--public-url", default="http://127.0.0.1:8000", show_default=True, help="For the links shown."
)
def rotate(
    db_path: str, code: bool, host: bool, organiser: bool, end_sessions: bool, public_url: str
) -> None:
    """Replace the event code or a secret link: the old one stops working.

    While a server runs, do it from the organiser page instead.
    """
    from webinar.services.access import rotate_offline
    from webinar.web.links import links_for

    which = [
        name
        for name, ticked in zip(("code", "host", "organiser"), (code, host, organiser), strict=True)
        if ticked
    ]
    if not which:
        raise click.UsageError("Say what to replace: --code, --host-link and/or --organiser-link.")
    if not Path(db_path).is_file():
        raise click.ClickException(f"The database {db_path} does not exist.")
    with server_stopped(db_path, "rotate"):
        secrets, ended = rotate_offline(db_path, which, end_sessions=end_sessions)
    shown = links_for(public_url, secrets)
    labels = {"code": "attendees", "host": "host", "organiser": "organiser"}
    old = "the old ones no longer work" if len(which) > 1 else "the old one no longer works"
    click.echo(f"Replaced in {db_path}; {old}:")
    for name in which:
        extra = f"  (event code {shown['code']})" if name == "code" else ""
        link = shown["attendee" if name == "code" else name]
        click.echo(f"  {labels[name] + ':':<11}{link}{extra}")
    if end_sessions:
        click.echo(f"  Signed out: {ended} {'person' if ended == 1 else 'people'}.")


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
