"""`webinar serve --accessibility-contact`: checked before anything is served."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from webinar.cli.main import cli


def test_serve_refuses_a_contact_that_is_no_address(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        ["serve", "--db", str(tmp_path / "x.db"), "--accessibility-contact", "the front desk"],
    )

    assert result.exit_code == 2
    assert result.output.strip().endswith(
        "Error: Invalid value for --accessibility-contact: The accessibility contact must be an "
        "email address (access@example.org) or a web address (https://...), not 'the front desk'."
    )
    assert not (tmp_path / "x.db").exists()
