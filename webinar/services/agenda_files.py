"""Reading agenda files from disk (the parsing itself is pure domain code)."""

from __future__ import annotations

import os
from datetime import date
from importlib.resources import files
from pathlib import Path

from webinar.domain.agenda import Agenda
from webinar.domain.agenda_file import (
    MAX_FILE_BYTES,
    AgendaFileError,
    AgendaProblem,
    decode_agenda,
    parse_agenda,
    too_large,
)


def shipped(folder: str) -> Path:
    """A folder of package data (``templates``, ``static``, ``agendas``) as a path.

    Found through ``importlib.resources``, so it is wherever the package is: a wheel
    installed in a venv, an editable install or a checkout. Installs unpack the wheel, so
    the folder is on disk; ``RuntimeError`` if the package is imported from a zip file.
    """
    resource = files("webinar") / folder
    if not isinstance(resource, Path) or not resource.is_dir():
        raise RuntimeError(f"webinar's {folder} folder is missing from {resource}.")
    return resource


#: The seed webinar shipped with the package.
SEED_AGENDA = shipped("agendas") / "seed.toml"


def load_agenda(path: str | Path, *, today: date) -> Agenda:
    """Read and parse an agenda file; ``AgendaFileError`` naming the file on any problem.

    ``today`` is the day ``date = "today"`` in the file means (the caller reads the clock).
    A file over the size limit is refused before it is read.
    """
    name = str(path)
    try:
        with Path(path).open("rb") as file:
            size = os.fstat(file.fileno()).st_size
            # Never more than one byte past the limit, even from a pipe or a growing file.
            data = b"" if size > MAX_FILE_BYTES else file.read(MAX_FILE_BYTES + 1)
        large = too_large(name, max(size, len(data)))
        if large is not None:
            raise AgendaFileError([large])
    except FileNotFoundError:
        raise AgendaFileError([AgendaProblem(name, None, None, "does not exist.")]) from None
    except IsADirectoryError:
        raise AgendaFileError(
            [AgendaProblem(name, None, None, "is a folder, not a file.")]
        ) from None
    except OSError as exc:
        raise AgendaFileError(
            [AgendaProblem(name, None, None, f"cannot be read ({exc.strerror}).")]
        ) from None
    return parse_agenda(decode_agenda(data, name), name, today=today)
