"""What is wrong with an agenda file: one :class:`AgendaProblem` each, all in one error."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

#: Problems listed in full; the rest are counted ("... and 58,154 more problems.").
MAX_PROBLEMS_SHOWN = 100


@dataclass(frozen=True, slots=True)
class AgendaProblem:
    """One thing wrong with an agenda file.

    ``item`` is a label such as ``item 6 "LCSPR Breakout"`` or ``survey question 2 "q2"`` (or
    ``None`` for the event as a whole); ``field`` is the setting, such as ``breakout.min_topics``.
    """

    file: str
    item: str | None
    field: str | None
    message: str

    def __str__(self) -> str:
        parts = [self.file]
        if self.item:
            parts.append(self.item)
        if self.field:
            parts.append(f"field {self.field}")
        return ", ".join(parts) + ": " + self.message


class AgendaFileError(ValueError):
    """An agenda file could not be used; ``problems`` lists everything wrong with it."""

    def __init__(self, problems: Iterable[AgendaProblem]) -> None:
        self.problems: list[AgendaProblem] = list(problems)
        super().__init__(str(self))

    def __str__(self) -> str:
        """Every problem on its own line, up to ``MAX_PROBLEMS_SHOWN``; then how many more."""
        lines = [str(problem) for problem in self.problems[:MAX_PROBLEMS_SHOWN]]
        rest = len(self.problems) - MAX_PROBLEMS_SHOWN
        if rest > 0:
            lines.append(
                f"{self.problems[0].file}: … and {rest:,} more problem{'' if rest == 1 else 's'}"
                " not listed; fix the ones above and check the file again."
            )
        return "\n".join(lines)

    def __reduce__(self) -> tuple[type[AgendaFileError], tuple[list[AgendaProblem]]]:
        return (type(self), (self.problems,))
