"""The poll rules: writing a poll, its life, answers, counting, words, charts."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest

from webinar.domain import polls
from webinar.domain.polls import Poll, PollError, PollSpec
from webinar.web.poll_charts import chart_svg, word_cloud_svg

pytestmark = pytest.mark.unit

NOW = datetime(2026, 3, 12, 10, 0, tzinfo=UTC)
SVG = "{http://www.w3.org/2000/svg}"


def make(kind: polls.Kind = "single", **fields: object) -> Poll:
    defaults: dict[str, object] = {"question": "Which?", "kind": kind}
    if kind in ("single", "multiple", "quiz"):
        defaults["options"] = ("Police", "Health", "Education")
    if kind == "quiz":
        defaults["correct"] = 1
    spec = polls.check_spec(PollSpec(**{**defaults, **fields}))  # type: ignore[arg-type]
    return Poll(1, spec, "opening", 0)


def opened(kind: polls.Kind = "single", **fields: object) -> Poll:
    return polls.open_poll(make(kind, **fields), NOW)


# -- writing a poll --


def test_check_spec_trims_and_defaults_multiple_maximum_to_every_option() -> None:
    spec = polls.check_spec(
        PollSpec("  Which agencies?  ", "multiple", options=(" Police ", "Health"))
    )
    assert (spec.question, spec.options, spec.max_choices) == (
        "Which agencies?",
        ("Police", "Health"),
        2,
    )


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        (PollSpec("", "single", options=("a", "b")), "question"),
        (PollSpec("x" * 301, "single", options=("a", "b")), "question"),
        (PollSpec("Bad\x07", "single", options=("a", "b")), "question"),
        (PollSpec("Q", "single", options=("a",)), "options"),
        (PollSpec("Q", "single", options=("a", "A")), "options"),
        (PollSpec("Q", "words", options=("a", "b")), "options"),
        (PollSpec("Q", "multiple", options=("a", "b"), max_choices=3), "max_choices"),
        (PollSpec("Q", "rating", scale_min=5, scale_max=1), "scale_max"),
        (PollSpec("Q", "quiz", options=("a", "b")), "correct"),
        (PollSpec("Q", "quiz", options=("a", "b"), correct=2), "correct"),
        (PollSpec("Q", "single", options=("a", "b"), correct=0), "correct"),
    ],
)
def test_check_spec_refuses_with_the_field(spec: PollSpec, field: str) -> None:
    with pytest.raises(PollError) as caught:
        polls.check_spec(spec)
    assert caught.value.field == field


# -- its life --


def test_open_close_reopen_keeps_first_opening_time() -> None:
    poll = polls.open_poll(make(), NOW)
    closed = polls.close_poll(poll, NOW + timedelta(minutes=2))
    again = polls.open_poll(closed, NOW + timedelta(minutes=5))
    assert (again.state, again.opened_at, again.closed_at) == ("open", NOW, None)
    assert closed.closed_at == NOW + timedelta(minutes=2)


def test_open_twice_and_close_unopened_are_conflicts() -> None:
    with pytest.raises(PollError) as twice:
        polls.open_poll(opened(), NOW)
    with pytest.raises(PollError) as unopened:
        polls.close_poll(make(), NOW)
    assert (twice.value.kind, unopened.value.kind) == ("conflict", "conflict")


def test_results_hidden_until_revealed_unless_live() -> None:
    hidden = opened()
    live = opened(results="live")
    assert (hidden.results_public, polls.reveal(hidden, True).results_public) == (False, True)
    assert (make(results="live").results_public, live.results_public) == (False, True)


def test_reveal_before_opening_is_refused() -> None:
    with pytest.raises(PollError):
        polls.reveal(make(), True)


def test_reset_makes_ready_hidden_and_off_the_projector() -> None:
    poll = polls.project(polls.reveal(opened(), True), True)
    assert polls.reset(poll) == make()


def test_polls_opening_with_an_item_are_the_ready_start_polls_of_that_item() -> None:
    start = Poll(1, make(opens="start").spec, "opening", 0)
    host = Poll(2, make().spec, "opening", 1)
    other = Poll(3, make(opens="start").spec, "closing", 2)
    done = polls.open_poll(Poll(4, make(opens="start").spec, "opening", 3), NOW)
    assert polls.to_open_at_start([start, host, other, done], "opening") == [start]


def test_sequence_orders_by_position_then_id() -> None:
    a, b, c = (Poll(i, make().spec, None, pos) for i, pos in ((3, 0), (1, 5), (2, 0)))
    assert [p.id for p in polls.sequence([a, b, c])] == [2, 3, 1]


# -- answers --


def test_single_choice_answer_is_the_option_index() -> None:
    assert polls.check_answer(opened(), [2]) == (2,)


def test_answer_to_a_closed_or_unopened_poll_is_refused() -> None:
    for poll in (make(), polls.close_poll(opened(), NOW)):
        with pytest.raises(PollError) as caught:
            polls.check_answer(poll, [0])
        assert caught.value.kind == "conflict"


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        ([], "invalid"),
        ([3], "not_found"),
        ([-1], "not_found"),
        ([0, 1], "invalid"),
        ([True], "invalid"),
        (["0"], "invalid"),
    ],
)
def test_single_choice_refuses_bad_answers(raw: list[object], kind: str) -> None:
    with pytest.raises(PollError) as caught:
        polls.check_answer(opened(), raw)
    assert caught.value.kind == kind


def test_multiple_choice_maximum() -> None:
    poll = opened("multiple", max_choices=2)
    assert polls.check_answer(poll, [2, 0]) == (0, 2)
    with pytest.raises(PollError, match="up to 2 options; you chose 3"):
        polls.check_answer(poll, [0, 1, 2])
    with pytest.raises(PollError, match="once"):
        polls.check_answer(poll, [1, 1])


def test_rating_must_be_on_the_scale() -> None:
    poll = opened("rating", scale_min=1, scale_max=5)
    assert polls.check_answer(poll, [5]) == (5,)
    for raw in ([0], [6], [1, 2]):
        with pytest.raises(PollError, match="from 1 to 5"):
            polls.check_answer(poll, raw)


def test_words_are_normalised_deduplicated_and_limited() -> None:
    poll = opened("words")
    assert polls.check_answer(poll, [" Policies ", "policy", "", "Trust!"]) == ("policy", "trust")
    with pytest.raises(PollError, match="up to 3"):
        polls.check_answer(poll, ["a", "b", "c", "d"])
    with pytest.raises(PollError, match="limit is 30"):
        polls.check_answer(poll, ["x" * 31])
    with pytest.raises(PollError, match="control character"):
        polls.check_answer(poll, ["bad\x00word"])
    with pytest.raises(PollError, match="letter or digit"):
        polls.check_answer(poll, ["!!!"])
    with pytest.raises(PollError, match="as text"):
        polls.check_answer(poll, [1])


def test_open_text_takes_one_trimmed_answer() -> None:
    poll = opened("text")
    assert polls.check_answer(poll, ["  More time for supervision. "]) == (
        "More time for supervision.",
    )
    with pytest.raises(PollError, match="limit is 500"):
        polls.check_answer(poll, ["x" * 501])
    with pytest.raises(PollError, match="first"):
        polls.check_answer(poll, ["   "])


@pytest.mark.parametrize(
    ("word", "counted"),
    [
        ("Referrals", "referral"),
        ("POLICIES", "policy"),
        ("  early   Helps ", "early help"),
        ("class", "class"),
        ("bus", "bus"),
        ("analysis", "analysis"),
        ("trust.", "trust"),
        ("ÉCOLES", "école"),
    ],
)
def test_normalise_word(word: str, counted: str) -> None:
    assert polls.normalise_word(word) == counted


# -- counting --


def test_multiple_choice_percentages_are_of_respondents_not_ticks() -> None:
    poll = opened("multiple")
    tally = polls.tally(poll, [(0, 1, 2), (0,), (0, 1), (2,)])
    assert tally.respondents == 4
    assert [(r.label, r.count, r.percent) for r in tally.rows] == [
        ("Police", 3, 75.0),
        ("Health", 2, 50.0),
        ("Education", 2, 50.0),
    ]


def test_rating_tally_has_every_value_and_the_mean() -> None:
    tally = polls.tally(opened("rating", scale_min=1, scale_max=3), [(1,), (3,), (3,)])
    assert [(r.label, r.count) for r in tally.rows] == [("1", 1), ("2", 0), ("3", 2)]
    assert tally.mean == 2.33


def test_words_tally_most_frequent_first_and_filtered() -> None:
    tally = polls.tally(
        opened("words"), [("trust", "time"), ("trust",), ("badword",)], word_filter=["badword"]
    )
    assert [(r.label, r.count, r.percent) for r in tally.rows] == [
        ("trust", 2, 66.7),
        ("time", 1, 33.3),
    ]
    assert (tally.respondents, tally.held) == (3, 1)


def test_text_tally_holds_back_filtered_answers() -> None:
    tally = polls.tally(opened("text"), [("b fine",), ("a rude word",)], word_filter=["rude"])
    assert (tally.texts, tally.held) == (("b fine",), 1)


def test_quiz_marks_the_correct_option_only_once_closed_and_revealed() -> None:
    poll = opened("quiz")
    assert not any(r.correct for r in polls.tally(poll, [(1,)]).rows)
    done = polls.reveal(polls.close_poll(poll, NOW), True)
    assert [r.correct for r in polls.tally(done, [(1,)]).rows] == [False, True, False]


def test_no_answers_gives_zero_percent() -> None:
    assert [r.percent for r in polls.tally(opened(), []).rows] == [0.0, 0.0, 0.0]


# -- charts --


def test_word_cloud_is_valid_svg_with_escaped_words_and_a_description() -> None:
    tally = polls.tally(opened("words"), [("<script>",), ("trust",), ("trust",)])
    svg = word_cloud_svg(tally, "Words & more")
    root = ET.fromstring(svg)
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert texts == ["trust", "<script>"]
    desc = root.find(f"{SVG}desc")
    assert desc is not None and desc.text == "trust: 2, <script>: 1"
    assert "<script" not in svg  # escaped


def test_chart_svg_draws_bars_for_choices_and_nothing_for_text() -> None:
    data = {
        "kind": "single",
        "question": "Which?",
        "respondents": 2,
        "rows": [{"label": "Police", "count": 2, "percent": 100.0, "correct": False}],
    }
    root = ET.fromstring(chart_svg(data))
    assert len(list(root.iter(f"{SVG}rect"))) == 1
    assert chart_svg({**data, "kind": "text"}) == ""


def test_word_cloud_keeps_every_word_inside_the_picture() -> None:
    long_word = "interagencysafeguardingpartner"  # 30 characters, the longest allowed
    tally = polls.tally(opened("words"), [(long_word,), (long_word,), ("time",)])
    root = ET.fromstring(word_cloud_svg(tally, "Words"))
    width = float(root.attrib["viewBox"].split()[2])
    for text in root.iter(f"{SVG}text"):
        size = float(text.attrib["font-size"])
        right = float(text.attrib["x"]) + len(text.text or "") * size * 0.6
        assert right <= width
