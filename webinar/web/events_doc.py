"""The event reference of ``docs/events.md``, generated from ``webinar.domain.events``.

As ``webinar/web/openapi.py`` makes the action reference from the action registry, this
makes the table of live events and the shape of every payload from the event models, and
the table of named events that action answers carry (``HX-Trigger``) from
``webinar.web.actions.core.TRIGGERS``. ``python -m webinar.web.events_doc docs/events.md``
rewrites the parts of the file between the markers; ``tests/web/test_events_doc.py`` fails
when the file is stale.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from webinar.domain.events import EVENTS, Payload, Snapshot
from webinar.web.actions.core import TRIGGERS

BEGIN = "<!-- events:begin (generated from webinar/domain/events.py: do not edit) -->"
END = "<!-- events:end -->"
TRIGGERS_BEGIN = "<!-- triggers:begin (generated from webinar/web/actions/core.py: do not edit) -->"
TRIGGERS_END = "<!-- triggers:end -->"

AUDIENCES = {
    "all": "`all`",
    "staff": "`staff`",
    "participant": "`p:<participant id>`",
    "question": "`q:<question id>`",
    "group": "`g:<round>:<group>`",
}


def _link(name: str) -> str:
    return f"[{name}](#{name.lower()})"


def _type(node: dict[str, Any]) -> str:
    """A JSON schema node in words: ``list of [Reply](#reply)``, ``integer or null``."""
    if "$ref" in node:
        return _link(node["$ref"].rsplit("/", 1)[-1])
    if "anyOf" in node:
        return " or ".join(_type(option) for option in node["anyOf"])
    if "const" in node:
        return f"`{json.dumps(node['const'])}`"
    if "enum" in node:
        return " / ".join(f"`{json.dumps(value)}`" for value in node["enum"])
    kind = node.get("type")
    if kind == "array":
        return "list of " + _type(node["items"])
    if kind == "object":
        return "object of " + _type(node.get("additionalProperties", {})) + " by key"
    if kind == "string" and node.get("format") == "date-time":
        return "time"
    return {"string": "text", "integer": "integer", "number": "number"}.get(str(kind), str(kind))


def _models() -> list[tuple[str, dict[str, Any]]]:
    """Every model the events and the snapshot use, by name, in order of first use."""
    found: dict[str, dict[str, Any]] = {}
    roots: list[type[Payload]] = [event.model for event in EVENTS] + [Snapshot]
    for model in roots:
        schema = model.model_json_schema(by_alias=True)
        defs = schema.pop("$defs", {})
        found.setdefault(model.__name__, schema)
        for name, definition in defs.items():
            found.setdefault(name, definition)
    return list(found.items())


def _fields(schema: dict[str, Any]) -> list[str]:
    required = set(schema.get("required", []))
    rows = ["| field | type | notes |", "| --- | --- | --- |"]
    for name, node in schema.get("properties", {}).items():
        notes = node.get("description", "")
        if name not in required:
            notes = "absent or null; " + notes if notes else "absent or null"
        rows.append(f"| `{name}` | {_type(node)} | {notes} |")
    return rows


def reference() -> str:
    """The generated part of ``docs/events.md``, markers included."""
    lines = [
        BEGIN,
        "",
        "| type | audience | data | sent |",
        "| --- | --- | --- | --- |",
        f"| `snapshot` | (one screen) | {_link('Snapshot')} | "
        "the whole state as of `seq`, as this screen may see it |",
    ]
    for event in EVENTS:
        audiences = ", ".join(AUDIENCES[kind] for kind in event.audiences)
        lines.append(
            f"| `{event.name}` | {audiences} | {_link(event.model.__name__)} | {event.when} |"
        )
    lines += ["", "### Payloads", ""]
    lines.append(
        "Every object is exactly as shown: no other field, `true`/`false` never `1`/`0`, "
        'numbers never quoted. A time is ISO 8601 in UTC to the millisecond ("2026-11-26T'
        '10:10:00.000+00:00").'
    )
    for name, schema in _models():
        lines += ["", f"#### {name}", ""]
        if schema.get("description"):
            lines += [" ".join(schema["description"].split()).replace("``", "`"), ""]
        lines += _fields(schema)
    lines += ["", END]
    return "\n".join(lines)


def triggers_reference() -> str:
    """The table of named events in action answers, markers included."""
    lines = [TRIGGERS_BEGIN, "", "| event | detail | sent when |", "| --- | --- | --- |"]
    for name, (detail, when) in TRIGGERS.items():
        lines.append(f"| `{name}` | {detail} | {when} |")
    lines += ["", TRIGGERS_END]
    return "\n".join(lines)


def updated(text: str) -> str:
    """``text`` (the whole document) with its generated parts made current;
    ``ValueError`` when a part's markers are missing."""
    for begin, end, make in (
        ("<!-- events:begin", END, reference),
        ("<!-- triggers:begin", TRIGGERS_END, triggers_reference),
    ):
        start, stop = text.index(begin), text.index(end) + len(end)
        text = text[:start] + make() + text[stop:]
    return text


def main(argv: list[str]) -> int:
    path = Path(argv[0]) if argv else Path("docs/events.md")
    text = path.read_text(encoding="utf-8")
    new = updated(text)
    if new != text:
        path.write_text(new, encoding="utf-8")
        print(f"{path}: event reference updated")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
