"""The agenda of one webinar: what runs when, as the organiser planned it.

Pure data. Parsing and validating agenda files lives in
:mod:`webinar.domain.agenda_file`; running the agenda live lives in
:mod:`webinar.domain.clock`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # polls.py reads the Q&A word filter, which imports this module
    from webinar.domain.polls import PollSpec

from webinar.domain.video import CallSettings, Stage, stage_for

#: Kinds of agenda item. ``break`` is a pause in the programme (coffee, lunch).
ITEM_KINDS: tuple[str, ...] = (
    "welcome",
    "talk",
    "qa",
    "breakout",
    "feedback",
    "closing",
    "break",
)

QuestionKind = Literal["rating", "single", "multiple", "text", "question_answered"]
QUESTION_KINDS: tuple[str, ...] = ("rating", "single", "multiple", "text", "question_answered")


@dataclass(frozen=True, slots=True)
class Slide:
    """One slide: a title and markdown body."""

    title: str
    body: str = ""


@dataclass(frozen=True, slots=True)
class BreakoutSettings:
    """How a breakout item splits the audience and what the groups discuss."""

    topics: tuple[str, ...]
    #: The most people per group ("groups of 6"); ``None`` when ``group_count`` is given.
    group_size: int | None = 6
    min_topics: int = 2
    instructions: str = ""
    #: Seconds after the breakout ends during which facilitators may still save.
    grace_seconds: int = 60
    #: Seconds before the end at which every group is warned.
    warning_seconds: int = 120
    #: Seconds to wait for a volunteer facilitator before one is picked.
    volunteer_seconds: int = 60
    #: Optional per-group video link, ``{group}`` is replaced by the group number.
    video_url_template: str = ""
    #: A fixed number of groups (the file's ``groups``), instead of a group size.
    group_count: int | None = None
    #: Each group's private call (``[items.breakout.call]``); ``None``: the template only.
    call: CallSettings | None = None


@dataclass(frozen=True, slots=True)
class Item:
    """One timed agenda item, as planned."""

    id: str
    title: str
    kind: str
    start: datetime
    end: datetime
    presenters: tuple[str, ...] = ()
    summary: str = ""
    slides: tuple[Slide, ...] = ()
    #: For ``qa`` items: ids of the talks whose questions this slot answers.
    serves: tuple[str, ...] = ()
    breakout: BreakoutSettings | None = None
    #: This item's own stage (``NO_STAGE`` for ``stage = false``); ``None``: the event's.
    stage: Stage | None = None
    #: Committer polls attached to the item, in the order the host runs them.
    polls: tuple[PollSpec, ...] = ()

    @property
    def duration(self) -> timedelta:
        return self.end - self.start


@dataclass(frozen=True, slots=True)
class SurveyQuestion:
    """One question of the post-event survey."""

    code: str
    text: str
    kind: str
    required: bool = False
    options: tuple[str, ...] = ()
    scale_min: int = 1
    scale_max: int = 5
    scale_min_label: str = ""
    scale_max_label: str = ""


@dataclass(frozen=True, slots=True)
class Survey:
    """The post-event survey: when it opens, how long it stays open, its questions."""

    questions: tuple[SurveyQuestion, ...]
    title: str = "Post-event survey"
    #: Item id at whose start the survey opens; default: the first ``closing`` item.
    opens_at_item: str = ""
    #: Days the survey stays open after the event ends.
    open_days: int = 14
    anonymous: bool = True


@dataclass(frozen=True, slots=True)
class Agenda:
    """A whole webinar as planned: title, date, time zone and items in order."""

    title: str
    timezone: tzinfo
    timezone_name: str
    items: tuple[Item, ...]
    organiser: str = ""
    description: str = ""
    survey: Survey | None = None
    #: Whether attendee questions wait for host approval before they are shown.
    moderation: bool = False
    #: The Q&A forum's limit on a question's length, in characters.
    qa_max_length: int = 500
    #: Words or phrases that hold a question for the host's review.
    qa_word_filter: tuple[str, ...] = ()
    source_name: str = ""
    #: The event's main stage (``[stage]``), shown unless an item names its own.
    stage: Stage | None = None
    _by_id: dict[str, int] = field(default_factory=dict, compare=False, repr=False, init=False)

    def __post_init__(self) -> None:
        self._by_id.update({item.id: index for index, item in enumerate(self.items)})

    @property
    def planned_start(self) -> datetime:
        return self.items[0].start

    @property
    def planned_end(self) -> datetime:
        return self.items[-1].end

    def index_of(self, item_id: str) -> int:
        """Position of the item with ``item_id``; ``KeyError`` if there is none."""
        return self._by_id[item_id]

    def item(self, item_id: str) -> Item:
        """The item with ``item_id``; ``KeyError`` if there is none."""
        return self.items[self._by_id[item_id]]

    def has_item(self, item_id: str) -> bool:
        return item_id in self._by_id

    def stage_of(self, item_id: str | None) -> Stage | None:
        """The stage shown while ``item_id`` runs (the event's outside any item)."""
        if item_id is None or not self.has_item(item_id):
            return self.stage
        item = self.item(item_id)
        return stage_for(self.stage, item.stage, item.kind)

    def stages(self) -> list[Stage]:
        """Every stage the agenda can show (for the pages' security policy)."""
        found = [self.stage_of(None)] + [self.stage_of(item.id) for item in self.items]
        return [stage for stage in found if stage is not None]

    def calls(self) -> list[CallSettings]:
        """Every breakout's call provider."""
        return [i.breakout.call for i in self.items if i.breakout and i.breakout.call]


#: A session outlives the planned end by this much (an event that overruns, late saves).
SESSION_MARGIN = timedelta(days=1)
#: The shortest session lifetime, for an event started long after its planned time.
SESSION_MINIMUM = timedelta(hours=12)


def session_lifetime(agenda: Agenda, now: datetime) -> timedelta:
    """How long a session cookie made at ``now`` should last: until the event is over,
    the survey's days after it included, and a margin; never the browser's default weeks
    (the cookie holds the keys to a person's anonymous questions)."""
    over = agenda.planned_end + SESSION_MARGIN
    if agenda.survey is not None:
        over += timedelta(days=agenda.survey.open_days)
    return max(SESSION_MINIMUM, over - now)


def shifted(agenda: Agenda, start: datetime) -> Agenda:
    """The same agenda moved in time so that its first item starts at ``start``.

    For rehearsals and demonstrations: every item keeps its length and the gaps between.
    """
    delta = start - agenda.planned_start
    return replace(
        agenda,
        items=tuple(replace(i, start=i.start + delta, end=i.end + delta) for i in agenda.items),
    )
