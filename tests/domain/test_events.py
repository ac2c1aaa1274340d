"""The event models (webinar/domain/events.py): each takes what the services send and
refuses what drifts from it."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from webinar.domain import events

pytestmark = pytest.mark.unit

T = "2026-11-26T10:10:00.000+00:00"
COUNTERS = {"received": 3, "published": 2, "answered": 1}
REPLY = {"id": 1, "author": "Panel", "role": "host", "text": "Yes.", "is_answer": True}
QUESTION: dict[str, Any] = {
    "id": 7,
    "item_id": "qa1",
    "text": "What next?",
    "author": "",
    "organisation": "",
    "anonymous": True,
    "state": "published",
    "votes": 4,
    "answered": "written",
    "highlighted": False,
    "pinned": True,
    "edited_by_host": False,
    "created_at": T,
    "replies": [{**REPLY, "created_at": T}],
}
STAFF_QUESTION = {
    **QUESTION,
    "replies": [{**REPLY, "created_at": T, "hidden": False}],
    "held_by_filter": False,
    "reject_reason": "",
    "merged_into": None,
}
TOPIC = {
    "index": 0,
    "title": "Barriers",
    "text": "Time.",
    "version": 2,
    "starred": False,
    "edited_by_host": True,
    "points": [{"author": "Ann", "text": "Rotas", "at": T}],
}
ROUND = {
    "round": 1,
    "item_id": "b1",
    "state": "open",
    "capture_open": True,
    "ended_at": None,
    "message": "",
    "groups": 3,
}
GROUP = {
    "round": 1,
    "item_id": "b1",
    "number": 2,
    "ended": False,
    "locks_at": None,
    "locked": False,
    "message": "",
    "facilitator": "p1",
    "volunteer_by": T,
    "help": False,
    "video_url": "",
    "members": [{"id": "p1", "name": "Ann", "organisation": "NHS"}],
    "topics": [TOPIC],
}
GRID = {
    "round": 1,
    "item_id": "b1",
    "state": "ended",
    "oversize": "",
    "topics": ["Barriers"],
    "by_topic": {"0": 1},
    "groups": [
        {
            "number": 2,
            "topics": [0],
            "covered": [0],
            "help": False,
            "facilitator": "Ann",
            "members": [{"id": "p1", "name": "Ann"}],
        }
    ],
}
ENTRY = {
    "label": "Group 2",
    "group": 2,
    "topic": 0,
    "text": "Time.",
    "version": 2,
    "starred": False,
    "edited_by_host": False,
    "given": True,
    "points": [{"author": "Ann", "text": "Rotas"}],
}
AGENDA = {
    "phase": "running",
    "now": T,
    "current": "talk1",
    "current_started_at": T,
    "current_ends_at": T,
    "remaining_seconds": 120.5,
    "paused": False,
    "held": False,
    "overrun": False,
    "next": None,
    "next_starts_at": None,
    "drift_seconds": 0.0,
    "drift_text": "on time",
    "projected_end": T,
    "slide": 0,
    "schedule": [
        {
            "id": "talk1",
            "state": "current",
            "start": T,
            "end": T,
            "planned_start": T,
            "planned_end": T,
        }
    ],
}

#: A payload each event type sends to each kind of audience, as the services build it.
POLL_RESULTS: dict[str, Any] = {
    "poll_id": 3,
    "kind": "single",
    "question": "How confident are you commissioning an LCSPR?",
    "public": True,
    "respondents": 3,
    "rows": [
        {"label": "Very", "count": 2, "percent": 66.7, "correct": False},
        {"label": "Not yet", "count": 1, "percent": 33.3, "correct": False},
    ],
    "texts": [],
    "more_texts": 0,
    "held": 0,
    "mean": None,
}
POLL: dict[str, Any] = {
    "id": 3,
    "item_id": "welcome",
    "item_title": "Welcome",
    "kind": "single",
    "kind_label": "Single choice",
    "question": "How confident are you commissioning an LCSPR?",
    "options": ["Very", "Not yet"],
    "max_choices": 0,
    "scale_min": 1,
    "scale_max": 5,
    "anonymous": True,
    "opens": "host",
    "results_mode": "hidden",
    "state": "open",
    "revealed": True,
    "results_public": True,
    "on_projector": False,
    "opened_at": "2020-08-20T09:05:00.000+00:00",
    "closed_at": None,
    "results": POLL_RESULTS,
}
STAFF_POLL: dict[str, Any] = {**POLL, "correct": None, "place": "1 of 2"}

EXAMPLES: dict[tuple[str, str], dict[str, Any]] = {
    ("agenda.state", "all"): AGENDA,
    ("roster.joined", "staff"): {"count": 12},
    ("qa.question", "staff"): {"question": STAFF_QUESTION, "counters": COUNTERS},
    ("qa.question", "all"): {
        "question": QUESTION,
        "removed": False,
        "new": True,
        "counters": COUNTERS,
    },
    ("qa.mine", "question"): {
        "question": {
            "id": 7,
            "item_id": "qa1",
            "text": "What next?",
            "state": "rejected",
            "anonymous": True,
            "answered": "",
            "reject_reason": "off_topic",
            "reject_text": "It is not about this session.",
            "merged_into": None,
        }
    },
    ("qa.my_vote", "participant"): {"question_id": 3, "from": 7, "voted": True},
    ("qa.votes", "all"): {"votes": {"7": 5, "9": 0}},
    ("qa.highlight", "all"): {"question": None},
    ("qa.settings", "all"): {"open": True, "moderation": False, "max_length": 500},
    ("breakout.round", "all"): ROUND,
    ("breakout.group", "group"): GROUP,
    ("breakout.response", "group"): {"round": 1, "group": 2, **TOPIC},
    ("breakout.response", "staff"): {"round": 1, "group": 2, **TOPIC},
    ("breakout.grid", "staff"): GRID,
    ("breakout.help", "staff"): {"group": 2},
    ("feedback.present", "staff"): {
        "mode": "topic",
        "index": 0,
        "title": "Topic 1: Barriers",
        "entries": [ENTRY],
        "covered_by": 1,
    },
    ("survey.state", "all"): {"state": "not_yet", "closes_at": None, "override": "auto"},
    ("polls.poll", "staff"): {"poll": STAFF_POLL},
    ("polls.poll", "all"): {
        "poll": {**POLL, "revealed": False, "results_public": False, "results": None}
    },
    ("polls.results", "staff"): {"results": {**POLL_RESULTS, "public": False}},
    ("polls.results", "all"): {"results": POLL_RESULTS},
}
AUDIENCE_OF_KIND = {
    "all": "all",
    "staff": "staff",
    "participant": "p:abc",
    "question": "q:7",
    "group": "g:1:2",
}
CASES = sorted(EXAMPLES)


def test_every_event_type_and_audience_has_an_example() -> None:
    declared = {(e.name, kind) for e in events.EVENTS for kind in e.audiences}
    assert declared == set(EXAMPLES)


@pytest.mark.parametrize(("name", "kind"), CASES)
def test_the_example_matches(name: str, kind: str) -> None:
    events.check(name, AUDIENCE_OF_KIND[kind], copy.deepcopy(EXAMPLES[name, kind]))


@pytest.mark.parametrize(("name", "kind"), CASES)
def test_an_undeclared_field_is_refused(name: str, kind: str) -> None:
    data = {**EXAMPLES[name, kind], "surprise": 1}
    with pytest.raises(events.EventMismatch, match="surprise"):
        events.check(name, AUDIENCE_OF_KIND[kind], data)


@pytest.mark.parametrize(("name", "kind"), CASES)
def test_a_missing_field_is_refused(name: str, kind: str) -> None:
    data = dict(EXAMPLES[name, kind])
    first = next(iter(data))
    del data[first]
    with pytest.raises(events.EventMismatch, match=first):
        events.check(name, AUDIENCE_OF_KIND[kind], data)


@pytest.mark.parametrize(
    ("name", "kind", "field", "value"),
    [
        ("roster.joined", "staff", "count", "12"),
        ("qa.settings", "all", "open", 1),
        ("qa.my_vote", "participant", "voted", False),
        ("survey.state", "all", "state", "later"),
        ("breakout.round", "all", "ended_at", "yesterday"),
        ("breakout.round", "all", "round", True),
    ],
)
def test_a_loosely_typed_value_is_refused(name: str, kind: str, field: str, value: Any) -> None:
    data = {**EXAMPLES[name, kind], field: value}
    with pytest.raises(events.EventMismatch, match=field):
        events.check(name, AUDIENCE_OF_KIND[kind], data)


def test_a_staff_question_is_not_sent_to_everyone() -> None:
    data = {**EXAMPLES["qa.question", "all"], "question": STAFF_QUESTION}
    with pytest.raises(events.EventMismatch, match="held_by_filter"):
        events.check("qa.question", "all", data)


def test_a_removed_question_carries_only_its_id() -> None:
    data = {**EXAMPLES["qa.question", "all"], "question": {"id": 7}, "removed": True}
    events.check("qa.question", "all", data)


@pytest.mark.parametrize(
    ("name", "audience"),
    [("qa.votes", "staff"), ("breakout.grid", "all"), ("qa.mine", "p:abc"), ("no.such", "all")],
)
def test_an_event_sent_to_the_wrong_audience_is_refused(name: str, audience: str) -> None:
    with pytest.raises(events.EventMismatch, match="is not an event sent to"):
        events.check(name, audience, EXAMPLES.get((name, "all"), {}))


def test_an_audience_no_builder_makes_is_refused() -> None:
    with pytest.raises(events.EventMismatch, match="is not an audience"):
        events.check("qa.votes", "everyone", {"votes": {}})


def test_a_breakout_response_says_whether_the_host_edited_it() -> None:
    assert "edited_by_host" in events.Response.model_fields


def test_a_snapshot_matches_for_staff_and_attendees() -> None:
    staff: dict[str, Any] = {
        "agenda": AGENDA,
        "qa": {
            "settings": {"open": True, "moderation": True, "max_length": 500},
            "counters": COUNTERS,
            "questions": [STAFF_QUESTION],
            "highlighted": None,
            "mine": [],
        },
        "breakout": {
            "round": ROUND,
            "group": None,
            "grid": GRID,
            "present": {"mode": "off", "index": 0, "title": "", "entries": []},
        },
        "polls": [STAFF_POLL],
    }
    attendee = {
        **staff,
        "qa": {**staff["qa"], "questions": [QUESTION]},
        "breakout": {"round": {"round": None, "state": "none"}, "group": GROUP, "grid": None},
        "polls": [POLL],
    }
    events.check_snapshot(staff)
    events.check_snapshot(attendee)
    with pytest.raises(events.EventMismatch, match="snapshot"):
        events.check_snapshot({**attendee, "extra": {}})
    with pytest.raises(events.EventMismatch, match="snapshot"):  # no quiz answer for attendees
        events.check_snapshot({**attendee, "polls": [{**POLL, "correct": 0}]})
