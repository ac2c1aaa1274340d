"""``webinar serve``'s OpenID Connect options: staff sign-in through the organisation's
provider (Microsoft Entra ID, Google Workspace, any OpenID provider)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import click

from webinar.web.oidc import OidcConfig

F = TypeVar("F", bound=Callable[..., Any])

#: The client secret itself, for platforms that hand secrets over as variables.
SECRET_VARIABLE = "WEBINAR_OIDC_CLIENT_SECRET"
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def oidc_options(function: F) -> F:
    options = [
        click.option(
            "--oidc-issuer",
            envvar="WEBINAR_OIDC_ISSUER",
            show_envvar=True,
            metavar="URL",
            help="Staff sign-in with OpenID Connect: the provider's issuer URL.",
        ),
        click.option(
            "--oidc-client-id",
            envvar="WEBINAR_OIDC_CLIENT_ID",
            show_envvar=True,
            help="This install's client id at the provider.",
        ),
        click.option(
            "--oidc-client-secret-file",
            type=click.Path(dir_okay=False, path_type=Path),
            envvar="WEBINAR_OIDC_CLIENT_SECRET_FILE",
            show_envvar=True,
            help=f"A file holding the client secret (or set {SECRET_VARIABLE}).",
        ),
        click.option(
            "--oidc-name",
            envvar="WEBINAR_OIDC_NAME",
            show_envvar=True,
            help='Shown on the button, "Sign in with NAME" (default: from the issuer).',
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def oidc_config(
    issuer: str | None, client_id: str | None, secret_file: Path | None, name: str | None
) -> OidcConfig | None:
    """The OpenID set-up the options describe, or None when none is given.

    ``click.UsageError`` / ``click.ClickException`` with a plain sentence when it is half
    given, the issuer is not https (plain http only on this computer's loopback), or the
    secret file cannot be read."""
    secret = os.environ.get(SECRET_VARIABLE, "")
    if not (issuer or client_id or secret_file or secret):
        return None
    if not issuer or not client_id or not (secret_file or secret):
        raise click.UsageError(
            "OpenID Connect sign-in needs all three: --oidc-issuer, --oidc-client-id and the "
            f"client secret (--oidc-client-secret-file, or {SECRET_VARIABLE})."
        )
    parts = urlsplit(issuer)
    local = parts.scheme == "http" and parts.hostname in LOOPBACK
    if not (parts.scheme == "https" or local) or not parts.hostname:
        raise click.BadParameter(
            "give the provider's https:// issuer URL, for example "
            "https://login.microsoftonline.com/TENANT-ID/v2.0 or https://accounts.google.com.",
            param_hint="--oidc-issuer",
        )
    if secret_file is not None:
        secret = _read_secret(secret_file)
    return OidcConfig(issuer.rstrip("/"), client_id, secret, name or "")


def _read_secret(path: Path) -> str:
    try:
        secret = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "it is not text"
        raise click.ClickException(
            f"Cannot read the client secret from {path}: {reason}."
        ) from None
    if not secret:
        raise click.ClickException(f"The client secret file {path} is empty.")
    return secret
