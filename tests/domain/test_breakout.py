"""Who is dealt into a breakout at the split: pure, on fixed datetimes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from webinar.domain.breakout import AWAY_AFTER, present_at_split

pytestmark = pytest.mark.unit

SPLIT = datetime(2026, 3, 12, 11, 30, tzinfo=UTC)


def test_present_at_split_counts_open_screens_and_recent_drops_only() -> None:
    left_at = {
        "phone": SPLIT - timedelta(seconds=30),  # reconnecting
        "edge": SPLIT - AWAY_AFTER,  # exactly two minutes: gone
        "gone": SPLIT - timedelta(minutes=40),
    }

    present = present_at_split({"laptop"}, left_at, SPLIT)

    assert present == {"laptop", "phone"}


def test_present_at_split_takes_the_setting() -> None:
    left_at = {"phone": SPLIT - timedelta(seconds=30)}

    assert present_at_split(set(), left_at, SPLIT, timedelta(seconds=10)) == set()
    assert present_at_split(set(), left_at, SPLIT, timedelta(minutes=5)) == {"phone"}
