"""Breakout groups: who sits with whom, and which topics each group discusses.

Pure functions, no I/O. Everything random comes from ``random.Random(seed)``, so the same
people, settings and seed always give the same groups, whatever order the people are
listed in (they are sorted by id first).

* :func:`allocate` splits the people present into groups, either by a target
  ``group_size`` or by a ``group_count``:

  - group sizes differ by at most one;
  - people of the same organisation are spread across groups: for every organisation
    with ``c`` members, no group holds more than ``ceil(c / groups)`` of them, unless
    pre-assignments force it;
  - pre-assignments (person id -> group number) are honoured as far as the sizes allow;
  - on request, pairs of people who already met in an earlier round are kept apart
    where a bounded local search can manage it;
  - every group gets ``min_topics`` topics, and the topics are used as evenly as
    possible (see :func:`assign_topics`).

* :func:`add_late_joiner` puts one more person into the smallest group;
  :func:`remove_person` drops a person without moving anybody else.

Problems the organiser can fix raise :class:`AllocationError`, whose message is a plain
sentence that can be shown as is.
"""

from __future__ import annotations

import heapq
import random
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations, pairwise

from webinar.domain.agenda import BreakoutSettings

#: The smallest group that makes sense: a breakout of one is not a conversation.
MIN_GROUP_SIZE = 2

#: Pair avoidance: candidates tried for each person who sits with an earlier partner.
_SWAP_SAMPLES = 64
#: Pair avoidance: passes over the people still sitting with an earlier partner.
_SWAP_PASSES = 8
#: Pair avoidance: swap evaluations allowed per person present, plus a fixed allowance.
_SWAP_BUDGET_PER_PERSON = 20
_SWAP_BUDGET_BASE = 2_000
#: Organisation caps broken by pre-assignments: group checks allowed per person, plus a base.
_REPAIR_BUDGET_PER_PERSON = 20
_REPAIR_BUDGET_BASE = 20_000


class AllocationError(ValueError):
    """Groups that cannot be formed as asked.

    ``str(error)`` is a plain sentence for the organiser, e.g. "A group size of 1 is too
    small: groups need at least 2 people.".
    """


def organisation_key(organisation: str) -> str:
    """How organisations are compared: stripped and case-insensitive; ``""`` is unknown."""
    return organisation.strip().casefold()


@dataclass(frozen=True, slots=True)
class Person:
    """Somebody present for the breakout.

    ``organisation`` is compared case-insensitively, ignoring surrounding spaces; an empty
    organisation means unknown, and people of unknown organisation are not spread.
    """

    id: str
    organisation: str = ""


@dataclass(frozen=True, slots=True)
class Group:
    """One breakout group.

    ``number`` is 1-based; ``members`` are person ids (sorted by id as allocated, late
    joiners appended); ``topics`` are sorted indexes into the breakout's topics.
    """

    number: int
    members: tuple[str, ...]
    topics: tuple[int, ...]

    @property
    def size(self) -> int:
        return len(self.members)


@dataclass(frozen=True, slots=True)
class Allocation:
    """All groups of one breakout round, numbered 1, 2, ... in order."""

    groups: tuple[Group, ...]
    _index: dict[str, int] = field(init=False, default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for group in self.groups:
            for member in group.members:
                self._index[member] = group.number

    def group_of(self, person_id: str) -> int | None:
        """Number of the group ``person_id`` is in, or ``None`` if they are in none."""
        return self._index.get(person_id)

    def group(self, number: int) -> Group:
        """The group numbered ``number``; ``KeyError`` if there is none."""
        if 1 <= number <= len(self.groups):
            return self.groups[number - 1]
        raise KeyError(number)

    @property
    def sizes(self) -> tuple[int, ...]:
        return tuple(len(group.members) for group in self.groups)


def allocate(
    people: Sequence[Person],
    *,
    topics: int,
    min_topics: int,
    seed: int,
    group_size: int | None = None,
    group_count: int | None = None,
    preassigned: Mapping[str, int] | None = None,
    avoid_pairs: Iterable[frozenset[str]] = (),
) -> Allocation:
    """Split ``people`` into groups and give each group its topics.

    Give exactly one of ``group_size`` and ``group_count``:

    * ``group_size``: the most people a group holds, as an organiser means "groups of 8":
      ``ceil(present / group_size)`` groups, so none is larger than the size. 50 people in
      groups of 8 make 7 groups (1 of 8 and 6 of 7); 40 in groups of 6 make 7 (5 of 6 and
      2 of 5); 8 in groups of 6 make 2 groups of 4. The one exception is a group size of 2
      with an odd number present: one group then has 3 people, since a group of 1 is not
      a conversation.
    * ``group_count``: exactly that many groups, each of at least 2 people.

    ``preassigned`` maps person ids to group numbers. Ids of people not present are
    ignored; a group number outside ``1..groups`` for somebody present is an error. If
    more people are pre-assigned to groups than the sizes allow, as many as possible are
    honoured: the larger group sizes go to the over-asked groups with the lowest numbers,
    and within a group the people with the lowest ids keep their pre-assignment; the
    others are placed like everybody else. Honoured people are never moved.

    Everybody else is dealt organisation by organisation, largest first (ties in seeded
    order), people of unknown organisation last, each person into a group with room that
    has the fewest of their organisation, then the fewest people, ties in a seeded group
    order. Without pre-assignments this is a round robin over a seeded order of groups,
    so no group gets more than ``ceil(c / groups)`` of an organisation of ``c``. With
    pre-assignments the deal can overshoot that cap; chains of moves of free people then
    repair it as far as a bounded search finds (see ``_repair_caps``). Honoured
    pre-assignments that already exceed a cap stay as they are.

    ``avoid_pairs`` are pairs of person ids (two-element frozensets; others are ignored)
    who met in an earlier round. When given, a bounded local search then swaps people
    between groups, only ever lowering the number of such pairs sitting together. Swaps
    keep the group sizes, never move honoured pre-assignments and never push an
    organisation over its cap. The first deal does not look at ``avoid_pairs``, so asking
    never gives more repeated pairs than not asking, and the topics are the same either
    way.

    Topics come from :func:`assign_topics`. ``seed`` makes the result reproducible:
    the same arguments always give the same :class:`Allocation`.
    """
    _check_topics(topics, min_topics)
    ordered = sorted(people, key=lambda person: person.id)
    for first, second in pairwise(ordered):
        if first.id == second.id:
            raise AllocationError(f'Person "{first.id}" is listed twice among the people present.')
    count = _count_groups(len(ordered), group_size, group_count)
    rng = random.Random(seed)
    ids = [person.id for person in ordered]
    keys = [organisation_key(person.organisation) for person in ordered]
    fixed = _honoured(ids, preassigned or {}, count)
    placed = _deal(keys, fixed, count, rng)
    if any(group >= 0 for group in fixed):
        _repair_caps(placed, keys, fixed, count, rng)
    topic_sets = assign_topics(count, topics, min_topics, rng)
    partners, suspects = _partners(ids, avoid_pairs, placed)
    if suspects:
        _avoid_repeats(placed, keys, fixed, partners, suspects, count, rng)
    members: list[list[str]] = [[] for _ in range(count)]
    for index, group in enumerate(placed):
        members[group].append(ids[index])
    return Allocation(
        tuple(
            Group(number=group + 1, members=tuple(members[group]), topics=topic_sets[group])
            for group in range(count)
        )
    )


def allocate_breakout(
    settings: BreakoutSettings,
    people: Sequence[Person],
    *,
    seed: int,
    preassigned: Mapping[str, int] | None = None,
    avoid_pairs: Iterable[frozenset[str]] = (),
) -> Allocation:
    """:func:`allocate` with the group size (or count) and topics of a breakout item.

    A fixed ``group_count`` is lowered to one group per two people present when fewer
    came than it needs (4 groups with 6 people present make 3 groups of 2).
    """
    group_size, group_count = settings.group_size, settings.group_count
    if group_count is not None:
        group_size = None
        group_count = max(1, min(group_count, len(people) // MIN_GROUP_SIZE))
    return allocate(
        people,
        topics=len(settings.topics),
        min_topics=settings.min_topics,
        seed=seed,
        group_size=group_size,
        group_count=group_count,
        preassigned=preassigned,
        avoid_pairs=avoid_pairs,
    )


def assign_topics(
    group_count: int, topics: int, min_topics: int, rng: random.Random
) -> list[tuple[int, ...]]:
    """Topics for each of ``group_count`` groups, as sorted indexes ``0..topics-1``.

    Every group gets exactly ``min_topics`` distinct topics. The topics are laid out in a
    seeded order and handed out cyclically, so usage counts differ by at most one: with
    ``group_count * min_topics >= topics`` every topic is used, otherwise as many distinct
    topics as there are slots (each at most once).
    """
    _check_topics(topics, min_topics)
    if group_count < 0:
        raise AllocationError(
            f"Asking for {group_count} groups is too few: there must be at least 1 group."
        )
    order = list(range(topics))
    rng.shuffle(order)
    return [
        tuple(sorted(order[(group * min_topics + slot) % topics] for slot in range(min_topics)))
        for group in range(group_count)
    ]


def add_late_joiner(
    allocation: Allocation, person: Person, organisations: Mapping[str, str]
) -> tuple[Allocation, int]:
    """Put ``person`` into the smallest group; return the new allocation and group number.

    Among equally small groups, one without anybody of the person's organisation is
    preferred, then the lowest number. ``organisations`` maps the ids of people already
    in groups to their organisation (missing ids count as unknown). Nobody else moves,
    and the group's topics stay. Somebody already in a group stays where they are.
    """
    existing = allocation.group_of(person.id)
    if existing is not None:
        return allocation, existing
    if not allocation.groups:
        raise AllocationError("There are no breakout groups to join yet.")
    key = organisation_key(person.organisation)

    def rank(group: Group) -> tuple[int, bool, int]:
        shares = bool(key) and any(
            organisation_key(organisations.get(member, "")) == key for member in group.members
        )
        return (len(group.members), shares, group.number)

    target = min(allocation.groups, key=rank)
    joined = Group(target.number, (*target.members, person.id), target.topics)
    groups = tuple(joined if group is target else group for group in allocation.groups)
    return Allocation(groups), target.number


def remove_person(allocation: Allocation, person_id: str) -> Allocation:
    """The allocation without ``person_id``; nobody else moves, groups keep their numbers.

    A group may end up smaller (or empty); someone not in any group changes nothing.
    """
    number = allocation.group_of(person_id)
    if number is None:
        return allocation
    return Allocation(
        tuple(
            Group(
                group.number,
                tuple(member for member in group.members if member != person_id),
                group.topics,
            )
            if group.number == number
            else group
            for group in allocation.groups
        )
    )


def pairs_of(allocation: Allocation) -> frozenset[frozenset[str]]:
    """Every pair of people sharing a group: pass it as ``avoid_pairs`` to the next round."""
    return frozenset(
        frozenset(pair) for group in allocation.groups for pair in combinations(group.members, 2)
    )


def repeated_pairs(allocation: Allocation, avoid_pairs: Iterable[frozenset[str]]) -> int:
    """How many of ``avoid_pairs`` sit in the same group in ``allocation``."""
    repeated = 0
    for pair in set(avoid_pairs):
        if len(pair) != 2:
            continue
        first, second = pair
        group = allocation.group_of(first)
        if group is not None and group == allocation.group_of(second):
            repeated += 1
    return repeated


# --- validation --------------------------------------------------------------------------


def _check_topics(topics: int, min_topics: int) -> None:
    if topics < 1:
        raise AllocationError(f"A breakout needs at least 1 topic, but {topics} were offered.")
    if min_topics < 1:
        raise AllocationError(
            f"min_topics {min_topics} is too small: each group needs at least 1 topic."
        )
    if min_topics > topics:
        offered = "the 1 topic" if topics == 1 else f"the {topics} topics"
        raise AllocationError(f"min_topics {min_topics} is more than {offered} offered.")


def _present(count: int) -> str:
    return (
        "There is only 1 person present" if count == 1 else f"There are only {count} people present"
    )


def _count_groups(present: int, group_size: int | None, group_count: int | None) -> int:
    """How many groups to form, after checking the request makes sense."""
    if group_size is not None and group_count is not None:
        raise AllocationError("Give either a group size or a number of groups, not both.")
    if group_size is None and group_count is None:
        raise AllocationError("Give either a group size or a number of groups.")
    if group_size is not None:
        if group_size < MIN_GROUP_SIZE:
            raise AllocationError(
                f"A group size of {group_size} is too small: "
                f"groups need at least {MIN_GROUP_SIZE} people."
            )
        if present == 0:
            raise AllocationError("Nobody is present to split into groups.")
        if present < group_size:
            raise AllocationError(
                f"{_present(present)}, fewer than the group size of {group_size}."
            )
        # The size is a ceiling ("groups of 8" means at most 8), as in Zoom's
        # "participants per room"; only a size of 2 with an odd number present would
        # leave somebody alone, and then one group has 3 instead.
        count = -(-present // group_size)
        return min(count, present // MIN_GROUP_SIZE)
    assert group_count is not None
    if group_count < 1:
        raise AllocationError(
            f"Asking for {group_count} groups is too few: there must be at least 1 group."
        )
    if present == 0:
        raise AllocationError("Nobody is present to split into groups.")
    if present < group_count * MIN_GROUP_SIZE:
        groups = "1 group" if group_count == 1 else f"{group_count} groups"
        raise AllocationError(
            f"{_present(present)}, too few for {groups} of at least {MIN_GROUP_SIZE} people."
        )
    return group_count


def _honoured(ids: Sequence[str], preassigned: Mapping[str, int], count: int) -> list[int]:
    """Group index (0-based) each person is held to, or -1; see :func:`allocate`."""
    fixed = [-1] * len(ids)
    if not preassigned:
        return fixed
    asked: dict[int, list[int]] = {}
    for index, person_id in enumerate(ids):
        number = preassigned.get(person_id)
        if number is None:
            continue
        if number < 1:
            raise AllocationError(
                f"Pre-assigned group {number} does not exist: groups are numbered from 1."
            )
        if number > count:
            there = "there is only 1 group" if count == 1 else f"there are {count} groups"
            raise AllocationError(f"Pre-assigned group {number} does not exist: {there}.")
        asked.setdefault(number - 1, []).append(index)
    small, larger = divmod(len(ids), count)
    over = sorted(group for group, wanted in asked.items() if len(wanted) > small)
    large = set(over[:larger])
    for group, wanted in asked.items():
        room = small + 1 if group in large else small
        for index in wanted[:room]:
            fixed[index] = group
    return fixed


# --- the deal ------------------------------------------------------------------------------


def _deal(keys: Sequence[str], fixed: Sequence[int], count: int, rng: random.Random) -> list[int]:
    """Group index of every person: honoured pre-assignments, the rest dealt greedily.

    Each free person goes to a group with room holding the fewest of their organisation,
    then the fewest people, then first in a seeded group order. Groups with room sit in a
    heap keyed by (size, seeded priority); while one organisation is dealt, the groups it
    already reached wait in per-count heaps ("levels"), so a person costs O(log groups).
    With nobody held this is exactly a round robin over the groups in seeded order, which
    is dealt directly in O(people).
    """
    deal = _Deal(keys, fixed, count, rng)
    if not any(deal.size):
        # Nobody is held: the greedy below reduces to dealing the organisations, one
        # after the other, round robin over the groups in their seeded order.
        return deal.round_robin()
    return deal.greedy()


#: A group waiting in a heap: (its size when pushed, its seeded priority, its index).
_Entry = tuple[int, float, int]


class _Deal:
    """One deal in progress: who is free, group sizes, and the groups with room."""

    def __init__(
        self, keys: Sequence[str], fixed: Sequence[int], count: int, rng: random.Random
    ) -> None:
        self.count = count
        self.small, larger = divmod(len(keys), count)
        self.placed = list(fixed)
        self.size = [0] * count
        self.already: dict[str, dict[int, int]] = {}  # organisation -> group -> held there
        self.free: dict[str, list[int]] = {}  # organisation -> people still to deal
        self._hold(keys, fixed)
        self.big_left = larger - sum(1 for group_size in self.size if group_size > self.small)
        # A group has room while smaller than this.
        self.limit = self.small + 1 if self.big_left > 0 else self.small
        draw = rng.random
        self.priority = [draw() for _ in range(count)]  # the seeded group order, as sort keys
        self.known = self._dealing_order(rng)
        noise = [draw() for _ in keys]  # a seeded order of people within each organisation
        for members in self.free.values():
            members.sort(key=noise.__getitem__)
        self.heap: list[_Entry] = []
        self.valid = [-1] * count  # the size in each group's one live heap entry, -1 if none

    def _hold(self, keys: Sequence[str], fixed: Sequence[int]) -> None:
        for index, group in enumerate(fixed):
            if group >= 0:
                self.size[group] += 1
                if keys[index]:
                    reached = self.already.setdefault(keys[index], {})
                    reached[group] = reached.get(group, 0) + 1
            else:
                self.free.setdefault(keys[index], []).append(index)

    def _dealing_order(self, rng: random.Random) -> list[str]:
        """Organisations largest first, ties in seeded order; unknown ones last."""
        known = sorted(key for key in self.free if key)
        rng.shuffle(known)
        known.sort(key=lambda key: len(self.free[key]), reverse=True)
        if "" in self.free:
            known.append("")
        return known

    def round_robin(self) -> list[int]:
        cycle = sorted(range(self.count), key=self.priority.__getitem__)
        position = 0
        for key in self.known:
            for index in self.free[key]:
                self.placed[index] = cycle[position % self.count]
                position += 1
        return self.placed

    def greedy(self) -> list[int]:
        size, limit, priority = self.size, self.limit, self.priority
        self.heap = [
            (size[group], priority[group], group)
            for group in range(self.count)
            if size[group] < limit
        ]
        heapq.heapify(self.heap)
        for entry in self.heap:
            self.valid[entry[2]] = entry[0]
        for key in self.known:
            self._deal_organisation(key)
        return self.placed

    def _deal_organisation(self, key: str) -> None:
        touched = self.already.get(key, {}) if key else {}
        levels: dict[int, list[_Entry]] = {}
        for group, held in touched.items():
            if self.size[group] < self.limit:
                entry = (self.size[group], self.priority[group], group)
                heapq.heappush(levels.setdefault(held, []), entry)
        for index in self.free[key]:
            level, group = 0, self._pop_open(touched)
            if group < 0:
                level, group = _lowest_level(levels, self.size, self.limit)
            self.placed[index] = group
            grown = self._grow(group)
            if grown < self.limit:
                heapq.heappush(
                    levels.setdefault(level + 1, []), (grown, self.priority[group], group)
                )
        for waiting in levels.values():
            for entry_size, rank, group in waiting:
                if entry_size == self.size[group] < self.limit and self.valid[group] != entry_size:
                    heapq.heappush(self.heap, (entry_size, rank, group))
                    self.valid[group] = entry_size

    def _pop_open(self, touched: Mapping[int, int]) -> int:
        """The group with room and the fewest people (then first in seeded order) holding
        none of the organisation, or -1. Groups it holds wait in their level meanwhile,
        full ones are gone for good."""
        heap, valid = self.heap, self.valid
        while heap:
            entry_size, _, candidate = heapq.heappop(heap)
            if valid[candidate] != entry_size:
                continue  # stale entry: the group has grown since
            valid[candidate] = -1
            if entry_size < self.limit and candidate not in touched:
                return candidate
        return -1

    def _grow(self, group: int) -> int:
        """Add a person to ``group``; its new size. The last larger group closes the room
        for a further one."""
        grown = self.size[group] + 1
        self.size[group] = grown
        if grown > self.small:
            self.big_left -= 1
            if not self.big_left:
                self.limit = self.small
        return grown


def _lowest_level(
    levels: dict[int, list[tuple[int, float, int]]], size: Sequence[int], limit: int
) -> tuple[int, int]:
    """Pop the group with room holding the fewest of the organisation, then the smallest."""
    for level in sorted(levels):
        waiting = levels[level]
        while waiting and size[waiting[0][2]] >= limit:
            heapq.heappop(waiting)
        if waiting:
            return level, heapq.heappop(waiting)[2]
    raise AssertionError("no group has room left")  # capacities always add up to everybody


def _spread_counts(
    keys: Sequence[str], placed: Sequence[int], count: int
) -> tuple[list[dict[str, int]], dict[str, int]]:
    """People of each known organisation per group, and each organisation's cap."""
    totals: dict[str, int] = {}
    counts: list[dict[str, int]] = [{} for _ in range(count)]
    for index, key in enumerate(keys):
        if key:
            totals[key] = totals.get(key, 0) + 1
            tally = counts[placed[index]]
            tally[key] = tally.get(key, 0) + 1
    return counts, {key: -(-total // count) for key, total in totals.items()}


def _repair_caps(
    placed: list[int], keys: Sequence[str], fixed: Sequence[int], count: int, rng: random.Random
) -> None:
    """Rotate free people between groups so fewer organisations exceed their cap; in place.

    Only pre-assignments can make the deal overshoot a cap (typically an organisation dealt
    late whose only groups with room already hold its pre-assigned members). For each
    excess, a breadth-first search over groups (in a seeded order) looks for the shortest
    chain: the excess person moves to a group below that organisation's cap, somebody
    there moves on to a group they fit in, and so on until somebody who fits moves into
    the first group. A chain may also end in a group of the smaller size, which becomes
    one of the larger ones while a larger group (possibly the first) starts the rest of
    the chain, so the sizes stay as they were. Honoured pre-assignments never move and no
    move puts anybody over a cap. The search is bounded by an evaluation budget.
    """
    counts, cap = _spread_counts(keys, placed, count)
    over = sorted(
        (group, key)
        for group in range(count)
        for key, held in counts[group].items()
        if held > cap[key]
    )
    if not over:
        return
    repair = _CapRepair(placed, keys, fixed, count, rng, counts, cap)
    for group, key in over:
        repair.relieve(group, key)


#: A move of a free person: (person, from group, to group).
_Move = tuple[int, int, int]


class _CapRepair:
    """The state of :func:`_repair_caps`: groups' free members, sizes, counts, budget."""

    def __init__(
        self,
        placed: list[int],
        keys: Sequence[str],
        fixed: Sequence[int],
        count: int,
        rng: random.Random,
        counts: list[dict[str, int]],
        cap: dict[str, int],
    ) -> None:
        self.placed, self.keys, self.counts, self.cap = placed, keys, counts, cap
        self.members: list[list[int]] = [[] for _ in range(count)]
        self.size = [0] * count
        for index, group in enumerate(placed):
            self.size[group] += 1
            if fixed[index] < 0:
                self.members[group].append(index)
        self.small, self.larger = divmod(len(keys), count)
        self.order = list(range(count))
        rng.shuffle(self.order)
        self.budget = _REPAIR_BUDGET_BASE + _REPAIR_BUDGET_PER_PERSON * len(keys)

    def fits(self, key: str, group: int, leaving: str = "") -> bool:
        self.budget -= 1
        if not key:
            return True
        return self.counts[group].get(key, 0) - (key == leaving) < self.cap[key]

    def relieve(self, group: int, key: str) -> None:
        """Move people of ``key`` out of ``group`` until it is within the cap, if it can."""
        while self.counts[group][key] > self.cap[key] and self.budget > 0:
            moves = self.rotation(group, key)
            if moves is None:
                break
            for person, source, target in moves:
                _shift(self.counts, self.keys[person], source, target)
                self.members[source].remove(person)
                self.members[target].append(person)
                self.placed[person] = target
                self.size[source] -= 1
                self.size[target] += 1

    def rotation(self, start: int, key: str) -> list[_Move] | None:
        """Moves relieving ``start`` of one person of ``key``."""
        excess = next((person for person in self.members[start] if self.keys[person] == key), -1)
        if excess < 0:
            return None  # only honoured pre-assignments left
        came: dict[int, tuple[int, int]] = {}  # group -> (person moved in, from group)
        queue: deque[int] = deque()
        for group in self.order:
            if group != start and self.fits(key, group):
                came[group] = (excess, start)
                queue.append(group)
        while queue and self.budget > 0:
            source = queue.popleft()
            if self.larger and self.size[source] == self.small:
                # It may keep its newcomer and grow to the larger size; a larger group
                # then shrinks: the first group itself, or one that carries the chain on.
                if self.size[start] == self.small + 1:
                    return _chain(came, start, -1, source, start)
                self._shrink_a_larger(came, queue, start, source)
            moves = self._move_on(came, queue, start, source, key)
            if moves is not None:
                return moves
        return None

    def _shrink_a_larger(
        self, came: dict[int, tuple[int, int]], queue: deque[int], start: int, source: int
    ) -> None:
        for group in self.order:
            self.budget -= 1
            if self.size[group] == self.small + 1 and group != start and group not in came:
                came[group] = (-1, source)
                queue.append(group)

    def _move_on(
        self,
        came: dict[int, tuple[int, int]],
        queue: deque[int],
        start: int,
        source: int,
        key: str,
    ) -> list[_Move] | None:
        """The chain if somebody of ``source`` fits into ``start``; else queue the groups
        they fit in."""
        tried: set[str] = set()
        for person in self.members[source]:
            other = self.keys[person]
            if other in tried:
                continue
            tried.add(other)
            if self.fits(other, start, leaving=key):
                return _chain(came, start, person, source, start)
            for group in self.order:
                if group != start and group not in came and self.fits(other, group):
                    came[group] = (person, source)
                    queue.append(group)
        return None


def _chain(
    came: Mapping[int, tuple[int, int]], start: int, person: int, source: int, target: int
) -> list[_Move]:
    """The moves of a chain found by :meth:`_CapRepair.rotation`, last one first."""
    moves = [(person, source, target)] if person >= 0 else []
    while source != start:
        mover, previous = came[source]
        if mover >= 0:
            moves.append((mover, previous, source))
        source = previous
    return moves


# --- pair avoidance ----------------------------------------------------------------------


def _partners(
    ids: Sequence[str], avoid_pairs: Iterable[frozenset[str]], placed: Sequence[int]
) -> tuple[list[list[int]], set[int]]:
    """Earlier partners by person index (pairs with both people present, each pair once),
    and who sits with an earlier partner in ``placed``."""
    stuck: set[int] = set()
    if not isinstance(avoid_pairs, set | frozenset):
        avoid_pairs = set(avoid_pairs)  # each pair counts once
    if not avoid_pairs:
        return [], stuck
    partners: list[list[int]] = [[] for _ in ids]
    position = {person_id: index for index, person_id in enumerate(ids)}.get
    for pair in avoid_pairs:
        if len(pair) != 2:
            continue
        first, second = pair
        a, b = position(first), position(second)
        if a is None or b is None:
            continue
        partners[a].append(b)
        partners[b].append(a)
        if placed[a] == placed[b]:
            stuck.add(a)
            stuck.add(b)
    return partners, stuck


def _avoid_repeats(
    placed: list[int],
    keys: Sequence[str],
    fixed: Sequence[int],
    partners: list[list[int]],
    suspects: set[int],
    count: int,
    rng: random.Random,
) -> None:
    """Swap free people between groups while that lowers the repeated pairs; in place.

    ``suspects`` are the people who may sit with an earlier partner. Each pass visits, in
    seeded order, the free ones who do, and for each tries up to ``_SWAP_SAMPLES`` free
    people of other groups (all of them in small events), taking the swap that lowers the
    repeated pairs most; a swap that leaves neither person with an earlier partner ends
    the search early. Swaps that would put more of an organisation in a group than its
    cap are skipped. The next pass looks at those still stuck and at everybody a swap
    moved towards. Passes stop when one changes nothing, after ``_SWAP_PASSES`` passes,
    or when the evaluation budget is spent; every swap lowers the repeated pairs.
    """

    stuck = sorted(person for person in suspects if fixed[person] < 0)
    if not stuck:
        return
    swaps = _Swaps(placed, keys, fixed, partners, count, rng)
    for _ in range(_SWAP_PASSES):
        rng.shuffle(stuck)
        moved = swaps.one_pass(stuck)
        if not moved or swaps.budget <= 0:
            return
        stuck = sorted(
            person
            for person in moved.union(stuck)
            if fixed[person] < 0 and swaps.meets(person, placed[person])
        )
        if not stuck:
            return


class _Swaps:
    """The state of :func:`_avoid_repeats`: placement, organisation counts, budget."""

    def __init__(
        self,
        placed: list[int],
        keys: Sequence[str],
        fixed: Sequence[int],
        partners: list[list[int]],
        count: int,
        rng: random.Random,
    ) -> None:
        self.placed, self.keys, self.partners, self.rng = placed, keys, partners, rng
        self.counts, self.cap = _spread_counts(keys, placed, count)
        self.free = [index for index in range(len(keys)) if fixed[index] < 0]
        self.budget = _SWAP_BUDGET_BASE + _SWAP_BUDGET_PER_PERSON * len(keys)

    def meets(self, person: int, group: int) -> int:
        placed = self.placed
        return sum(1 for other in self.partners[person] if placed[other] == group)

    def fits(self, key: str, group: int) -> bool:
        return not key or self.counts[group].get(key, 0) < self.cap[key]

    def candidates(self) -> Iterator[int]:
        free = self.free
        if len(free) <= _SWAP_SAMPLES:
            everybody = free[:]
            self.rng.shuffle(everybody)
            yield from everybody
        else:
            for _ in range(_SWAP_SAMPLES):
                yield free[self.rng.randrange(len(free))]

    def one_pass(self, stuck: Sequence[int]) -> set[int]:
        """Swap each of ``stuck`` who meets an earlier partner as well as can be found;
        everybody a swap moved or moved towards."""
        moved: set[int] = set()
        for a in stuck:
            home = self.placed[a]
            before_a = self.meets(a, home)
            if not before_a:
                continue
            b = self.best_swap(a, home, before_a)
            if b >= 0:
                self.swap(a, b)
                moved.update((a, b), self.partners[a], self.partners[b])
        return moved

    def best_swap(self, a: int, home: int, before_a: int) -> int:
        """Who to swap ``a`` with to lower the repeated pairs most, or -1."""
        best, best_change = -1, 0
        for b in self.candidates():
            away = self.placed[b]
            if away == home:
                continue
            if self.budget <= 0:
                break
            self.budget -= 1
            if not self.allowed(a, b, home, away):
                continue
            met = 2 if b in self.partners[a] else 0
            after = self.meets(a, away) + self.meets(b, home) - met
            change = after - before_a - self.meets(b, away)
            if change < best_change:
                best, best_change = b, change
                if after == 0:
                    break
        return best

    def allowed(self, a: int, b: int, home: int, away: int) -> bool:
        """Whether swapping keeps both organisations within their caps."""
        key_a, key_b = self.keys[a], self.keys[b]
        return key_a == key_b or (self.fits(key_a, away) and self.fits(key_b, home))

    def swap(self, a: int, b: int) -> None:
        home, away = self.placed[a], self.placed[b]
        key_a, key_b = self.keys[a], self.keys[b]
        if key_a != key_b:
            _shift(self.counts, key_a, home, away)
            _shift(self.counts, key_b, away, home)
        self.placed[a], self.placed[b] = away, home


def _shift(counts: list[dict[str, int]], key: str, source: int, target: int) -> None:
    if key:
        counts[source][key] -= 1
        counts[target][key] = counts[target].get(key, 0) + 1
