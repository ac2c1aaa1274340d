"""`webinar serve`'s OpenID Connect options: all three or none, an https issuer, a readable
secret; refused in plain sentences before anything starts."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from webinar.cli.main import cli
from webinar.cli.oidc_options import SECRET_VARIABLE, oidc_config
from webinar.web.oidc import OidcConfig

ENTRA = "https://login.microsoftonline.com/0000-tenant/v2.0"


def serve(tmp_path: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["serve", "--db", str(tmp_path / "w.db"), *args])
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    assert not (tmp_path / "w.db").exists()  # refused before the database is made
    return result.output.strip().splitlines()[-1]


@pytest.fixture(autouse=True)
def no_secret_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SECRET_VARIABLE, raising=False)


def test_serve_oidc_half_given_is_refused(tmp_path: Path) -> None:
    assert serve(tmp_path, "--oidc-issuer", ENTRA) == (
        "Error: OpenID Connect sign-in needs all three: --oidc-issuer, --oidc-client-id and "
        f"the client secret (--oidc-client-secret-file, or {SECRET_VARIABLE})."
    )


def test_serve_oidc_plain_http_issuer_off_this_computer_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("s3cret\n", encoding="utf-8")

    line = serve(
        tmp_path,
        "--oidc-issuer", "http://login.example.org",
        "--oidc-client-id", "abc",
        "--oidc-client-secret-file", str(secret),
    )  # fmt: skip

    assert line == (
        "Error: Invalid value for --oidc-issuer: give the provider's https:// issuer URL, for "
        "example https://login.microsoftonline.com/TENANT-ID/v2.0 or https://accounts.google.com."
    )


@pytest.mark.parametrize(("content", "reason"), [(None, "No such file or directory"), ("", "")])
def test_serve_oidc_secret_file_missing_or_empty_is_refused(
    tmp_path: Path, content: str | None, reason: str
) -> None:
    secret = tmp_path / "secret"
    if content is not None:
        secret.write_text(content, encoding="utf-8")

    line = serve(
        tmp_path,
        "--oidc-issuer", ENTRA,
        "--oidc-client-id", "abc",
        "--oidc-client-secret-file", str(secret),
    )  # fmt: skip

    expected = (
        f"Error: Cannot read the client secret from {secret}: {reason}."
        if reason
        else f"Error: The client secret file {secret} is empty."
    )
    assert line == expected


def test_oidc_config_reads_the_secret_file_and_names_the_provider(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("  s3cret \n", encoding="utf-8")

    config = oidc_config(ENTRA + "/", "abc", secret, None)

    assert config == OidcConfig(ENTRA, "abc", "s3cret", "")
    assert config.label == "Microsoft"
    assert config.redirect_uri("https://webinar.example.org/") == (
        "https://webinar.example.org/signin/oidc/callback"
    )


def test_oidc_config_takes_the_secret_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(SECRET_VARIABLE, "from-env")

    config = oidc_config("https://accounts.google.com", "abc", None, "Our Google")

    assert config == OidcConfig("https://accounts.google.com", "abc", "from-env", "Our Google")
    assert config.label == "Our Google"


def test_oidc_config_none_given_is_none() -> None:
    assert oidc_config(None, None, None, None) is None
