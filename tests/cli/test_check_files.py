"""`webinar check` on files the project had never seen: too large, not UTF-8, too many
problems."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from webinar.cli.main import cli
from webinar.services.agenda_files import SEED_AGENDA


def test_check_refuses_a_five_megabyte_file_in_one_sentence(tmp_path: Path) -> None:
    big = tmp_path / "big.toml"
    seed = SEED_AGENDA.read_text(encoding="utf-8")
    big.write_text(seed + "\n# padding\n" * 500_000, encoding="utf-8")

    result = CliRunner().invoke(cli, ["check", str(big)])

    assert result.exit_code == 1
    assert result.output.strip() == (
        f"{big}: is 5.5 MB; an agenda file may be at most 500 KB. Take out what the webinar "
        "does not need (long slide texts, repeated items) or split it into several webinars."
    )


def test_check_names_the_line_and_column_of_a_byte_that_is_not_utf8(tmp_path: Path) -> None:
    latin = tmp_path / "latin.toml"
    seed = SEED_AGENDA.read_text(encoding="utf-8")
    latin.write_bytes(
        seed.replace('title = "Welcome"', 'title = "Bienvenue, caf\u00e9"').encode("cp1252")
    )
    line = next(
        number
        for number, text in enumerate(latin.read_bytes().split(b"\n"), start=1)
        if b"caf" in text
    )

    result = CliRunner().invoke(cli, ["check", str(latin)])

    assert result.exit_code == 1
    assert result.output.strip() == (
        f"{latin}: is not UTF-8 text at line {line}, column 24: the byte 0xE9 there is not "
        'UTF-8, perhaps "\u00e9" saved in another encoding. Save the file as UTF-8 (most '
        "editors offer the encoding under Save As)."
    )


def test_check_lists_a_hundred_problems_and_counts_the_rest(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    seed = SEED_AGENDA.read_text(encoding="utf-8")
    # 8 items, each with 20 misspelt settings: 160 problems.
    misspelt = "".join(f"titel{n} = 1\n" for n in range(20))
    bad.write_text(seed.replace("[[items]]\n", "[[items]]\n" + misspelt), encoding="utf-8")

    result = CliRunner().invoke(cli, ["check", str(bad)])

    lines = result.output.strip().splitlines()
    assert result.exit_code == 1
    assert len(lines) == 101
    assert all(line.startswith(f"{bad}, item ") for line in lines[:100])
    assert lines[100] == (
        f"{bad}: … and 60 more problems not listed; fix the ones above and check the file again."
    )


def test_check_names_the_item_and_field_of_a_poll_mistake(tmp_path: Path) -> None:
    agenda = tmp_path / "polls.toml"
    seed = SEED_AGENDA.read_text(encoding="utf-8")
    poll = (
        'presenters = ["Karen Manners QPM"]\n\n  [[items.polls]]\n'
        '  question = "Which have you seen?"\n  kind = "multiple"\n  options = ["Neglect"]\n'
    )
    agenda.write_text(seed.replace('presenters = ["Karen Manners QPM"]\n', poll, 1))

    result = CliRunner().invoke(cli, ["check", str(agenda)])

    assert result.exit_code == 1
    assert result.output.strip() == (
        f'{agenda}, item 1 "Welcome", field polls[1].options: give between 2 and 12 options; '
        "there are 1."
    )
