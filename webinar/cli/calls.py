"""``webinar serve``'s options for group calls: the providers' secrets.

Secrets come from the environment or from a file, never from a command-line value (other
users of the machine can read a process's arguments) and never from the agenda file.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import click

from webinar.domain.agenda import Agenda
from webinar.domain.video import BBB_ALGORITHMS
from webinar.services.calls import CallConfig, config_problems

F = TypeVar("F", bound=Callable[..., Any])

JITSI_SECRET_ENV = "WEBINAR_JITSI_SECRET"
BBB_SECRET_ENV = "WEBINAR_BBB_SECRET"


def call_options(function: F) -> F:
    options = [
        click.option(
            "--jitsi-app-id",
            default="webinar",
            show_default=True,
            envvar="WEBINAR_JITSI_APP_ID",
            show_envvar=True,
            help="Jitsi group calls: Prosody's app_id (the tokens' iss).",
        ),
        click.option(
            "--jitsi-audience",
            default="jitsi",
            show_default=True,
            envvar="WEBINAR_JITSI_AUDIENCE",
            show_envvar=True,
            help="Jitsi group calls: the tokens' aud.",
        ),
        click.option(
            "--jitsi-secret-file",
            type=click.Path(dir_okay=False, path_type=Path),
            envvar="WEBINAR_JITSI_SECRET_FILE",
            show_envvar=True,
            help=f"File holding Prosody's app_secret (or set {JITSI_SECRET_ENV}).",
        ),
        click.option(
            "--bbb-secret-file",
            type=click.Path(dir_okay=False, path_type=Path),
            envvar="WEBINAR_BBB_SECRET_FILE",
            show_envvar=True,
            help=f"File holding BigBlueButton's shared secret (or set {BBB_SECRET_ENV}).",
        ),
        click.option(
            "--bbb-checksum",
            type=click.Choice(BBB_ALGORITHMS),
            default="sha1",
            show_default=True,
            envvar="WEBINAR_BBB_CHECKSUM",
            show_envvar=True,
            help="BigBlueButton's checksum algorithm (one its supportedChecksumAlgorithms allow).",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def _secret(path: Path | None, env: str, what: str) -> str:
    if path is None:
        return os.environ.get(env, "").strip()
    try:
        return path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or "it is not text"
        raise click.ClickException(f"The {what} file {path} cannot be read: {reason}.") from None


def call_config(**options: Any) -> CallConfig:
    """The group call settings from the options above (secrets read from their files or
    the environment)."""
    return CallConfig(
        jitsi_app_id=options["jitsi_app_id"],
        jitsi_audience=options["jitsi_audience"],
        jitsi_secret=_secret(options["jitsi_secret_file"], JITSI_SECRET_ENV, "Jitsi secret"),
        bbb_secret=_secret(options["bbb_secret_file"], BBB_SECRET_ENV, "BigBlueButton secret"),
        bbb_checksum=options["bbb_checksum"],
    )


def check_calls(agendas: Iterable[Agenda], config: CallConfig) -> None:
    """``click.ClickException`` naming every breakout of ``agendas`` whose provider has no
    secret in ``config``."""
    problems = [p for agenda in agendas for p in config_problems(agenda, config)]
    if problems:
        raise click.ClickException("\n".join(problems))
