"""The ``[[items]]`` tables, one by one: title, kind, id, times, people and their sections.

An item's optional sections (slides, the talks a Q&A serves, a breakout) are read in
:func:`read_sections`; a new section gets a key in ``keys.ITEM_KEYS``, a field on
:class:`RawItem` and ``Item``, and a line there that calls its own module.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time

from webinar.domain.agenda import ITEM_KINDS, BreakoutSettings, Item, Slide
from webinar.domain.agenda_file.breakouts import read_breakout
from webinar.domain.agenda_file.keys import BREAKOUT_KEYS, ITEM_KEYS
from webinar.domain.agenda_file.polls import read_polls
from webinar.domain.agenda_file.problems import AgendaFileError, AgendaProblem
from webinar.domain.agenda_file.reader import MISSING, Missing, Reader, clip, read_kind
from webinar.domain.agenda_file.slides import read_slides
from webinar.domain.agenda_file.stage import read_stage
from webinar.domain.polls import PollSpec
from webinar.domain.video import Stage

#: Longest item given with ``duration``, in minutes.
MAX_DURATION_MINUTES = 24 * 60
#: Most items on one agenda: a full day in five-minute items is 288; real ones have dozens.
MAX_ITEMS = 200

_ID_RE = re.compile(r"[a-z0-9-]+")


@dataclass(slots=True)
class RawItem:
    """One ``[[items]]`` table, read field by field, before cross-item checks."""

    number: int
    label: str
    title: str | None = None
    kind: str | None = None
    id: str | None = None
    id_given: bool = False
    start: time | None = None
    start_given: bool = False
    end: time | None = None
    end_given: bool = False
    duration: int | None = None
    duration_given: bool = False
    presenters: tuple[str, ...] = ()
    summary: str = ""
    slides: tuple[Slide, ...] = ()
    serves: tuple[str, ...] | None = None
    breakout: BreakoutSettings | None = None
    stage: Stage | None = None
    polls: tuple[PollSpec, ...] = ()
    start_at: datetime | None = None
    end_at: datetime | None = None


def read_items(reader: Reader, document: Mapping[str, object]) -> list[RawItem]:
    """Every ``[[items]]`` table of ``document``, read; :class:`AgendaFileError` at once
    for more than :data:`MAX_ITEMS` of them."""
    items_value = document.get("items", MISSING)
    if isinstance(items_value, Missing):
        reader.problem(
            None, "items", "is missing; an agenda needs at least one item, started by [[items]]."
        )
        return []
    entries = reader.table_list(items_value, None, "items", "[[items]]")
    if entries is not None and len(entries) > MAX_ITEMS:
        raise AgendaFileError(
            [
                AgendaProblem(
                    reader.name,
                    None,
                    "items",
                    f"lists {len(entries):,} items; an agenda may have at most "
                    f"{MAX_ITEMS}. A longer programme is several webinars.",
                )
            ]
        )
    if entries is not None and not entries:
        reader.problem(
            None, "items", "is empty; an agenda needs at least one item, started by [[items]]."
        )
    raw_items: list[RawItem] = []
    for number, entry in entries or ():
        reader.section = (1, number)
        if entry is not None:
            raw_items.append(read_item(reader, number, entry))
    return raw_items


def item_label(number: int, table: Mapping[str, object]) -> str:
    title = table.get("title")
    if isinstance(title, str) and title.strip():
        return f'item {number} "{clip(title.strip())}"'
    return f"item {number}"


def read_item(reader: Reader, number: int, table: Mapping[str, object]) -> RawItem:
    """One item's own fields; what involves other items is checked later."""
    label = item_label(number, table)
    raw = RawItem(number=number, label=label)
    reader.check_keys(
        table,
        ITEM_KEYS,
        label,
        "",
        elsewhere={key: "it belongs in the item's [items.breakout] table" for key in BREAKOUT_KEYS},
    )
    title = reader.text(
        table, "title", label, "title", required=True, hint="; give the item a title"
    )
    raw.title = title.strip() if title is not None else None
    raw.kind = read_kind(reader, table, label, ITEM_KINDS, "item")
    _read_id(reader, table, raw)
    _read_times(reader, table, raw)
    presenters = reader.text_list(
        table, "presenters", label, "presenters", example='presenters = ["Ann Smith"]'
    )
    raw.presenters = tuple(presenters or ())
    raw.summary = reader.text(table, "summary", label, "summary") or ""
    read_sections(reader, table, raw)
    return raw


def read_sections(reader: Reader, table: Mapping[str, object], raw: RawItem) -> None:
    """The item's optional sections, each read by its own function, in this order."""
    label = raw.label
    if "slides" in table:
        raw.slides = read_slides(reader, label, table["slides"])
    if "serves" in table:
        serves = reader.text_list(
            table, "serves", label, "serves", example='serves = ["national-review-updates"]'
        )
        raw.serves = tuple(serves) if serves is not None else None
    if "stage" in table:
        raw.stage = read_stage(reader, table["stage"], label, "stage")
    _read_breakout_section(reader, table, raw)
    if "polls" in table:  # live polls: polls.py
        raw.polls = read_polls(reader, label, table["polls"])


def _read_id(reader: Reader, table: Mapping[str, object], raw: RawItem) -> None:
    """The item's ``id``, or one made from its title."""
    if "id" not in table:
        if raw.title is not None:
            raw.id = _slug(raw.title) or f"item-{raw.number}"
        return
    raw.id_given = True
    given = reader.text(table, "id", raw.label, "id")
    if given is None:
        return
    if _ID_RE.fullmatch(given):
        raw.id = given
        return
    better = _slug(given)
    advice = f', like "{better}"' if better else ""
    reader.problem(
        raw.label,
        "id",
        f'is "{given}", but an id may only use lower-case letters a-z, digits and hyphens{advice}.',
    )


def _read_times(reader: Reader, table: Mapping[str, object], raw: RawItem) -> None:
    """``start``, and one of ``end`` and ``duration``, as given (resolved later)."""
    label = raw.label
    if "start" in table:
        raw.start_given = True
        raw.start = reader.clock_time(table, "start", label, "start")
    if "end" in table:
        raw.end_given = True
        raw.end = reader.clock_time(table, "end", label, "end")
    if "duration" in table:
        raw.duration_given = True
        raw.duration = reader.whole(
            table,
            "duration",
            label,
            "duration",
            low=1,
            high=MAX_DURATION_MINUTES,
            example="duration = 20 (minutes)",
        )
    if raw.end_given and raw.duration_given:
        reader.problem(label, "end", "is given together with duration; give only one of the two.")
    elif not raw.end_given and not raw.duration_given:
        reader.problem(
            label,
            "end",
            'is missing; give either an end time, like end = "10:30", or a length in minutes, '
            "like duration = 20.",
        )


def _read_breakout_section(reader: Reader, table: Mapping[str, object], raw: RawItem) -> None:
    """``[items.breakout]``: required on breakout items, refused on others."""
    has_breakout = "breakout" in table
    if raw.kind == "breakout" and not has_breakout:
        reader.problem(
            raw.label,
            "breakout",
            "is missing; a breakout item needs an [items.breakout] table listing its topics.",
        )
    elif raw.kind is not None and raw.kind != "breakout" and has_breakout:
        reader.problem(
            raw.label,
            "breakout",
            f'is only allowed on breakout items (kind = "breakout"), but this item is a '
            f'"{raw.kind}" item.',
        )
    if has_breakout:
        breakout = reader.table(table["breakout"], raw.label, "breakout", "[items.breakout]")
        if breakout is not None:
            raw.breakout = read_breakout(reader, raw.label, breakout)


def _slug(title: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def finish_item(raw: RawItem) -> Item:
    """The checked item; only called when the file has no problems."""
    assert raw.id is not None and raw.title is not None and raw.kind is not None
    assert raw.start_at is not None and raw.end_at is not None
    return Item(
        id=raw.id,
        title=raw.title,
        kind=raw.kind,
        start=raw.start_at,
        end=raw.end_at,
        presenters=raw.presenters,
        summary=raw.summary,
        slides=raw.slides,
        serves=raw.serves or (),
        breakout=raw.breakout,
        stage=raw.stage,
        polls=raw.polls,
    )
