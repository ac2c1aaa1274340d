"""Breakouts: the agenda opens groups, facilitators capture, everyone returns.

When the agenda's current item becomes a breakout, the attendees connected at that
moment are split into groups (:mod:`webinar.domain.allocator`); each group's screens join
the audience ``g:<round>:<group>``. Late joiners land in the smallest group. When the
agenda leaves the item, the round ends: everyone is back in the main session and
facilitators may save for a grace period, after which responses are locked.

A round's state is in the database; a restart reloads it and carries on (the countdown
is the agenda item's, which is stored as absolute times). In memory each round is an
immutable :class:`~webinar.domain.breakout_round.Round`: a change's work function reads
the latest round, writes, builds the new round and its events from it
(:mod:`webinar.services.breakout_screens`), and only its ``apply`` installs the new round
(see :meth:`webinar.services.commit.Committer.commit`).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import random
import secrets
from collections import ChainMap
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from webinar.domain import allocator, audiences, breakout, preassign
from webinar.domain.agenda import Agenda, BreakoutSettings, Item
from webinar.domain.allocator import MIN_GROUP_SIZE, Allocation, AllocationError, Person
from webinar.domain.breakout import BreakoutError
from webinar.domain.breakout_round import Group, Round, frozen_mapping, replaced
from webinar.domain.preassign import name_key
from webinar.services import breakout_screens as screens
from webinar.services.access import Participant
from webinar.services.agenda import AgendaService
from webinar.services.background import Background
from webinar.services.breakout_screens import Names, Presenting, group_audience
from webinar.services.commit import Committer, Outgoing, iso
from webinar.storage import breakout_repo as repo
from webinar.storage import qa_repo
from webinar.storage.breakout_repo import RoundRow
from webinar.storage.db import Tx
from webinar.storage.repo import raise_replay_floor

log = logging.getLogger(__name__)

#: Seconds a facilitator may be disconnected before the role is offered to the group.
FACILITATOR_AWAY_SECONDS = 60
TICK_SECONDS = 1.0
#: Where the projector's choice is kept (the settings table), so a reload finds it.
PRESENTING_KEY = "feedback.present"
PRESENTING_OFF = {"mode": "off", "index": 0}

__all__ = ["BreakoutService", "group_audience"]


def _frozen(row: RoundRow) -> Round:
    """The immutable round of a stored one."""
    groups = {
        n: Group(g.number, g.topics, g.facilitator_id, g.help_at, tuple(g.members))
        for n, g in row.groups.items()
    }
    return Round(
        row.id,
        row.item_id,
        row.seed,
        row.started_at,
        row.ended_at,
        row.message,
        frozen_mapping(groups),
        frozen_mapping(row.responses),
        frozen_mapping({key: tuple(points) for key, points in row.points.items()}),
    )


class BreakoutService:
    def __init__(
        self,
        agenda: Agenda,
        committer: Committer,
        agenda_service: AgendaService,
        connected: Callable[[], set[str]],
        away_after: timedelta = breakout.AWAY_AFTER,
    ) -> None:
        self.agenda = agenda
        self.committer = committer
        self.agenda_service = agenda_service
        #: Participant ids with at least one open screen (from the hub).
        self.connected = connected
        #: Someone whose last screen closed longer ago than this is not dealt in.
        self.away_after = away_after
        #: When each participant's last screen closed (while they have none open).
        self._left_at: dict[str, datetime] = {}
        #: Every round, oldest first; replaced whole (never changed in place) by ``apply``.
        self.rounds: tuple[Round, ...] = ()
        #: participant id -> (name, organisation), for the members of every round.
        self.names: dict[str, tuple[str, str]] = {}
        self._lock = asyncio.Lock()
        self._ticker = Background("breakouts", self._run)
        self._away_since: dict[str, datetime] = {}
        #: What the projector shows in the feedback session: {"mode": ..., "index": ...}.
        self.presenting: Presenting = frozen_mapping(PRESENTING_OFF)
        agenda_service.listeners.append(self._on_agenda)
        self._kick = asyncio.Event()
        #: Told of each round that has just ended (group calls end their meetings).
        self.round_ended: list[Callable[[Round], None]] = []

    # -- state ------------------------------------------------------------------------------

    async def load(self) -> None:
        """Read every round from the database (at start-up, and after a failed COMMIT:
        then the screens' group audiences are put back in line with it, too)."""
        self.rounds = tuple(_frozen(row) for row in await repo.load_rounds(self.committer.db))
        ids = [m for r in self.rounds for g in r.groups.values() for m in g.members]
        self.names = await repo.names_of(self.committer.db, ids)
        stored = (await qa_repo.settings(self.committer.db)).get(PRESENTING_KEY)
        self.presenting = frozen_mapping(json.loads(stored) if stored else PRESENTING_OFF)
        self._align_audiences()

    def _align_audiences(self) -> None:
        """Each open screen sees its owner's group in the latest round and no other group."""
        hub = self.committer.hub
        rnd = self.current
        for owner in hub.owners():
            group = rnd.group_of(owner) if rnd is not None else None
            wanted = group_audience(rnd.id, group.number) if rnd and group else None
            stale = {
                a
                for c in hub.screens_of(owner)
                for a in c.audiences
                if audiences.kind(a) == "group"
            }
            for audience in stale - {wanted}:
                hub.remove_audience_for(owner, audience)
            if wanted is not None:
                hub.add_audience_for(owner, wanted)

    @property
    def current(self) -> Round | None:
        """The latest round, open or ended (its responses stay visible)."""
        return self.rounds[-1] if self.rounds else None

    def open_round(self) -> Round | None:
        latest = self.current
        return latest if latest is not None and latest.ended_at is None else None

    def _latest(self, round_id: int) -> Round:
        """The round with this id as it is now (a work function's starting point)."""
        for rnd in reversed(self.rounds):
            if rnd.id == round_id:
                return rnd
        raise BreakoutError("There is no such breakout.", "not_found")

    def _install(self, new: Round) -> None:
        """``apply`` of a change: the new round takes the place of the old one."""
        self.rounds = replaced(self.rounds, new)

    def item_of(self, rnd: Round) -> Item:
        return self.agenda.item(rnd.item_id)

    def settings_of(self, rnd: Round) -> BreakoutSettings:
        settings = self.item_of(rnd).breakout
        assert settings is not None
        return settings

    def group_of(self, rnd: Round, participant_id: str) -> Group | None:
        return rnd.group_of(participant_id)

    def audiences_for(self, participant: Participant) -> set[str]:
        rnd = self.current
        if rnd is None:
            return set()
        group = rnd.group_of(participant.id)
        return {group_audience(rnd.id, group.number)} if group else set()

    # -- data for screens (see breakout_screens) ------------------------------------------------

    def round_data(self, rnd: Round | None) -> dict[str, Any]:
        settings = self.settings_of(rnd) if rnd is not None else None
        return screens.round_data(rnd, settings, self.committer.clock())

    def group_data(self, rnd: Round, group: Group) -> dict[str, Any]:
        return screens.group_data(
            rnd, group, self.settings_of(rnd), self.names, self.committer.clock()
        )

    def grid_data(self, rnd: Round | None) -> dict[str, Any]:
        settings = self.settings_of(rnd) if rnd is not None else None
        return screens.grid_data(rnd, settings, self.names)

    def feedback_data(self, rnd: Round | None) -> dict[str, Any]:
        settings = self.settings_of(rnd) if rnd is not None else None
        return screens.feedback_data(rnd, settings, self.presenting)

    def present_data(self, rnd: Round | None) -> dict[str, Any]:
        settings = self.settings_of(rnd) if rnd is not None else None
        return screens.present_data(rnd, settings, self.presenting)

    def round_by_id(self, round_id: int | None) -> Round | None:
        if round_id is None:
            return self.current
        return next((r for r in self.rounds if r.id == round_id), None)

    def snapshot(self, participant: Participant) -> dict[str, Any]:
        rnd = self.current
        data: dict[str, Any] = {"round": self.round_data(rnd), "group": None, "grid": None}
        if participant.is_staff:
            data["present"] = self.present_data(rnd)
        if rnd is None:
            return data
        group = rnd.group_of(participant.id)
        if group is not None:
            data["group"] = self.group_data(rnd, group)
        if participant.is_staff:
            data["grid"] = self.grid_data(rnd)
        return data

    # -- events of a change, built from the new round ----------------------------------------

    def _group_event(
        self, rnd: Round, number: int, now: datetime, names: Names | None = None
    ) -> Outgoing:
        data = screens.group_data(
            rnd,
            rnd.groups[number],
            self.settings_of(rnd),
            names if names is not None else self.names,
            now,
        )
        return Outgoing("breakout.group", group_audience(rnd.id, number), data)

    def _grid_event(self, rnd: Round, names: Names | None = None) -> Outgoing:
        data = screens.grid_data(
            rnd, self.settings_of(rnd), names if names is not None else self.names
        )
        return Outgoing("breakout.grid", audiences.STAFF, data)

    def _round_events(
        self, rnd: Round, now: datetime, names: Names | None = None
    ) -> list[Outgoing]:
        settings = self.settings_of(rnd)
        events = [
            Outgoing("breakout.round", audiences.EVERYONE, screens.round_data(rnd, settings, now))
        ]
        events += [self._group_event(rnd, n, now, names) for n in rnd.groups]
        events.append(self._grid_event(rnd, names))
        return events

    def _response_events(self, old: Round, new: Round, number: int, topic: int) -> list[Outgoing]:
        settings = self.settings_of(new)
        events = [
            Outgoing(
                "breakout.response",
                group_audience(new.id, number),
                screens.response_data(new, settings, number, topic),
            ),
            Outgoing(
                "breakout.response",
                audiences.STAFF,
                screens.response_data(new, settings, number, topic),
            ),
        ]
        before, after = old.response(number, topic)[0], new.response(number, topic)[0]
        if bool(before.strip()) != bool(after.strip()):
            events.append(self._grid_event(new))
        return events

    # -- the host in the feedback session -------------------------------------------------------

    async def star(self, number: int, topic: int, on: bool) -> None:
        rnd = self.current
        if rnd is None or number not in rnd.groups:
            raise BreakoutError("There is no such group.", "not_found", "group")
        if (number, topic) not in rnd.responses:
            raise BreakoutError("That group has written nothing on this topic.", "not_found")
        round_id = rnd.id

        async def work(tx: Tx, now: datetime) -> tuple[Round, list[Outgoing]]:
            await repo.star_response(tx, round_id, number, topic, on)
            new = self._latest(round_id).with_star(number, topic, on)
            data = screens.response_data(new, self.settings_of(new), number, topic)
            return new, [Outgoing("breakout.response", audiences.STAFF, data)]

        await self.committer.commit(work, self._install)

    async def present(self, mode: str, index: int) -> dict[str, Any]:
        """Put one topic (or one group's responses) on the projector, or nothing."""
        rnd = self.current
        if rnd is None:
            raise BreakoutError("There has been no breakout yet.", "conflict")
        settings = self.settings_of(rnd)
        if mode == "topic" and not 0 <= index < len(settings.topics):
            raise BreakoutError("There is no such topic.", "not_found", "index")
        if mode == "group" and index not in rnd.groups:
            raise BreakoutError("There is no such group.", "not_found", "index")
        choice = {"mode": mode, "index": index if mode != "off" else 0}
        round_id = rnd.id

        async def work(tx: Tx, now: datetime) -> tuple[Presenting, list[Outgoing]]:
            await qa_repo.put_setting(tx, PRESENTING_KEY, json.dumps(choice))
            data = screens.present_data(self._latest(round_id), settings, choice)
            # Staff only: it carries every group's responses (the projector is staff's).
            return frozen_mapping(choice), [Outgoing("feedback.present", audiences.STAFF, data)]

        def apply(presenting: Presenting) -> None:
            self.presenting = presenting

        await self.committer.commit(work, apply)
        return choice

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
                        await self._reopen(rnd.id)
                    return
                if rnd is not None and rnd.ended_at is None:
                    await self._end(rnd.id)
                await self._start(item)
                started = True
            elif rnd is not None and rnd.ended_at is None:
                await self._end(rnd.id)
        if started:
            await self._sweep()

    async def _sweep(self) -> None:
        """Put attendees who connected while the groups were being made into groups."""
        rnd = self.open_round()
        if rnd is None:
            return
        grouped = {m for g in rnd.groups.values() for m in g.members}
        waiting = [p for p in sorted(self.connected()) if p not in grouped]
        ids = await repo.attendees(self.committer.db, waiting)
        names = await repo.names_of(self.committer.db, ids)
        for pid in ids:
            name, organisation = names.get(pid, ("", ""))
            await self.ensure_member(Participant(pid, audiences.ATTENDEE, name, organisation))

    def screen_opened(self, participant_id: str) -> None:
        self._left_at.pop(participant_id, None)

    def screen_closed(self, participant_id: str) -> None:
        """A participant's last open screen closed (see :meth:`here`)."""
        self.screens_closed((participant_id,))

    def screens_closed(self, participant_ids: Iterable[str]) -> None:
        """Screens of several participants closed at once (a worker gone): who is still
        connected is worked out once, not once per screen."""
        present = self.connected()
        now = self.committer.clock()
        for participant_id in participant_ids:
            if participant_id not in present:
                self._left_at[participant_id] = now

    def here(self) -> set[str]:
        """Who is here for a split: a screen open, or closed less than ``away_after`` ago."""
        now = self.committer.clock()
        self._left_at = {p: at for p, at in self._left_at.items() if now - at < self.away_after}
        return breakout.present_at_split(self.connected(), self._left_at, now, self.away_after)

    async def _start(self, item: Item) -> None:
        settings = item.breakout
        assert settings is not None
        present = await repo.attendees(self.committer.db, sorted(self.here()))
        names = await repo.names_of(self.committer.db, present)
        people = [Person(pid, names.get(pid, ("", ""))[1]) for pid in present]
        seed = secrets.randbits(31)
        allocation = self._split(settings, people, seed, await self._preassigned(names))
        known = ChainMap(names, self.names)

        async def work(tx: Tx, now: datetime) -> tuple[Round, list[Outgoing]]:
            round_id = await repo.insert_round(tx, item.id, seed, iso(now))
            groups: dict[int, Group] = {}
            members: list[tuple[str, int]] = []
            for group in allocation.groups:
                await repo.insert_group(tx, round_id, group.number, group.topics)
                groups[group.number] = Group(group.number, group.topics, members=group.members)
                members += [(m, group.number) for m in group.members]
            await repo.insert_members(tx, round_id, members, iso(now))
            new = Round(round_id, item.id, seed, now, None, "", frozen_mapping(groups))
            return new, self._round_events(new, now, known)

        def adopt(new: Round) -> None:
            self.names.update(names)
            self._install(new)
            for group in new.groups.values():
                for member in group.members:
                    self.committer.hub.add_audience_for(
                        member, group_audience(new.id, group.number)
                    )

        await self.committer.commit(work, adopt)

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
            return Allocation((allocator.Group(1, members, topics),))
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
            pairs |= allocator.pairs_of(_allocation(rnd))
        return pairs

    async def _preassigned(self, names: dict[str, tuple[str, str]]) -> dict[str, int]:
        wanted = await repo.preassignments(self.committer.db)
        if not wanted:
            return {}
        return {pid: wanted[name_key(n)] for pid, (n, _) in names.items() if name_key(n) in wanted}

    async def _end(self, round_id: int) -> None:
        async def work(tx: Tx, now: datetime) -> tuple[Round, list[Outgoing]]:
            await repo.end_round(tx, round_id, iso(now))
            new = self._latest(round_id).ended(now)  # the events show the ended state
            return new, self._round_events(new, now)

        ended = await self.committer.commit(work, self._install)
        for hook in self.round_ended:
            hook(ended)

    async def _reopen(self, round_id: int) -> None:
        async def work(tx: Tx, now: datetime) -> tuple[Round, list[Outgoing]]:
            await repo.reopen_round(tx, round_id)
            new = self._latest(round_id).reopened()
            return new, self._round_events(new, now)

        await self.committer.commit(work, self._install)

    # -- joining late, leaving ----------------------------------------------------------------

    async def ensure_member(self, participant: Participant) -> None:
        """Put an attendee who arrives during an open breakout into the smallest group."""
        rnd = self.open_round()
        if rnd is None or not participant.is_attendee:
            return
        if rnd.group_of(participant.id) is not None:
            return
        async with self._lock:
            rnd = self.open_round()
            if rnd is None or rnd.group_of(participant.id) is not None:
                return
            await self._add_late_joiner(rnd, participant)

    async def _add_late_joiner(self, rnd: Round, participant: Participant) -> None:
        known = ChainMap({participant.id: (participant.name, participant.organisation)}, self.names)
        if rnd.groups:
            organisations = {
                m: known.get(m, ("", ""))[1] for g in rnd.groups.values() for m in g.members
            }
            _, number = allocator.add_late_joiner(
                _allocation(rnd), Person(participant.id, participant.organisation), organisations
            )
            topics = rnd.groups[number].topics
        else:
            settings = self.settings_of(rnd)
            number = 1
            topics = allocator.assign_topics(
                1, len(settings.topics), settings.min_topics, random.Random(rnd.seed)
            )[0]
        round_id = rnd.id

        async def work(tx: Tx, now: datetime) -> tuple[Round, list[Outgoing]]:
            latest = self._latest(round_id)
            if number not in latest.groups:
                await repo.insert_group(tx, round_id, number, topics)
            await repo.put_member(tx, round_id, participant.id, number, iso(now))
            new = latest.with_member(participant.id, number, topics)
            return new, [self._group_event(new, number, now, known), self._grid_event(new, known)]

        def adopt(new: Round) -> None:
            self.names[participant.id] = (participant.name, participant.organisation)
            self._install(new)
            self.committer.hub.add_audience_for(participant.id, group_audience(round_id, number))

        await self.committer.commit(work, adopt)

    # -- members and facilitators ---------------------------------------------------------------

    def _membership(
        self, participant: Participant, group: int | None = None
    ) -> tuple[Round, Group]:
        rnd = self.current
        if rnd is None:
            raise BreakoutError("There is no breakout at the moment.", "conflict")
        mine = rnd.group_of(participant.id)
        if mine is None:
            raise BreakoutError("You are not in a breakout group.", "forbidden")
        if group is not None and group != mine.number:
            raise BreakoutError("You can only act in your own group.", "forbidden", "group")
        return rnd, mine

    async def volunteer(self, participant: Participant) -> Group:
        rnd, group = self._membership(participant)
        if rnd.ended_at is not None:
            raise BreakoutError("The breakout has ended.", "conflict")
        if group.facilitator_id == participant.id:
            return group
        if group.facilitator_id is not None:
            raise BreakoutError("Your group already has a facilitator.", "conflict")
        return await self._set_facilitator(rnd.id, group.number, participant.id, only_if_free=True)

    async def assign_facilitator(self, number: int, participant_id: str | None) -> Group:
        rnd = self.current
        if rnd is None or number not in rnd.groups:
            raise BreakoutError("There is no such group.", "not_found", "group")
        if participant_id is not None and participant_id not in rnd.groups[number].members:
            raise BreakoutError(
                "The facilitator must be a member of the group.", "invalid", "participant_id"
            )
        return await self._set_facilitator(rnd.id, number, participant_id)

    async def _set_facilitator(
        self,
        round_id: int,
        number: int,
        participant_id: str | None,
        *,
        only_if_free: bool = False,
    ) -> Group:
        async def work(tx: Tx, now: datetime) -> tuple[Round, list[Outgoing]]:
            # Checked again here: two volunteers at once must not both succeed, and a
            # volunteer must not be replaced by the automatic pick.
            latest = self._latest(round_id)
            if only_if_free and latest.groups[number].facilitator_id not in (None, participant_id):
                raise BreakoutError("Your group already has a facilitator.", "conflict")
            await repo.set_facilitator(tx, round_id, number, participant_id)
            new = latest.with_facilitator(number, participant_id)
            return new, [self._group_event(new, number, now), self._grid_event(new)]

        new = await self.committer.commit(work, self._install)
        return new.groups[number]

    async def capture(self, participant: Participant, number: int, topic: int, text: str) -> int:
        """Save the facilitator's response to a topic; returns its version."""
        rnd, group = self._membership(participant, number)
        if group.facilitator_id != participant.id:
            raise BreakoutError(
                "Only your group's facilitator can write the responses.", "forbidden"
            )
        settings = self.settings_of(rnd)
        if not 0 <= topic < len(settings.topics):
            raise BreakoutError("There is no such topic.", "not_found", "topic")
        if not breakout.capture_open(rnd.ended_at, settings.grace_seconds, self.committer.clock()):
            raise BreakoutError("The breakout has ended and its responses are locked.", "conflict")
        return await self._save_response(rnd.id, number, topic, breakout.clean_response(text))

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
        return await self._save_response(rnd.id, number, topic, clean, by_host=True)

    async def _save_response(
        self, round_id: int, number: int, topic: int, clean: str, *, by_host: bool = False
    ) -> int:
        async def work(tx: Tx, now: datetime) -> tuple[tuple[Round, int, int], list[Outgoing]]:
            # A host's correction takes back what earlier events showed: no replay of them.
            floor = await raise_replay_floor(tx) if by_host else 0
            version = await repo.save_response(
                tx, round_id, number, topic, clean, iso(now), by_host=by_host
            )
            old = self._latest(round_id)
            new = old.with_response(number, topic, clean, version, by_host)
            return (new, version, floor), self._response_events(old, new, number, topic)

        def apply(result: tuple[Round, int, int]) -> None:
            self._install(result[0])
            self.committer.take_back(result[2])

        _, version, _ = await self.committer.commit(work, apply)
        return version

    async def add_point(
        self, participant: Participant, number: int, topic: int, text: str, key: str
    ) -> bool:
        """A member's point for the facilitator; False when the key was used already."""
        rnd, _ = self._membership(participant, number)
        settings = self.settings_of(rnd)
        if not 0 <= topic < len(settings.topics):
            raise BreakoutError("There is no such topic.", "not_found", "topic")
        if not breakout.capture_open(rnd.ended_at, settings.grace_seconds, self.committer.clock()):
            raise BreakoutError("The breakout has ended.", "conflict")
        clean = breakout.clean_short(text, breakout.POINT_MAX, "point")
        hashed = hashlib.sha256(key.encode()).hexdigest()
        round_id = rnd.id

        async def work(tx: Tx, now: datetime) -> tuple[Round | None, list[Outgoing]]:
            added = await repo.insert_point(
                tx, round_id, number, topic, participant.name, clean, hashed, iso(now)
            )
            if not added:
                return None, []
            point = (participant.name, clean, iso(now))
            new = self._latest(round_id).with_point(number, topic, point)
            data = screens.response_data(new, settings, number, topic)
            return new, [Outgoing("breakout.response", group_audience(round_id, number), data)]

        def apply(new: Round | None) -> None:
            if new is not None:
                self._install(new)

        return await self.committer.commit(work, apply) is not None

    async def ask_help(self, participant: Participant, on: bool = True) -> None:
        rnd, group = self._membership(participant)
        await self._help(rnd.id, group.number, on)

    async def clear_help(self, number: int) -> None:
        rnd = self.current
        if rnd is None or number not in rnd.groups:
            raise BreakoutError("There is no such group.", "not_found", "group")
        await self._help(rnd.id, number, False)

    async def _help(self, round_id: int, number: int, on: bool) -> None:
        async def work(tx: Tx, now: datetime) -> tuple[Round, list[Outgoing]]:
            at = iso(now) if on else None
            await repo.set_help(tx, round_id, number, at)
            new = self._latest(round_id).with_help(number, at)
            events = [self._group_event(new, number, now), self._grid_event(new)]
            if on:
                events.append(Outgoing("breakout.help", audiences.STAFF, {"group": number}))
            return new, events

        await self.committer.commit(work, self._install)

    async def message_all(self, text: str) -> None:
        rnd = self.open_round()
        if rnd is None:
            raise BreakoutError("There is no breakout running.", "conflict")
        clean = breakout.clean_short(text, breakout.MESSAGE_MAX, "message")
        round_id = rnd.id

        async def work(tx: Tx, now: datetime) -> tuple[Round, list[Outgoing]]:
            await repo.set_message(tx, round_id, clean)
            new = self._latest(round_id).with_message(clean)
            data = screens.round_data(new, self.settings_of(new), now)
            return new, [Outgoing("breakout.round", audiences.EVERYONE, data)]

        await self.committer.commit(work, self._install)

    async def move(self, participant_id: str, number: int) -> None:
        """Move one person to another group while the breakout runs."""
        rnd = self.open_round()
        if rnd is None:
            raise BreakoutError("There is no breakout running.", "conflict")
        if number not in rnd.groups:
            raise BreakoutError("There is no such group.", "not_found", "group")
        source = rnd.group_of(participant_id)
        if source is None:
            raise BreakoutError("That person is not in a group.", "not_found", "participant_id")
        if source.number == number:
            return
        round_id, was_in = rnd.id, source.number

        async def work(tx: Tx, now: datetime) -> tuple[Round, list[Outgoing]]:
            latest = self._latest(round_id)
            now_in = latest.group_of(participant_id)
            if now_in is None or now_in.number != was_in:
                raise BreakoutError("That person has just changed groups: try again.", "conflict")
            await repo.put_member(tx, round_id, participant_id, number, iso(now))
            if latest.groups[was_in].facilitator_id == participant_id:
                await repo.set_facilitator(tx, round_id, was_in, None)
            new = latest.moved(participant_id, number)
            return new, [
                self._group_event(new, was_in, now),
                self._group_event(new, number, now),
                self._grid_event(new),
            ]

        def adopt(new: Round) -> None:
            self._install(new)
            # Out of the old room (its later events are not theirs to see), into the new.
            self.committer.hub.remove_audience_for(participant_id, group_audience(round_id, was_in))
            self.committer.hub.add_audience_for(participant_id, group_audience(round_id, number))

        await self.committer.commit(work, adopt)

    async def remove_in(
        self, tx: Tx, participant_id: str, now: datetime
    ) -> tuple[Round | None, list[Outgoing]]:
        """Inside the caller's transaction: take someone out of their group in the open
        round (and of its facilitator's seat); the new round (None if they were in no
        group) and the events to append. Memory is not changed: the caller's ``apply``
        hands the round to :meth:`removed`."""
        rnd = self.open_round()
        group = rnd.group_of(participant_id) if rnd is not None else None
        if rnd is None or group is None:
            return None, []
        await repo.delete_member(tx, rnd.id, participant_id)
        if group.facilitator_id == participant_id:
            await repo.set_facilitator(tx, rnd.id, group.number, None)
        new = rnd.without_member(participant_id)
        return new, [self._group_event(new, group.number, now), self._grid_event(new)]

    def removed(self, participant_id: str, new: Round | None) -> None:
        """After a removal is written: the round from :meth:`remove_in` is installed, and
        their screens see no group any more."""
        if new is not None:
            self._install(new)
        self._left_at.pop(participant_id, None)
        for rnd in self.rounds:
            for group in rnd.groups.values():
                self.committer.hub.remove_audience_for(
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

        async def work(tx: Tx, now: datetime) -> tuple[int, list[Outgoing]]:
            await repo.replace_preassignments(tx, keys)
            return len(keys), []

        stored = await self.committer.commit(work)
        joined = await repo.attendee_names(self.committer.db)
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
        settings = self.settings_of(rnd)
        now = self.committer.clock()
        present = self.connected()
        if now >= rnd.started_at + timedelta(seconds=settings.volunteer_seconds):
            for group in rnd.groups.values():
                if group.facilitator_id is None:
                    here = [m for m in group.members if m in present] or list(group.members)
                    chosen = breakout.pick_facilitator(here, rnd.seed, group.number)
                    if chosen is not None:
                        with contextlib.suppress(BreakoutError):  # someone volunteered first
                            await self._set_facilitator(
                                rnd.id, group.number, chosen, only_if_free=True
                            )
        for number in list(self._latest(rnd.id).groups):
            await self._check_facilitator_here(rnd.id, number, present, now)

    async def _check_facilitator_here(
        self, round_id: int, number: int, present: set[str], now: datetime
    ) -> None:
        """Free the seat of a facilitator who has had no screen open for a while."""
        fid = self._latest(round_id).groups[number].facilitator_id
        if fid is None or fid in present:
            self._away_since.pop(fid or "", None)
            return
        since = self._away_since.setdefault(fid, now)
        if now - since >= timedelta(seconds=FACILITATOR_AWAY_SECONDS):
            self._away_since.pop(fid, None)
            await self._set_facilitator(round_id, number, None)

    def start(self) -> None:
        self._ticker.start()

    @property
    def ticker_running(self) -> bool:
        return self._ticker.running

    async def stop(self) -> None:
        await self._ticker.stop()

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


def _allocation(rnd: Round) -> Allocation:
    """A round's groups as the allocator sees them."""
    return Allocation(
        tuple(allocator.Group(g.number, g.members, g.topics) for g in rnd.groups.values())
    )
