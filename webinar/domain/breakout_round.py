"""A breakout round as an immutable value: its groups, members, responses and points.

Every change is a method that returns a new round and leaves the old one as it was, so a
service can compute a change's result (and its events) from the new value inside a
transaction and install it only once the change is written: a change refused late leaves
nothing behind in memory. Only what changes is rebuilt: a saved response replaces one
entry of the responses mapping, a move replaces two groups; the other groups, their
member tuples and the other mappings are shared with the previous value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import MappingProxyType
from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")

#: A group's response to a topic: (text, version, starred, edited by the host).
Response = tuple[str, int, bool, bool]
#: A topic a group has not written on.
NO_RESPONSE: Response = ("", 0, False, False)
#: A member's point: (author name, text, created at as ISO text).
Point = tuple[str, str, str]
#: (group number, topic index).
Key = tuple[int, int]


def frozen_mapping(entries: Mapping[K, V] | Iterable[tuple[K, V]] = ()) -> Mapping[K, V]:
    """A read-only copy of ``entries``: an attempt to change it raises ``TypeError``."""
    return MappingProxyType(dict(entries))


def _with(mapping: Mapping[K, V], key: K, value: V) -> Mapping[K, V]:
    """A read-only copy of ``mapping`` with ``key`` set (one dict copy, done in C)."""
    copy = mapping.copy() if isinstance(mapping, MappingProxyType) else dict(mapping)
    copy[key] = value
    return MappingProxyType(copy)


@dataclass(frozen=True, slots=True)
class Group:
    number: int
    topics: tuple[int, ...]
    facilitator_id: str | None = None
    #: When the group asked for help (ISO text), or None.
    help_at: str | None = None
    members: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Round:
    id: int
    item_id: str
    seed: int
    started_at: datetime
    ended_at: datetime | None
    message: str
    groups: Mapping[int, Group] = field(default_factory=frozen_mapping)
    responses: Mapping[Key, Response] = field(default_factory=frozen_mapping)
    points: Mapping[Key, tuple[Point, ...]] = field(default_factory=frozen_mapping)

    # -- reading ------------------------------------------------------------------------------

    def group_of(self, participant_id: str) -> Group | None:
        """The group ``participant_id`` is in, or None."""
        for group in self.groups.values():
            if participant_id in group.members:
                return group
        return None

    def response(self, number: int, topic: int) -> Response:
        return self.responses.get((number, topic), NO_RESPONSE)

    # -- changes: each returns a new round ----------------------------------------------------

    def ended(self, at: datetime) -> Round:
        return replace(self, ended_at=at)

    def reopened(self) -> Round:
        return replace(self, ended_at=None)

    def with_message(self, message: str) -> Round:
        return replace(self, message=message)

    def with_group(self, group: Group) -> Round:
        """``group`` added, or put in place of the group with its number."""
        return replace(self, groups=_with(self.groups, group.number, group))

    def with_facilitator(self, number: int, participant_id: str | None) -> Round:
        return self.with_group(replace(self.groups[number], facilitator_id=participant_id))

    def with_help(self, number: int, at: str | None) -> Round:
        return self.with_group(replace(self.groups[number], help_at=at))

    def with_member(self, participant_id: str, number: int, topics: tuple[int, ...]) -> Round:
        """``participant_id`` added to group ``number`` (made with ``topics`` if new)."""
        group = self.groups.get(number) or Group(number, topics)
        return self.with_group(replace(group, members=(*group.members, participant_id)))

    def without_member(self, participant_id: str) -> Round:
        """``participant_id`` out of their group, and out of its facilitator's seat."""
        group = self.group_of(participant_id)
        if group is None:
            return self
        facilitator = None if group.facilitator_id == participant_id else group.facilitator_id
        members = tuple(m for m in group.members if m != participant_id)
        return self.with_group(replace(group, members=members, facilitator_id=facilitator))

    def moved(self, participant_id: str, number: int) -> Round:
        """``participant_id`` out of their group (and its facilitator's seat) into ``number``."""
        target = self.groups[number]
        return self.without_member(participant_id).with_member(
            participant_id, number, target.topics
        )

    def with_response(
        self, number: int, topic: int, text: str, version: int, by_host: bool
    ) -> Round:
        """A saved response; a star it had stays."""
        starred = self.response(number, topic)[2]
        entry = (text, version, starred, by_host)
        return replace(self, responses=_with(self.responses, (number, topic), entry))

    def with_star(self, number: int, topic: int, on: bool) -> Round:
        text, version, _, by_host = self.responses[(number, topic)]
        entry = (text, version, on, by_host)
        return replace(self, responses=_with(self.responses, (number, topic), entry))

    def with_point(self, number: int, topic: int, point: Point) -> Round:
        points = (*self.points.get((number, topic), ()), point)
        return replace(self, points=_with(self.points, (number, topic), points))


def replaced(rounds: tuple[Round, ...], new: Round) -> tuple[Round, ...]:
    """``rounds`` with ``new`` in place of the round with its id, or after them if none."""
    if any(r.id == new.id for r in rounds):
        return tuple(new if r.id == new.id else r for r in rounds)
    return (*rounds, new)
