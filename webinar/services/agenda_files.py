"""Reading agenda files from disk (the parsing itself is pure domain code)."""

from __future__ import annotations

from datetime import date
from importlib.resources import files
from pathlib import Path

from webinar.domain.agenda import Agenda
from webinar.domain.agenda_file import AgendaFileError, AgendaProblem, parse_agenda


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


def load_agenda(path: str | Path, *, today: date | None = None) -> Agenda:
    """Read and parse an agenda file; ``AgendaFileError`` naming the file on any problem."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise AgendaFileError([AgendaProblem(name, None, None, "does not exist.")]) from None
    except IsADirectoryError:
        raise AgendaFileError(
            [AgendaProblem(name, None, None, "is a folder, not a file.")]
        ) from None
    except UnicodeDecodeError:
        raise AgendaFileError(
            [AgendaProblem(name, None, None, "is not UTF-8 text. Save it as UTF-8.")]
        ) from None
    except OSError as exc:
        raise AgendaFileError(
            [AgendaProblem(name, None, None, f"cannot be read ({exc.strerror}).")]
        ) from None
    return parse_agenda(text, name, today=today or date.today())
