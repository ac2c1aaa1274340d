"""Templates and the wire encoder: how state becomes HTML and how events go on the wire.

Live events are encoded once per format by the hub, not once per client:
``json`` is a compact envelope for programs; ``html`` is a set of out-of-band fragments
for htmx's WebSocket extension, led by a ``#live-seq`` marker that carries the sequence
number so the page can resume after a reconnect.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

import jinja2
from markdown_it import MarkdownIt
from markupsafe import Markup

from webinar.domain.agenda import Agenda
from webinar.domain.video import STAGE_NAMES
from webinar.realtime.hub import Event
from webinar.web.chart import bar_chart_svg
from webinar.web.poll_charts import chart_svg

# Raw HTML in slide text is escaped, never passed through: slides are text, not markup.
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})

KIND_LABELS = {
    "welcome": "Welcome",
    "talk": "Talk",
    "qa": "Q&A",
    "breakout": "Breakout",
    "feedback": "Feedback",
    "closing": "Closing",
    "break": "Break",
}


@lru_cache(maxsize=512)
def markdown(text: str) -> Markup:
    # markdown-it escapes raw HTML (html=False), so its output is safe to mark up.
    return Markup(_markdown.render(text))


def plural(count: int, noun: str) -> str:
    """``1 vote``, ``2 votes``, ``0 votes``."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def site_environment() -> jinja2.Environment:
    """The templates as every page of the site loads them (escaped, trimmed), with the
    filters that need no event: the programme's and the statement's, and the start of
    each event's (:func:`make_environment`)."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("webinar", "templates"),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["plural"] = plural
    return env


def make_environment(agenda: Agenda) -> jinja2.Environment:
    """An event's templates: the site's, with the filters and globals of ``agenda``."""
    env = site_environment()
    tz = agenda.timezone

    def clock_time(value: str | datetime | None) -> str:
        if value is None:
            return ""
        moment = datetime.fromisoformat(value) if isinstance(value, str) else value
        return moment.astimezone(tz).strftime("%H:%M")

    def minutes(seconds: float | None) -> str:
        if seconds is None:
            return ""
        sign = "-" if seconds < 0 else ""
        total = int(abs(seconds))
        return f"{sign}{total // 60}:{total % 60:02d}"

    def clock_day(value: str | datetime | None) -> str:
        if value is None:
            return ""
        moment = datetime.fromisoformat(value) if isinstance(value, str) else value
        return moment.astimezone(tz).strftime("%-d %B %Y at %H:%M")

    def chart(summary: Any) -> Markup:
        """A survey question's results as an accessible SVG bar chart."""
        svg = bar_chart_svg(
            [c.label for c in summary.counts],
            [c.percent for c in summary.counts],
            title=summary.text,
            max_value=100.0,
        )
        return Markup(svg)  # built from escaped parts by webinar.web.chart

    env.filters["clock"] = clock_time
    env.filters["clock_day"] = clock_day
    env.filters["chart"] = chart
    # Built from escaped parts by the domain.
    env.filters["poll_chart"] = lambda results: Markup(chart_svg(results))
    env.filters["markdown"] = markdown
    env.filters["mmss"] = minutes
    # ``tojson`` (the vote counts of ``qa.votes``, sent to every screen twice a second)
    # without the spaces after "," and ":": the same JSON, two characters a count fewer.
    env.policies["json.dumps_kwargs"] = {"sort_keys": True, "separators": (",", ":")}
    env.globals["kind_label"] = lambda kind: KIND_LABELS.get(kind, kind.title())
    env.globals["agenda"] = agenda
    env.globals["stage_names"] = STAGE_NAMES
    return env


#: Wire formats for browsers, by the view they render.
VIEWS = {"html": "public", "html-staff": "staff"}


class Encoder:
    """Encodes hub events for the wire; one instance per app, bound to its templates."""

    def __init__(self, env: jinja2.Environment, agenda: Agenda) -> None:
        self.env = env
        self.agenda = agenda

    def __call__(self, event: Event, fmt: str) -> str | None:
        if fmt == "json":
            return encode_json(event.seq, event.type, event.data, event.at)
        return self.html(event, VIEWS[fmt])

    def html(self, event: Event, view: str) -> str | None:
        """Fragments for one view ("public" or "staff"); None when it shows nothing."""
        template = f"live/{event.type.replace('.', '_')}.html"
        try:
            tpl = self.env.get_template(template)
        except jinja2.TemplateNotFound:
            return None
        body = tpl.render(
            data=event.data, oob=True, view=view, audience=event.audience, seq=event.seq
        )
        if not body.strip():
            return None
        return seq_marker(event.seq, event.at) + squeeze(body)

    def snapshot_html(self, seq: int, at: str, state: dict[str, Any], fmt: str) -> str:
        # "agenda" is the Agenda itself in every template (a global the included partials
        # use), so the status goes by another name, as on the pages.
        body = self.env.get_template("live/snapshot.html").render(
            oob=True,
            view=VIEWS[fmt],
            agenda_state=state["agenda"],
            qa=state["qa"],
            breakout=state["breakout"],
            polls=state.get("polls", []),
        )
        return seq_marker(seq, at, snapshot=True) + squeeze(body)


#: A line break and the template's indentation between two tags.
_INDENT = re.compile(r">\n\s+<")


def squeeze(html: str) -> str:
    """The template's indentation left out of a fragment sent to thousands of screens.

    Only whitespace between two tags that holds a line break is touched, and it stays a
    line break: it renders the same (one collapsible space), and text, where whitespace
    may show (``white-space: pre-wrap``), never sits in such a run.
    """
    return _INDENT.sub(">\n<", html)


def seq_marker(seq: int, at: str, *, snapshot: bool = False) -> str:
    flag = ' data-snapshot="1"' if snapshot else ""
    return f'<div id="live-seq" data-seq="{seq}" data-server-now="{at}"{flag} hidden></div>'


def encode_json(seq: int, type_: str, data: dict[str, Any], at: str) -> str:
    return json.dumps(
        {"seq": seq, "type": type_, "at": at, "data": data},
        separators=(",", ":"),
        ensure_ascii=False,
    )


def join_wires(fmt: str, wires: Sequence[str]) -> str:
    """Several encoded events as one message: a JSON array of the events in the JSON
    format; the fragments one after the other (each led by its own sequence marker) in
    the HTML formats. One event is sent as it is."""
    if len(wires) == 1:
        return wires[0]
    if fmt == "json":
        return "[" + ",".join(wires) + "]"
    return "".join(wires)
