"""A breakout item's ``[items.breakout]`` table: topics, group sizes, timings, video rooms."""

from __future__ import annotations

from collections.abc import Mapping

from webinar.domain.agenda import BreakoutSettings
from webinar.domain.agenda_file.keys import BREAKOUT_KEYS, ITEM_KEYS
from webinar.domain.agenda_file.reader import Reader, clip
from webinar.domain.agenda_file.stage import read_call
from webinar.domain.video import CallSettings

_ELSEWHERE = {
    key: "it belongs to the item, so move it above the [items.breakout] line" for key in ITEM_KEYS
}
#: The timings in seconds, with their defaults.
_SECONDS = {"grace_seconds": 60, "warning_seconds": 120, "volunteer_seconds": 60}


def read_breakout(
    reader: Reader, label: str, table: Mapping[str, object]
) -> BreakoutSettings | None:
    """The breakout settings of the item ``label``; ``None`` if any of them is wrong."""
    reader.check_keys(table, BREAKOUT_KEYS, label, "breakout.", elsewhere=_ELSEWHERE)
    mark = reader.mark()
    topics = _read_topics(reader, label, table)
    group_size, group_count = _read_group_sizes(reader, label, table)
    min_topics = _read_min_topics(reader, label, table, topics)
    seconds = {
        key: reader.whole(table, key, label, f"breakout.{key}", low=0, example=f"{key} = {default}")
        for key, default in _SECONDS.items()
    }
    instructions = reader.text(table, "instructions", label, "breakout.instructions")
    template = _read_video_template(reader, label, table)
    call = _read_call(reader, label, table, template)
    if not reader.clean_since(mark) or not topics:
        return None
    return BreakoutSettings(
        topics=tuple(topics),
        group_size=None if group_count is not None else (group_size or 6),
        group_count=group_count,
        min_topics=min_topics if min_topics is not None else min(2, len(topics)),
        instructions=instructions or "",
        grace_seconds=_or(seconds["grace_seconds"], _SECONDS["grace_seconds"]),
        warning_seconds=_or(seconds["warning_seconds"], _SECONDS["warning_seconds"]),
        volunteer_seconds=_or(seconds["volunteer_seconds"], _SECONDS["volunteer_seconds"]),
        video_url_template=(template or "").strip(),
        call=call,
    )


def _or(value: int | None, default: int) -> int:
    return default if value is None else value


def _read_topics(reader: Reader, label: str, table: Mapping[str, object]) -> list[str] | None:
    if "topics" not in table:
        reader.problem(
            label,
            "breakout.topics",
            'is missing; list the topics the groups discuss, like topics = ["First topic"].',
        )
        return None
    topics = reader.text_list(
        table,
        "topics",
        label,
        "breakout.topics",
        example='topics = ["First topic", "Second topic"]',
        entry_word="topic",
    )
    if topics is None:
        return None
    if not topics:
        reader.problem(
            label, "breakout.topics", "is empty; list at least one topic for the groups."
        )
        return topics
    seen: set[str] = set()
    for number, topic in enumerate(topics, start=1):
        if topic in seen:
            reader.problem(
                label,
                "breakout.topics",
                f'topic {number} "{clip(topic)}" is listed twice.',
            )
        seen.add(topic)
    return topics


def _read_group_sizes(
    reader: Reader, label: str, table: Mapping[str, object]
) -> tuple[int | None, int | None]:
    """``group_size`` (most people per group) or ``groups`` (how many groups), not both."""
    group_size = reader.whole(
        table, "group_size", label, "breakout.group_size", low=2, example="group_size = 6"
    )
    group_count = reader.whole(
        table, "groups", label, "breakout.groups", low=1, example="groups = 4"
    )
    if "groups" in table and "group_size" in table:
        reader.problem(
            label,
            "breakout.groups",
            "is given together with group_size; give only one of the two: group_size for "
            "the most people per group, or groups for a fixed number of groups.",
        )
    return group_size, group_count


def _read_min_topics(
    reader: Reader, label: str, table: Mapping[str, object], topics: list[str] | None
) -> int | None:
    min_topics = reader.whole(
        table, "min_topics", label, "breakout.min_topics", low=1, example="min_topics = 2"
    )
    if min_topics is None or not topics:
        return min_topics
    count = len(topics)
    if min_topics > count:
        listed = "only 1 topic is" if count == 1 else f"only {count} topics are"
        reader.problem(
            label,
            "breakout.min_topics",
            f"asks for {min_topics} topics per group but {listed} listed.",
        )
    return min_topics


def _read_video_template(reader: Reader, label: str, table: Mapping[str, object]) -> str | None:
    template = reader.text(table, "video_url_template", label, "breakout.video_url_template")
    if template and not template.strip().lower().startswith(("https://", "http://")):
        reader.problem(
            label,
            "breakout.video_url_template",
            'should be a web address starting with "https://", like '
            '"https://video.example.org/room-{group}".',
        )
    return template


def _read_call(
    reader: Reader, label: str, table: Mapping[str, object], template: str | None
) -> CallSettings | None:
    """The breakout's ``[items.breakout.call]``; ``None`` when absent or wrong (problems kept)."""
    if "call" not in table:
        return None
    call = read_call(reader, table["call"], label)
    if call is not None and template:
        reader.problem(
            label,
            "breakout.call",
            "is given together with video_url_template; give only one of the two "
            '(a template is the same as provider = "link").',
        )
    return call
