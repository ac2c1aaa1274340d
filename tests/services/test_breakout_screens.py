"""What the screens show of a breakout, as pure functions of a round and a fixed ``now``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from webinar.domain.agenda import BreakoutSettings
from webinar.domain.breakout_round import Group, Round, frozen_mapping
from webinar.services import breakout_screens as screens

pytestmark = pytest.mark.unit

STARTED = datetime(2026, 3, 5, 11, 30, tzinfo=UTC)
SETTINGS = BreakoutSettings(
    topics=("Information sharing", "Voice of the child", "Neglect"),
    group_size=2,
    grace_seconds=60,
    volunteer_seconds=90,
    video_url_template="https://video.example/room-{group}",
)
NAMES = {"ann": ("Ann", "Leeds SP"), "bob": ("Bob", "NHS Trust"), "cat": ("Cat", "Police")}


def a_round() -> Round:
    groups = {
        1: Group(1, (0,), facilitator_id="ann", members=("ann", "bob", "cat")),
        2: Group(2, (1, 2), help_at="2026-03-05T11:40:00.000+00:00", members=()),
    }
    return Round(3, "breakout", 1, STARTED, None, "Ten minutes left", frozen_mapping(groups))


def test_group_data_shows_members_topics_and_the_lock_time_from_now() -> None:
    ended = a_round().with_response(1, 2, "Off-topic note", 1, False).ended(STARTED)

    data = screens.group_data(ended, ended.groups[1], SETTINGS, NAMES, STARTED)

    assert data["locks_at"] == "2026-03-05T11:31:00.000+00:00"
    assert data["locked"] is False
    assert screens.group_data(
        ended, ended.groups[1], SETTINGS, NAMES, STARTED + timedelta(seconds=61)
    )["locked"]
    assert data["volunteer_by"] == "2026-03-05T11:31:30.000+00:00"
    assert data["video_url"] == "https://video.example/room-1"
    assert data["members"][0] == {"id": "ann", "name": "Ann", "organisation": "Leeds SP"}
    # The given topic, and one the group wrote on without being given it.
    assert [t["index"] for t in data["topics"]] == [0, 2]


def test_grid_data_counts_coverage_and_notes_an_oversize_group() -> None:
    rnd = a_round().with_response(1, 0, "Share early", 1, False).with_response(1, 1, " ", 2, False)

    grid = screens.grid_data(rnd, SETTINGS, NAMES)

    assert grid["by_topic"] == {"0": 1, "1": 0, "2": 0}
    assert grid["groups"][0]["covered"] == [0]
    assert grid["groups"][0]["facilitator"] == "Ann"
    assert grid["groups"][1]["help"] is True
    assert grid["oversize"].startswith("Group 1 has more than 2 people")


def test_present_data_by_topic_and_by_group() -> None:
    rnd = a_round().with_response(1, 0, "Share early", 1, False).with_star(1, 0, True)

    by_topic = screens.present_data(rnd, SETTINGS, {"mode": "topic", "index": 0})
    by_group = screens.present_data(rnd, SETTINGS, {"mode": "group", "index": 1})

    assert by_topic["title"] == "Topic 1: Information sharing"
    assert by_topic["covered_by"] == 1
    assert [(e["label"], e["text"], e["starred"]) for e in by_topic["entries"]] == [
        ("Group 1", "Share early", True),
        ("Group 2", "", False),
    ]
    assert [e["label"] for e in by_group["entries"]] == [
        "Topic 1: Information sharing",
        "Topic 2: Voice of the child",
        "Topic 3: Neglect",
    ]
    assert screens.present_data(None, None, {"mode": "topic", "index": 0})["mode"] == "off"


def test_round_data_of_no_round_and_of_an_ended_one() -> None:
    ended = a_round().ended(STARTED + timedelta(minutes=20))

    assert screens.round_data(None, None, STARTED) == {"round": None, "state": "none"}
    assert screens.round_data(ended, SETTINGS, STARTED + timedelta(minutes=30)) == {
        "round": 3,
        "item_id": "breakout",
        "state": "ended",
        "capture_open": False,
        "ended_at": "2026-03-05T11:50:00.000+00:00",
        "message": "Ten minutes left",
        "groups": 2,
    }
