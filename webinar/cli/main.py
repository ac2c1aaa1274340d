"""The ``webinar`` command line: ``serve`` (the default), ``check``, ``events``, exports and
erasure."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, time, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from webinar import __version__
from webinar.cli.calls import call_config, call_options, check_calls
from webinar.cli.events import (
    choose_event,
    event_agenda,
    event_option,
    events,
    events_in,
    read_agenda,
    read_agenda_and_text,
    slug_for,
    today,
)
from webinar.cli.oidc_options import oidc_config, oidc_options
from webinar.cli.serving import (
    Network,
    check_port,
    check_redis,
    check_workers,
    joining_hint,
    metrics_networks,
    timing_hint,
)
from webinar.cli.users import users
from webinar.domain.agenda import Agenda
from webinar.domain.agenda_file import AgendaFileError, parse_agenda
from webinar.services import event_secrets, prepare_event
from webinar.services.agenda_files import SEED_AGENDA
from webinar.services.commit import CHECKS
from webinar.services.plan import plan_event
from webinar.storage import webinars
from webinar.storage.db import InUse, exclusive
from webinar.storage.postgres import Unreachable
from webinar.storage.webinars import Webinar
from webinar.web.links import links_for

if TYPE_CHECKING:
    from webinar.web.app import Hosted, Settings

F = TypeVar("F", bound=Callable[..., Any])


def db_option(function: F) -> F:
    return click.option(
        "--db",
        "db_path",
        default="webinar.db",
        show_default=True,
        help="SQLite file, or a postgresql:// URL.",
    )(function)


def agenda_option(help_text: str) -> Callable[[F], F]:
    return click.option(
        "--agenda",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help=help_text,
    )


def existing_event(db_path: str, slug: str | None, agenda: Path | None) -> tuple[Webinar, Agenda]:
    """The event a command works on and its agenda; ``click.ClickException`` if unusable."""
    event = choose_event(db_path, slug)
    return event, event_agenda(db_path, event, agenda)


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

    def invoke(self, ctx: click.Context) -> Any:
        # A PostgreSQL server that cannot be reached is the user's to fix: say so plainly.
        try:
            return super().invoke(ctx)
        except Unreachable as exc:
            raise click.ClickException(str(exc)) from None


@click.group(cls=DefaultServe)
@click.version_option(__version__, prog_name="webinar")
def cli() -> None:
    """Run a live webinar: timed agenda, Q&A, breakout groups, feedback and survey."""


@cli.command()
@click.argument("agenda", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--db",
    "db_path",
    default="webinar.db",
    show_default=True,
    help="SQLite file, or a postgresql:// URL.",
)
@click.option(
    "--slug",
    default=None,
    help="AGENDA's event's short name, in its addresses /e/SLUG/ (default: from the file).",
)
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
@click.option(
    "--accessibility-contact",
    default="",
    envvar="WEBINAR_ACCESSIBILITY_CONTACT",
    show_envvar=True,
    metavar="ADDRESS",
    help="Where people report an accessibility problem, shown in the accessibility "
    "statement at /accessibility: an email or web address.",
)
@click.option(
    "--redis",
    "redis_url",
    metavar="URL",
    help="Redis (redis://host:port/db) to copy each event's live log to, as the fan-out "
    'log between workers (docs/architecture.md, "Many workers").',
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 256),
    envvar="WEBINAR_WORKERS",
    show_envvar=True,
    help="Worker processes (2 or more need --redis): one writes for each event, the others "
    "forward its requests to it, and a worker that dies is replaced (docs/scaling.md).",
)
@click.option(
    "--advertise",
    default="127.0.0.1",
    show_default=True,
    metavar="HOST",
    help="With --workers: the address of this host the other hosts' workers reach its "
    "workers at (each worker listens there on a free port of its own).",
)
@click.option(
    "--edge-fanout",
    is_flag=True,
    help="With --workers: a worker serves the screens of an event another worker writes "
    "for from its own copy of the event's live log, instead of passing them to the writer "
    '(new, off by default: docs/architecture.md, "Edge fan-out").',
)
@click.option(
    "--metrics-allow",
    "metrics_allow",
    multiple=True,
    metavar="CIDR",
    callback=metrics_networks,
    help="A network besides this computer that may read /metrics (repeatable), such as 10.0.0.0/8.",
)
@call_options
@oidc_options
def serve(
    agenda: Path | None,
    db_path: str,
    slug: str | None,
    host: str,
    port: int,
    public_url: str | None,
    https_only: bool,
    allowed_origins: tuple[str, ...],
    start_at: str | None,
    header_timeout: float,
    accessibility_contact: str,
    redis_url: str | None,
    workers: int,
    advertise: str,
    edge_fanout: bool,
    metrics_allow: tuple[Network, ...],
    oidc_issuer: str | None,
    oidc_client_id: str | None,
    oidc_client_secret_file: Path | None,
    oidc_name: str | None,
    **call_settings: Any,
) -> None:
    """Serve every event in the database; with AGENDA, first create or update its event
    (with neither, and no event yet, the seed webinar) and print its links."""
    from webinar.web import server
    from webinar.web.site import create_app
    from webinar.web.statement import parse_contact

    try:
        parse_contact(accessibility_contact)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--accessibility-contact") from None
    calls = call_config(**call_settings)
    oidc = oidc_config(oidc_issuer, oidc_client_id, oidc_client_secret_file, oidc_name)
    _check_serving(db_path, workers, redis_url, advertise)
    stored = [] if agenda is not None else events_in(db_path)
    seeded = agenda is None and not stored
    if agenda is None and all(e.agenda is None for e in stored):
        agenda = SEED_AGENDA  # a new database, or one from before events: as it always was
    if agenda is None:
        check_port(host, port)  # before any link is printed
        settings, hosted_notes = _stored_events(db_path, stored, start_at)
    else:
        parsed, text = read_agenda_and_text(agenda)
        check_calls([parsed], calls)  # before the database is touched
        requested = _start_time(start_at, parsed.timezone) if start_at is not None else None
        name = slug_for(agenda, slug)
        check_port(host, port)  # before any link is printed, and before the database
        settings, hosted_notes = _agenda_event(db_path, agenda, name, (parsed, text), requested)
    if seeded:
        hosted_notes.append(
            f"{db_path} held no events: this is the seed webinar. Add yours with "
            "webinar events add AGENDA, or serve one with webinar serve AGENDA."
        )
    check_calls((hosted.agenda for hosted in settings.events), calls)
    settings = replace(
        settings,
        base_url=public_url or f"http://{host}:{port}",
        allowed_origins=allowed_origins,
        https_only=https_only,
        tune_gc=True,
        calls=calls,
        oidc=oidc,
        accessibility_contact=accessibility_contact.strip(),
        redis_url=redis_url,
        metrics_allow=metrics_allow,
        worker=workers > 1,
        advertise=advertise,
        edge_fanout=edge_fanout and workers > 1,
    )
    if os.environ.get("WEBINAR_CHECK_EVENTS") == "1":  # the test suite's servers
        CHECKS.against_models()
    app = create_app(settings)
    _print_events(settings, agenda, db_path, hosted_notes)
    click.echo(f"  staff sign-in: {settings.base_url}/signin  (accounts: webinar users add)")
    if oidc is not None:
        click.echo(
            f"  OpenID Connect: {oidc.issuer}; its redirect URI for this install is "
            f"{oidc.redirect_uri(settings.base_url)}"
        )
    # --start moves one event: the hint only when one is served at the short addresses.
    rehearsal = start_at is not None or not settings.aliases
    for line in joining_hint(host, port, public_url) + timing_hint(
        settings.agenda, datetime.now(UTC), rehearsal=rehearsal
    ):
        click.echo(line)
    sys.stdout.flush()
    if workers == 1:
        server.run(app, host=host, port=port, header_timeout=header_timeout)
        return
    # The supervisor holds the database for its workers (shared among the serves of
    # several hosts on one PostgreSQL database; see exclusive).
    with exclusive(db_path, hosts=True):
        from webinar.web.workers import run_workers

        run_workers(settings, host=host, port=port, workers=workers, header_timeout=header_timeout)


def _check_serving(db_path: str, workers: int, redis_url: str | None, advertise: str) -> None:
    """Refuse, in a sentence, to serve a database another server runs on, or workers
    without Redis, or with a Redis that does not answer (before the database is touched)."""
    if workers > 1:
        check_workers(workers, redis_url, advertise)
    try:
        with exclusive(db_path, hosts=workers > 1):  # a check: the server takes it to serve
            pass
    except InUse:
        raise click.ClickException(
            f"Another server is already running on {db_path}. Stop it first, or give this "
            "one its own --db."
        ) from None
    if redis_url is not None:
        check_redis(redis_url)


def _agenda_event(
    db_path: str,
    path: Path,
    name: str,
    read: tuple[Agenda, str],
    requested: datetime | None,
) -> tuple[Settings, list[str]]:
    """``serve AGENDA``: create or update its event (``name``, from the agenda ``read``:
    parsed, and its text); every other stored event is served beside it. The settings and
    notes for the organiser."""
    from webinar.web.app import Settings

    parsed, text = read
    try:
        event, _, secrets = prepare_event(db_path, name, str(path), text, parsed.title, adopt=True)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    except Unreachable:
        raise  # a sentence of its own, without the URL's password
    except Exception as exc:  # sqlite3 errors: unreadable file, not a database, ...
        raise click.ClickException(f"The database {db_path} cannot be opened: {exc}") from None
    # A rehearsal moves only until it starts; then a restart keeps the plan it started with.
    parsed, note = plan_event(db_path, event.id, parsed, requested)
    others = [e for e in webinars.list_webinars_sync(db_path) if e.id != event.id]
    hosted, notes = _hosted(db_path, others)
    settings = Settings(
        agenda=parsed, db_path=db_path, secrets=secrets, slug=event.slug, others=tuple(hosted)
    )
    return settings, [note, *notes] if note else notes


def _stored_events(
    db_path: str, stored: list[Webinar], start_at: str | None
) -> tuple[Settings, list[str]]:
    """``serve`` alone: every event the database holds, each from its stored agenda."""
    from webinar.web.app import Settings

    hosted, notes = _hosted(db_path, stored)
    if not hosted:
        raise click.ClickException(f"No event in {db_path} can be served:\n" + "\n".join(notes))
    if start_at is not None:
        if len(hosted) > 1:
            raise click.UsageError(
                "--start moves one event's plan: name its agenda, as in "
                "webinar serve AGENDA --start now."
            )
        event = next(e for e in stored if e.slug == hosted[0].slug)
        moved = _start_time(start_at, hosted[0].agenda.timezone)
        stored_agenda = parse_agenda(event.agenda or "", event.agenda_name, today=today())
        agenda, note = plan_event(db_path, event.id, stored_agenda, moved)
        hosted[0] = replace(hosted[0], agenda=agenda)
        notes = [note, *notes] if note else notes
    first, *rest = hosted
    return (
        Settings(
            agenda=first.agenda,
            db_path=db_path,
            secrets=first.secrets,
            slug=first.slug,
            others=tuple(rest),
            aliases=len(hosted) == 1,
        ),
        notes,
    )


def _hosted(db_path: str, stored: list[Webinar]) -> tuple[list[Hosted], list[str]]:
    """The stored events a server can serve, and a sentence for each it cannot."""
    from webinar.web.app import Hosted

    hosted: list[Hosted] = []
    notes: list[str] = []
    for event in stored:
        if event.agenda is None:
            notes.append(
                f"{event.slug}: no agenda is stored for it; serve it with "
                f"webinar serve AGENDA --slug {event.slug}"
            )
            continue
        try:
            agenda = event_agenda(db_path, event, None)
        except click.ClickException as exc:
            notes.append(f"{event.slug}: {exc.message}")
            continue
        hosted.append(Hosted(event.slug, agenda, event_secrets(db_path, event.id)))
    return hosted, notes


def _print_events(settings: Settings, agenda: Path | None, db_path: str, notes: list[str]) -> None:
    from webinar.web.app import event_base, links

    shown = links(settings)
    click.echo(settings.agenda.title + ("" if settings.aliases else f"  ({settings.slug})"))
    if agenda is not None:
        click.echo(f"  agenda:    {agenda}")
    click.echo(f"  database:  {db_path}")
    click.echo(f"  attendees: {shown['attendee']}  (event code {shown['code']})")
    click.echo(f"  host:      {shown['host']}")
    click.echo(f"  organiser: {shown['organiser']}")
    for other in settings.others:
        more = links_for(settings.base_url + event_base(other.slug), other.secrets)
        click.echo(f"{other.agenda.title}  ({other.slug})")
        click.echo(f"  attendees: {more['attendee']}  (event code {more['code']})")
        click.echo(f"  host:      {more['host']}")
        click.echo(f"  organiser: {more['organiser']}")
    click.echo("  Keep the host and organiser links secret: they grant control.")
    for note in notes:
        click.echo(f"  {note}")


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
            agenda = read_agenda(path)
        except AgendaFileError as exc:
            failed = True
            click.echo(str(exc), err=True)
            continue
        click.echo(f'{path}: OK, {len(agenda.items)} items, "{agenda.title}".')
    if failed:
        sys.exit(1)


@cli.command()
@click.argument("what", type=click.Choice(["questions", "breakouts", "survey", "polls", "report"]))
@db_option
@event_option
@agenda_option("The agenda the event ran from (default: the one stored with it).")
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
def export(
    what: str,
    db_path: str,
    slug: str | None,
    agenda: Path | None,
    fmt: str | None,
    out: Path | None,
) -> None:
    """Export WHAT (questions, breakouts, survey, polls, report) from an event's database, also
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

    from webinar.services.commit import utcnow
    from webinar.services.offline_export import export_from_database

    event, parsed = existing_event(db_path, slug, agenda)
    body = asyncio.run(export_from_database(parsed, db_path, event.id, what, fmt, clock=utcnow))
    target = out or Path(f"{what}.{fmt}")
    try:
        target.write_bytes(body)
    except OSError as exc:
        raise click.ClickException(f"Cannot write {target}: {exc.strerror}.") from None
    click.echo(f"Wrote {target} ({len(body):,} bytes).")


@cli.command()
@db_option
@event_option
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
    db_path: str,
    slug: str | None,
    agenda: Path | None,
    retention_days: int,
    free_text: bool,
    yes: bool,
) -> None:
    """Erase names, organisations and links between people and what they did.

    Counts, vote totals, ratings and responses by group stay. Stop the server first.
    """
    from datetime import UTC, datetime, timedelta

    from webinar.storage.purge import ended_at_sync, purge_sync

    event, parsed = existing_event(db_path, slug, agenda)
    ended = ended_at_sync(db_path, event.id)
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
    if not yes and not click.confirm(
        f"Erase {what} from {event.slug} in {db_path}? This cannot be undone"
    ):
        raise click.Abort()
    codes = [q.code for q in parsed.survey.questions if q.kind == "text"] if parsed.survey else []
    with server_stopped(db_path, "purge"):
        counts = purge_sync(db_path, event.id, free_text=free_text, text_codes=codes)
    click.echo(
        f"Purged {db_path}: {counts['participants']} people's names and organisations, "
        f"links from {counts['questions']} questions and {counts['survey_responses']} survey "
        f"responses to people{'; free text erased' if free_text else ''}."
    )


@cli.command()
@db_option
@event_option
@agenda_option("The agenda the event ran from (its survey's free-text questions are erased too).")
@click.option("--name", help="The person's name as they gave it (any case or spacing).")
@click.option("--id", "person_id", help="The person's id, when several share a name.")
@click.option("--free-text", is_flag=True, help="Also erase what they wrote.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def erase(
    db_path: str,
    slug: str | None,
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
    event, parsed = existing_event(db_path, slug, agenda)
    people = find_people_sync(db_path, event.id, name=name, person_id=person_id)
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
        counts = erase_person_sync(db_path, event.id, person, free_text=free_text, text_codes=codes)
    click.echo(
        f"Erased {person.name} from {db_path}: name and organisation. No longer linked to "
        f"them: questions {counts['questions']}, replies {counts['replies']}, breakout points "
        f"{counts['points']}, survey responses {counts['survey_responses']}. Sessions ended: "
        f"{counts['sessions']}.{' Their text is erased.' if free_text else ''}"
    )


@cli.command()
@db_option
@event_option
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
    db_path: str,
    slug: str | None,
    code: bool,
    host: bool,
    organiser: bool,
    end_sessions: bool,
    public_url: str,
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
    event = choose_event(db_path, slug)
    with server_stopped(db_path, "rotate"):
        secrets, ended = rotate_offline(db_path, event.id, which, end_sessions=end_sessions)
    shown = links_for(public_url + _base_of(db_path, event.slug), secrets)
    labels = {"code": "attendees", "host": "host", "organiser": "organiser"}
    old = "the old ones no longer work" if len(which) > 1 else "the old one no longer works"
    click.echo(f"Replaced in {db_path}; {old}:")
    for name in which:
        extra = f"  (event code {shown['code']})" if name == "code" else ""
        link = shown["attendee" if name == "code" else name]
        click.echo(f"  {labels[name] + ':':<11}{link}{extra}")
    if end_sessions:
        click.echo(f"  Signed out: {ended} {'person' if ended == 1 else 'people'}.")


def _base_of(db_path: str, slug: str) -> str:
    """Where an event's links start: its short addresses when it is the database's only
    event (a server then gives it them), else ``/e/<slug>``."""
    from webinar.web.app import event_base

    return "" if len(events_in(db_path)) == 1 else event_base(slug)


cli.add_command(events)
cli.add_command(users)


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
