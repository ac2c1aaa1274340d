"""Reading agenda files from disk (the parsing itself is pure domain code)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from webinar.domain.agenda import Agenda
from webinar.domain.agenda_file import AgendaFileError, AgendaProblem, parse_agenda

#: The seed webinar shipped with the project.
SEED_AGENDA = Path(__file__).resolve().parents[2] / "agendas" / "seed.toml"


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
