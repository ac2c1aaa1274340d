"""`webinar --version`, and what `webinar serve` says and checks before it serves."""

from __future__ import annotations

from click.testing import CliRunner

from webinar import __version__
from webinar.cli.main import cli


def test_version_is_the_package_version() -> None:
    result = CliRunner().invoke(cli, ["--version"])

    assert result.exit_code == 0
    assert result.output == f"webinar, version {__version__}\n"
