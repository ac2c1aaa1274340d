"""The event report: the agenda as it actually ran, questions and answers, breakout
responses by topic, the survey summary. Printable HTML (a template) and Markdown."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from webinar.domain.clock import status as clock_status
from webinar.services.exports import breakout_rows
from webinar.services.poll_exports import poll_summaries


def _minutes(delta: timedelta) -> int:
    return round(delta.total_seconds() / 60)


async def report_data(services: Any) -> dict[str, Any]:
    """Everything the report shows, as plain data (times are aware datetimes)."""
    agenda = services.agenda
    tz = agenda.timezone
    now = services.committer.clock()
    state = services.agenda_service.state
    status = clock_status(agenda, state, now)
    ran: list[dict[str, Any]] = []
    for run in state.history:
        item = agenda.item(run.item_id) if agenda.has_item(run.item_id) else None
        planned = item.duration if item else timedelta(0)
        actual = run.ended_at - run.started_at - run.paused
        ran.append(
            {
                "title": item.title if item else run.item_id,
                "kind": item.kind if item else "",
                "planned_start": item.start.astimezone(tz) if item else None,
                "planned_end": item.end.astimezone(tz) if item else None,
                "start": run.started_at.astimezone(tz),
                "end": run.ended_at.astimezone(tz),
                "outcome": run.outcome,
                "overrun_minutes": _minutes(actual - planned),
                "extended_minutes": _minutes(run.extension),
                "paused_minutes": _minutes(run.paused),
            }
        )
    if status.current is not None and status.current_started_at is not None:
        ran.append(
            {
                "title": status.current.title,
                "kind": status.current.kind,
                "planned_start": status.current.start.astimezone(tz),
                "planned_end": status.current.end.astimezone(tz),
                "start": status.current_started_at.astimezone(tz),
                "end": None,
                "outcome": "running",
                "overrun_minutes": 0,
                "extended_minutes": _minutes(state.extension),
                "paused_minutes": _minutes(state.paused_total),
            }
        )
    if state.started_at is not None:
        # Items that never ran (skipped, or passed over) are listed too, as not run.
        ran_ids = {run.item_id for run in state.history}
        if status.current is not None:
            ran_ids.add(status.current.id)
        for entry in status.schedule:
            if entry.state in ("skipped", "not_run") and entry.item.id not in ran_ids:
                ran.append(
                    {
                        "title": entry.item.title,
                        "kind": entry.item.kind,
                        "planned_start": entry.item.start.astimezone(tz),
                        "planned_end": entry.item.end.astimezone(tz),
                        "start": None,
                        "end": None,
                        "outcome": "not_run",
                        "skipped": entry.state == "skipped",
                        "overrun_minutes": None,
                        "extended_minutes": 0,
                        "paused_minutes": 0,
                    }
                )
    qa = services.qa
    questions = sorted(
        (q for q in qa.questions.values() if q.state in ("published", "hidden")),
        key=lambda q: (-q.votes, q.id),
    )
    by_topic: dict[str, list[dict[str, Any]]] = {}
    for row in breakout_rows(services):
        by_topic.setdefault(f"Topic {row['topic_number']}: {row['topic']}", []).append(row)
    results = await services.survey.results()
    return {
        "title": agenda.title,
        "organiser": agenda.organiser,
        "timezone": agenda.timezone_name,
        "generated": now.astimezone(tz),
        "started": state.started_at.astimezone(tz) if state.started_at else None,
        "ended": state.ended_at.astimezone(tz) if state.ended_at else None,
        "planned_start": agenda.planned_start.astimezone(tz),
        "planned_end": agenda.planned_end.astimezone(tz),
        "ran": ran,
        "counters": dict(qa.counters),
        "questions": [
            {
                "text": q.text,
                "votes": q.votes,
                "answered": q.answered,
                "item": agenda.item(q.item_id).title if agenda.has_item(q.item_id) else "",
                "answer": "\n".join(
                    r.text for r in qa.replies.get(q.id, []) if r.is_answer and not r.hidden
                ),
            }
            for q in questions
        ],
        "breakouts": by_topic,
        "survey": results,
        "polls": poll_summaries(services),
    }


def _t(moment: datetime | None) -> str:
    return moment.strftime("%H:%M") if moment else "–"


def _ran(started: datetime | None, ended: datetime | None) -> str:
    if started is None:
        return "not started yet"
    return f"ran {_t(started)}–{_t(ended) if ended else '(still running)'}"


def _md(text: str) -> str:
    """Escape Markdown's active characters in user text, and keep it on one line."""
    out = " ".join(text.split())
    for ch in "\\`*_{}[]<>#|":
        out = out.replace(ch, "\\" + ch)
    return out


def report_markdown(data: dict[str, Any]) -> str:
    lines = [f"# {_md(data['title'])}", ""]
    if data["organiser"]:
        lines += [f"Organised by {_md(data['organiser'])}.", ""]
    lines += [
        f"Planned {_t(data['planned_start'])}–{_t(data['planned_end'])}; "
        f"{_ran(data['started'], data['ended'])} ({data['timezone']}).",
        "",
        "## The agenda as it ran",
        "",
        "| Item | Planned | Actual | Overrun | Notes |",
        "| --- | --- | --- | --- | --- |",
    ]
    lines += [_ran_row(r) for r in data["ran"]]
    lines += _questions_markdown(data["counters"], data["questions"])
    lines += ["", "## Breakout responses by topic", ""]
    for topic, rows in data["breakouts"].items():
        lines += [f"### {_md(topic)}", ""]
        for row in rows:
            star = " ★" if row["starred"] == "yes" else ""
            lines.append(f"- Group {row['group']}{star}: {_md(row['response'])}")
        lines.append("")
    lines += polls_markdown(data.get("polls", []))
    survey = data["survey"]
    if survey["survey"] is not None:
        lines += ["## Survey", "", f"{survey['respondents']} responses.", ""]
        for summary in survey["questions"]:
            lines += summary_markdown(summary)
    return "\n".join(lines).rstrip() + "\n"


def _ran_row(r: dict[str, Any]) -> str:
    """An agenda item as it ran: a row of the report's table."""
    notes = []
    if r["extended_minutes"]:
        notes.append(f"extended {r['extended_minutes']} min")
    if r["paused_minutes"]:
        notes.append(f"paused {r['paused_minutes']} min")
    if r["outcome"] not in ("completed", "running", "not_run"):
        notes.append(r["outcome"].replace("_", " "))
    if r.get("skipped"):
        notes.append("skipped by the host")
    if r["outcome"] == "not_run":
        actual, over = "not run", "–"
    else:
        end = _t(r["end"]) if r["end"] else "now"
        actual, over = f"{_t(r['start'])}–{end}", f"{r['overrun_minutes']:+d} min"
    return (
        f"| {_md(r['title'])} | {_t(r['planned_start'])}–{_t(r['planned_end'])} | "
        f"{actual} | {over} | {', '.join(notes)} |"
    )


def _questions_markdown(c: dict[str, Any], questions: list[dict[str, Any]]) -> list[str]:
    """The report's questions section: the counts, then each question and its answer."""
    lines = [
        "",
        "## Questions",
        "",
        f"{c['received']} received, {c['published']} published, {c['answered']} answered.",
        "",
    ]
    for q in questions:
        mark = {"live": " (answered live)", "written": " (answered in writing)"}.get(
            q["answered"], ""
        )
        votes = "1 vote" if q["votes"] == 1 else f"{q['votes']} votes"
        lines.append(f"- {_md(q['text'])} — {votes}{mark}")
        if q["answer"]:
            lines.append(f"  - Answer: {_md(q['answer'])}")
    return lines


def summary_markdown(summary: Any) -> list[str]:
    """A survey question's summary as Markdown lines."""
    lines = [f"### {_md(summary.text)}", "", f"Answered by {summary.n}."]
    if summary.kind == "text":
        lines += [f"- {_md(t)}" for t in summary.texts]
    else:
        if summary.mean is not None:
            lines.append(f"Mean {summary.mean:.2f}.")
        lines += [f"- {_md(c.label)}: {c.count} ({c.percent:.1f}%)" for c in summary.counts]
    lines.append("")
    return lines


def polls_markdown(polls: list[dict[str, Any]]) -> list[str]:
    """The polls section: each poll, when it ran, its counts of respondents."""
    if not polls:
        return []
    lines = ["## Polls", ""]
    for s in polls:
        tally = s["tally"]
        ran = f"opened {s['opened_at']}" if s["opened_at"] else "not run"
        if s["closed_at"]:
            ran += f", closed {s['closed_at']}"
        lines += [
            f"### {s['number']}. {_md(s['question'])}",
            "",
            f"{s['kind']}, {_md(s['item'])}; {ran}. Answered by {tally.respondents}.",
        ]
        if tally.mean is not None:
            lines.append(f"Mean {tally.mean:.2f}.")
        for row in tally.rows:
            mark = " (correct)" if row.label == s["correct"] else ""
            lines.append(f"- {_md(row.label)}{mark}: {row.count} ({row.percent:.1f}%)")
        lines += [f"- {_md(t)}" for t in tally.texts]
        lines.append("")
    return lines
