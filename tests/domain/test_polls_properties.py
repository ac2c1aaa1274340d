"""Property tests of poll counting: every respondent counted once per option chosen."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from webinar.domain import polls
from webinar.domain.polls import Poll, PollSpec

pytestmark = pytest.mark.unit

NOW = datetime(2026, 3, 12, 10, 0, tzinfo=UTC)
SETTINGS = settings(max_examples=200, deadline=None)


def multiple(options: int, most: int) -> Poll:
    spec = polls.check_spec(
        PollSpec("Which?", "multiple", tuple(f"Option {i}" for i in range(options)), most)
    )
    return polls.open_poll(Poll(1, spec, None, 0), NOW)


@st.composite
def sessions(draw: st.DrawFn) -> tuple[Poll, list[tuple[str, list[int]]]]:
    """A poll and a stream of (respondent, choices sent), changes of mind included."""
    options = draw(st.integers(2, 6))
    most = draw(st.integers(1, options))
    poll = multiple(options, most)
    people = [f"p{i}" for i in range(draw(st.integers(1, 12)))]
    stream = draw(
        st.lists(
            st.tuples(
                st.sampled_from(people),
                st.lists(st.integers(-1, options), min_size=0, max_size=options + 1),
            ),
            max_size=40,
        )
    )
    return poll, stream


def replay(poll: Poll, stream: list[tuple[str, list[int]]]) -> dict[str, polls.Answer]:
    """What the service keeps: the last accepted answer of each respondent."""
    kept: dict[str, polls.Answer] = {}
    for person, raw in stream:
        try:
            kept[person] = polls.check_answer(poll, list(raw))
        except polls.PollError:
            continue  # refused: the earlier answer stands
    return kept


@SETTINGS
@given(sessions())
def test_counts_equal_distinct_respondents_per_option(
    case: tuple[Poll, list[tuple[str, list[int]]]],
) -> None:
    poll, stream = case
    kept = replay(poll, stream)
    tally = polls.tally(poll, kept.values())
    expected = Counter(c for answer in kept.values() for c in set(answer))
    assert tally.respondents == len(kept)
    assert [r.count for r in tally.rows] == [expected[i] for i in range(len(poll.spec.options))]


@SETTINGS
@given(sessions())
def test_no_answer_counted_twice_and_percentages_are_of_respondents(
    case: tuple[Poll, list[tuple[str, list[int]]]],
) -> None:
    poll, stream = case
    kept = replay(poll, stream)
    tally = polls.tally(poll, kept.values())
    assert all(r.count <= tally.respondents for r in tally.rows)
    assert sum(r.count for r in tally.rows) == sum(len(a) for a in kept.values())
    for row in tally.rows:
        assert row.percent == (round(100 * row.count / len(kept), 1) if kept else 0.0)
        assert 0.0 <= row.percent <= 100.0


@SETTINGS
@given(st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=3))
def test_normalised_words_are_stable(words: list[str]) -> None:
    for word in words:
        once = polls.normalise_word(word)
        assert once == once.strip() == once.casefold()
        assert polls.normalise_word(word.upper()) == polls.normalise_word(word.upper().lower())
