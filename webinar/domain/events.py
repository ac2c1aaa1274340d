"""The live events: one pydantic model per event type and audience, and their registry.

Every event the services publish has a type (``qa.question``), an audience (see
:mod:`webinar.domain.audiences`) and a JSON object of data. :data:`EVENTS` says, for each
type, which audiences receive it and the model its data matches; the models forbid
fields they do not declare and type every field precisely, so a payload that drifts from
this reference fails :func:`check`. The test suite checks every event the app publishes
(``tests/conftest.py``), and ``docs/events.md`` shows a table generated from
:data:`EVENTS` (``python -m webinar.domain.events``; a test fails when it is stale).

The services build their payloads as plain dicts (the hot paths stay as fast as they
were); these models say what those dicts must be.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from webinar.domain.audiences import Kind, Role
from webinar.domain.audiences import kind as audience_kind

#: An instant as the services write it: ISO 8601 in UTC, to the millisecond.
Instant = Annotated[
    str,
    Field(
        pattern=r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$",
        json_schema_extra={"format": "date-time"},
    ),
]


class Payload(BaseModel):
    """Strict: no undeclared field, no ``"5"`` for 5, no ``1`` for ``true``."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


# -- the agenda -----------------------------------------------------------------------------


class ScheduleEntry(Payload):
    id: str
    state: Literal["done", "current", "upcoming", "skipped", "not_run"]
    start: Instant = Field(description="actual or projected")
    end: Instant = Field(description="actual or projected")
    planned_start: Instant
    planned_end: Instant


class AgendaStatus(Payload):
    """The agenda clock now; screens count down against ``current_ends_at``."""

    phase: Literal["before", "running", "paused", "waiting", "finished"]
    now: Instant
    current: str | None = Field(description="the current item's id")
    current_started_at: Instant | None
    current_ends_at: Instant | None
    remaining_seconds: float | None
    paused: bool
    held: bool
    overrun: bool
    next: str | None = Field(description="the next item's id")
    next_starts_at: Instant | None
    drift_seconds: float
    drift_text: str = Field(description='"running 3 min late"')
    projected_end: Instant
    slide: int | None = Field(
        description="the index of the current item's slide on show; null without a "
        "current item or slides"
    )
    schedule: list[ScheduleEntry]


class RosterJoined(Payload):
    count: int = Field(description="attendees on the roster (after a join or a removal)")


# -- the Q&A forum --------------------------------------------------------------------------

QuestionState = Literal["pending", "published", "rejected", "hidden", "merged"]


class Counters(Payload):
    received: int
    published: int
    answered: int


class Reply(Payload):
    id: int
    author: str = Field(description='"" when anonymous; "Panel" for staff')
    role: Role
    text: str
    is_answer: bool
    created_at: Instant


class StaffReply(Reply):
    hidden: bool = Field(description="hidden from attendees by a host")


class Question(Payload):
    """A question as everyone may see it (published ones only)."""

    id: int
    item_id: str = Field(description="the Q&A item it belongs to")
    text: str
    author: str = Field(description='"" when anonymous')
    organisation: str = Field(description='"" when anonymous')
    anonymous: bool
    state: QuestionState
    votes: int
    answered: Literal["", "live", "written"]
    highlighted: bool
    pinned: bool
    edited_by_host: bool
    created_at: Instant
    replies: list[Reply] = Field(description="hidden replies left out")


class StaffQuestion(Question):
    """A question with its moderation fields, for hosts and organisers."""

    replies: list[StaffReply] = Field(description="hidden replies too, marked")  # type: ignore[assignment]
    held_by_filter: bool
    reject_reason: str
    merged_into: int | None


class OwnerQuestion(Payload):
    """A question as its author sees it, whatever its state."""

    id: int
    item_id: str
    text: str
    state: QuestionState
    anonymous: bool
    answered: Literal["", "live", "written"]
    reject_reason: str
    reject_text: str = Field(description="the reason as a plain sentence")
    merged_into: int | None


class RemovedQuestion(Payload):
    id: int


class QuestionForStaff(Payload):
    question: StaffQuestion
    counters: Counters


class QuestionForAll(Payload):
    question: Question | RemovedQuestion = Field(description="only its id when removed")
    removed: bool = Field(description="it left the public list")
    new: bool = Field(description="it joined the public list")
    counters: Counters


class QuestionForOwner(Payload):
    question: OwnerQuestion


class MyVote(Payload):
    """A question this participant voted for was merged; the vote now counts for
    ``question_id``."""

    model_config = ConfigDict(populate_by_name=True)

    question_id: int
    from_: int = Field(alias="from", description="the merged duplicate")
    voted: Literal[True]


class Votes(Payload):
    votes: dict[str, int] = Field(description="question id -> vote count, the changed ones")


class Highlight(Payload):
    question: Question | None = Field(description="the question being answered now")


class QASettings(Payload):
    open: bool
    moderation: bool
    max_length: int


# -- breakouts ------------------------------------------------------------------------------

RoundState = Literal["open", "ended"]


class BreakoutRound(Payload):
    round: int
    item_id: str
    state: RoundState
    capture_open: bool = Field(description="facilitators may still save (grace after the end)")
    ended_at: Instant | None
    message: str = Field(description="the host's message to every group")
    groups: int = Field(description="how many groups")


class Member(Payload):
    id: str
    name: str
    organisation: str


class Point(Payload):
    author: str
    text: str
    at: Instant


class Topic(Payload):
    index: int
    title: str
    text: str = Field(description="the group's response")
    version: int
    starred: bool
    edited_by_host: bool
    points: list[Point] = Field(description="members' points for the facilitator")


class Group(Payload):
    """One group's room."""

    round: int
    item_id: str
    number: int
    ended: bool
    locks_at: Instant | None = Field(description="when responses lock: the end plus the grace")
    locked: bool
    message: str
    facilitator: str | None = Field(description="the facilitator's participant id")
    volunteer_by: Instant
    help: bool
    video_url: str
    members: list[Member]
    topics: list[Topic]


class Response(Topic):
    """One topic of one group."""

    round: int
    group: int


class GridMember(Payload):
    id: str
    name: str


class GridGroup(Payload):
    number: int
    topics: list[int] = Field(description="the topics given")
    covered: list[int] = Field(description="the topics with a response")
    help: bool
    facilitator: str = Field(description="the facilitator's name")
    members: list[GridMember]


class Grid(Payload):
    """Groups x topics, for the host."""

    round: int
    item_id: str
    state: RoundState
    oversize: str = Field(
        description="a sentence for the host when a group holds more than the "
        "breakout's group_size (only when every group is full), else empty"
    )
    topics: list[str]
    by_topic: dict[str, int] = Field(description="topic index -> groups covering it")
    groups: list[GridGroup]


class Help(Payload):
    group: int = Field(description="the group that asked for help")


class PresentPoint(Payload):
    author: str
    text: str


class PresentEntry(Payload):
    label: str
    group: int
    topic: int
    text: str
    version: int
    starred: bool
    edited_by_host: bool
    given: bool
    points: list[PresentPoint]


class Present(Payload):
    """What the projector shows in the feedback session."""

    mode: Literal["off", "topic", "group"]
    index: int
    title: str
    entries: list[PresentEntry]
    covered_by: int | None = Field(
        default=None, description="groups covering the topic (topic mode only)"
    )


# -- the survey -----------------------------------------------------------------------------


class SurveyState(Payload):
    state: Literal["none", "not_yet", "open", "closed"]
    closes_at: Instant | None
    override: Literal["auto", "open", "closed"]


# -- live polls -----------------------------------------------------------------------------


class PollRow(Payload):
    label: str
    count: int
    percent: float = Field(description="of respondents, one decimal")
    correct: bool


class PollResults(Payload):
    """A poll's counts: percentages of respondents, never of ticks."""

    poll_id: int
    kind: Literal["single", "multiple", "rating", "words", "text", "quiz"]
    question: str
    public: bool = Field(description="whether attendees may see these counts")
    respondents: int
    rows: list[PollRow]
    texts: list[str] = Field(description="open-text answers, the newest few")
    more_texts: int
    held: int = Field(description="words and texts held back by the event's word filter")
    mean: float | None = Field(description="rating polls: the mean rating")


class Poll(Payload):
    """A poll as attendees see it once it has opened."""

    id: int
    item_id: str | None
    item_title: str
    kind: Literal["single", "multiple", "rating", "words", "text", "quiz"]
    kind_label: str
    question: str
    options: list[str]
    max_choices: int
    scale_min: int
    scale_max: int
    anonymous: bool
    opens: Literal["start", "host"]
    results_mode: Literal["hidden", "live"]
    state: Literal["ready", "open", "closed"]
    revealed: bool
    results_public: bool
    on_projector: bool
    opened_at: Instant | None
    closed_at: Instant | None
    results: PollResults | None = Field(description="null until the results are public")


class StaffPoll(Poll):
    """A poll as staff see it: always with its counts, its quiz answer and its place."""

    results: PollResults | None
    correct: int | None = Field(description="quiz: the correct option's index")
    place: str = Field(description='"2 of 3" in its item\'s sequence, or ""')


class PollNotOpen(Payload):
    """A poll not (or no longer) open, as attendees learn of it: nothing of its question."""

    id: int
    state: Literal["ready"]
    results: None


class PollForStaff(Payload):
    poll: StaffPoll


class PollForAll(Payload):
    poll: Poll | PollNotOpen


class ResultsUpdate(Payload):
    results: PollResults


# -- the snapshot ---------------------------------------------------------------------------


class QASnapshot(Payload):
    settings: QASettings
    counters: Counters
    questions: list[StaffQuestion] | list[Question] = Field(
        description="every question for staff, the published ones for attendees"
    )
    highlighted: Question | None
    mine: list[OwnerQuestion]


class NoRound(Payload):
    round: None
    state: Literal["none"]


class BreakoutSnapshot(Payload):
    round: BreakoutRound | NoRound
    group: Group | None = Field(description="your group's room")
    grid: Grid | None = Field(description="staff only")
    present: Present | None = Field(default=None, description="staff only")


class Snapshot(Payload):
    """The whole state as of ``seq``, as this screen may see it (sent to one screen)."""

    agenda: AgendaStatus
    qa: QASnapshot
    breakout: BreakoutSnapshot
    polls: list[StaffPoll] | list[Poll] = Field(
        description="every poll for staff, the ones opened so far for attendees"
    )


# -- the registry ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EventType:
    """One event type as one audience receives it."""

    name: str
    audiences: tuple[Kind, ...]
    model: type[Payload]
    #: When it is sent, for the reference.
    when: str


EVENTS: tuple[EventType, ...] = (
    EventType("agenda.state", ("all",), AgendaStatus, "after every agenda change"),
    EventType("roster.joined", ("staff",), RosterJoined, "after a join, and after a removal"),
    EventType("qa.question", ("staff",), QuestionForStaff, "every change of a question"),
    EventType(
        "qa.question",
        ("all",),
        QuestionForAll,
        "a published question appears, changes, or leaves the public list",
    ),
    EventType(
        "qa.mine",
        ("question",),
        QuestionForOwner,
        "to the author's screens when their question's state changes",
    ),
    EventType(
        "qa.my_vote",
        ("participant",),
        MyVote,
        "to each voter of a question merged into another",
    ),
    EventType("qa.votes", ("all",), Votes, "vote counts, batched at most twice a second"),
    EventType("qa.highlight", ("all",), Highlight, "the question being answered changes"),
    EventType("qa.settings", ("all",), QASettings, "the forum is opened, closed or moderated"),
    EventType(
        "breakout.round", ("all",), BreakoutRound, "a round opens, ends, reopens or gets a message"
    ),
    EventType("breakout.group", ("group",), Group, "a group's room changes"),
    EventType(
        "breakout.response",
        ("group", "staff"),
        Response,
        "a response is saved or corrected (both); starred (staff only); a point is added "
        "(group only)",
    ),
    EventType("breakout.grid", ("staff",), Grid, "membership, facilitators, help or coverage"),
    EventType("breakout.help", ("staff",), Help, "a group asked for help"),
    EventType("feedback.present", ("staff",), Present, "the host puts something on the projector"),
    EventType(
        "survey.state",
        ("all",),
        SurveyState,
        "a host opens or closes the survey, or gives it back to the schedule",
    ),
    EventType(
        "polls.poll",
        ("staff",),
        PollForStaff,
        "a poll is written, opened, closed, revealed, projected or reset",
    ),
    EventType(
        "polls.poll",
        ("all",),
        PollForAll,
        "the same change as attendees see it (a poll not open yet, or reset, comes as only "
        "its id and state, and the page removes it)",
    ),
    EventType(
        "polls.results",
        ("staff",),
        ResultsUpdate,
        "new answers, batched at most four times a second",
    ),
    EventType(
        "polls.results",
        ("all",),
        ResultsUpdate,
        "the same, only while the poll's results are public",
    ),
)

_MODELS: dict[tuple[str, Kind], type[Payload]] = {
    (event.name, kind): event.model for event in EVENTS for kind in event.audiences
}


class EventMismatch(ValueError):
    """An event that this reference does not describe; ``str()`` says what is wrong."""


def model_for(type_: str, audience: str) -> type[Payload]:
    """The model of ``type_`` as sent to ``audience``; ``EventMismatch`` when there is none."""
    try:
        kind = audience_kind(audience)
    except ValueError as exc:
        raise EventMismatch(f"{type_}: {exc}") from None
    model = _MODELS.get((type_, kind))
    if model is None:
        raise EventMismatch(f"{type_} is not an event sent to {kind!r} audiences")
    return model


def check(type_: str, audience: str, data: dict[str, Any]) -> None:
    """Raise ``EventMismatch`` unless ``data`` is what :data:`EVENTS` says ``type_`` sends
    to ``audience``."""
    model = model_for(type_, audience)
    try:
        model.model_validate(data)
    except ValidationError as exc:
        raise EventMismatch(f"{type_} to {audience}: {exc}") from None


def check_snapshot(data: dict[str, Any]) -> None:
    """Raise ``EventMismatch`` unless ``data`` is a :class:`Snapshot`."""
    try:
        Snapshot.model_validate(data)
    except ValidationError as exc:
        raise EventMismatch(f"snapshot: {exc}") from None
