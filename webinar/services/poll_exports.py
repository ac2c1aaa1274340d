"""Poll exports and the report's poll section: every poll, when it ran, its counts.

Anonymous answers carry no name or id (the database holds none); they are listed in the
order of their keys' hashes, which is random, not the order of answering.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from webinar.domain.polls import KIND_LABELS, Poll
from webinar.services.sheets import XLSX, to_csv, to_xlsx
from webinar.storage import poll_repo

RESULT_COLUMNS = (
    ("poll", "Poll"),
    ("question", "Question"),
    ("kind", "Kind"),
    ("item", "Agenda item"),
    ("opened_at", "Opened at"),
    ("closed_at", "Closed at"),
    ("respondents", "Respondents"),
    ("answer", "Answer"),
    ("count", "People"),
    ("percent", "Percent of respondents"),
)
ANSWER_COLUMNS = (
    ("poll", "Poll"),
    ("question", "Question"),
    ("answer", "Answer"),
    ("name", "Name (named polls only)"),
)


def _local(services: Any, moment: datetime | None) -> str:
    if moment is None:
        return ""
    return moment.astimezone(services.agenda.timezone).strftime("%Y-%m-%d %H:%M:%S")


def _item_title(services: Any, poll: Poll) -> str:
    agenda = services.agenda
    if poll.item_id is None:
        return "(ad hoc)"
    return str(agenda.item(poll.item_id).title) if agenda.has_item(poll.item_id) else poll.item_id


def poll_summaries(services: Any) -> list[dict[str, Any]]:
    """Each poll with when it ran and its tally (for the report and the exports)."""
    polls = services.polls
    out = []
    for number, poll in enumerate(polls.ordered(), start=1):
        tally = polls.tally(poll)
        out.append(
            {
                "number": number,
                "poll": poll,
                "question": poll.spec.question,
                "kind": KIND_LABELS[poll.spec.kind],
                "item": _item_title(services, poll),
                "opened_at": _local(services, poll.opened_at),
                "closed_at": _local(services, poll.closed_at),
                "state": poll.state,
                "tally": tally,
                "correct": poll.spec.options[poll.spec.correct]
                if poll.spec.correct is not None
                else "",
            }
        )
    return out


def result_rows(services: Any) -> list[dict[str, Any]]:
    """A row per poll and option (or rating value, word, open-text answer)."""
    rows = []
    for s in poll_summaries(services):
        common = {
            "poll": s["number"],
            "question": s["question"],
            "kind": s["kind"],
            "item": s["item"],
            "opened_at": s["opened_at"],
            "closed_at": s["closed_at"],
            "respondents": s["tally"].respondents,
        }
        tally = s["tally"]
        if not tally.rows and not tally.texts:
            rows.append({**common, "answer": "", "count": 0, "percent": ""})
        for row in tally.rows:
            label = row.label + (" (correct)" if row.label == s["correct"] else "")
            rows.append({**common, "answer": label, "count": row.count, "percent": row.percent})
        for text in tally.texts:
            rows.append({**common, "answer": text, "count": 1, "percent": ""})
    return rows


async def answer_rows(services: Any) -> list[dict[str, Any]]:
    """Every answer as given (words as counted), anonymous ones without a name."""
    numbers = {p.id: (n, p) for n, p in enumerate(services.polls.ordered(), start=1)}
    rows = []
    for answer in await poll_repo.all_answers(services.db):
        if answer.poll_id not in numbers:
            continue
        number, poll = numbers[answer.poll_id]
        if poll.spec.kind in ("single", "multiple", "quiz"):
            given = "; ".join(poll.spec.options[int(i)] for i in answer.answer)
        else:
            given = "; ".join(str(v) for v in answer.answer)
        rows.append(
            {
                "poll": number,
                "question": poll.spec.question,
                "answer": given,
                "name": answer.author_name or "",
            }
        )
    return rows


async def poll_export(services: Any, fmt: str) -> tuple[bytes, str]:
    """(file body, media type): CSV of the results; XLSX with results and answers."""
    if fmt == "csv":
        return to_csv(result_rows(services), RESULT_COLUMNS), "text/csv; charset=utf-8"
    return to_xlsx(await poll_sheets(services)), XLSX


async def poll_sheets(
    services: Any,
) -> list[tuple[str, list[dict[str, Any]], Sequence[tuple[str, str]]]]:
    """The poll sheets; the survey workbook carries them as well."""
    return [
        ("Poll results", result_rows(services), RESULT_COLUMNS),
        ("Poll answers", await answer_rows(services), ANSWER_COLUMNS),
    ]
