"""Tests of the Q&A forum rules: text, filter, routing, moderation, ordering, rate limits.

Pure domain code on fixed datetimes; nothing sleeps.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webinar.domain.agenda import Agenda
from webinar.domain.agenda_file import parse_agenda
from webinar.domain.qa import (
    STATES,
    QAError,
    QASettings,
    Question,
    RateLimiter,
    State,
    approve,
    carry_over,
    clean_text,
    edit_by_author,
    edit_by_host,
    hide,
    initial_state,
    mark_answered,
    merge,
    ordered,
    reject,
    route_question,
    set_highlight,
    set_pin,
    unhide,
)
from webinar.domain.text import matches_filter

pytestmark = pytest.mark.unit

#: The seed agenda; read as ``webinar.services.agenda_files.load_agenda(SEED_AGENDA)`` does,
#: without importing the service layer.
SEED_AGENDA = Path(__file__).parents[2] / "agendas" / "seed.toml"

T0 = datetime(2026, 11, 26, 10, 30, tzinfo=UTC)

SEED_ORDER = (
    "welcome",
    "national-review-updates",
    "review-qa",
    "lcspr",
    "lcspr-qa",
    "lcspr-breakout",
    "breakout-feedback",
    "closing-remarks",
)


def question(qid: int = 1, **changes: Any) -> Question:
    """A published question of review-qa at T0, with ``changes`` applied."""
    base = Question(
        id=qid,
        item_id="review-qa",
        text="What changed in the national review?",
        state="published",
        created_at=T0,
        author_name="Ann",
        author_organisation="Trust A",
    )
    return replace(base, **changes)


def in_state(state: State, **changes: Any) -> Question:
    """A question as it would be in ``state`` (reason and merge target filled in)."""
    extra: dict[str, Any] = {}
    if state == "rejected":
        extra["reject_reason"] = "off_topic"
    if state == "merged":
        extra["merged_into"] = 99
    return question(state=state, **extra, **changes)


def before(item_id: str) -> tuple[str, ...]:
    """Ids of the seed items that come before ``item_id`` (all finished)."""
    return SEED_ORDER[: SEED_ORDER.index(item_id)]


@pytest.fixture(scope="module")
def seed() -> Agenda:
    text = SEED_AGENDA.read_text(encoding="utf-8")
    return parse_agenda(text, str(SEED_AGENDA), today=date(2026, 11, 1))


# -- clean_text --------------------------------------------------------------------------------


def test_clean_text_trims_surrounding_whitespace() -> None:
    result = clean_text("  \n\tWhat is an LCSPR?  \n", limit=500)

    assert result == "What is an LCSPR?"


@pytest.mark.parametrize("text", ["", " ", "   \n\t  ", "\u3000\u00a0"])
def test_clean_text_empty_or_whitespace_only_is_refused(text: str) -> None:
    with pytest.raises(QAError) as caught:
        clean_text(text, limit=500)

    assert str(caught.value) == "Please write your question first."
    assert caught.value.kind == "invalid"
    assert caught.value.field == "text"


def test_clean_text_empty_reply_names_the_reply() -> None:
    with pytest.raises(QAError) as caught:
        clean_text("  ", limit=1000, what="reply")

    assert str(caught.value) == "Please write your reply first."


def test_clean_text_over_the_limit_is_refused_naming_length_and_limit() -> None:
    with pytest.raises(QAError) as caught:
        clean_text("x" * 11, limit=10)

    assert str(caught.value) == (
        "Your question is 11 characters long; the limit is 10. Please shorten it."
    )
    assert caught.value.kind == "invalid"
    assert caught.value.field == "text"


def test_clean_text_exactly_at_the_limit_is_accepted() -> None:
    text = "y" * 500

    result = clean_text(text, limit=500)

    assert result == text


def test_clean_text_limit_counts_after_trimming() -> None:
    result = clean_text("   " + "z" * 10 + "\n\n", limit=10)

    assert result == "z" * 10


@pytest.mark.parametrize("control", ["\x00", "\x07", "\x1b", "\x7f", "\x9b"])
def test_clean_text_control_character_is_refused(control: str) -> None:
    with pytest.raises(QAError) as caught:
        clean_text(f"Is this{control} allowed?", limit=500)

    assert str(caught.value) == "Your question contains a control character; remove it."
    assert caught.value.kind == "invalid"
    assert caught.value.field == "text"


def test_clean_text_newlines_and_tabs_inside_are_kept() -> None:
    text = "First line\nSecond line\n\n\tIndented point"

    result = clean_text(text, limit=500)

    assert result == text


@pytest.mark.parametrize(
    "text",
    [
        "Great talk \U0001f44d\U0001f3fd \U0001f468\u200d\U0001f469\u200d\U0001f467",
        "Caf\u0065\u0301 and re\u0301sume\u0301",
        "\u0645\u0627 \u0647\u064a \u0627\u0644\u0645\u0631\u0627\u062c\u0639\u0629\u061f",
        "\u05de\u05d4 \u05d6\u05d4 LCSPR?",
        "<script>alert(1)</script>",
        "Mixed \u202eright-to-left\u202c override",
    ],
    ids=["emoji", "combining", "arabic", "hebrew", "script-tag", "bidi-override"],
)
def test_clean_text_unusual_text_is_kept_byte_for_byte(text: str) -> None:
    result = clean_text(text, limit=500)

    assert result.encode("utf-8") == text.encode("utf-8")


def test_clean_text_combining_characters_are_not_normalised() -> None:
    text = "e\u0301"

    result = clean_text(text, limit=500)

    assert result == "e\u0301"
    assert result != unicodedata.normalize("NFC", text)
    assert len(result) == 2


# -- word filter and initial state --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "words", "expected"),
    [
        ("This is rubbish", ["rubbish"], True),
        ("RUBBISH talk", ["Rubbish"], True),
        ("rubbish, frankly.", ["rubbish"], True),
        ("What a Bad Word that was", ["bad word"], True),
        ("bad words everywhere", ["bad word"], False),
        ("bad, word", ["bad word"], False),
        ("a class act", ["ass"], False),
        ("passing the ball", ["ass"], False),
        ("you ass.", ["ass"], True),
        ("I love c++ a lot", ["c++"], True),
        ("anything at all", ["", "   "], False),
        ("anything at all", [], False),
        ("the word is rubbish", ["  rubbish  "], True),
        ("fine text", ["rubbish", "nonsense"], False),
        ("utter nonsense", ["rubbish", "nonsense"], True),
    ],
)
def test_matches_filter_whole_words_any_case(text: str, words: list[str], expected: bool) -> None:
    result = matches_filter(text, words)

    assert result == expected


@pytest.mark.parametrize(
    ("moderation", "text", "expected"),
    [
        (False, "A fair question", ("published", False)),
        (True, "A fair question", ("pending", False)),
        (False, "A rubbish question", ("pending", True)),
        (True, "A rubbish question", ("pending", True)),
    ],
)
def test_initial_state_by_moderation_and_filter(
    moderation: bool, text: str, expected: tuple[str, bool]
) -> None:
    settings = QASettings(moderation=moderation, word_filter=("rubbish",))

    result = initial_state(text, settings)

    assert result == expected


# -- route_question ------------------------------------------------------------------------------


def test_route_question_seed_agenda_has_the_expected_items(seed: Agenda) -> None:
    ids = tuple(item.id for item in seed.items)
    qa_ids = [item.id for item in seed.items if item.kind == "qa"]

    assert ids == SEED_ORDER
    assert qa_ids == ["review-qa", "lcspr-qa"]


def test_route_question_before_start_goes_to_first_qa(seed: Agenda) -> None:
    result = route_question(seed, None, ())

    assert result == "review-qa"


@pytest.mark.parametrize("current", ["welcome", "national-review-updates"])
def test_route_question_during_opening_talks_goes_to_review_qa(seed: Agenda, current: str) -> None:
    result = route_question(seed, current, before(current))

    assert result == "review-qa"


def test_route_question_during_review_qa_goes_to_review_qa(seed: Agenda) -> None:
    result = route_question(seed, "review-qa", before("review-qa"))

    assert result == "review-qa"


def test_route_question_during_lcspr_goes_to_lcspr_qa(seed: Agenda) -> None:
    result = route_question(seed, "lcspr", before("lcspr"))

    assert result == "lcspr-qa"


def test_route_question_review_qa_skipped_goes_to_lcspr_qa(seed: Agenda) -> None:
    result = route_question(seed, "national-review-updates", ("welcome", "review-qa"))

    assert result == "lcspr-qa"


@pytest.mark.parametrize("current", ["lcspr-breakout", "breakout-feedback", "closing-remarks"])
def test_route_question_after_last_qa_goes_to_last_qa(seed: Agenda, current: str) -> None:
    result = route_question(seed, current, before(current))

    assert result == "lcspr-qa"


def test_route_question_after_the_event_goes_to_last_qa(seed: Agenda) -> None:
    result = route_question(seed, None, SEED_ORDER)

    assert result == "lcspr-qa"


def test_route_question_requested_open_slot_is_used(seed: Agenda) -> None:
    result = route_question(seed, "welcome", (), requested="lcspr-qa")

    assert result == "lcspr-qa"


def test_route_question_requested_current_slot_is_used(seed: Agenda) -> None:
    result = route_question(seed, "review-qa", before("review-qa"), requested="review-qa")

    assert result == "review-qa"


def test_route_question_requested_finished_slot_is_a_conflict(seed: Agenda) -> None:
    with pytest.raises(QAError) as caught:
        route_question(seed, "lcspr", before("lcspr"), requested="review-qa")

    assert str(caught.value) == (
        "That Q&A slot has finished; your question will go to the next one."
    )
    assert caught.value.kind == "conflict"
    assert caught.value.field == "item_id"


@pytest.mark.parametrize("requested", ["no-such-item", "lcspr", "welcome", ""])
def test_route_question_requested_unknown_or_not_qa_is_not_found(
    seed: Agenda, requested: str
) -> None:
    with pytest.raises(QAError) as caught:
        route_question(seed, "welcome", (), requested=requested)

    assert str(caught.value) == "There is no Q&A slot with that id."
    assert caught.value.kind == "not_found"
    assert caught.value.field == "item_id"


def test_route_question_agenda_without_qa_is_a_conflict(seed: Agenda) -> None:
    no_qa = Agenda(
        title=seed.title,
        timezone=seed.timezone,
        timezone_name=seed.timezone_name,
        items=tuple(item for item in seed.items if item.kind != "qa"),
    )

    with pytest.raises(QAError) as caught:
        route_question(no_qa, "welcome", ())

    assert str(caught.value) == "This event has no Q&A slot."
    assert caught.value.kind == "conflict"
    assert caught.value.field is None


# -- moderation state machine -------------------------------------------------------------------

TARGET = question(50, text="The original question")

OPERATIONS: dict[str, Callable[[Question], Question]] = {
    "approve": approve,
    "reject": lambda q: reject(q, "duplicate"),
    "hide": hide,
    "unhide": unhide,
    "merge": lambda q: merge(q, TARGET),
    "edit_by_host": lambda q: edit_by_host(q, "Edited by the host", 500),
    "mark_answered": lambda q: mark_answered(q, "live"),
    "set_highlight": lambda q: set_highlight(q, True),
    "set_pin": lambda q: set_pin(q, True),
}

#: (state, operation) -> resulting state, or None when the operation is refused.
TRANSITIONS: dict[tuple[State, str], State | None] = {
    ("pending", "approve"): "published",
    ("published", "approve"): None,
    ("rejected", "approve"): None,
    ("hidden", "approve"): None,
    ("merged", "approve"): None,
    ("pending", "reject"): "rejected",
    ("published", "reject"): "rejected",
    ("rejected", "reject"): None,
    ("hidden", "reject"): "rejected",
    ("merged", "reject"): None,
    ("pending", "hide"): None,
    ("published", "hide"): "hidden",
    ("rejected", "hide"): None,
    ("hidden", "hide"): None,
    ("merged", "hide"): None,
    ("pending", "unhide"): None,
    ("published", "unhide"): None,
    ("rejected", "unhide"): None,
    ("hidden", "unhide"): "published",
    ("merged", "unhide"): None,
    ("pending", "merge"): "merged",
    ("published", "merge"): "merged",
    ("rejected", "merge"): None,
    ("hidden", "merge"): "merged",
    ("merged", "merge"): None,
    ("pending", "edit_by_host"): "pending",
    ("published", "edit_by_host"): "published",
    ("rejected", "edit_by_host"): "rejected",
    ("hidden", "edit_by_host"): "hidden",
    ("merged", "edit_by_host"): None,
    ("pending", "mark_answered"): None,
    ("published", "mark_answered"): "published",
    ("rejected", "mark_answered"): None,
    ("hidden", "mark_answered"): "hidden",
    ("merged", "mark_answered"): None,
    ("pending", "set_highlight"): None,
    ("published", "set_highlight"): "published",
    ("rejected", "set_highlight"): None,
    ("hidden", "set_highlight"): None,
    ("merged", "set_highlight"): None,
    ("pending", "set_pin"): None,
    ("published", "set_pin"): "published",
    ("rejected", "set_pin"): None,
    ("hidden", "set_pin"): None,
    ("merged", "set_pin"): None,
}

ALLOWED = [(s, op, result) for (s, op), result in TRANSITIONS.items() if result is not None]
REFUSED = [(s, op) for (s, op), result in TRANSITIONS.items() if result is None]


def test_moderation_table_covers_every_state_and_operation() -> None:
    combos = {(state, op) for state in STATES for op in OPERATIONS}

    assert set(TRANSITIONS) == combos
    assert len(TRANSITIONS) == 45


@pytest.mark.parametrize(("state", "op", "result"), ALLOWED)
def test_moderation_allowed_operation_gives_state(state: State, op: str, result: State) -> None:
    subject = in_state(state)

    after = OPERATIONS[op](subject)

    assert after.state == result
    assert after.id == subject.id
    assert after.votes == subject.votes


@pytest.mark.parametrize(("state", "op"), REFUSED)
def test_moderation_refused_operation_is_a_conflict(state: State, op: str) -> None:
    subject = in_state(state)

    with pytest.raises(QAError) as caught:
        OPERATIONS[op](subject)

    assert caught.value.kind == "conflict"


@pytest.mark.parametrize(
    ("op", "state", "message"),
    [
        ("approve", "published", "You cannot approve a question that is published."),
        ("reject", "merged", "You cannot reject a question that is merged."),
        ("hide", "pending", "You cannot hide a question that is pending."),
        ("unhide", "rejected", "You cannot show again a question that is rejected."),
        ("merge", "rejected", "You cannot merge a question that is rejected."),
        ("edit_by_host", "merged", "You cannot edit a question that is merged."),
        ("mark_answered", "pending", "You cannot mark as answered a question that is pending."),
        ("set_highlight", "hidden", "Only a published question can be highlighted."),
        ("set_pin", "pending", "Only a published question can be pinned."),
    ],
)
def test_moderation_refusal_message_names_the_state(op: str, state: State, message: str) -> None:
    with pytest.raises(QAError) as caught:
        OPERATIONS[op](in_state(state))

    assert str(caught.value) == message
    assert caught.value.field is None


def test_approve_held_question_clears_held_by_filter() -> None:
    held = question(state="pending", held_by_filter=True)

    result = approve(held)

    assert result == replace(held, state="published", held_by_filter=False)


def test_reject_published_stores_reason_and_clears_highlight_and_pin() -> None:
    shown = question(highlighted=True, pinned=True, votes=4)

    result = reject(shown, "identifying")

    assert result == replace(
        shown, state="rejected", reject_reason="identifying", highlighted=False, pinned=False
    )


@pytest.mark.parametrize("reason", ["", "rude", "Duplicate"])
def test_reject_unknown_reason_is_refused_on_reason(reason: str) -> None:
    with pytest.raises(QAError) as caught:
        reject(question(state="pending"), reason)

    assert str(caught.value) == (
        "Choose a reason: duplicate, off_topic, identifying, inappropriate, other."
    )
    assert caught.value.kind == "invalid"
    assert caught.value.field == "reason"


def test_hide_clears_highlight_and_pin() -> None:
    shown = question(highlighted=True, pinned=True)

    result = hide(shown)

    assert result == replace(shown, state="hidden", highlighted=False, pinned=False)


def test_unhide_publishes_again_unchanged() -> None:
    hidden = question(state="hidden", votes=3, answered="live")

    result = unhide(hidden)

    assert result == replace(hidden, state="published")


def test_merge_marks_duplicate_and_clears_highlight_and_pin() -> None:
    duplicate = question(2, highlighted=True, pinned=True, votes=5)

    result = merge(duplicate, TARGET)

    assert result == replace(
        duplicate, state="merged", merged_into=50, highlighted=False, pinned=False
    )


def test_merge_into_itself_is_refused() -> None:
    same = question(7)

    with pytest.raises(QAError) as caught:
        merge(same, replace(same, text="Another copy"))

    assert str(caught.value) == "A question cannot be merged into itself."
    assert caught.value.kind == "invalid"
    assert caught.value.field == "into"


@pytest.mark.parametrize("into_state", ["rejected", "hidden", "merged"])
def test_merge_into_closed_question_is_refused(into_state: State) -> None:
    into = in_state(into_state, id=8)

    with pytest.raises(QAError) as caught:
        merge(question(2), into)

    assert str(caught.value) == "Merge into a question that is pending or published."
    assert caught.value.kind == "conflict"
    assert caught.value.field == "into"


def test_merge_into_pending_question_is_allowed() -> None:
    result = merge(question(2), question(9, state="pending"))

    assert (result.state, result.merged_into) == ("merged", 9)


def test_edit_by_host_trims_text_and_marks_edited() -> None:
    original = question(state="pending", held_by_filter=True)

    result = edit_by_host(original, "  A kinder wording  ", 500)

    assert result == replace(original, text="A kinder wording", edited_by_host=True)


def test_edit_by_host_over_limit_is_refused() -> None:
    with pytest.raises(QAError) as caught:
        edit_by_host(question(), "w" * 21, 20)

    assert str(caught.value) == (
        "Your question is 21 characters long; the limit is 20. Please shorten it."
    )


def test_mark_answered_live_clears_highlight() -> None:
    shown = question(highlighted=True, pinned=True)

    result = mark_answered(shown, "live")

    assert result == replace(shown, answered="live", highlighted=False)


def test_mark_answered_undo_keeps_highlight() -> None:
    shown = question(answered="live", highlighted=True)

    result = mark_answered(shown, "")

    assert result == replace(shown, answered="")


@pytest.mark.parametrize("state", STATES)
def test_set_highlight_and_pin_off_are_allowed_in_every_state(state: State) -> None:
    subject = in_state(state, highlighted=True, pinned=True)

    result = set_pin(set_highlight(subject, False), False)

    assert result == replace(subject, highlighted=False, pinned=False)


# -- edit_by_author ------------------------------------------------------------------------------


def test_edit_by_author_pending_stays_pending() -> None:
    waiting = question(state="pending")

    result = edit_by_author(waiting, "  Reworded question ", QASettings(moderation=False))

    assert result == replace(waiting, text="Reworded question")


def test_edit_by_author_published_without_moderation_stays_published() -> None:
    shown = question(highlighted=True, pinned=True, votes=2)

    result = edit_by_author(shown, "Reworded question", QASettings(moderation=False))

    assert result == replace(shown, text="Reworded question")


def test_edit_by_author_published_with_moderation_goes_back_to_pending() -> None:
    shown = question(highlighted=True, pinned=True, votes=2)

    result = edit_by_author(shown, "Reworded question", QASettings(moderation=True))

    assert result == replace(
        shown, text="Reworded question", state="pending", highlighted=False, pinned=False
    )


def test_edit_by_author_filter_hit_is_held() -> None:
    shown = question()
    settings = QASettings(moderation=False, word_filter=("rubbish",))

    result = edit_by_author(shown, "This is rubbish", settings)

    assert result == replace(shown, text="This is rubbish", state="pending", held_by_filter=True)


def test_edit_by_author_held_question_without_filter_hit_is_released_but_pending() -> None:
    held = question(state="pending", held_by_filter=True)
    settings = QASettings(moderation=False, word_filter=("rubbish",))

    result = edit_by_author(held, "A fair question", settings)

    assert result == replace(held, text="A fair question", held_by_filter=False)


@pytest.mark.parametrize(
    "subject",
    [
        question(answered="live"),
        question(answered="written"),
        in_state("rejected"),
        in_state("hidden"),
        in_state("merged"),
    ],
    ids=["answered-live", "answered-written", "rejected", "hidden", "merged"],
)
def test_edit_by_author_closed_question_is_refused(subject: Question) -> None:
    with pytest.raises(QAError) as caught:
        edit_by_author(subject, "New text", QASettings())

    assert str(caught.value) == "This question can no longer be edited."
    assert caught.value.kind == "conflict"


def test_edit_by_author_over_settings_limit_is_refused() -> None:
    with pytest.raises(QAError) as caught:
        edit_by_author(question(), "q" * 31, QASettings(max_length=30))

    assert str(caught.value) == (
        "Your question is 31 characters long; the limit is 30. Please shorten it."
    )


# -- carry_over ----------------------------------------------------------------------------------


def test_carry_over_picks_unanswered_pending_and_published_of_the_item() -> None:
    questions = [
        question(1, state="pending"),
        question(2),
        question(3, answered="live"),
        question(4, state="pending", answered="written"),
        in_state("rejected", id=5),
        in_state("hidden", id=6),
        in_state("merged", id=7),
        question(8, item_id="lcspr-qa"),
        question(9, highlighted=True),
    ]

    result = carry_over(questions, "review-qa")

    assert [q.id for q in result] == [1, 2, 9]


def test_carry_over_empty_item_gives_nothing() -> None:
    result = carry_over([question(1)], "lcspr-qa")

    assert result == []


# -- ordered -------------------------------------------------------------------------------------


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_ordered_votes_pinned_come_first() -> None:
    popular = question(1, votes=10, created_at=at(0))
    pinned = question(2, votes=0, pinned=True, created_at=at(5))

    result = ordered([popular, pinned], "votes")

    assert [q.id for q in result] == [2, 1]


def test_ordered_votes_most_votes_then_oldest_first() -> None:
    questions = [
        question(1, votes=2, created_at=at(3)),
        question(2, votes=5, created_at=at(4)),
        question(3, votes=2, created_at=at(1)),
        question(4, votes=0, created_at=at(0)),
        question(5, votes=5, created_at=at(2)),
    ]

    result = ordered(questions, "votes")

    assert [q.id for q in result] == [5, 2, 3, 1, 4]


def test_ordered_votes_equal_votes_and_time_by_id() -> None:
    questions = [question(3), question(1), question(2)]

    result = ordered(questions, "votes")

    assert [q.id for q in result] == [1, 2, 3]


def test_ordered_newest_by_created_descending_pinned_first() -> None:
    questions = [
        question(1, votes=9, created_at=at(1)),
        question(2, created_at=at(3)),
        question(3, pinned=True, created_at=at(0)),
        question(4, created_at=at(2)),
    ]

    result = ordered(questions, "newest")

    assert [q.id for q in result] == [3, 2, 4, 1]


def test_ordered_newest_same_time_higher_id_first() -> None:
    questions = [question(1), question(3), question(2)]

    result = ordered(questions, "newest")

    assert [q.id for q in result] == [3, 2, 1]


def test_ordered_leaves_input_unchanged() -> None:
    questions = [question(1, votes=1), question(2, votes=3)]
    copy = list(questions)

    ordered(questions, "votes")

    assert questions == copy


# -- RateLimiter ---------------------------------------------------------------------------------


def seconds(value: float) -> datetime:
    return T0 + timedelta(seconds=value)


def test_rate_limiter_allows_limit_then_refuses() -> None:
    limiter = RateLimiter(limit=3, window=timedelta(seconds=60))

    results = [limiter.allow("ann", seconds(s)) for s in (0, 1, 2, 3)]

    assert results == [True, True, True, False]


def test_rate_limiter_window_slides() -> None:
    limiter = RateLimiter(limit=2, window=timedelta(seconds=60))
    limiter.allow("ann", seconds(0))
    limiter.allow("ann", seconds(10))

    just_before = limiter.allow("ann", seconds(59.999))
    at_window = limiter.allow("ann", seconds(60))
    next_refused = limiter.allow("ann", seconds(65))
    second_frees = limiter.allow("ann", seconds(70))

    assert (just_before, at_window, next_refused, second_frees) == (False, True, False, True)


def test_rate_limiter_refused_attempts_are_not_counted() -> None:
    limiter = RateLimiter(limit=1, window=timedelta(seconds=60))
    limiter.allow("ann", seconds(0))
    for s in range(1, 60):
        limiter.allow("ann", seconds(s))

    result = limiter.allow("ann", seconds(60))

    assert result is True


def test_rate_limiter_retry_after_exact_whole_seconds() -> None:
    limiter = RateLimiter(limit=2, window=timedelta(seconds=60))
    limiter.allow("ann", seconds(0))
    limiter.allow("ann", seconds(10))

    waits = [limiter.retry_after("ann", seconds(s)) for s in (10, 30, 30.5, 59.5)]

    assert waits == [50, 30, 30, 1]


def test_rate_limiter_retry_after_rounds_any_fraction_up() -> None:
    limiter = RateLimiter(limit=1, window=timedelta(seconds=60))
    limiter.allow("ann", seconds(0))
    now = T0 + timedelta(seconds=29, microseconds=999_900)  # 30.0001 s to go

    result = limiter.retry_after("ann", now)

    assert result == 31


def test_rate_limiter_retry_after_zero_when_allowed() -> None:
    limiter = RateLimiter(limit=2, window=timedelta(seconds=60))
    limiter.allow("ann", seconds(0))

    results = (limiter.retry_after("ann", seconds(1)), limiter.retry_after("bob", seconds(1)))

    assert results == (0, 0)


def test_rate_limiter_retry_after_zero_once_window_passed() -> None:
    limiter = RateLimiter(limit=1, window=timedelta(seconds=60))
    limiter.allow("ann", seconds(0))

    result = limiter.retry_after("ann", seconds(61))

    assert result == 0


def test_rate_limiter_keys_are_independent() -> None:
    limiter = RateLimiter(limit=1, window=timedelta(seconds=60))
    limiter.allow("ann", seconds(0))

    results = (limiter.allow("bob", seconds(1)), limiter.allow("ann", seconds(1)))

    assert results == (True, False)
    assert limiter.retry_after("bob", seconds(1)) == 60
    assert limiter.retry_after("ann", seconds(1)) == 59


# -- properties ----------------------------------------------------------------------------------

TEXTS = st.one_of(
    st.text(),
    st.text(alphabet=st.sampled_from(" \t\n\r\x00\x85\u00a0\u2028a\u0301\u05d0\U0001f44d")),
)


@given(text=TEXTS, limit=st.integers(min_value=1, max_value=40))
def test_clean_text_property_result_is_trimmed_substring(text: str, limit: int) -> None:
    try:
        result = clean_text(text, limit=limit)
    except QAError:
        return

    assert result == result.strip()
    assert result != ""
    assert result in text
    assert len(result) <= limit


QUESTIONS = st.lists(
    st.tuples(st.booleans(), st.integers(0, 5), st.integers(0, 10)),
    max_size=25,
).map(
    lambda rows: [
        question(index + 1, pinned=pinned, votes=votes, created_at=at(minute))
        for index, (pinned, votes, minute) in enumerate(rows)
    ]
)


@given(questions=QUESTIONS, sort=st.sampled_from(["votes", "newest"]))
def test_ordered_property_permutation_with_pinned_first(
    questions: list[Question], sort: Any
) -> None:
    result = ordered(questions, sort)

    assert sorted(q.id for q in result) == sorted(q.id for q in questions)
    assert len(result) == len(questions)
    pins = [q.pinned for q in result]
    assert pins == sorted(pins, reverse=True)
