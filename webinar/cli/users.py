"""``webinar users ...``: staff accounts (add, list, remove, passwd).

These work beside a running server too: SQLite's locking keeps the writes apart, a new
account can sign in at once, and a removed account or a changed password ends its
sessions at the server's next look at them.
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TypeVar

import click
import psycopg

from webinar.domain.accounts import (
    Account,
    AccountError,
    Grant,
    check_new_password,
    clean_display_name,
    normalise_email,
)
from webinar.storage import webinars
from webinar.storage.db import database_exists, migrate_sync

T = TypeVar("T")

#: What each field of an ``AccountError`` is called on this command line.
PARAM_HINTS = {"email": "EMAIL", "name": "--name", "password": "password"}


@contextmanager
def plain_errors(db_path: str) -> Iterator[None]:
    """Account and database errors as plain sentences naming the field or file."""
    try:
        yield
    except AccountError as exc:
        raise click.BadParameter(str(exc), param_hint=PARAM_HINTS.get(exc.field or "")) from None
    except (sqlite3.DatabaseError, psycopg.Error) as exc:
        raise click.ClickException(f"The database {db_path} cannot be used: {exc}.") from None


def _existing(db_path: str) -> None:
    if not database_exists(db_path):
        raise click.ClickException(f"The database {db_path} does not exist.")


def _read_password(from_stdin: bool, prompt: str = "Password") -> str:
    if from_stdin:
        line = sys.stdin.readline()
        return line.removesuffix("\n").removesuffix("\r")
    value: str = click.prompt(prompt, hide_input=True, confirmation_prompt=True)
    return value


def _grants(db_path: str, role: str, events: tuple[str, ...]) -> tuple[Grant, ...]:
    if role == "organiser":
        if events:
            raise click.UsageError(
                "An organiser runs the whole install: leave out --event (or use --role host)."
            )
        return (Grant("organiser"),)
    if not events:
        raise click.UsageError("Say which events this host hosts: --event SLUG (repeatable).")
    migrate_sync(db_path)
    ids = []
    for slug in events:
        found = webinars.find_webinar_sync(db_path, slug)
        if found is None:
            raise click.BadParameter(
                f"There is no event '{slug}' in {db_path}: 'webinar events list' shows them.",
                param_hint="'--event'",
            )
        ids.append(found.id)
    return tuple(Grant("host", event) for event in sorted(set(ids)))


def event_names(db_path: str) -> dict[int, str]:
    """Each event's id and short name, to name the events hosts host."""
    return {event.id: event.slug for event in webinars.list_webinars_sync(db_path)}


def describe(account: Account, names: Mapping[int, str] | None = None) -> str:
    """One line about an account: email, name, roles (events by ``names``: id -> slug)
    and how it signs in."""
    roles = ", ".join(g.describe(names) for g in account.grants) or "no role"
    linked = account.oidc_subject is not None
    ways = [w for w, has in (("password", account.has_password), ("OIDC", linked)) if has]
    how = " and ".join(ways) or "OIDC (linked at the first sign-in)"
    return f"{account.email}  {account.display_name}  ({roles}; signs in with {how})"


def _db_option(function: Callable[..., T]) -> Callable[..., T]:
    return click.option(
        "--db",
        "db_path",
        default="webinar.db",
        show_default=True,
        help="SQLite file, or a postgresql:// URL.",
    )(function)


@click.group()
def users() -> None:
    """Staff accounts: organisers of the whole install, and hosts of named events."""


@users.command("add")
@click.argument("email")
@click.option("--name", required=True, help="Their name, as hosts and attendees see it.")
@click.option(
    "--role", type=click.Choice(["organiser", "host"]), required=True, help="What they may do."
)
@click.option(
    "--event",
    "events",
    multiple=True,
    help="An event a host hosts, by its short name (repeatable; 'webinar events list').",
)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option(
    "--no-password", is_flag=True, help="No password: they sign in only with OpenID Connect."
)
@_db_option
def add(
    email: str,
    name: str,
    role: str,
    events: tuple[str, ...],
    password_stdin: bool,
    no_password: bool,
    db_path: str,
) -> None:
    """Add a staff account for EMAIL (the first organiser is made this way)."""
    from webinar.services.accounts import add_user

    with plain_errors(db_path):
        grants = _grants(db_path, role, events)
    if password_stdin and no_password:
        raise click.UsageError("Give --password-stdin or --no-password, not both.")
    with plain_errors(db_path):
        clean_email = normalise_email(email)
        clean_name = clean_display_name(name)
        password = None if no_password else _read_password(password_stdin)
        if password is not None:
            check_new_password(password)
        account = add_user(db_path, clean_email, clean_name, password, grants, datetime.now(UTC))
    click.echo(f"Added {describe(account, event_names(db_path))} to {db_path}.")


@users.command("list")
@_db_option
def list_(db_path: str) -> None:
    """List the staff accounts."""
    from webinar.services.accounts import list_users

    _existing(db_path)
    with plain_errors(db_path):
        accounts = list_users(db_path)
        names = event_names(db_path)
    if not accounts:
        click.echo(f"{db_path} has no staff accounts yet: add one with 'webinar users add'.")
    for account in accounts:
        click.echo(describe(account, names))


@users.command("remove")
@click.argument("email")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@_db_option
def remove(email: str, yes: bool, db_path: str) -> None:
    """Remove the account of EMAIL and sign it out everywhere."""
    from webinar.services.accounts import remove_user

    _existing(db_path)
    with plain_errors(db_path):
        clean_email = normalise_email(email)
        if not yes and not click.confirm(f"Remove the account of {clean_email}?"):
            raise click.Abort()
        account = remove_user(db_path, clean_email)
    click.echo(f"Removed {account.email} from {db_path}; they are signed out.")


@users.command("passwd")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@_db_option
def passwd(email: str, password_stdin: bool, db_path: str) -> None:
    """Give the account of EMAIL a new password (it is signed out everywhere)."""
    from webinar.services.accounts import set_password

    _existing(db_path)
    with plain_errors(db_path):
        clean_email = normalise_email(email)
        password = _read_password(password_stdin, "New password")
        check_new_password(password)
        ended = set_password(db_path, clean_email, password)
    people = "1 session" if ended == 1 else f"{ended} sessions"
    click.echo(f"Changed the password of {clean_email}; {people} signed out.")
