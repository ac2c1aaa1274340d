"""The Q&A forum's rules: questions, their moderation states, votes, ordering, routing.

Pure: the service layer loads questions, calls these functions, and saves the result.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from webinar.domain.agenda import Agenda
from webinar.domain.ratelimit import RateLimiter
from webinar.domain.text import LINE_BREAKS_AND_TABS, has_control_character, matches_filter

__all__ = ["RateLimiter"]  # re-exported: the forum's limits use it

State = Literal["pending", "published", "rejected", "hidden", "merged"]
Answered = Literal["", "live", "written"]
Sort = Literal["votes", "newest"]

STATES: tuple[State, ...] = ("pending", "published", "rejected", "hidden", "merged")
REJECT_REASONS: dict[str, str] = {
    "duplicate": "It repeats another question.",
    "off_topic": "It is not about this session.",
    "identifying": "It could identify a child, family or colleague.",
    "inappropriate": "It is not appropriate for this forum.",
    "other": "The host did not publish it.",
}
REPLY_MAX = 1000


class QAError(ValueError):
    """A refused Q&A operation. ``kind`` maps to an HTTP status in the web layer."""

    def __init__(
        self,
        message: str,
        kind: Literal["invalid", "conflict", "forbidden", "not_found"] = "invalid",
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.field = field


@dataclass(frozen=True, slots=True)
class QASettings:
    """Per-event forum settings (from the agenda file; host toggles open/moderation)."""

    moderation: bool = False
    open: bool = True
    max_length: int = 500
    word_filter: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Question:
    id: int
    item_id: str
    text: str
    state: State
    created_at: datetime
    #: Empty for anonymous questions: nothing links them to a person.
    author_name: str = ""
    author_organisation: str = ""
    anonymous: bool = False
    votes: int = 0
    answered: Answered = ""
    highlighted: bool = False
    pinned: bool = False
    edited_by_host: bool = False
    held_by_filter: bool = False
    reject_reason: str = ""
    merged_into: int | None = None

    @property
    def public(self) -> bool:
        return self.state == "published"


# -- text --


def clean_text(text: str, *, limit: int, what: str = "question") -> str:
    """Trim surrounding whitespace and check the text; ``QAError`` with a plain sentence.

    Emoji, combining characters and right-to-left text are kept exactly as typed (no
    normalisation); control characters other than line breaks and tabs are refused.
    """
    trimmed = text.strip()
    if not trimmed:
        raise QAError(f"Please write your {what} first.", field="text")
    if has_control_character(trimmed, allow=LINE_BREAKS_AND_TABS):
        raise QAError(f"Your {what} contains a control character; remove it.", field="text")
    if len(trimmed) > limit:
        raise QAError(
            f"Your {what} is {len(trimmed)} characters long; the limit is {limit}. "
            "Please shorten it.",
            field="text",
        )
    return trimmed


def initial_state(text: str, settings: QASettings) -> tuple[State, bool]:
    """(state, held_by_filter) for a new question."""
    if matches_filter(text, settings.word_filter):
        return "pending", True
    return ("pending" if settings.moderation else "published"), False


# -- routing --


def qa_items(agenda: Agenda) -> list[str]:
    return [item.id for item in agenda.items if item.kind == "qa"]


def route_question(
    agenda: Agenda,
    current_id: str | None,
    finished: Iterable[str],
    requested: str | None = None,
) -> str:
    """The Q&A item a new question goes to.

    ``requested`` when given (it must be a Q&A item that has not finished); else the
    current item if it is a Q&A item; else the next Q&A item after the current one (or
    the first, before the start); else, when every slot has passed, the last one, where
    the panel answers in writing.
    """
    slots = qa_items(agenda)
    if not slots:
        raise QAError("This event has no Q&A slot.", "conflict")
    done = set(finished)
    if requested is not None:
        if requested not in slots:
            raise QAError("There is no Q&A slot with that id.", "not_found", "item_id")
        if requested in done and requested != current_id:
            raise QAError(
                "That Q&A slot has finished; your question will go to the next one.",
                "conflict",
                "item_id",
            )
        return requested
    if current_id in slots:
        return current_id
    position = agenda.index_of(current_id) if current_id else -1
    for slot in slots:
        if agenda.index_of(slot) > position and slot not in done:
            return slot
    return slots[-1]


# -- moderation --


def approve(question: Question) -> Question:
    if question.state != "pending":
        raise QAError(_cannot("approve", question), "conflict")
    return replace(question, state="published", held_by_filter=False)


def reject(question: Question, reason: str) -> Question:
    if reason not in REJECT_REASONS:
        raise QAError(f"Choose a reason: {', '.join(REJECT_REASONS)}.", field="reason")
    if question.state not in ("pending", "published", "hidden"):
        raise QAError(_cannot("reject", question), "conflict")
    return replace(
        question, state="rejected", reject_reason=reason, highlighted=False, pinned=False
    )


def hide(question: Question) -> Question:
    if question.state != "published":
        raise QAError(_cannot("hide", question), "conflict")
    return replace(question, state="hidden", highlighted=False, pinned=False)


def unhide(question: Question) -> Question:
    if question.state != "hidden":
        raise QAError(_cannot("show again", question), "conflict")
    return replace(question, state="published")


def merge(duplicate: Question, into: Question) -> Question:
    """The duplicate, marked merged; the service moves its votes to ``into``."""
    if duplicate.id == into.id:
        raise QAError("A question cannot be merged into itself.", field="into")
    if duplicate.state not in ("pending", "published", "hidden"):
        raise QAError(_cannot("merge", duplicate), "conflict")
    if into.state not in ("pending", "published"):
        raise QAError("Merge into a question that is pending or published.", "conflict", "into")
    return replace(duplicate, state="merged", merged_into=into.id, highlighted=False, pinned=False)


def edit_by_host(question: Question, text: str, limit: int) -> Question:
    if question.state == "merged":
        raise QAError(_cannot("edit", question), "conflict")
    return replace(question, text=clean_text(text, limit=limit), edited_by_host=True)


def edit_by_author(question: Question, text: str, settings: QASettings) -> Question:
    """An author's own edit: allowed until the question is answered or closed.

    With moderation on (or a filter word), an edited question goes back for review.
    """
    if question.state not in ("pending", "published") or question.answered:
        raise QAError("This question can no longer be edited.", "conflict")
    clean = clean_text(text, limit=settings.max_length)
    state, held = initial_state(clean, settings)
    if question.state == "pending":
        state = "pending"
    if state != "published":
        # Back for review: an unreviewed text must not stay on screen or on top.
        return replace(
            question, text=clean, state=state, held_by_filter=held, highlighted=False, pinned=False
        )
    return replace(question, text=clean, state=state, held_by_filter=held)


def mark_answered(question: Question, how: Answered) -> Question:
    if question.state not in ("published", "hidden"):
        raise QAError(_cannot("mark as answered", question), "conflict")
    return replace(question, answered=how, highlighted=False if how else question.highlighted)


def set_highlight(question: Question, on: bool) -> Question:
    if on and question.state != "published":
        raise QAError("Only a published question can be highlighted.", "conflict")
    return replace(question, highlighted=on)


def set_pin(question: Question, on: bool) -> Question:
    if on and question.state != "published":
        raise QAError("Only a published question can be pinned.", "conflict")
    return replace(question, pinned=on)


def carry_over(questions: Iterable[Question], from_item: str) -> list[Question]:
    """The questions of ``from_item`` still waiting for an answer (pending or published)."""
    return [
        q
        for q in questions
        if q.item_id == from_item and q.state in ("pending", "published") and not q.answered
    ]


def _cannot(verb: str, question: Question) -> str:
    return f"You cannot {verb} a question that is {question.state}."


# -- ordering --


def ordered(questions: Sequence[Question], sort: Sort) -> list[Question]:
    """Pinned first; then most votes (oldest first among equals) or newest first."""
    if sort == "newest":
        return sorted(questions, key=lambda q: (not q.pinned, -q.created_at.timestamp(), -q.id))
    return sorted(questions, key=lambda q: (not q.pinned, -q.votes, q.created_at, q.id))
