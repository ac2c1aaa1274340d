"""Reading agenda files: TOML text in, a checked :class:`~webinar.domain.agenda.Agenda` out.

Pure parsing and validation, no file I/O and no clock: :func:`parse_agenda` takes the text
of the file, a display name for it (used in messages) and the day ``date = "today"`` means.
Every problem found is collected, so an organiser sees all of them at once, each as one
plain sentence naming the file, the item and the field.

The modules, in the order a file is read:

* ``source``: bytes and text to a TOML document (size, UTF-8, TOML syntax in plain words);
* ``reader``: typed look-ups that record each problem (:class:`~.reader.Reader`);
* ``keys``: the settings each table allows;
* ``event``, ``items`` (with ``slides`` and ``breakouts``), ``schedule`` (times and
  checks across items), ``qa`` and ``survey``: one part of the file each;
* ``parse``: :func:`parse_agenda`, which reads the parts in order.

The file format is documented for organisers in ``docs/agenda-format.md``.
"""

from webinar.domain.agenda_file.items import MAX_ITEMS
from webinar.domain.agenda_file.parse import parse_agenda
from webinar.domain.agenda_file.problems import AgendaFileError, AgendaProblem
from webinar.domain.agenda_file.source import MAX_FILE_BYTES, decode_agenda, too_large

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_ITEMS",
    "AgendaFileError",
    "AgendaProblem",
    "decode_agenda",
    "parse_agenda",
    "too_large",
]
