"""What the screens show of a breakout: pure functions of a round value.

Each takes the round (:class:`webinar.domain.breakout_round.Round`), its item's
breakout settings and whatever else it shows (names, the projector's choice, ``now``),
and returns JSON-safe data: the payloads of the ``breakout.*`` and ``feedback.present``
events and the snapshots. Nothing here reads or changes a service's state, so a change
builds its events from the round it is about to install, before it is written.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from webinar.domain import audiences, breakout
from webinar.domain.agenda import BreakoutSettings
from webinar.domain.breakout_round import Group, Round
from webinar.services.commit import iso

#: participant id -> (name, organisation).
Names = Mapping[str, tuple[str, str]]
#: What the projector shows in the feedback session: {"mode": ..., "index": ...}.
Presenting = Mapping[str, Any]

NOBODY = ("", "")


def group_audience(round_id: int, number: int) -> str:
    return audiences.group(round_id, number)


def round_data(
    rnd: Round | None, settings: BreakoutSettings | None, now: datetime
) -> dict[str, Any]:
    """Everyone's view of the round: open or ended, the host's message, how many groups."""
    if rnd is None:
        return {"round": None, "state": "none"}
    assert settings is not None
    return {
        "round": rnd.id,
        "item_id": rnd.item_id,
        "state": "open" if rnd.ended_at is None else "ended",
        "capture_open": breakout.capture_open(rnd.ended_at, settings.grace_seconds, now),
        "ended_at": iso(rnd.ended_at) if rnd.ended_at else None,
        "message": rnd.message,
        "groups": len(rnd.groups),
    }


def group_data(
    rnd: Round, group: Group, settings: BreakoutSettings, names: Names, now: datetime
) -> dict[str, Any]:
    """A group's own screen: members, facilitator, help, its topics with responses."""
    template = settings.video_url_template
    return {
        "round": rnd.id,
        "item_id": rnd.item_id,
        "number": group.number,
        "ended": rnd.ended_at is not None,
        # When the facilitator's boxes become read-only: the end plus the grace.
        "locks_at": (
            iso(rnd.ended_at + timedelta(seconds=settings.grace_seconds))
            if rnd.ended_at is not None
            else None
        ),
        "locked": not breakout.capture_open(rnd.ended_at, settings.grace_seconds, now),
        "message": rnd.message,
        "facilitator": group.facilitator_id,
        "volunteer_by": iso(rnd.started_at + timedelta(seconds=settings.volunteer_seconds)),
        "help": group.help_at is not None,
        "video_url": template.replace("{group}", str(group.number)) if template else "",
        "members": [
            {
                "id": member,
                "name": names.get(member, NOBODY)[0],
                "organisation": names.get(member, NOBODY)[1],
            }
            for member in group.members
        ],
        "topics": [
            topic_data(rnd, settings, group.number, t)
            for t in range(len(settings.topics))
            if t in group.topics or rnd.responses.get((group.number, t))
        ],
    }


def topic_data(rnd: Round, settings: BreakoutSettings, number: int, topic: int) -> dict[str, Any]:
    """One group's response to one topic, with its members' points."""
    text, version, starred, by_host = rnd.response(number, topic)
    return {
        "index": topic,
        "title": settings.topics[topic],
        "text": text,
        "version": version,
        "starred": starred,
        "edited_by_host": by_host,
        "points": [
            {"author": a, "text": t, "at": at} for a, t, at in rnd.points.get((number, topic), ())
        ],
    }


def response_data(
    rnd: Round, settings: BreakoutSettings, number: int, topic: int
) -> dict[str, Any]:
    """The payload of a ``breakout.response`` event."""
    return {"round": rnd.id, "group": number, **topic_data(rnd, settings, number, topic)}


def grid_data(rnd: Round | None, settings: BreakoutSettings | None, names: Names) -> dict[str, Any]:
    """The host's grid: groups x topics coverage, help, membership."""
    if rnd is None:
        return {"round": None}
    assert settings is not None
    cover = _coverage(rnd, settings)
    return {
        "round": rnd.id,
        "item_id": rnd.item_id,
        "state": "open" if rnd.ended_at is None else "ended",
        "oversize": oversize_note(settings.group_size, rnd.groups),
        "topics": list(settings.topics),
        "by_topic": {str(k): v for k, v in cover.by_topic.items()},
        "groups": [
            {
                "number": g.number,
                "topics": list(g.topics),
                "covered": list(cover.by_group[g.number]),
                "help": g.help_at is not None,
                "facilitator": names.get(g.facilitator_id or "", NOBODY)[0]
                if g.facilitator_id
                else "",
                "members": [{"id": m, "name": names.get(m, NOBODY)[0]} for m in g.members],
            }
            for g in rnd.groups.values()
        ],
    }


def _coverage(rnd: Round, settings: BreakoutSettings) -> breakout.Coverage:
    responses = {key: value[0] for key, value in rnd.responses.items()}
    return breakout.coverage(
        len(settings.topics), {n: g.topics for n, g in rnd.groups.items()}, responses
    )


def feedback_data(
    rnd: Round | None, settings: BreakoutSettings | None, presenting: Presenting
) -> dict[str, Any]:
    """Every group's responses merged by topic, with how many groups covered each."""
    if rnd is None:
        return {"round": None, "topics": [], "groups": []}
    assert settings is not None
    covered_by = _coverage(rnd, settings).by_topic
    numbers = sorted(rnd.groups)
    topics = [
        {
            "index": index,
            "title": title,
            "covered_by": covered_by[index],
            "entries": [_feedback_entry(rnd, number, index) for number in numbers],
        }
        for index, title in enumerate(settings.topics)
    ]
    return {
        "round": rnd.id,
        "item_id": rnd.item_id,
        "state": "open" if rnd.ended_at is None else "ended",
        "group_count": len(numbers),
        "groups": numbers,
        "topics": topics,
        "present": dict(presenting),
    }


def _feedback_entry(rnd: Round, number: int, index: int) -> dict[str, Any]:
    text, version, starred, by_host = rnd.response(number, index)
    return {
        "group": number,
        "text": text,
        "version": version,
        "starred": starred,
        "edited_by_host": by_host,
        "given": index in rnd.groups[number].topics,
        "points": [{"author": a, "text": t} for a, t, _ in rnd.points.get((number, index), ())],
    }


def present_data(
    rnd: Round | None, settings: BreakoutSettings | None, presenting: Presenting
) -> dict[str, Any]:
    """What the projector shows: one topic across groups, one group's topics, or nothing."""
    mode, index = presenting.get("mode", "off"), presenting.get("index", 0)
    data: dict[str, Any] = {"mode": mode, "index": index, "title": "", "entries": []}
    if rnd is None or mode == "off":
        return {**data, "mode": "off"}
    feedback = feedback_data(rnd, settings, presenting)
    if mode == "topic":
        topic = feedback["topics"][index]
        data["title"] = f"Topic {index + 1}: {topic['title']}"
        data["covered_by"] = topic["covered_by"]
        data["entries"] = [
            {"label": f"Group {e['group']}", "group": e["group"], "topic": index, **e}
            for e in topic["entries"]
        ]
    else:
        data["title"] = f"Group {index}"
        data["entries"] = [
            {
                "label": f"Topic {t['index'] + 1}: {t['title']}",
                "group": index,
                "topic": t["index"],
                **next(e for e in t["entries"] if e["group"] == index),
            }
            for t in feedback["topics"]
        ]
    return data


def oversize_note(size: int | None, groups: Mapping[int, Group]) -> str:
    """A sentence for the host when groups hold more people than the size asked for."""
    if size is None:
        return ""
    over = sorted(number for number, group in groups.items() if len(group.members) > size)
    if not over:
        return ""
    if len(over) == 1:
        which = f"Group {over[0]} has"
    else:
        which = f"Groups {', '.join(map(str, over[:-1]))} and {over[-1]} have"
    return (
        f"{which} more than {size} people, the group size asked for: people who join late "
        f"go to the smallest group, so a group grows past {size} only when every group is full."
    )
