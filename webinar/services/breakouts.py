"""Breakouts: the agenda opens groups, facilitators capture, everyone returns.

When the agenda's current item becomes a breakout, the attendees connected at that
moment are split into groups (:mod:`webinar.domain.allocator`); each group's screens join
the audience ``g:<round>:<group>``. Late joiners land in the smallest group. When the
agenda leaves the item, the round ends: everyone is back in the main session and
facilitators may save for a grace period, after which responses are locked.

A round's state is in the database; a restart reloads it and carries on (the countdown
is the agenda item's, which is stored as absolute times).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import random
import secrets
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import aiosqlite

from webinar.domain import allocator, audiences, breakout, preassign
from webinar.domain.agenda import Agenda, Item
from webinar.domain.allocator import (
    MIN_GROUP_SIZE,
    Allocation,
    AllocationError,
    Group,
    Person,
)
from webinar.domain.breakout import BreakoutError
from webinar.domain.preassign import name_key
from webinar.services.access import Participant
from webinar.services.agenda import AgendaService
from webinar.services.live import Live, Outgoing, iso
from webinar.storage import breakout_repo as repo
from webinar.storage.breakout_repo import GroupRow, RoundRow
from webinar.storage.repo import raise_replay_floor

log = logging.getLogger(__name__)

#: A group's response to a topic: (text, version, starred, edited by the host).
Response = tuple[str, int, bool, bool]
#: A topic a group has not written on.
NO_RESPONSE: Response = ("", 0, False, False)


@contextlib.contextmanager
def _tentatively(
    responses: dict[tuple[int, int], Response], key: tuple[int, int], entry: Response
) -> Iterator[None]:
    """Show ``entry`` in the cache while a change builds its events, then put back what
    was there: the cache takes it for good only once the change is written (``apply``),
    so a change refused later in its transaction leaves no trace in memory."""
    previous = responses.get(key)
    responses[key] = entry
    try:
        yield
    finally:
        if previous is None:
            del responses[key]
        else:
            responses[key] = previous


#: Seconds a facilitator may be disconnected before the role is offered to the group.
FACILITATOR_AWAY_SECONDS = 60
TICK_SECONDS = 1.0


def group_audience(round_id: int, number: int) -> str:
    return audiences.group(round_id, number)


class BreakoutService:
    def __init__(
        self,
        agenda: Agenda,
        live: Live,
        agenda_service: AgendaService,
        connected: Callable[[], set[str]],
        away_after: timedelta = breakout.AWAY_AFTER,
    ) -> None:
        self.agenda = agenda
        self.live = live
        self.agenda_service = agenda_service
        #: Participant ids with at least one open screen (from the hub).
        self.connected = connected
        #: Someone whose last screen closed longer ago than this is not dealt in.
        self.away_after = away_after
        #: When each participant's last screen closed (while they have none open).
        self._left_at: dict[str, datetime] = {}
        self.rounds: list[RoundRow] = []
        self.names: dict[str, tuple[str, str]] = {}
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._away_since: dict[str, datetime] = {}
        #: What the projector shows in the feedback session: {"mode": ..., "index": ...}.
        self.presenting: dict[str, Any] = {"mode": "off", "index": 0}
        agenda_service.listeners.append(self._on_agenda)
        self._kick = asyncio.Event()

    # -- state ------------------------------------------------------------------------------

    async def load(self) -> None:
        self.rounds = await repo.load_rounds(self.live.db)
        ids = [m for r in self.rounds for g in r.groups.values() for m in g.members]
        self.names = await repo.names_of(self.live.db, ids)

    @property
    def current(self) -> RoundRow | None:
        """The latest round, open or ended (its responses stay visible)."""
        return self.rounds[-1] if self.rounds else None

    def open_round(self) -> RoundRow | None:
        latest = self.current
        return latest if latest is not None and latest.ended_at is None else None

    def item_of(self, rnd: RoundRow) -> Item:
        return self.agenda.item(rnd.item_id)

    def group_of(self, rnd: RoundRow, participant_id: str) -> GroupRow | None:
        for group in rnd.groups.values():
            if participant_id in group.members:
                return group
        return None

    def audiences_for(self, participant: Participant) -> set[str]:
        rnd = self.current
        if rnd is None:
            return set()
        group = self.group_of(rnd, participant.id)
        return {group_audience(rnd.id, group.number)} if group else set()

    # -- data for screens ----------------------------------------------------------------------

    def round_data(self, rnd: RoundRow | None) -> dict[str, Any]:
        if rnd is None:
            return {"round": None, "state": "none"}
        item = self.item_of(rnd)
        assert item.breakout is not None
        now = self.live.clock()
        return {
            "round": rnd.id,
            "item_id": rnd.item_id,
            "state": "open" if rnd.ended_at is None else "ended",
            "capture_open": breakout.capture_open(rnd.ended_at, item.breakout.grace_seconds, now),
            "ended_at": iso(rnd.ended_at) if rnd.ended_at else None,
            "message": rnd.message,
            "groups": len(rnd.groups),
        }

    def group_data(self, rnd: RoundRow, group: GroupRow) -> dict[str, Any]:
        item = self.item_of(rnd)
        settings = item.breakout
        assert settings is not None
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
            "locked": not breakout.capture_open(
                rnd.ended_at, settings.grace_seconds, self.live.clock()
            ),
            "message": rnd.message,
            "facilitator": group.facilitator_id,
            "volunteer_by": iso(rnd.started_at + timedelta(seconds=settings.volunteer_seconds)),
            "help": group.help_at is not None,
            "video_url": template.replace("{group}", str(group.number)) if template else "",
            "members": [
                {
                    "id": member,
                    "name": self.names.get(member, ("", ""))[0],
                    "organisation": self.names.get(member, ("", ""))[1],
                }
                for member in group.members
            ],
            "topics": [
                self.topic_data(rnd, group.number, t)
                for t in range(len(settings.topics))
                if t in group.topics or rnd.responses.get((group.number, t))
            ],
        }

    def topic_data(self, rnd: RoundRow, number: int, topic: int) -> dict[str, Any]:
        settings = self.item_of(rnd).breakout
        assert settings is not None
        text, version, starred, by_host = rnd.responses.get((number, topic), NO_RESPONSE)
        return {
            "index": topic,
            "title": settings.topics[topic],
            "text": text,
            "version": version,
            "starred": starred,
            "edited_by_host": by_host,
            "points": [
                {"author": a, "text": t, "at": at}
                for a, t, at in rnd.points.get((number, topic), [])
            ],
        }

    def grid_data(self, rnd: RoundRow | None) -> dict[str, Any]:
        """The host's grid: groups x topics coverage, help, membership."""
        if rnd is None:
            return {"round": None}
        settings = self.item_of(rnd).breakout
        assert settings is not None
        responses = {key: value[0] for key, value in rnd.responses.items()}
        cover = breakout.coverage(
            len(settings.topics), {n: g.topics for n, g in rnd.groups.items()}, responses
        )
        return {
            "round": rnd.id,
            "item_id": rnd.item_id,
            "state": "open" if rnd.ended_at is None else "ended",
            "oversize": _oversize_note(settings.group_size, rnd.groups),
            "topics": list(settings.topics),
            "by_topic": {str(k): v for k, v in cover.by_topic.items()},
            "groups": [
                {
                    "number": g.number,
                    "topics": list(g.topics),
                    "covered": list(cover.by_group[g.number]),
                    "help": g.help_at is not None,
                    "facilitator": self.names.get(g.facilitator_id or "", ("", ""))[0]
                    if g.facilitator_id
                    else "",
                    "members": [
                        {"id": m, "name": self.names.get(m, ("", ""))[0]} for m in g.members
                    ],
                }
                for g in rnd.groups.values()
            ],
        }

    def round_by_id(self, round_id: int | None) -> RoundRow | None:
        if round_id is None:
            return self.current
        return next((r for r in self.rounds if r.id == round_id), None)

    def feedback_data(self, rnd: RoundRow | None) -> dict[str, Any]:
        """Every group's responses merged by topic, with how many groups covered each."""
        if rnd is None:
            return {"round": None, "topics": [], "groups": []}
        settings = self.item_of(rnd).breakout
        assert settings is not None
        grid = self.grid_data(rnd)
        numbers = sorted(rnd.groups)
        topics = []
        for index, title in enumerate(settings.topics):
            entries = []
            for number in numbers:
                text, version, starred, by_host = rnd.responses.get((number, index), NO_RESPONSE)
                points = rnd.points.get((number, index), [])
                entries.append(
                    {
                        "group": number,
                        "text": text,
                        "version": version,
                        "starred": starred,
                        "edited_by_host": by_host,
                        "given": index in rnd.groups[number].topics,
                        "points": [{"author": a, "text": t} for a, t, _ in points],
                    }
                )
            topics.append(
                {
                    "index": index,
                    "title": title,
                    "covered_by": grid["by_topic"][str(index)],
                    "entries": entries,
                }
            )
        return {
            "round": rnd.id,
            "item_id": rnd.item_id,
            "state": "open" if rnd.ended_at is None else "ended",
            "group_count": len(numbers),
            "groups": numbers,
            "topics": topics,
            "present": dict(self.presenting),
        }

    async def star(self, number: int, topic: int, on: bool) -> None:
        rnd = self.current
        if rnd is None or number not in rnd.groups:
            raise BreakoutError("There is no such group.", "not_found", "group")
        if (number, topic) not in rnd.responses:
            raise BreakoutError("That group has written nothing on this topic.", "not_found")

        key = (number, topic)

        async def work(tx: aiosqlite.Connection, now: datetime) -> tuple[Response, list[Outgoing]]:
            await repo.star_response(tx, rnd.id, number, topic, on)
            text, version, _, by_host = rnd.responses[key]
            entry = (text, version, on, by_host)
            with _tentatively(rnd.responses, key, entry):
                data = {"round": rnd.id, "group": number, **self.topic_data(rnd, number, topic)}
            return entry, [Outgoing("breakout.response", audiences.STAFF, data)]

        def apply(entry: Response) -> None:
            rnd.responses[key] = entry

        await self.live.commit(work, apply)

    async def present(self, mode: str, index: int) -> dict[str, Any]:
        """Put one topic (or one group's responses) on the projector, or nothing."""
        rnd = self.current
        if rnd is None:
            raise BreakoutError("There has been no breakout yet.", "conflict")
        settings = self.item_of(rnd).breakout
        assert settings is not None
        if mode == "topic" and not 0 <= index < len(settings.topics):
            raise BreakoutError("There is no such topic.", "not_found", "index")
        if mode == "group" and index not in rnd.groups:
            raise BreakoutError("There is no such group.", "not_found", "index")
        choice = {"mode": mode, "index": index if mode != "off" else 0}

        async def work(tx: aiosqlite.Connection, now: datetime) -> tuple[None, list[Outgoing]]:
            self.presenting = choice
            # Staff only: it carries every group's responses (the projector is staff's).
            return None, [Outgoing("feedback.present", audiences.STAFF, self.present_data(rnd))]

        await self.live.commit(work)
        return choice

    def present_data(self, rnd: RoundRow | None) -> dict[str, Any]:
        mode, index = self.presenting.get("mode", "off"), self.presenting.get("index", 0)
        data: dict[str, Any] = {"mode": mode, "index": index, "title": "", "entries": []}
        if rnd is None or mode == "off":
            return {**data, "mode": "off"}
        feedback = self.feedback_data(rnd)
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

    def snapshot(self, participant: Participant) -> dict[str, Any]:
        rnd = self.current
        data: dict[str, Any] = {"round": self.round_data(rnd), "group": None, "grid": None}
        if participant.is_staff:
            data["present"] = self.present_data(rnd)
        if rnd is None:
            return data
        group = self.group_of(rnd, participant.id)
        if group is not None:
            data["group"] = self.group_data(rnd, group)
        if participant.is_staff:
            data["grid"] = self.grid_data(rnd)
        return data

    # -- the agenda drives rounds -------------------------------------------------------------

    def _on_agenda(self, old: Any, new: Any, now: datetime) -> None:
        self._kick.set()

    async def reconcile(self) -> None:
        """Open or end a round so that it matches the agenda's current item."""
        started = False
        async with self._lock:
            status = self.agenda_service.status()
            item = status.current if status.phase in ("running", "paused") else None
            rnd = self.current
            if item is not None and item.breakout is not None:
                if rnd is not None and rnd.item_id == item.id:
                    if rnd.ended_at is not None:
                        await self._reopen(rnd)
                    return
                if rnd is not None and rnd.ended_at is None:
                    await self._end(rnd)
                await self._start(item)
                started = True
            elif rnd is not None and rnd.ended_at is None:
                await self._end(rnd)
        if started:
            await self._sweep()

    async def _sweep(self) -> None:
        """Put attendees who connected while the groups were being made into groups."""
        rnd = self.open_round()
        if rnd is None:
            return
        grouped = {m for g in rnd.groups.values() for m in g.members}
        waiting = [p for p in sorted(self.connected()) if p not in grouped]
        ids = await repo.attendees(self.live.db, waiting)
        names = await repo.names_of(self.live.db, ids)
        for pid in ids:
            name, organisation = names.get(pid, ("", ""))
            await self.ensure_member(Participant(pid, audiences.ATTENDEE, name, organisation))

    def screen_opened(self, participant_id: str) -> None:
        self._left_at.pop(participant_id, None)

    def screen_closed(self, participant_id: str) -> None:
        """A participant's last open screen closed (see :meth:`here`)."""
        if participant_id not in self.connected():
            self._left_at[participant_id] = self.live.clock()

    def here(self) -> set[str]:
        """Who is here for a split: a screen open, or closed less than ``away_after`` ago."""
        now = self.live.clock()
        self._left_at = {p: at for p, at in self._left_at.items() if now - at < self.away_after}
        return breakout.present_at_split(self.connected(), self._left_at, now, self.away_after)

    async def _start(self, item: Item) -> None:
        settings = item.breakout
        assert settings is not None
        present = await repo.attendees(self.live.db, sorted(self.here()))
        names = await repo.names_of(self.live.db, present)
        self.names.update(names)
        people = [Person(pid, names.get(pid, ("", ""))[1]) for pid in present]
        seed = secrets.randbits(31)
        allocation = self._split(settings, people, seed, await self._preassigned(names))

        async def work(tx: aiosqlite.Connection, now: datetime) -> tuple[RoundRow, list[Outgoing]]:
            round_id = await repo.insert_round(tx, item.id, seed, iso(now))
            rnd = RoundRow(round_id, item.id, seed, now, None, "")
            members: list[tuple[str, int]] = []
            for group in allocation.groups:
                await repo.insert_group(tx, round_id, group.number, group.topics)
                rnd.groups[group.number] = GroupRow(
                    group.number, group.topics, members=list(group.members)
                )
                members += [(m, group.number) for m in group.members]
            await repo.insert_members(tx, round_id, members, iso(now))
            return rnd, self._round_events(rnd, every_group=True)

        await self.live.commit(work, self._adopt_new_round)

    def _split(
        self,
        settings: Any,
        people: list[Person],
        seed: int,
        preassigned: dict[str, int],
    ) -> Allocation:
        """Groups for the people present. Fewer people than one group holds (than two,
        with a fixed number of groups) make one group (even of one person: they can still
        capture), never an error."""
        if not people:
            return Allocation(())
        smallest = MIN_GROUP_SIZE
        if settings.group_count is None and settings.group_size is not None:
            smallest = max(smallest, settings.group_size)
        if len(people) < smallest:
            topics = allocator.assign_topics(
                1, len(settings.topics), settings.min_topics, random.Random(seed)
            )[0]
            members = tuple(sorted(p.id for p in people))
            return Allocation((Group(1, members, topics),))
        try:
            return allocator.allocate_breakout(
                settings, people, seed=seed, preassigned=preassigned, avoid_pairs=self._met()
            )
        except AllocationError:
            log.exception("pre-assignments could not be honoured; splitting without them")
            return allocator.allocate_breakout(settings, people, seed=seed)

    def _met(self) -> set[frozenset[str]]:
        """Pairs of people who were in a group together in an earlier round: a later
        breakout avoids putting them together again where it can."""
        pairs: set[frozenset[str]] = set()
        for rnd in self.rounds:
            current = Allocation(
                tuple(Group(g.number, tuple(g.members), g.topics) for g in rnd.groups.values())
            )
            pairs |= allocator.pairs_of(current)
        return pairs

    async def _preassigned(self, names: dict[str, tuple[str, str]]) -> dict[str, int]:
        wanted = await repo.preassignments(self.live.db)
        if not wanted:
            return {}
        return {pid: wanted[name_key(n)] for pid, (n, _) in names.items() if name_key(n) in wanted}

    def _adopt_new_round(self, rnd: RoundRow) -> None:
        self.rounds.append(rnd)
        for group in rnd.groups.values():
            for member in group.members:
                self.live.hub.add_audience_for(member, group_audience(rnd.id, group.number))

    async def _end(self, rnd: RoundRow) -> None:
        async def work(tx: aiosqlite.Connection, now: datetime) -> tuple[datetime, list[Outgoing]]:
            await repo.end_round(tx, rnd.id, iso(now))
            rnd.ended_at = now  # events below are rendered from the ended state
            return now, self._round_events(rnd, every_group=True)

        await self.live.commit(work)

    async def _reopen(self, rnd: RoundRow) -> None:
        async def work(tx: aiosqlite.Connection, now: datetime) -> tuple[None, list[Outgoing]]:
            await repo.reopen_round(tx, rnd.id)
            rnd.ended_at = None
            return None, self._round_events(rnd, every_group=True)

        await self.live.commit(work)

    def _round_events(self, rnd: RoundRow, *, every_group: bool) -> list[Outgoing]:
        events = [Outgoing("breakout.round", audiences.EVERYONE, self.round_data(rnd))]
        if every_group:
            for group in rnd.groups.values():
                events.append(self._group_event(rnd, group))
        events.append(Outgoing("breakout.grid", audiences.STAFF, self.grid_data(rnd)))
        return events

    def _group_event(self, rnd: RoundRow, group: GroupRow) -> Outgoing:
        return Outgoing(
            "breakout.group", group_audience(rnd.id, group.number), self.group_data(rnd, group)
        )

    # -- joining late, leaving ----------------------------------------------------------------

    async def ensure_member(self, participant: Participant) -> None:
        """Put an attendee who arrives during an open breakout into the smallest group."""
        rnd = self.open_round()
        if rnd is None or not participant.is_attendee:
            return
        if self.group_of(rnd, participant.id) is not None:
            return
        async with self._lock:
            rnd = self.open_round()
            if rnd is None or self.group_of(rnd, participant.id) is not None:
                return
            self.names[participant.id] = (participant.name, participant.organisation)
            current = Allocation(
                tuple(Group(g.number, tuple(g.members), g.topics) for g in rnd.groups.values())
            )
            settings = self.item_of(rnd).breakout
            assert settings is not None
            if current.groups:
                organisations = {
                    m: self.names.get(m, ("", ""))[1]
                    for g in rnd.groups.values()
                    for m in g.members
                }
                _, number = allocator.add_late_joiner(
                    current, Person(participant.id, participant.organisation), organisations
                )
                topics = rnd.groups[number].topics
                new_group = False
            else:
                number = 1
                topics = allocator.assign_topics(
                    1, len(settings.topics), settings.min_topics, random.Random(rnd.seed)
                )[0]
                new_group = True

            async def work(tx: aiosqlite.Connection, now: datetime) -> tuple[None, list[Outgoing]]:
                if new_group:
                    await repo.insert_group(tx, rnd.id, number, topics)
                await repo.put_member(tx, rnd.id, participant.id, number, iso(now))
                # Changed in place, as every breakout change is (see Live.commit).
                group = rnd.groups.setdefault(number, GroupRow(number, topics))
                group.members.append(participant.id)
                return None, [
                    Outgoing(
                        "breakout.group",
                        group_audience(rnd.id, number),
                        self.group_data(rnd, group),
                    ),
                    Outgoing("breakout.grid", audiences.STAFF, self.grid_data(rnd)),
                ]

            def adopt(_: None) -> None:
                self.live.hub.add_audience_for(participant.id, group_audience(rnd.id, number))

            await self.live.commit(work, adopt)

    # -- members and facilitators ---------------------------------------------------------------

    def _membership(
        self, participant: Participant, group: int | None = None
    ) -> tuple[RoundRow, GroupRow]:
        rnd = self.current
        if rnd is None:
            raise BreakoutError("There is no breakout at the moment.", "conflict")
        mine = self.group_of(rnd, participant.id)
        if mine is None:
            raise BreakoutError("You are not in a breakout group.", "forbidden")
        if group is not None and group != mine.number:
            raise BreakoutError("You can only act in your own group.", "forbidden", "group")
        return rnd, mine

    async def volunteer(self, participant: Participant) -> GroupRow:
        rnd, group = self._membership(participant)
        if rnd.ended_at is not None:
            raise BreakoutError("The breakout has ended.", "conflict")
        if group.facilitator_id == participant.id:
            return group
        if group.facilitator_id is not None:
            raise BreakoutError("Your group already has a facilitator.", "conflict")
        return await self._set_facilitator(rnd, group, participant.id, only_if_free=True)

    async def assign_facilitator(self, number: int, participant_id: str | None) -> GroupRow:
        rnd = self.current
        if rnd is None or number not in rnd.groups:
            raise BreakoutError("There is no such group.", "not_found", "group")
        group = rnd.groups[number]
        if participant_id is not None and participant_id not in group.members:
            raise BreakoutError(
                "The facilitator must be a member of the group.", "invalid", "participant_id"
            )
        return await self._set_facilitator(rnd, group, participant_id)

    async def _set_facilitator(
        self,
        rnd: RoundRow,
        group: GroupRow,
        participant_id: str | None,
        *,
        only_if_free: bool = False,
    ) -> GroupRow:
        async def work(tx: aiosqlite.Connection, now: datetime) -> tuple[None, list[Outgoing]]:
            # Checked again here: two volunteers at once must not both succeed, and a
            # volunteer must not be replaced by the automatic pick.
            if only_if_free and group.facilitator_id not in (None, participant_id):
                raise BreakoutError("Your group already has a facilitator.", "conflict")
            await repo.set_facilitator(tx, rnd.id, group.number, participant_id)
            group.facilitator_id = participant_id
            return None, [
                self._group_event(rnd, group),
                Outgoing("breakout.grid", audiences.STAFF, self.grid_data(rnd)),
            ]

        await self.live.commit(work)
        return group

    async def capture(self, participant: Participant, number: int, topic: int, text: str) -> int:
        """Save the facilitator's response to a topic; returns its version."""
        rnd, group = self._membership(participant, number)
        if group.facilitator_id != participant.id:
            raise BreakoutError(
                "Only your group's facilitator can write the responses.", "forbidden"
            )
        settings = self.item_of(rnd).breakout
        assert settings is not None
        if not 0 <= topic < len(settings.topics):
            raise BreakoutError("There is no such topic.", "not_found", "topic")
        if not breakout.capture_open(rnd.ended_at, settings.grace_seconds, self.live.clock()):
            raise BreakoutError("The breakout has ended and its responses are locked.", "conflict")
        return await self._save_response(rnd, number, topic, breakout.clean_response(text))

    async def correct(self, number: int, topic: int, text: str, version: int | None = None) -> int:
        """The host corrects a group's response (to take out a name before it is shown),
        at any time, even after the responses are locked; returns its version.

        ``version``: the one the host corrected; if the group has saved since, the
        correction is refused rather than silently replacing newer words.
        """
        rnd = self.current
        if rnd is None or number not in rnd.groups:
            raise BreakoutError("There is no such group.", "not_found", "group")
        if (number, topic) not in rnd.responses:
            raise BreakoutError("That group has written nothing on this topic.", "not_found")
        if version is not None and rnd.responses[(number, topic)][1] != version:
            raise BreakoutError(
                "The group has saved a newer version since you opened this one. It is shown "
                "now: correct that one.",
                "conflict",
            )
        clean = breakout.clean_response(text)
        return await self._save_response(rnd, number, topic, clean, by_host=True)

    async def _save_response(
        self, rnd: RoundRow, number: int, topic: int, clean: str, *, by_host: bool = False
    ) -> int:
        before = {k: v[0] for k, v in rnd.responses.items() if k[0] == number}

        key = (number, topic)

        async def work(
            tx: aiosqlite.Connection, now: datetime
        ) -> tuple[tuple[Response, int], list[Outgoing]]:
            # A host's correction takes back what earlier events showed: no replay of them.
            floor = await raise_replay_floor(tx) if by_host else 0
            version = await repo.save_response(
                tx, rnd.id, number, topic, clean, iso(now), by_host=by_host
            )
            entry = (clean, version, rnd.responses.get(key, NO_RESPONSE)[2], by_host)
            with _tentatively(rnd.responses, key, entry):
                events = self._response_events(rnd, number, topic, before, clean)
            return (entry, floor), events

        def apply(result: tuple[Response, int]) -> None:
            rnd.responses[key] = result[0]
            self.live.take_back(result[1])

        (entry, _) = await self.live.commit(work, apply)
        return entry[1]

    def _response_events(
        self, rnd: RoundRow, number: int, topic: int, before: dict[tuple[int, int], str], clean: str
    ) -> list[Outgoing]:
        events = [
            Outgoing(
                "breakout.response",
                group_audience(rnd.id, number),
                {"round": rnd.id, "group": number, **self.topic_data(rnd, number, topic)},
            ),
            Outgoing(
                "breakout.response",
                audiences.STAFF,
                {"round": rnd.id, "group": number, **self.topic_data(rnd, number, topic)},
            ),
        ]
        if bool(before.get((number, topic), "").strip()) != bool(clean.strip()):
            events.append(Outgoing("breakout.grid", audiences.STAFF, self.grid_data(rnd)))
        return events

    async def add_point(
        self, participant: Participant, number: int, topic: int, text: str, key: str
    ) -> bool:
        """A member's point for the facilitator; False when the key was used already."""
        rnd, _ = self._membership(participant, number)
        settings = self.item_of(rnd).breakout
        assert settings is not None
        if not 0 <= topic < len(settings.topics):
            raise BreakoutError("There is no such topic.", "not_found", "topic")
        if not breakout.capture_open(rnd.ended_at, settings.grace_seconds, self.live.clock()):
            raise BreakoutError("The breakout has ended.", "conflict")
        clean = breakout.clean_short(text, breakout.POINT_MAX, "point")
        hashed = hashlib.sha256(key.encode()).hexdigest()

        async def work(tx: aiosqlite.Connection, now: datetime) -> tuple[bool, list[Outgoing]]:
            added = await repo.insert_point(
                tx, rnd.id, number, topic, participant.name, clean, hashed, iso(now)
            )
            if not added:
                return False, []
            rnd.points.setdefault((number, topic), []).append((participant.name, clean, iso(now)))
            data = {"round": rnd.id, "group": number, **self.topic_data(rnd, number, topic)}
            return True, [Outgoing("breakout.response", group_audience(rnd.id, number), data)]

        return await self.live.commit(work)

    async def ask_help(self, participant: Participant, on: bool = True) -> None:
        rnd, group = self._membership(participant)
        await self._help(rnd, group, on)

    async def clear_help(self, number: int) -> None:
        rnd = self.current
        if rnd is None or number not in rnd.groups:
            raise BreakoutError("There is no such group.", "not_found", "group")
        await self._help(rnd, rnd.groups[number], False)

    async def _help(self, rnd: RoundRow, group: GroupRow, on: bool) -> None:
        async def work(tx: aiosqlite.Connection, now: datetime) -> tuple[None, list[Outgoing]]:
            at = iso(now) if on else None
            await repo.set_help(tx, rnd.id, group.number, at)
            group.help_at = at
            events = [
                self._group_event(rnd, group),
                Outgoing("breakout.grid", audiences.STAFF, self.grid_data(rnd)),
            ]
            if on:
                events.append(Outgoing("breakout.help", audiences.STAFF, {"group": group.number}))
            return None, events

        await self.live.commit(work)

    async def message_all(self, text: str) -> None:
        rnd = self.open_round()
        if rnd is None:
            raise BreakoutError("There is no breakout running.", "conflict")
        clean = breakout.clean_short(text, breakout.MESSAGE_MAX, "message")

        async def work(tx: aiosqlite.Connection, now: datetime) -> tuple[None, list[Outgoing]]:
            await repo.set_message(tx, rnd.id, clean)
            rnd.message = clean
            return None, [Outgoing("breakout.round", audiences.EVERYONE, self.round_data(rnd))]

        await self.live.commit(work)

    async def move(self, participant_id: str, number: int) -> None:
        """Move one person to another group while the breakout runs."""
        rnd = self.open_round()
        if rnd is None:
            raise BreakoutError("There is no breakout running.", "conflict")
        if number not in rnd.groups:
            raise BreakoutError("There is no such group.", "not_found", "group")
        source = self.group_of(rnd, participant_id)
        if source is None:
            raise BreakoutError("That person is not in a group.", "not_found", "participant_id")
        if source.number == number:
            return
        target = rnd.groups[number]

        async def work(tx: aiosqlite.Connection, now: datetime) -> tuple[None, list[Outgoing]]:
            await repo.put_member(tx, rnd.id, participant_id, number, iso(now))
            if source.facilitator_id == participant_id:
                await repo.set_facilitator(tx, rnd.id, source.number, None)
                source.facilitator_id = None
            source.members.remove(participant_id)
            target.members.append(participant_id)
            return None, [
                self._group_event(rnd, source),
                self._group_event(rnd, target),
                Outgoing("breakout.grid", audiences.STAFF, self.grid_data(rnd)),
            ]

        def adopt(_: None) -> None:
            # Out of the old room (its later events are not theirs to see), into the new.
            self.live.hub.remove_audience_for(participant_id, group_audience(rnd.id, source.number))
            self.live.hub.add_audience_for(participant_id, group_audience(rnd.id, number))

        await self.live.commit(work, adopt)

    async def remove_in(self, tx: aiosqlite.Connection, participant_id: str) -> list[Outgoing]:
        """Inside the caller's transaction: take someone out of their group in the open
        round (and of its facilitator's seat); the events to append. Memory is changed in
        place after the writes, as every breakout change is (see Live.commit); the
        caller's ``apply`` should call :meth:`removed` for the screens."""
        rnd = self.open_round()
        group = self.group_of(rnd, participant_id) if rnd is not None else None
        if rnd is None or group is None:
            return []
        await repo.delete_member(tx, rnd.id, participant_id)
        if group.facilitator_id == participant_id:
            await repo.set_facilitator(tx, rnd.id, group.number, None)
            group.facilitator_id = None
        group.members.remove(participant_id)
        return [
            self._group_event(rnd, group),
            Outgoing("breakout.grid", audiences.STAFF, self.grid_data(rnd)),
        ]

    def removed(self, participant_id: str) -> None:
        """After a removal is written: their screens see no group any more."""
        self._left_at.pop(participant_id, None)
        for rnd in self.rounds:
            for group in rnd.groups.values():
                self.live.hub.remove_audience_for(
                    participant_id, group_audience(rnd.id, group.number)
                )

    # -- pre-assignments -----------------------------------------------------------------------

    async def preassign(self, text: str, filename: str) -> dict[str, Any]:
        """Replace the pre-assignments with those of an uploaded CSV.

        ``PreassignError`` (every problem, by line) leaves the stored ones unchanged.
        People are matched by name when the breakout starts; rows naming nobody who has
        joined so far are reported, not refused (people join later).
        """
        rows = preassign.parse_preassignments(text, filename)
        keys = [(preassign.name_key(r.name) if r.name else r.email, r.group, r.line) for r in rows]

        async def work(tx: aiosqlite.Connection, now: datetime) -> tuple[int, list[Outgoing]]:
            await repo.replace_preassignments(tx, keys)
            return len(keys), []

        stored = await self.live.commit(work)
        joined = await repo.attendee_names(self.live.db)
        known = {preassign.name_key(name) for name in joined}
        waiting = [
            {"line": r.line, "name": r.name or r.email, "group": r.group}
            for r in rows
            if (preassign.name_key(r.name) if r.name else r.email) not in known
        ]
        return {"stored": stored, "not_joined_yet": waiting}

    # -- the ticker: facilitators who never came or went away -----------------------------------

    async def tick(self) -> None:
        rnd = self.open_round()
        if rnd is None:
            return
        settings = self.item_of(rnd).breakout
        assert settings is not None
        now = self.live.clock()
        present = self.connected()
        if now >= rnd.started_at + timedelta(seconds=settings.volunteer_seconds):
            for group in list(rnd.groups.values()):
                if group.facilitator_id is None:
                    here = [m for m in group.members if m in present] or group.members
                    chosen = breakout.pick_facilitator(here, rnd.seed, group.number)
                    if chosen is not None:
                        with contextlib.suppress(BreakoutError):  # someone volunteered first
                            await self._set_facilitator(rnd, group, chosen, only_if_free=True)
        for group in list(rnd.groups.values()):
            fid = group.facilitator_id
            if fid is None or fid in present:
                self._away_since.pop(fid or "", None)
                continue
            since = self._away_since.setdefault(fid, now)
            if now - since >= timedelta(seconds=FACILITATOR_AWAY_SECONDS):
                self._away_since.pop(fid, None)
                await self._set_facilitator(rnd, group, None)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="breakouts")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await self.reconcile()
                await self.tick()
            except Exception:
                log.exception("breakout tick failed")
            self._kick.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._kick.wait(), TICK_SECONDS)


def _oversize_note(size: int | None, groups: dict[int, GroupRow]) -> str:
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
