"""Example tests of the breakout allocator."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import pytest

from webinar.domain.agenda import BreakoutSettings
from webinar.domain.allocator import (
    Allocation,
    AllocationError,
    Group,
    Person,
    add_late_joiner,
    allocate,
    allocate_breakout,
    assign_topics,
    pairs_of,
    remove_person,
    repeated_pairs,
)

pytestmark = pytest.mark.unit

#: A webinar-like audience: 40 people from 8 organisations of varied sizes.
ORGANISATIONS: tuple[tuple[str, int], ...] = (
    ("Northshire Council", 10),
    ("Northshire NHS Trust", 8),
    ("Police", 6),
    ("Schools", 5),
    ("Probation", 4),
    ("Health visiting", 3),
    ("Youth Offending Service", 2),
    ("Barnardo's", 2),
)
TOPICS = (
    "Information sharing",
    "Multi-agency working",
    "Voice of the child",
    "Neglect",
    "Learning into practice",
)


def audience() -> list[Person]:
    people: list[Person] = []
    for organisation, count in ORGANISATIONS:
        for _ in range(count):
            people.append(Person(f"p{len(people) + 1:02d}", organisation))
    return people


def webinar(seed: int = 2025, **extra: Any) -> Allocation:
    return allocate(audience(), topics=5, min_topics=2, seed=seed, group_size=6, **extra)


def organisation_counts(allocation: Allocation) -> list[Counter[str]]:
    organisation = {person.id: person.organisation for person in audience()}
    return [
        Counter(organisation[member] for member in group.members) for group in allocation.groups
    ]


# --- the seed webinar ----------------------------------------------------------------------


def test_allocate_webinar_makes_seven_groups_of_five_or_six() -> None:
    allocation = webinar()

    assert [group.number for group in allocation.groups] == [1, 2, 3, 4, 5, 6, 7]
    assert sorted(allocation.sizes) == [5, 5, 6, 6, 6, 6, 6]


def test_allocate_webinar_places_everybody_once() -> None:
    allocation = webinar()

    placed = [member for group in allocation.groups for member in group.members]
    assert sorted(placed) == [person.id for person in audience()]


def test_allocate_webinar_gives_every_group_two_topics() -> None:
    allocation = webinar()

    assert [len(set(group.topics)) for group in allocation.groups] == [2] * 7


def test_allocate_webinar_covers_all_topics_evenly() -> None:
    allocation = webinar()

    usage = Counter(topic for group in allocation.groups for topic in group.topics)
    assert sorted(usage) == [0, 1, 2, 3, 4]
    assert sorted(usage.values()) == [2, 3, 3, 3, 3]


def test_allocate_webinar_spreads_organisations() -> None:
    allocation = webinar()

    # ceil(10/7) = ceil(8/7) = 2 for the two largest organisations, 1 for the others.
    worst = {
        name: max(counts[name] for counts in organisation_counts(allocation))
        for name, _ in ORGANISATIONS
    }
    assert worst == {
        "Northshire Council": 2,
        "Northshire NHS Trust": 2,
        "Police": 1,
        "Schools": 1,
        "Probation": 1,
        "Health visiting": 1,
        "Youth Offending Service": 1,
        "Barnardo's": 1,
    }


def test_allocate_webinar_is_the_same_for_the_same_seed() -> None:
    assert webinar(seed=7) == webinar(seed=7)


def test_allocate_webinar_differs_for_another_seed() -> None:
    assert webinar(seed=7) != webinar(seed=8)


def test_allocate_people_in_any_order_gives_the_same_groups() -> None:
    shuffled = audience()
    random.Random(3).shuffle(shuffled)

    again = allocate(shuffled, topics=5, min_topics=2, seed=2025, group_size=6)

    assert again == webinar()


def test_allocate_members_are_sorted_by_id() -> None:
    allocation = webinar()

    assert [list(group.members) for group in allocation.groups] == [
        sorted(group.members) for group in allocation.groups
    ]


def test_allocate_group_of_finds_everybody() -> None:
    allocation = webinar()

    assert {allocation.group_of(member) for member in allocation.groups[2].members} == {3}
    assert allocation.group_of("nobody") is None


def test_allocate_breakout_uses_the_agenda_settings() -> None:
    settings = BreakoutSettings(topics=TOPICS, group_size=6, min_topics=2)

    assert allocate_breakout(settings, audience(), seed=2025) == webinar()


# --- organisations -------------------------------------------------------------------------


def test_allocate_organisation_spelling_and_case_do_not_matter() -> None:
    people = [
        Person(f"p{number}", name) for number, name in enumerate(["Acme", " acme", "ACME ", "aCmE"])
    ]
    people += [Person(f"q{number}", "Other") for number in range(4)]

    allocation = allocate(people, topics=2, min_topics=1, seed=1, group_count=4)

    assert [sorted(member[0] for member in group.members) for group in allocation.groups] == [
        ["p", "q"]
    ] * 4


def test_allocate_unknown_organisation_is_not_spread_as_one() -> None:
    people = [Person(f"p{number}") for number in range(6)]

    allocation = allocate(people, topics=1, min_topics=1, seed=1, group_count=2)

    assert allocation.sizes == (3, 3)


# --- group counts --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("present", "size", "sizes"),
    [
        (40, 6, [5, 5, 6, 6, 6, 6, 6]),
        (36, 6, [6, 6, 6, 6, 6, 6]),
        (9, 6, [4, 5]),
        (8, 6, [4, 4]),
        (6, 6, [6]),
        (15, 6, [5, 5, 5]),
        (50, 8, [7, 7, 7, 7, 7, 7, 8]),
        (10, 4, [3, 3, 4]),
        (4, 2, [2, 2]),
        (3, 2, [3]),
        (5, 2, [2, 3]),
    ],
)
def test_allocate_group_size_is_the_most_people_per_group(
    present: int, size: int, sizes: list[int]
) -> None:
    people = [Person(f"p{number}") for number in range(present)]

    allocation = allocate(people, topics=1, min_topics=1, seed=1, group_size=size)

    assert sorted(allocation.sizes) == sizes


def test_allocate_group_count_makes_that_many_groups() -> None:
    allocation = allocate(audience(), topics=5, min_topics=2, seed=1, group_count=3)

    assert sorted(allocation.sizes) == [13, 13, 14]


# --- pre-assignments -----------------------------------------------------------------------


def test_allocate_preassignment_is_honoured() -> None:
    allocation = webinar(preassigned={"p01": 3, "p02": 3, "p40": 1, "p20": 7})

    assert [allocation.group_of(person) for person in ("p01", "p02", "p40", "p20")] == [3, 3, 1, 7]


def test_allocate_preassignment_of_somebody_absent_is_ignored() -> None:
    allocation = webinar(preassigned={"absent": 99, "p05": 2})

    assert allocation.group_of("p05") == 2
    assert allocation.group_of("absent") is None


def test_allocate_preassignment_beyond_a_group_size_keeps_the_lowest_ids() -> None:
    asked = {f"p{number:02d}": 1 for number in range(1, 9)}

    allocation = webinar(preassigned=asked)

    assert allocation.groups[0].size == 6
    assert [allocation.group_of(f"p{number:02d}") for number in range(1, 7)] == [1] * 6
    assert allocation.group_of("p07") != 1
    assert allocation.group_of("p08") != 1


def test_allocate_preassignment_larger_sizes_go_to_lowest_numbers() -> None:
    # 14 people in 4 groups: two groups of 4 and two of 3; groups 1, 2, 3 each ask for 4.
    people = [Person(f"p{number:02d}") for number in range(14)]
    asked = {f"p{number:02d}": 1 + number // 4 for number in range(12)}

    allocation = allocate(people, topics=1, min_topics=1, seed=1, group_count=4, preassigned=asked)

    assert allocation.groups[0].members == ("p00", "p01", "p02", "p03")
    assert allocation.groups[1].members == ("p04", "p05", "p06", "p07")
    assert allocation.groups[2].members[:3] == ("p08", "p09", "p10")
    assert allocation.group_of("p11") == 4
    assert allocation.sizes == (4, 4, 3, 3)


@pytest.mark.parametrize(
    ("organisations", "asked"),
    [
        # The deal leaves two of E (or F) together; fixing it takes a rotation of three.
        (
            "AFBCAEBFADBGEAGCEFBAA",
            {"p1": 2, "p3": 3, "p4": 2, "p6": 1, "p7": 1, "p8": 1, "p9": 3, "p11": 1}
            | {"p12": 2, "p13": 3, "p14": 3, "p16": 1},
        ),
        # Fixing it moves one of the larger sizes to another group.
        (
            "DDFBABBFBEABBAFA",
            {"p0": 3, "p1": 2, "p3": 1, "p8": 2, "p9": 2, "p11": 1, "p13": 2, "p14": 1},
        ),
    ],
)
def test_allocate_preassignments_still_spread_organisations(
    organisations: str, asked: dict[str, int]
) -> None:
    people = [Person(f"p{number}", name) for number, name in enumerate(organisations)]
    totals = Counter(organisations)

    allocation = allocate(people, topics=1, min_topics=1, seed=0, group_count=3, preassigned=asked)

    name = {person.id: person.organisation for person in people}
    over = [
        (group.number, organisation)
        for group in allocation.groups
        for organisation, held in Counter(name[member] for member in group.members).items()
        if held > -(-totals[organisation] // 3)
    ]
    assert over == []
    assert {person: allocation.group_of(person) for person in asked} == asked
    assert max(allocation.sizes) - min(allocation.sizes) == (0 if len(people) % 3 == 0 else 1)


# --- pairing avoidance ---------------------------------------------------------------------


def test_allocate_avoid_pairs_separates_earlier_partners() -> None:
    earlier = pairs_of(webinar(seed=1))

    plain = webinar(seed=2)
    avoided = webinar(seed=2, avoid_pairs=earlier)

    assert repeated_pairs(plain, earlier) == 19
    assert repeated_pairs(avoided, earlier) == 0


def test_allocate_avoid_pairs_undoes_an_identical_round() -> None:
    earlier = pairs_of(webinar(seed=1))

    avoided = webinar(seed=1, avoid_pairs=earlier)

    assert repeated_pairs(webinar(seed=1), earlier) == len(earlier)
    assert repeated_pairs(avoided, earlier) == 0


def test_allocate_avoid_pairs_keeps_sizes_topics_and_preassignments() -> None:
    earlier = pairs_of(webinar(seed=1))
    asked = {"p01": 1, "p02": 1}

    plain = webinar(seed=1, preassigned=asked)
    avoided = webinar(seed=1, preassigned=asked, avoid_pairs=earlier)

    assert avoided.sizes == plain.sizes
    assert [group.topics for group in avoided.groups] == [group.topics for group in plain.groups]
    assert [avoided.group_of("p01"), avoided.group_of("p02")] == [1, 1]


def test_allocate_avoid_pairs_ignores_absent_people_and_odd_sets() -> None:
    odd = [frozenset({"p01"}), frozenset({"p01", "p02", "p03"}), frozenset({"p01", "absent"})]

    assert webinar(avoid_pairs=odd) == webinar()


# --- topics --------------------------------------------------------------------------------


def test_assign_topics_covers_every_topic_when_slots_allow() -> None:
    topics = assign_topics(7, 5, 2, random.Random(1))

    assert [len(set(chosen)) for chosen in topics] == [2] * 7
    assert sorted(Counter(topic for chosen in topics for topic in chosen).values()) == [
        2,
        3,
        3,
        3,
        3,
    ]


def test_assign_topics_with_too_few_slots_uses_distinct_topics() -> None:
    topics = assign_topics(2, 5, 2, random.Random(1))

    used = [topic for chosen in topics for topic in chosen]
    assert [len(chosen) for chosen in topics] == [2, 2]
    assert len(set(used)) == 4


def test_assign_topics_min_equal_to_topics_gives_all_to_everybody() -> None:
    assert assign_topics(3, 4, 4, random.Random(1)) == [(0, 1, 2, 3)] * 3


# --- late joiners and leavers --------------------------------------------------------------

SMALL = Allocation(
    (
        Group(1, ("a1", "a2", "a3"), (0, 1)),
        Group(2, ("b1", "b2"), (2, 3)),
        Group(3, ("c1", "c2"), (4, 0)),
    )
)
SMALL_ORGANISATIONS = {
    "a1": "X",
    "a2": "Y",
    "a3": "Z",
    "b1": "Acme",
    "b2": "Y",
    "c1": "Z",
    "c2": "W",
}


def test_add_late_joiner_goes_to_the_smallest_group() -> None:
    joined, number = add_late_joiner(SMALL, Person("new", "Other"), SMALL_ORGANISATIONS)

    assert number == 2
    assert joined.groups[1].members == ("b1", "b2", "new")
    assert joined.groups[0] == SMALL.groups[0]
    assert joined.groups[2] == SMALL.groups[2]
    assert joined.group_of("new") == 2


def test_add_late_joiner_avoids_their_organisation_among_equal_smallest() -> None:
    joined, number = add_late_joiner(SMALL, Person("new", " ACME"), SMALL_ORGANISATIONS)

    assert number == 3
    assert joined.groups[2].members == ("c1", "c2", "new")


def test_add_late_joiner_prefers_smallest_over_organisation() -> None:
    _, number = add_late_joiner(
        SMALL, Person("new", "X"), {**SMALL_ORGANISATIONS, "b1": "X", "c1": "X"}
    )

    assert number == 2


def test_add_late_joiner_already_placed_stays() -> None:
    joined, number = add_late_joiner(SMALL, Person("c1", "Z"), SMALL_ORGANISATIONS)

    assert (joined, number) == (SMALL, 3)


def test_add_late_joiner_keeps_topics() -> None:
    joined, _ = add_late_joiner(SMALL, Person("new"), {})

    assert [group.topics for group in joined.groups] == [(0, 1), (2, 3), (4, 0)]


def test_remove_person_keeps_everybody_else() -> None:
    left = remove_person(SMALL, "a2")

    assert left.groups == (
        Group(1, ("a1", "a3"), (0, 1)),
        Group(2, ("b1", "b2"), (2, 3)),
        Group(3, ("c1", "c2"), (4, 0)),
    )
    assert left.group_of("a2") is None


def test_remove_person_not_placed_changes_nothing() -> None:
    assert remove_person(SMALL, "nobody") == SMALL


def test_remove_person_then_late_joiner_fills_the_gap() -> None:
    _, number = add_late_joiner(remove_person(SMALL, "c1"), Person("new"), SMALL_ORGANISATIONS)

    assert number == 3


# --- errors --------------------------------------------------------------------------------

FOUR = [Person(f"p{number}") for number in range(5)]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            {"group_size": 1},
            "A group size of 1 is too small: groups need at least 2 people.",
        ),
        (
            {"group_size": 6},
            "There are only 5 people present, fewer than the group size of 6.",
        ),
        (
            {"people": [Person("solo")], "group_size": 2},
            "There is only 1 person present, fewer than the group size of 2.",
        ),
        (
            {"people": [], "group_size": 6},
            "Nobody is present to split into groups.",
        ),
        (
            {"people": [], "group_count": 2},
            "Nobody is present to split into groups.",
        ),
        (
            {"group_count": 3},
            "There are only 5 people present, too few for 3 groups of at least 2 people.",
        ),
        (
            {"people": [Person("solo")], "group_count": 1},
            "There is only 1 person present, too few for 1 group of at least 2 people.",
        ),
        (
            {"group_count": 0},
            "Asking for 0 groups is too few: there must be at least 1 group.",
        ),
        (
            {"group_size": 6, "group_count": 2},
            "Give either a group size or a number of groups, not both.",
        ),
        (
            {},
            "Give either a group size or a number of groups.",
        ),
        (
            {
                "people": [Person(f"p{number}") for number in range(8)],
                "group_count": 4,
                "preassigned": {"p1": 9},
            },
            "Pre-assigned group 9 does not exist: there are 4 groups.",
        ),
        (
            {"group_count": 1, "preassigned": {"p1": 2}},
            "Pre-assigned group 2 does not exist: there is only 1 group.",
        ),
        (
            {"group_count": 2, "preassigned": {"p1": 0}},
            "Pre-assigned group 0 does not exist: groups are numbered from 1.",
        ),
        (
            {"group_size": 2, "min_topics": 6},
            "min_topics 6 is more than the 5 topics offered.",
        ),
        (
            {"group_size": 2, "topics": 1, "min_topics": 2},
            "min_topics 2 is more than the 1 topic offered.",
        ),
        (
            {"group_size": 2, "min_topics": 0},
            "min_topics 0 is too small: each group needs at least 1 topic.",
        ),
        (
            {"group_size": 2, "topics": 0, "min_topics": 1},
            "A breakout needs at least 1 topic, but 0 were offered.",
        ),
        (
            {"people": [Person("p1"), Person("p2"), Person("p1", "Other")], "group_size": 2},
            'Person "p1" is listed twice among the people present.',
        ),
    ],
)
def test_allocate_error_message(arguments: dict[str, Any], message: str) -> None:
    settings: dict[str, Any] = {"people": FOUR, "topics": 5, "min_topics": 2, "seed": 1}
    settings.update(arguments)
    people = settings.pop("people")

    with pytest.raises(AllocationError) as caught:
        allocate(people, **settings)

    assert str(caught.value) == message


def test_add_late_joiner_error_message_without_groups() -> None:
    with pytest.raises(AllocationError) as caught:
        add_late_joiner(Allocation(()), Person("new"), {})

    assert str(caught.value) == "There are no breakout groups to join yet."


def test_allocation_error_is_a_value_error() -> None:
    assert issubclass(AllocationError, ValueError)
