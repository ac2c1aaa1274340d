"""Property tests of the breakout allocator on random audiences and settings."""

from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import dataclass, replace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from webinar.domain.allocator import (
    Allocation,
    Person,
    add_late_joiner,
    allocate,
    assign_topics,
    organisation_key,
    pairs_of,
    remove_person,
    repeated_pairs,
)

pytestmark = pytest.mark.unit

#: Includes spellings of one organisation and the unknown one.
ORGANISATIONS = ["", "Acme", " acme ", "ACME", "Beta", "Gamma", "Delta", "Council", "NHS Trust"]
ID_CHARACTERS = "abcxyz0123456789-"

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@dataclass(frozen=True)
class Case:
    people: list[Person]
    topics: int
    min_topics: int
    seed: int
    group_size: int | None
    group_count: int | None

    def allocate(self, people: list[Person] | None = None, **extra: Any) -> Allocation:
        return allocate(
            self.people if people is None else people,
            topics=self.topics,
            min_topics=self.min_topics,
            seed=self.seed,
            group_size=self.group_size,
            group_count=self.group_count,
            **extra,
        )


@st.composite
def audiences(draw: st.DrawFn, min_size: int = 2, max_size: int = 60) -> list[Person]:
    count = draw(st.integers(min_size, max_size))
    ids = draw(
        st.lists(
            st.text(ID_CHARACTERS, min_size=1, max_size=6),
            min_size=count,
            max_size=count,
            unique=True,
        )
    )
    organisations = draw(st.lists(st.sampled_from(ORGANISATIONS), min_size=count, max_size=count))
    return [Person(person_id, name) for person_id, name in zip(ids, organisations, strict=True)]


@st.composite
def cases(draw: st.DrawFn, by_count: bool | None = None) -> Case:
    people = draw(audiences())
    topics = draw(st.integers(1, 7))
    min_topics = draw(st.integers(1, topics))
    seed = draw(st.integers(0, 2**32))
    if by_count is None:
        by_count = draw(st.booleans())
    if by_count:
        return Case(people, topics, min_topics, seed, None, draw(st.integers(1, len(people) // 2)))
    return Case(people, topics, min_topics, seed, draw(st.integers(2, len(people))), None)


def present_ids(people: list[Person]) -> list[str]:
    return sorted(person.id for person in people)


def assert_sizes_balanced(allocation: Allocation) -> None:
    assert max(allocation.sizes) - min(allocation.sizes) <= 1


def assert_organisations_spread(allocation: Allocation, people: list[Person]) -> None:
    key = {person.id: organisation_key(person.organisation) for person in people}
    totals = Counter(key.values())
    groups = len(allocation.groups)
    for group in allocation.groups:
        for name, held in Counter(key[member] for member in group.members).items():
            if name:
                assert held <= math.ceil(totals[name] / groups), (name, group)


def random_pairs(people: list[Person], seed: int) -> set[frozenset[str]]:
    rng = random.Random(seed)
    ids = present_ids(people)
    return {frozenset(rng.sample(ids, 2)) for _ in range(len(ids) * 2)}


# --- allocate ------------------------------------------------------------------------------


@SETTINGS
@given(cases())
def test_allocate_places_every_person_exactly_once(case: Case) -> None:
    allocation = case.allocate()

    placed = [member for group in allocation.groups for member in group.members]
    assert sorted(placed) == present_ids(case.people)
    assert [group.number for group in allocation.groups] == list(
        range(1, len(allocation.groups) + 1)
    )
    assert all(
        allocation.group_of(member) == group.number
        for group in allocation.groups
        for member in group.members
    )


@SETTINGS
@given(cases())
def test_allocate_sizes_differ_by_at_most_one(case: Case) -> None:
    allocation = case.allocate()

    assert_sizes_balanced(allocation)
    assert min(allocation.sizes) >= 2
    if case.group_count is not None:
        assert len(allocation.groups) == case.group_count


@SETTINGS
@given(cases(by_count=False))
def test_allocate_group_size_is_a_ceiling(case: Case) -> None:
    assert case.group_size is not None
    present, size = len(case.people), case.group_size

    allocation = case.allocate()

    assert_sizes_balanced(allocation)
    if size == 2 and present % 2:
        # The one exception: nobody is left alone, so one pair becomes a trio.
        assert sorted(allocation.sizes) == [2] * (present // 2 - 1) + [3]
    else:
        assert len(allocation.groups) == math.ceil(present / size)
        assert max(allocation.sizes) <= size


@SETTINGS
@given(cases())
def test_allocate_gives_every_group_min_topics_in_range(case: Case) -> None:
    allocation = case.allocate()

    for group in allocation.groups:
        assert len(set(group.topics)) == len(group.topics) == case.min_topics
        assert all(0 <= topic < case.topics for topic in group.topics)


@SETTINGS
@given(cases())
def test_allocate_balances_topic_usage(case: Case) -> None:
    allocation = case.allocate()

    usage = Counter(topic for group in allocation.groups for topic in group.topics)
    counts = [usage[topic] for topic in range(case.topics)]
    assert max(counts) - min(counts) <= 1
    slots = len(allocation.groups) * case.min_topics
    assert len(usage) == min(case.topics, slots)


@SETTINGS
@given(cases())
def test_allocate_spreads_organisations_without_preassignments(case: Case) -> None:
    assert_organisations_spread(case.allocate(), case.people)


@SETTINGS
@given(cases(), st.integers(0, 2**16))
def test_allocate_spreads_organisations_while_avoiding_pairs(case: Case, other: int) -> None:
    avoided = case.allocate(avoid_pairs=random_pairs(case.people, other))

    assert_organisations_spread(avoided, case.people)
    assert_sizes_balanced(avoided)


@SETTINGS
@given(cases())
def test_allocate_is_deterministic_for_a_seed(case: Case) -> None:
    assert case.allocate() == case.allocate()


@SETTINGS
@given(cases(), st.randoms(use_true_random=False))
def test_allocate_ignores_the_order_of_people(case: Case, rng: random.Random) -> None:
    shuffled = list(case.people)
    rng.shuffle(shuffled)
    earlier = random_pairs(case.people, 1)

    assert case.allocate(shuffled) == case.allocate()
    assert case.allocate(shuffled, avoid_pairs=earlier) == case.allocate(avoid_pairs=earlier)


# --- pre-assignments -----------------------------------------------------------------------


@st.composite
def feasible_preassignments(draw: st.DrawFn) -> tuple[Case, dict[str, int]]:
    case = draw(cases(by_count=True))
    assert case.group_count is not None
    room = len(case.people) // case.group_count
    taken: Counter[int] = Counter()
    asked: dict[str, int] = {}
    for person in case.people:
        number = draw(st.one_of(st.none(), st.integers(1, case.group_count)))
        if number is not None and taken[number] < room:
            taken[number] += 1
            asked[person.id] = number
    return case, asked


@SETTINGS
@given(feasible_preassignments())
def test_allocate_honours_feasible_preassignments(
    drawn: tuple[Case, dict[str, int]],
) -> None:
    case, asked = drawn

    allocation = case.allocate(preassigned={**asked, "somebody absent": 1})

    assert {person: allocation.group_of(person) for person in asked} == asked
    assert_sizes_balanced(allocation)


@SETTINGS
@given(feasible_preassignments(), st.integers(0, 2**16))
def test_allocate_avoiding_pairs_keeps_preassignments(
    drawn: tuple[Case, dict[str, int]], other: int
) -> None:
    case, asked = drawn

    allocation = case.allocate(preassigned=asked, avoid_pairs=random_pairs(case.people, other))

    assert {person: allocation.group_of(person) for person in asked} == asked


@SETTINGS
@given(cases(by_count=True), st.data())
def test_allocate_honours_as_many_preassignments_as_sizes_allow(
    case: Case, data: st.DataObject
) -> None:
    assert case.group_count is not None
    count = case.group_count
    asked = {
        person.id: number
        for person in case.people
        if (number := data.draw(st.one_of(st.none(), st.integers(1, count)))) is not None
    }

    allocation = case.allocate(preassigned=asked)

    small, larger = divmod(len(case.people), count)
    demand = Counter(asked.values())
    best = sum(min(wanted, small) for wanted in demand.values()) + min(
        larger, sum(1 for wanted in demand.values() if wanted > small)
    )
    honoured = sum(1 for person, number in asked.items() if allocation.group_of(person) == number)
    assert honoured == best
    assert_sizes_balanced(allocation)


def spread_is_possible(people: list[Person], groups: int, honoured: dict[str, int]) -> bool:
    """Whether the people not held by ``honoured`` can fill the groups within every cap.

    A max-flow check: organisation -> group edges carry what the cap still allows, group
    -> sink edges the room up to the smaller size, plus one extra place in as many groups
    as there are larger groups.
    """
    key = {person.id: organisation_key(person.organisation) for person in people}
    totals = Counter(key.values())
    small, larger = divmod(len(people), groups)
    held = Counter(honoured.values())
    held_by = Counter((number, key[person]) for person, number in honoured.items())
    free = Counter(key[person.id] for person in people if person.id not in honoured)
    capacity: dict[tuple[object, object], int] = {}
    for name, waiting in free.items():
        capacity[("source", name)] = waiting
        for number in range(1, groups + 1):
            room = math.ceil(totals[name] / groups) - held_by[(number, name)] if name else waiting
            capacity[(name, ("group", number))] = max(room, 0)
    for number in range(1, groups + 1):
        capacity[(("group", number), "sink")] = max(small - held[number], 0)
        if held[number] <= small:
            capacity[(("group", number), "extra")] = 1
    capacity[("extra", "sink")] = larger - sum(1 for number in held if held[number] > small)
    return max_flow(capacity, "source", "sink") == sum(free.values())


def max_flow(capacity: dict[tuple[object, object], int], source: object, sink: object) -> int:
    residual: dict[object, dict[object, int]] = {}
    for (start, end), amount in capacity.items():
        residual.setdefault(start, {})[end] = residual.get(start, {}).get(end, 0) + amount
        residual.setdefault(end, {}).setdefault(start, 0)
    total = 0
    while True:
        parent: dict[object, object] = {source: source}
        queue = [source]
        while queue and sink not in parent:
            node = queue.pop(0)
            for nxt, amount in residual.get(node, {}).items():
                if amount > 0 and nxt not in parent:
                    parent[nxt] = node
                    queue.append(nxt)
        if sink not in parent:
            return total
        path, node = [], sink
        while node != source:
            path.append((parent[node], node))
            node = parent[node]
        pushed = min(residual[start][end] for start, end in path)
        for start, end in path:
            residual[start][end] -= pushed
            residual[end][start] += pushed
        total += pushed


@SETTINGS
@given(cases(by_count=True), st.data())
def test_allocate_spreads_organisations_when_preassignments_allow(
    case: Case, data: st.DataObject
) -> None:
    assert case.group_count is not None
    asked = {
        person.id: number
        for person in case.people
        if (number := data.draw(st.one_of(st.none(), st.integers(1, case.group_count)))) is not None
    }

    allocation = case.allocate(preassigned=asked)

    honoured = {
        person: number for person, number in asked.items() if allocation.group_of(person) == number
    }
    key = {person.id: organisation_key(person.organisation) for person in case.people}
    totals = Counter(key.values())
    caps_kept_by_honoured = all(
        held <= math.ceil(totals[name] / case.group_count)
        for (number, name), held in Counter(
            (number, key[person]) for person, number in honoured.items()
        ).items()
        if name
    )
    if caps_kept_by_honoured and spread_is_possible(case.people, case.group_count, honoured):
        assert_organisations_spread(allocation, case.people)
    assert_sizes_balanced(allocation)


# --- pair avoidance ------------------------------------------------------------------------


@SETTINGS
@given(cases(), st.integers(0, 2**16), st.booleans())
def test_allocate_avoid_pairs_never_adds_repeats(
    case: Case, other: int, earlier_round: bool
) -> None:
    if earlier_round:
        earlier: set[frozenset[str]] = set(pairs_of(replace(case, seed=other).allocate()))
    else:
        earlier = random_pairs(case.people, other)

    plain = case.allocate()
    avoided = case.allocate(avoid_pairs=earlier)

    assert repeated_pairs(avoided, earlier) <= repeated_pairs(plain, earlier)
    assert [group.topics for group in avoided.groups] == [group.topics for group in plain.groups]
    assert sorted(avoided.sizes) == sorted(plain.sizes)


# --- topics --------------------------------------------------------------------------------


@SETTINGS
@given(
    st.integers(0, 40),
    st.integers(1, 9).flatmap(lambda topics: st.tuples(st.just(topics), st.integers(1, topics))),
    st.randoms(use_true_random=False),
)
def test_assign_topics_is_balanced(
    groups: int, topic_settings: tuple[int, int], rng: random.Random
) -> None:
    topics, min_topics = topic_settings

    chosen = assign_topics(groups, topics, min_topics, rng)

    assert len(chosen) == groups
    assert all(len(set(each)) == min_topics and list(each) == sorted(each) for each in chosen)
    usage = Counter(topic for each in chosen for topic in each)
    counts = [usage[topic] for topic in range(topics)]
    assert max(counts) - min(counts) <= 1
    assert len(usage) == min(topics, groups * min_topics)


# --- late joiners and leavers --------------------------------------------------------------


@SETTINGS
@given(cases(), audiences(min_size=1, max_size=10))
def test_add_late_joiners_keeps_sizes_balanced_and_others_in_place(
    case: Case, late: list[Person]
) -> None:
    allocation = case.allocate()
    organisations = {person.id: person.organisation for person in case.people}
    before = {person.id: allocation.group_of(person.id) for person in case.people}

    for person in late:
        smallest = min(allocation.sizes)
        allocation, number = add_late_joiner(allocation, person, organisations)
        organisations.setdefault(person.id, person.organisation)
        if person.id not in before:
            assert allocation.group(number).size == smallest + 1
        assert allocation.group_of(person.id) == number
        assert_sizes_balanced(allocation)

    assert {person: allocation.group_of(person) for person in before} == before


@SETTINGS
@given(cases(), st.data())
def test_remove_person_moves_nobody_else(case: Case, data: st.DataObject) -> None:
    allocation = case.allocate()
    leaving = data.draw(st.sampled_from(present_ids(case.people)))

    left = remove_person(allocation, leaving)

    assert left.group_of(leaving) is None
    assert {
        person: left.group_of(person) for person in present_ids(case.people) if person != leaving
    } == {
        person: allocation.group_of(person)
        for person in present_ids(case.people)
        if person != leaving
    }
    assert [group.topics for group in left.groups] == [group.topics for group in allocation.groups]
