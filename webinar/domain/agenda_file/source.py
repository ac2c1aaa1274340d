"""From the file's bytes to a TOML document: size, UTF-8 and TOML syntax, in plain words."""

from __future__ import annotations

import re
import tomllib
from typing import Any

from webinar.domain.agenda_file.problems import AgendaFileError, AgendaProblem

#: Largest agenda file, in bytes: about 40 times the seed webinar. Every page carries
#: the agenda, so a larger one would make every attendee's page (on a phone) as large.
MAX_FILE_BYTES = 500_000

_TOML_POSITION_RE = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_TOML_END_RE = re.compile(r"\s*\(at end of document\)\s*$")
_BARE_TIME_RE = re.compile(r"=\s*\d{1,2}[:.]\d{2}\s*(#.*)?$")
_TOML_CHARACTER_RE = re.compile(r"(?:Illegal|Found invalid) character (.+)")
_TOML_TWICE_RE = re.compile(r"Cannot declare \((.*)\) twice")
#: tomllib's wording for common mistakes, put in words an organiser can act on.
_TOML_REASONS = {
    "Unterminated string": "a text in quotes is never closed; add the closing quotes",
    "Expected \"'''\"": "a text in three single quotes is never closed; add the closing '''",
    'Expected "\'"': "a text in single quotes is never closed; add the closing '",
    "Unclosed array": "a list in square brackets is not closed, or two of its entries have "
    "no comma between them; separate entries with commas and end the list with ]",
    "Unclosed inline table": "a table in curly braces is not closed, or two of its settings "
    "have no comma between them; end it with }",
    "Cannot overwrite a value": "this setting is given twice in the same section (or a "
    "section has the name of a setting); keep one of them",
    "Expected '=' after a key in a key/value pair": "a setting needs an equals sign after "
    'its name, like title = "Welcome" (names have no spaces: group_size, not group size)',
    "Expected ']' at the end of a table declaration": "a section name needs a closing "
    "square bracket, like [event]",
    "Expected ']]' at the end of an array declaration": "a section name in double square "
    "brackets needs two closing brackets, like [[items]]",
    "Invalid statement": "this line is neither a setting (name = value) nor a section name "
    "in square brackets",
}


def _size(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB" if size >= 1_000_000 else f"{size / 1000:.0f} KB"


def too_large(name: str, size: int) -> AgendaProblem | None:
    """The problem with an agenda file of ``size`` bytes, or ``None`` if it is small enough."""
    if size <= MAX_FILE_BYTES:
        return None
    return AgendaProblem(
        str(name),
        None,
        None,
        f"is {_size(size)}; an agenda file may be at most {_size(MAX_FILE_BYTES)}. Take out "
        "what the webinar does not need (long slide texts, repeated items) or split it into "
        "several webinars.",
    )


def decode_agenda(data: bytes, name: str) -> str:
    """The text of an agenda file's bytes, which must be UTF-8 (a leading BOM is dropped).

    Raises :class:`AgendaFileError` naming the line and column of the first byte that is
    not UTF-8, as a TOML error names where it is.
    """
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        start = exc.start
    before = data[:start].decode("utf-8-sig")
    line = before.count("\n") + 1
    column = len(before) - (before.rfind("\n") + 1) + 1
    bad = data[start]
    guess = bytes([bad]).decode("cp1252", "replace")
    perhaps = f', perhaps "{guess}" saved in another encoding' if guess.isprintable() else ""
    raise AgendaFileError(
        [
            AgendaProblem(
                str(name),
                None,
                None,
                f"is not UTF-8 text at line {line}, column {column}: the byte 0x{bad:02X} "
                f"there is not UTF-8{perhaps}. Save the file as UTF-8 (most editors offer "
                "the encoding under Save As).",
            )
        ]
    ) from None


def load_toml(text: str, name: str) -> dict[str, Any]:
    """The TOML document in ``text``; :class:`AgendaFileError` with the one problem that
    stops it being read (not text, too large, not TOML)."""
    if not isinstance(text, str):
        raise AgendaFileError([AgendaProblem(name, None, None, "is not text.")])
    large = too_large(name, len(text.encode("utf-8", "surrogatepass")))
    if large is not None:
        raise AgendaFileError([large])
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise AgendaFileError([_toml_problem(name, text, exc)]) from None
    except RecursionError:
        raise AgendaFileError(
            [AgendaProblem(name, None, None, "is not valid TOML: it is nested too deeply.")]
        ) from None


def _toml_reason(reason: str) -> str:
    """A TOML error message in plain words, where tomllib's own would puzzle an organiser."""
    if reason in _TOML_REASONS:
        return _TOML_REASONS[reason]
    character = _TOML_CHARACTER_RE.fullmatch(reason)
    if character:
        if character.group(1) == repr("\n"):
            return (
                "a text in quotes is not closed before the end of the line; add the closing "
                'quote, or put text over several lines between three double quotes ("""), '
                "as slide bodies are"
            )
        return (
            f"the text contains the control character {character.group(1)}, which TOML does "
            "not allow there; delete it (it is often invisible: retype the line)"
        )
    twice = _TOML_TWICE_RE.fullmatch(reason)
    if twice:
        parts = [part.strip().strip("'\"") for part in twice.group(1).split(",")]
        section = ".".join(part for part in parts if part)
        return (
            f"the section [{section}] appears twice; keep one [{section}] line and put all "
            "its settings under it"
        )
    return reason


def _toml_problem(name: str, text: str, exc: tomllib.TOMLDecodeError) -> AgendaProblem:
    message = str(exc)
    position = _TOML_POSITION_RE.search(message)
    if position:
        line, column = int(position.group(1)), int(position.group(2))
        reason = message[: position.start()]
        where = f"at line {line}, column {column}"
    else:
        line = 0
        reason = _TOML_END_RE.sub("", message)
        where = "at the end of the file" if _TOML_END_RE.search(message) else "somewhere"
    reason = _toml_reason(reason.strip().rstrip(".")) or "it cannot be read"
    reason = reason[0].lower() + reason[1:]
    hint = ""
    lines = text.splitlines()
    if 1 <= line <= len(lines) and _BARE_TIME_RE.search(lines[line - 1]):
        hint = ' (put times in double quotes, like start = "10:30")'
    return AgendaProblem(name, None, None, f"is not valid TOML {where}: {reason}{hint}.")
