"""Live polls: what a poll asks, which answers it takes, and how they are counted.

Pure: the service loads polls and answers, calls these functions and saves the result.
Kinds: single choice, multiple choice (with a maximum), rating scale, word cloud (one to
three short words per person), open text, and a quiz (single choice with a correct option
revealed at the end).

Percentages are of *respondents*, never of ticks: in a multiple-choice poll where ten
people tick three options each, an option ticked by five people shows 50%, and the
percentages add up to more than 100.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from webinar.domain.text import matches_filter

Kind = Literal["single", "multiple", "rating", "words", "text", "quiz"]
KINDS: tuple[Kind, ...] = ("single", "multiple", "rating", "words", "text", "quiz")
KIND_LABELS: dict[str, str] = {
    "single": "Single choice",
    "multiple": "Multiple choice",
    "rating": "Rating scale",
    "words": "Word cloud",
    "text": "Open text",
    "quiz": "Quiz",
}
State = Literal["ready", "open", "closed"]
Opens = Literal["start", "host"]
Results = Literal["hidden", "live"]

QUESTION_MAX = 300
OPTION_MAX = 120
OPTIONS_MAX = 12
WORD_MAX = 30
WORDS_MAX = 3
TEXT_MAX = 500
RATING_LOW, RATING_HIGH = 0, 10
#: Words shown in a cloud, most frequent first.
CLOUD_MAX = 40
CHOICE_KINDS = ("single", "multiple", "quiz")


class PollError(ValueError):
    """A refused poll operation. ``kind`` maps to an HTTP status in the web layer."""

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
class PollSpec:
    """A poll as written: in the agenda file (under an item) or by the host."""

    question: str
    kind: Kind
    options: tuple[str, ...] = ()
    #: Multiple choice: the most options one person may tick.
    max_choices: int = 0
    scale_min: int = 1
    scale_max: int = 5
    #: Quiz: the index of the correct option.
    correct: int | None = None
    anonymous: bool = True
    opens: Opens = "host"
    results: Results = "hidden"


@dataclass(frozen=True, slots=True)
class Poll:
    """A poll of this event and where it is in its life."""

    id: int
    spec: PollSpec
    #: The agenda item it belongs to; ``None`` for an ad hoc poll.
    item_id: str | None
    position: int
    state: State = "ready"
    revealed: bool = False
    on_projector: bool = False
    opened_at: datetime | None = None
    closed_at: datetime | None = None

    @property
    def results_public(self) -> bool:
        """Whether attendees may see the counts now."""
        return self.revealed or (self.spec.results == "live" and self.state != "ready")

    @property
    def correct_public(self) -> bool:
        """A quiz's correct option is shown once the poll is closed and revealed."""
        return self.spec.kind == "quiz" and self.revealed and self.state == "closed"


# -- text ----------------------------------------------------------------------------------


def clean_text(text: str, *, limit: int, what: str, field: str = "text") -> str:
    """``text`` trimmed; ``PollError`` with a sentence when empty, too long or holding a
    control character (line breaks and tabs are allowed)."""
    trimmed = text.strip()
    if not trimmed:
        raise PollError(f"Please write the {what} first.", field=field)
    for ch in trimmed:
        if ch not in "\n\r\t" and unicodedata.category(ch) in ("Cc", "Cs"):
            raise PollError(f"The {what} contains a control character; remove it.", field=field)
    if len(trimmed) > limit:
        raise PollError(
            f"The {what} is {len(trimmed)} characters long; the limit is {limit}. "
            "Please shorten it.",
            field=field,
        )
    return trimmed


_EDGE_PUNCTUATION = re.compile(r"^[^\w]+|[^\w]+$")


def normalise_word(word: str) -> str:
    """One word-cloud entry as it is counted: case folded, inner whitespace collapsed,
    punctuation at either end dropped, and a cheap singular ("policies" -> "policy",
    "referrals" -> "referral"; not "class", "bus" or "analysis")."""
    folded = " ".join(unicodedata.normalize("NFC", word).casefold().split())
    folded = _EDGE_PUNCTUATION.sub("", folded)
    words = folded.split(" ")
    words[-1] = _singular(words[-1])
    return " ".join(words)


def _singular(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


# -- writing a poll --------------------------------------------------------------------------


def check_spec(spec: PollSpec) -> PollSpec:
    """The spec with its texts trimmed; ``PollError`` naming the field that is wrong."""
    question = clean_text(spec.question, limit=QUESTION_MAX, what="poll question", field="question")
    if spec.kind not in KINDS:
        raise PollError(f"Choose a kind of poll: {', '.join(KINDS)}.", field="kind")
    options = tuple(spec.options)
    if spec.kind in CHOICE_KINDS:
        options = _check_options(options)
    elif options:
        raise PollError(
            f"A {KIND_LABELS[spec.kind].lower()} poll has no options.", "invalid", "options"
        )
    max_choices = _check_max(spec, len(options))
    if spec.kind == "rating":
        _check_scale(spec.scale_min, spec.scale_max)
    correct = spec.correct
    if spec.kind == "quiz":
        if correct is None or not 0 <= correct < len(options):
            raise PollError(
                f"A quiz needs its correct option: a number from 1 to {len(options)}.",
                field="correct",
            )
    elif correct is not None:
        raise PollError("Only a quiz has a correct option.", field="correct")
    return replace(spec, question=question, options=options, max_choices=max_choices)


def _check_options(options: tuple[str, ...]) -> tuple[str, ...]:
    cleaned = tuple(
        clean_text(o, limit=OPTION_MAX, what="option", field="options") for o in options
    )
    if not 2 <= len(cleaned) <= OPTIONS_MAX:
        raise PollError(
            f"Give between 2 and {OPTIONS_MAX} options; there are {len(cleaned)}.",
            field="options",
        )
    folded = [o.casefold() for o in cleaned]
    if len(set(folded)) != len(folded):
        raise PollError("Two options say the same; make each option different.", field="options")
    return cleaned


def _check_max(spec: PollSpec, count: int) -> int:
    if spec.kind != "multiple":
        return 1 if spec.kind in ("single", "quiz") else 0
    chosen = spec.max_choices or count
    if not 1 <= chosen <= count:
        raise PollError(
            f"The most options one person may tick must be from 1 to {count}.",
            field="max_choices",
        )
    return chosen


def _check_scale(low: int, high: int) -> None:
    if not RATING_LOW <= low < high <= RATING_HIGH:
        raise PollError(
            f"A rating scale runs between {RATING_LOW} and {RATING_HIGH}, lowest first, "
            f"like 1 to 5; this one is {low} to {high}.",
            field="scale_max",
        )


# -- its life --------------------------------------------------------------------------------


def open_poll(poll: Poll, now: datetime) -> Poll:
    """Open a ready or closed poll (re-opening keeps its answers)."""
    if poll.state == "open":
        raise PollError("This poll is open already.", "conflict")
    return replace(poll, state="open", opened_at=poll.opened_at or now, closed_at=None)


def close_poll(poll: Poll, now: datetime) -> Poll:
    if poll.state != "open":
        raise PollError("Only an open poll can be closed.", "conflict")
    return replace(poll, state="closed", closed_at=now)


def reveal(poll: Poll, on: bool) -> Poll:
    if on and poll.state == "ready":
        raise PollError("Open the poll before showing its results.", "conflict")
    return replace(poll, revealed=on)


def project(poll: Poll, on: bool) -> Poll:
    return replace(poll, on_projector=on)


def reset(poll: Poll) -> Poll:
    """Back to ready, results hidden again; the service deletes its answers."""
    return replace(
        poll, state="ready", revealed=False, on_projector=False, opened_at=None, closed_at=None
    )


def to_open_at_start(polls: Iterable[Poll], item_id: str) -> list[Poll]:
    """The polls of ``item_id`` that open when it starts and have not run yet."""
    return [
        p for p in polls if p.item_id == item_id and p.spec.opens == "start" and p.state == "ready"
    ]


def sequence(polls: Iterable[Poll]) -> list[Poll]:
    """Polls in the order the host runs them: by position (agenda order, then ad hoc)."""
    return sorted(polls, key=lambda p: (p.position, p.id))


# -- answering -------------------------------------------------------------------------------

#: A stored answer: option indexes (choice kinds), one value (rating), words or one text.
Answer = tuple[int, ...] | tuple[str, ...]


def check_answer(poll: Poll, raw: Sequence[object]) -> Answer:
    """The answer as it is stored, from the values sent; ``PollError`` with a sentence the
    attendee can act on when the poll is not open or the answer does not fit it."""
    if poll.state != "open":
        raise PollError("This poll is not open for answers.", "conflict")
    kind = poll.spec.kind
    if kind in CHOICE_KINDS:
        return _check_choices(poll.spec, raw)
    if kind == "rating":
        return _check_rating(poll.spec, raw)
    if kind == "words":
        return _check_words(raw)
    return _check_free_text(raw)


def _whole_numbers(raw: Sequence[object]) -> list[int]:
    if any(isinstance(v, bool) or not isinstance(v, int) for v in raw):
        raise PollError("Choose from the options shown.", field="choices")
    return [v for v in raw if isinstance(v, int)]


def _check_choices(spec: PollSpec, raw: Sequence[object]) -> tuple[int, ...]:
    chosen = _whole_numbers(raw)
    if not chosen:
        raise PollError("Choose an option first.", field="choices")
    if any(not 0 <= c < len(spec.options) for c in chosen):
        raise PollError("That option is not one of this poll's.", "not_found", "choices")
    if len(set(chosen)) != len(chosen):
        raise PollError("Each option can be chosen once.", field="choices")
    if len(chosen) > spec.max_choices:
        most = "one option" if spec.max_choices == 1 else f"up to {spec.max_choices} options"
        raise PollError(f"Choose {most}; you chose {len(chosen)}.", field="choices")
    return tuple(sorted(chosen))


def _check_rating(spec: PollSpec, raw: Sequence[object]) -> tuple[int, ...]:
    values = _whole_numbers(raw)
    if len(values) != 1 or not spec.scale_min <= values[0] <= spec.scale_max:
        raise PollError(
            f"Choose one value from {spec.scale_min} to {spec.scale_max}.", field="choices"
        )
    return (values[0],)


def _texts(raw: Sequence[object]) -> list[str]:
    if any(not isinstance(v, str) for v in raw):
        raise PollError("Write your answer as text.", field="words")
    return [v for v in raw if isinstance(v, str) and v.strip()]


def _check_words(raw: Sequence[object]) -> tuple[str, ...]:
    words = _texts(raw)
    if not words:
        raise PollError("Write a word first.", field="words")
    if len(words) > WORDS_MAX:
        raise PollError(f"Give up to {WORDS_MAX} words; you gave {len(words)}.", field="words")
    cleaned = [clean_text(w, limit=WORD_MAX, what="word", field="words") for w in words]
    counted = [normalise_word(w) for w in cleaned]
    if any(not w for w in counted):
        raise PollError("A word needs at least one letter or digit.", field="words")
    # The same word twice from one person counts once.
    return tuple(dict.fromkeys(counted))


def _check_free_text(raw: Sequence[object]) -> tuple[str, ...]:
    texts = _texts(raw)
    if len(texts) != 1:
        raise PollError("Write your answer first.", field="words")
    return (clean_text(texts[0], limit=TEXT_MAX, what="answer", field="words"),)


# -- counting --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the results: an option, a rating value or a word."""

    label: str
    count: int
    #: Of respondents, one decimal.
    percent: float
    correct: bool = False


@dataclass(frozen=True, slots=True)
class Tally:
    respondents: int
    rows: tuple[Row, ...]
    #: Open text answers (filtered ones left out), in a stable order.
    texts: tuple[str, ...] = ()
    #: Word-cloud words and open texts held back by the event's word filter.
    held: int = 0
    mean: float | None = None


def percent(count: int, respondents: int) -> float:
    return round(100.0 * count / respondents, 1) if respondents else 0.0


def tally(poll: Poll, answers: Iterable[Answer], word_filter: Sequence[str] = ()) -> Tally:
    """Counts and percentages of respondents: one answer per respondent comes in."""
    given = list(answers)
    n = len(given)
    kind = poll.spec.kind
    if kind in CHOICE_KINDS:
        counts = Counter(int(c) for a in given for c in a)
        correct = poll.spec.correct if poll.correct_public else None
        rows = tuple(
            Row(label, counts[i], percent(counts[i], n), i == correct)
            for i, label in enumerate(poll.spec.options)
        )
        return Tally(n, rows)
    if kind == "rating":
        counts = Counter(int(a[0]) for a in given)
        scale = range(poll.spec.scale_min, poll.spec.scale_max + 1)
        rows = tuple(Row(str(v), counts[v], percent(counts[v], n)) for v in scale)
        mean = round(sum(int(a[0]) for a in given) / n, 2) if n else None
        return Tally(n, rows, mean=mean)
    if kind == "words":
        return _tally_words(given, word_filter)
    texts = [str(a[0]) for a in given]
    shown = sorted(t for t in texts if not matches_filter(t, word_filter))
    return Tally(n, (), texts=tuple(shown), held=len(texts) - len(shown))


def _tally_words(given: list[Answer], word_filter: Sequence[str]) -> Tally:
    n = len(given)
    counts: Counter[str] = Counter()
    held = 0
    for answer in given:
        for word in answer:
            if matches_filter(str(word), word_filter):
                held += 1
            else:
                counts[str(word)] += 1
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:CLOUD_MAX]
    rows = tuple(Row(word, count, percent(count, n)) for word, count in top)
    return Tally(n, rows, held=held)
