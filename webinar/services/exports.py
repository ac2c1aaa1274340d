"""Exports for hosts and organisers: questions, breakout responses, survey (CSV, XLSX);
polls in ``poll_exports``, whose sheets the questions and survey workbooks carry too.

Anonymous questions and replies have no author in any export: the database holds none.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from openpyxl.workbook.child import INVALID_TITLE_REGEX

from webinar.domain.agenda import Agenda
from webinar.domain.qa import REJECT_REASONS, Question
from webinar.services.sheets import XLSX, to_csv, to_xlsx
from webinar.storage.qa_repo import Reply

QUESTION_COLUMNS = (
    ("qa_item", "Q&A item"),
    ("question_id", "Question id"),
    ("text", "Question"),
    ("author", "Author"),
    ("organisation", "Organisation"),
    ("anonymous", "Anonymous"),
    ("votes", "Votes"),
    ("state", "State"),
    ("answered", "Answered"),
    ("answer", "Written answer"),
    ("replies", "Replies"),
    ("asked_at", "Asked at"),
    ("edited_by_host", "Edited by host"),
    ("reject_reason", "Reason not published"),
    ("merged_into", "Merged into"),
)


def _hidden_mark(reply: Reply) -> str:
    return " [hidden by the host]" if reply.hidden else ""


def question_rows(
    agenda: Agenda, questions: Sequence[Question], replies: dict[int, list[Reply]]
) -> list[dict[str, Any]]:
    """One row per question, in asking order, with every column of ``QUESTION_COLUMNS``."""
    tz = agenda.timezone

    def local(moment: datetime) -> str:
        return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")

    rows = []
    for q in sorted(questions, key=lambda q: q.id):
        these = replies.get(q.id, [])

        answer = "\n".join(f"{r.text}{_hidden_mark(r)}" for r in these if r.is_answer)
        others = "\n".join(
            f"{r.author_name or 'Anonymous'}: {r.text}{_hidden_mark(r)}"
            for r in these
            if not r.is_answer
        )
        rows.append(
            {
                "qa_item": agenda.item(q.item_id).title
                if agenda.has_item(q.item_id)
                else q.item_id,
                "question_id": q.id,
                "text": q.text,
                "author": "" if q.anonymous else q.author_name,
                "organisation": "" if q.anonymous else q.author_organisation,
                "anonymous": "yes" if q.anonymous else "no",
                "votes": q.votes,
                "state": q.state,
                "answered": q.answered or "no",
                "answer": answer,
                "replies": others,
                "asked_at": local(q.created_at),
                "edited_by_host": "yes" if q.edited_by_host else "no",
                "reject_reason": REJECT_REASONS.get(q.reject_reason, "") if q.reject_reason else "",
                "merged_into": q.merged_into or "",
            }
        )
    return rows


BREAKOUT_COLUMNS = (
    ("breakout", "Breakout"),
    ("group", "Group"),
    ("topic_number", "Topic number"),
    ("topic", "Topic"),
    ("given", "Topic given to the group"),
    ("response", "Response"),
    ("points", "Members' points"),
    ("starred", "Starred"),
    ("edited_by_host", "Edited by the host"),
)


def breakout_rows(services: Any) -> list[dict[str, Any]]:
    """One row per group and topic with something written, every round, in order."""
    breakouts = services.breakouts
    rows: list[dict[str, Any]] = []
    for rnd in breakouts.rounds:
        feedback = breakouts.feedback_data(rnd)
        title = services.agenda.item(rnd.item_id).title
        for topic in feedback["topics"]:
            for entry in topic["entries"]:
                if not (entry["text"].strip() or entry["points"]):
                    continue
                rows.append(
                    {
                        "round": rnd.id,  # not a column: which sheet the row goes on
                        "breakout": title,
                        "group": entry["group"],
                        "topic_number": topic["index"] + 1,
                        "topic": topic["title"],
                        "given": "yes" if entry["given"] else "no",
                        "response": entry["text"],
                        "points": "\n".join(p["text"] for p in entry["points"]),
                        "starred": "yes" if entry["starred"] else "no",
                        "edited_by_host": "yes" if entry["edited_by_host"] else "no",
                    }
                )
    return rows


def breakout_export(services: Any, fmt: str) -> tuple[bytes, str]:
    """Breakout responses: CSV (one table) or XLSX (a sheet per breakout and topic, in
    agenda order, named by the topic's title)."""
    rows = breakout_rows(services)
    if fmt == "csv":
        return to_csv(rows, BREAKOUT_COLUMNS), "text/csv; charset=utf-8"
    parts: list[tuple[str, list[dict[str, Any]]]] = []
    for rnd in services.breakouts.rounds:
        settings = services.agenda.item(rnd.item_id).breakout
        for number, topic in enumerate(settings.topics if settings else (), start=1):
            parts.append(
                (
                    topic,
                    [r for r in rows if r["round"] == rnd.id and r["topic_number"] == number],
                )
            )
    if not parts:
        parts = [("Breakout responses", [])]
    names = sheet_names([title for title, _ in parts])
    sheets: list[tuple[str, list[dict[str, Any]], Sequence[tuple[str, str]]]] = [
        (name, part, BREAKOUT_COLUMNS) for name, (_, part) in zip(names, parts, strict=True)
    ]
    return to_xlsx(sheets), XLSX


#: Excel's longest sheet name.
SHEET_NAME_LIMIT = 31


def sheet_names(titles: Sequence[str]) -> list[str]:
    """Valid Excel sheet names for ``titles``, in order, each different from the others.

    Characters Excel refuses (``[]:*?/\\``) become spaces; a name is at most 31
    characters, cut at a word with "…"; names are unique ignoring case (Excel compares
    them so), a repeat getting " (2)", " (3)", ...; "History" is Excel's own.
    """
    used: set[str] = {"history"}
    names: list[str] = []
    for title in titles:
        base = " ".join(INVALID_TITLE_REGEX.sub(" ", title).split()).strip("'").strip()
        base = base or "Sheet"
        name, copy = _fit(base, ""), 1
        while name.casefold() in used:
            copy += 1
            name = _fit(base, f" ({copy})")
        used.add(name.casefold())
        names.append(name)
    return names


def _fit(text: str, suffix: str) -> str:
    room = SHEET_NAME_LIMIT - len(suffix)
    if len(text) <= room:
        return text + suffix
    cut = text[: room - 1]
    if " " in cut[room // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" '") + "…" + suffix


CODEBOOK_COLUMNS = (
    ("code", "Code"),
    ("number", "Question number"),
    ("text", "Question"),
    ("kind", "Kind"),
    ("required", "Required"),
    ("values", "Values"),
)


def survey_columns(survey: Any) -> list[tuple[str, str]]:
    """The response number, the breakout group (named surveys only: beside an anonymous
    response, with the group's member list, it would name the few who answered from a
    group), whether submitted, and a column per question code."""
    columns = [("response", "response")]
    if not survey.anonymous:
        columns.append(("group", "breakout_group"))
    columns.append(("submitted", "submitted"))
    return columns + [(q.code, q.code) for q in survey.questions]


async def survey_export(services: Any, fmt: str) -> tuple[bytes, str]:
    """Survey responses: a row per response, a column per question code; XLSX adds a
    codebook sheet. Anonymous responses carry no name, id or group of the respondent, and
    the rows are in a random order (their keys' hashes), not the order of saving."""
    from webinar.domain.survey import QUESTION_ANSWERED_OPTIONS

    survey = services.agenda.survey
    if survey is None:
        columns: list[tuple[str, str]] = [("response", "response")]
        rows: list[dict[str, Any]] = []
        codebook: list[dict[str, Any]] = []
    else:
        columns = survey_columns(survey)
        rows = []
        for number, response in enumerate(await services.survey.responses(), start=1):
            row: dict[str, Any] = {
                "response": number,
                "group": response.breakout_group or "",
                "submitted": "yes" if response.submitted else "no",
            }
            for q in survey.questions:
                value = response.answers.get(q.code, "")
                row[q.code] = "; ".join(value) if isinstance(value, list) else value
            rows.append(row)
        codebook = []
        for number, q in enumerate(survey.questions, start=1):
            if q.kind == "rating":
                values = f"{q.scale_min} ({q.scale_min_label or 'lowest'}) to "
                values += f"{q.scale_max} ({q.scale_max_label or 'highest'})"
            elif q.kind == "question_answered":
                values = " | ".join(QUESTION_ANSWERED_OPTIONS)
            elif q.kind in ("single", "multiple"):
                values = " | ".join(q.options)
                if q.kind == "multiple":
                    values += " (several, separated by '; ')"
            else:
                values = "free text"
            codebook.append(
                {
                    "code": q.code,
                    "number": number,
                    "text": q.text,
                    "kind": q.kind,
                    "required": "yes" if q.required else "no",
                    "values": values,
                }
            )
    if fmt == "csv":
        return to_csv(rows, columns), "text/csv; charset=utf-8"
    from webinar.services.poll_exports import poll_sheets  # it builds on this module

    sheets = [("Responses", rows, columns), ("Codebook", codebook, CODEBOOK_COLUMNS)]
    return to_xlsx([*sheets, *await poll_sheets(services)]), XLSX


def question_export(services: Any, fmt: str) -> tuple[bytes, str]:
    """(file body, media type) of all questions as ``csv`` or ``xlsx``."""
    qa = services.qa
    rows = question_rows(services.agenda, list(qa.questions.values()), qa.replies)
    if fmt == "csv":
        return to_csv(rows, QUESTION_COLUMNS), "text/csv; charset=utf-8"
    from webinar.services.poll_exports import RESULT_COLUMNS, result_rows

    polls = ("Poll results", result_rows(services), RESULT_COLUMNS)
    return to_xlsx([("Questions", rows, QUESTION_COLUMNS), polls]), XLSX
