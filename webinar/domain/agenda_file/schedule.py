"""Checks across items: times on the event's day in order without overlaps, ids that
differ, and Q&A items that serve talks before them."""

from __future__ import annotations

from datetime import date, datetime, timedelta, tzinfo

from webinar.domain.agenda_file.items import RawItem
from webinar.domain.agenda_file.reader import Reader, close_match


def _hhmm(moment: datetime) -> str:
    return f"{moment:%H:%M}"


def resolve_times(reader: Reader, items: list[RawItem], day: date, zone: tzinfo) -> None:
    """Turn the items' clock times into aware datetimes; check order and overlaps."""
    previous: RawItem | None = None
    for raw in items:
        reader.section = (1, raw.number)
        _place_start(reader, raw, previous, day, zone)
        _place_end(reader, raw, day, zone)
        previous = raw

    before: RawItem | None = None
    latest: RawItem | None = None
    for raw in items:
        if raw.start_at is None:
            continue
        reader.section = (1, raw.number)
        _check_order(reader, raw, before, latest)
        before = raw
        if raw.end_at is not None and (
            latest is None or latest.end_at is None or raw.end_at > latest.end_at
        ):
            latest = raw


def _place_start(
    reader: Reader, raw: RawItem, previous: RawItem | None, day: date, zone: tzinfo
) -> None:
    """The item's start: as given, or when the item before it ends."""
    if raw.start_given:
        if raw.start is not None:
            raw.start_at = datetime.combine(day, raw.start, tzinfo=zone)
    elif previous is None:
        reader.problem(
            raw.label,
            "start",
            'is missing; the first item needs a start time, like start = "10:00".',
        )
    elif previous.end_at is not None:
        raw.start_at = previous.end_at


def _place_end(reader: Reader, raw: RawItem, day: date, zone: tzinfo) -> None:
    """The item's end: as given, or its start plus its duration; on the event's day."""
    if raw.end_given and raw.end is not None and not raw.duration_given:
        raw.end_at = datetime.combine(day, raw.end, tzinfo=zone)
        if raw.start_at is not None and raw.end_at <= raw.start_at:
            reader.problem(
                raw.label,
                "end",
                f"is {_hhmm(raw.end_at)}, which is not after the start time {_hhmm(raw.start_at)}.",
            )
            raw.end_at = None
    elif raw.duration is not None and raw.start_at is not None and not raw.end_given:
        raw.end_at = raw.start_at + timedelta(minutes=raw.duration)
        if raw.end_at.date() != day:
            # The same rule as for end: an end of "00:30" is not after a start of
            # "23:30", and an item cannot run into the next day by its length either.
            reader.problem(
                raw.label,
                "duration",
                f"is {raw.duration} minutes, so this item, starting at "
                f"{_hhmm(raw.start_at)}, would end at {_hhmm(raw.end_at)} on a later day; "
                "all items are on the event's day, so the latest an item can end is 23:59.",
            )
            raw.end_at = None


def _check_order(
    reader: Reader, raw: RawItem, before: RawItem | None, latest: RawItem | None
) -> None:
    """``raw`` starts after the item listed before it, and after every earlier item ends."""
    assert raw.start_at is not None
    if before is not None and before.start_at is not None and raw.start_at < before.start_at:
        reader.problem(
            raw.label,
            "start",
            f"is {_hhmm(raw.start_at)}, before {before.label}, which comes earlier in the "
            f"file but starts at {_hhmm(before.start_at)}; list the items in the order "
            "they happen.",
        )
    elif latest is not None and latest.end_at is not None and raw.start_at < latest.end_at:
        assert latest.start_at is not None
        runs = _hhmm(raw.start_at) + (f" to {_hhmm(raw.end_at)}" if raw.end_at else "")
        reader.problem(
            raw.label,
            "start",
            f"makes this item ({runs}) overlap {latest.label} "
            f"({_hhmm(latest.start_at)} to {_hhmm(latest.end_at)}); an item can only start "
            "when the one before it has ended.",
        )


def check_ids(reader: Reader, items: list[RawItem]) -> None:
    """No two items have the same id, given or made from the title."""
    owners: dict[str, RawItem] = {}
    for raw in items:
        if raw.id is None:
            continue
        reader.section = (1, raw.number)
        owner = owners.get(raw.id)
        if owner is None:
            owners[raw.id] = raw
        elif raw.id_given:
            reader.problem(
                raw.label,
                "id",
                f'is "{raw.id}", which {owner.label} already uses; give each item its own id.',
            )
        else:
            reader.problem(
                raw.label,
                "id",
                f'is missing, and the id made from the title, "{raw.id}", is already used by '
                f'{owner.label}; add a line like id = "{raw.id}-2" to tell them apart.',
            )


def check_serves(reader: Reader, items: list[RawItem]) -> None:
    """Each Q&A's ``serves`` names talks that come before it, each once."""
    positions = {raw.id: raw for raw in reversed(items) if raw.id is not None}
    ids = [raw.id for raw in items if raw.id is not None]
    for raw in items:
        if raw.serves is None:
            continue
        reader.section = (1, raw.number)
        if raw.kind is not None and raw.kind != "qa":
            reader.problem(
                raw.label,
                "serves",
                f'is only allowed on Q&A items (kind = "qa"), but this item is a "{raw.kind}" '
                "item.",
            )
            continue
        seen: set[str] = set()
        for target_id in raw.serves:
            if target_id in seen:
                reader.problem(raw.label, "serves", f'names "{target_id}" twice.')
                continue
            seen.add(target_id)
            _check_target(reader, raw, target_id, positions.get(target_id), ids)


def _check_target(
    reader: Reader, raw: RawItem, target_id: str, target: RawItem | None, ids: list[str]
) -> None:
    if target is None:
        suggestion = close_match(target_id, ids)
        advice = f'; did you mean "{suggestion}"?' if suggestion else "."
        reader.problem(raw.label, "serves", f'names "{target_id}", but no item has that id{advice}')
    elif target.number >= raw.number:
        reader.problem(
            raw.label,
            "serves",
            f'names "{target_id}" ({target.label}), which does not come before this '
            "item; a Q&A can only answer talks that come before it.",
        )
    elif target.kind is not None and target.kind != "talk":
        reader.problem(
            raw.label,
            "serves",
            f'names "{target_id}" ({target.label}), which is a "{target.kind}" item, '
            'not a talk (kind = "talk").',
        )
