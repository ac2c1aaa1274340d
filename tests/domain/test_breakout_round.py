"""A breakout round as an immutable value: each change returns a new round."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webinar.domain.breakout_round import (
    NO_RESPONSE,
    Group,
    Round,
    frozen_mapping,
    replaced,
)

pytestmark = pytest.mark.unit

STARTED = datetime(2026, 3, 5, 11, 30, tzinfo=UTC)


def two_groups() -> Round:
    groups = {
        1: Group(1, (0, 1), facilitator_id="ann", members=("ann", "bob")),
        2: Group(2, (2, 3), members=("cat", "dan")),
    }
    return Round(7, "breakout", 42, STARTED, None, "", frozen_mapping(groups))


def test_a_change_leaves_the_round_it_came_from_unchanged() -> None:
    before = two_groups()

    after = before.with_response(1, 0, "Share early", 1, False)

    assert before.responses == {}
    assert after.response(1, 0) == ("Share early", 1, False, False)
    assert before.response(1, 0) == NO_RESPONSE


def test_a_changed_round_shares_the_groups_it_did_not_touch() -> None:
    before = two_groups()

    after = before.with_help(2, "2026-03-05T11:35:00.000+00:00")

    assert after.groups[1] is before.groups[1]
    assert after.groups[2].help_at == "2026-03-05T11:35:00.000+00:00"
    assert before.groups[2].help_at is None
    assert after.responses is before.responses


def test_the_mappings_of_a_round_cannot_be_changed_in_place() -> None:
    rnd = two_groups()

    with pytest.raises(TypeError):
        rnd.responses[(1, 0)] = ("x", 1, False, False)  # type: ignore[index]
    with pytest.raises(AttributeError):
        rnd.message = "changed"  # type: ignore[misc]


def test_moving_the_facilitator_frees_their_seat_and_appends_them_to_the_new_group() -> None:
    after = two_groups().moved("ann", 2)

    assert after.groups[1] == Group(1, (0, 1), facilitator_id=None, members=("bob",))
    assert after.groups[2].members == ("cat", "dan", "ann")
    assert after.group_of("ann") == after.groups[2]


def test_removing_someone_in_no_group_returns_the_same_round() -> None:
    rnd = two_groups()

    assert rnd.without_member("nobody") is rnd


def test_a_late_joiner_can_open_a_new_group_with_its_topics() -> None:
    after = two_groups().with_member("eve", 3, (4,))

    assert after.groups[3] == Group(3, (4,), members=("eve",))


def test_a_saved_response_keeps_its_star_and_a_star_keeps_the_words() -> None:
    starred = two_groups().with_response(1, 0, "First", 1, False).with_star(1, 0, True)

    corrected = starred.with_response(1, 0, "Second", 2, True)

    assert corrected.response(1, 0) == ("Second", 2, True, True)


def test_points_are_kept_in_the_order_they_came() -> None:
    at = STARTED.isoformat()

    after = two_groups().with_point(1, 0, ("Bob", "One", at)).with_point(1, 0, ("Ann", "Two", at))

    assert after.points[(1, 0)] == (("Bob", "One", at), ("Ann", "Two", at))


def test_ending_and_reopening_and_the_message() -> None:
    ended = two_groups().ended(STARTED + timedelta(minutes=20)).with_message("Thank you")

    assert ended.ended_at == STARTED + timedelta(minutes=20)
    assert ended.reopened().ended_at is None
    assert ended.message == "Thank you"


def test_replaced_swaps_a_round_by_id_or_appends_a_new_one() -> None:
    first = two_groups()
    changed = first.with_message("Hello")
    second = Round(8, "breakout-2", 1, STARTED, None, "")

    assert replaced((first,), changed) == (changed,)
    assert replaced((first,), second) == (first, second)


PEOPLE = ("ann", "bob", "cat", "dan", "eve")
Change = tuple[str, str, int, int]


def plain(rnd: Round) -> tuple[object, ...]:
    groups = {n: (g.facilitator_id, g.help_at, g.members) for n, g in rnd.groups.items()}
    return (rnd.ended_at, rnd.message, groups, dict(rnd.responses), dict(rnd.points))


def apply_change(rnd: Round, change: Change) -> Round:
    kind, who, number, topic = change
    if kind == "move" and rnd.group_of(who) is not None:
        return rnd.moved(who, number)
    if kind == "join" and rnd.group_of(who) is None:
        return rnd.with_member(who, number, (topic,))
    if kind == "leave":
        return rnd.without_member(who)
    if kind == "facilitate":
        return rnd.with_facilitator(1, who)
    if kind == "save":
        return rnd.with_response(number, topic, who, rnd.response(number, topic)[1] + 1, False)
    if kind == "star" and (number, topic) in rnd.responses:
        return rnd.with_star(number, topic, True)
    if kind == "point":
        return rnd.with_point(number, topic, (who, "point", "at"))
    return rnd.with_message(who)


changes = st.lists(
    st.tuples(
        st.sampled_from(("move", "join", "leave", "facilitate", "save", "star", "point", "say")),
        st.sampled_from(PEOPLE),
        st.sampled_from((1, 2)),
        st.integers(0, 3),
    ),
    max_size=30,
)


@given(changes)
def test_no_sequence_of_changes_alters_an_earlier_round(sequence: list[Change]) -> None:
    history = [two_groups()]
    seen = [plain(history[0])]

    for change in sequence:
        history.append(apply_change(history[-1], change))
        seen.append(plain(history[-1]))

    assert [plain(rnd) for rnd in history] == seen
    final = history[-1]
    members = [m for g in final.groups.values() for m in g.members]
    assert len(members) == len(set(members))  # nobody is in two groups
