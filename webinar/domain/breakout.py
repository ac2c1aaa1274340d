"""Breakout rules besides the split itself: capture locking, facilitators, coverage."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from webinar.domain.text import LINE_BREAKS_AND_TABS, has_control_character

RESPONSE_MAX = 10_000
POINT_MAX = 500
MESSAGE_MAX = 300


class BreakoutError(ValueError):
    """A refused breakout operation; ``kind`` maps to an HTTP status in the web layer."""

    def __init__(self, message: str, kind: str = "invalid", field: str | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.field = field


def capture_open(ended_at: datetime | None, grace_seconds: int, now: datetime) -> bool:
    """Whether facilitators may still save: while the breakout runs and for the grace after."""
    return ended_at is None or now <= ended_at + timedelta(seconds=grace_seconds)


#: How long after someone's last screen closed they still count as here at the split.
AWAY_AFTER = timedelta(minutes=2)


def present_at_split(
    connected: set[str],
    left_at: Mapping[str, datetime],
    now: datetime,
    away_after: timedelta = AWAY_AFTER,
) -> set[str]:
    """Who is dealt into the groups when a breakout starts.

    Everyone with a screen open, and anyone whose last screen closed less than
    ``away_after`` before ``now`` (a phone reconnecting, a page reloading: they are
    dealt in with everyone, pre-assignments and all). Someone with no screen for longer
    is not dealt in; they are placed as a late joiner if they come back.
    """
    recent = {pid for pid, at in left_at.items() if now - at < away_after}
    return connected | recent


def pick_facilitator(members: Sequence[str], seed: int, group: int) -> str | None:
    """A member chosen at random, the same for the same round, group and members."""
    if not members:
        return None
    return random.Random(f"{seed}:{group}").choice(sorted(members))


def clean_response(text: str) -> str:
    """A facilitator's response as typed; may be empty (clearing). ``BreakoutError`` if bad."""
    if has_control_character(text, allow=LINE_BREAKS_AND_TABS):
        raise BreakoutError("The response contains a control character.", field="text")
    if len(text) > RESPONSE_MAX:
        raise BreakoutError(
            f"The response is {len(text)} characters long; the limit is {RESPONSE_MAX}.",
            field="text",
        )
    return text


def clean_short(text: str, limit: int, what: str) -> str:
    trimmed = text.strip()
    if not trimmed:
        raise BreakoutError(f"Please write the {what} first.", field="text")
    if has_control_character(trimmed, allow=LINE_BREAKS_AND_TABS):
        raise BreakoutError(f"The {what} contains a control character.", field="text")
    if len(trimmed) > limit:
        raise BreakoutError(
            f"The {what} is {len(trimmed)} characters long; the limit is {limit}.", field="text"
        )
    return trimmed


@dataclass(frozen=True, slots=True)
class Coverage:
    """Which topics each group has answered, and how many groups answered each topic."""

    by_group: dict[int, tuple[int, ...]]
    by_topic: dict[int, int]


def coverage(
    topic_count: int,
    groups: Mapping[int, Sequence[int]],
    responses: Mapping[tuple[int, int], str],
) -> Coverage:
    """Coverage from the groups' topics and the responses keyed by (group, topic).

    A topic counts as covered by a group once its response holds more than whitespace,
    whether or not the topic was one the group was given.
    """
    by_group: dict[int, tuple[int, ...]] = {}
    by_topic = dict.fromkeys(range(topic_count), 0)
    for number in sorted(groups):
        covered = tuple(
            topic for topic in range(topic_count) if responses.get((number, topic), "").strip()
        )
        by_group[number] = covered
        for topic in covered:
            by_topic[topic] += 1
    return Coverage(by_group, by_topic)
