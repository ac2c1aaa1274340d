"""Compute in work, install in apply: a change refused late leaves memory as it was.

For every kind of change to breakouts, the survey and the roster, a failure is injected
after the change's work function has run (and written its rows), in two ways:

- *refused*: the work function's result is thrown away by an exception raised after it
  returns, so ``Committer`` rolls the change back to its SAVEPOINT and never calls ``apply``;
- *commit fails*: the whole transaction is rolled back at COMMIT, after ``apply`` has run;
  ``Committer`` then reloads every service from the database.

Either way the change is refused to its caller, and the services' memory, the screens'
audiences, the database and the published events are exactly as before.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from helpers import seed_agenda, tables_query
from postgres_cluster import database as database_for
from webinar.realtime.hub import Client, Event
from webinar.services import DEFAULT_SLUG, Services, open_services, prepare_database
from webinar.services.access import Participant
from webinar.services.roster import remove_participant
from webinar.storage.db import Tx
from webinar.storage.webinars import find_webinar_sync

pytestmark = pytest.mark.integration

BREAKOUT = "lcspr-breakout"
START = datetime(2026, 3, 5, 9, 0, tzinfo=UTC)


class Injected(Exception):
    """The failure a test injects; never a BreakoutError, so nothing swallows it."""


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def encode(event: Event, fmt: str) -> str:
    return str(event.seq)


@dataclass
class Room:
    """The seed webinar with eight attendees on screen and a host, no tickers running."""

    services: Services
    clock: Clock
    host: Participant
    people: list[Participant]
    screens: dict[str, Client] = field(default_factory=dict)

    @property
    def breakouts(self) -> Any:
        return self.services.breakouts

    async def agenda(self, command: str, **args: Any) -> None:
        await self.services.agenda_service.command(command, self.host.id, **args)

    async def deal(self) -> None:
        await self.agenda("start")
        await self.agenda("jump", item_id=BREAKOUT)
        await self.breakouts.reconcile()

    def members(self, number: int) -> list[str]:
        return list(self.breakouts.current.groups[number].members)

    def person(self, participant_id: str) -> Participant:
        return next(p for p in self.people if p.id == participant_id)

    def first_group(self) -> int:
        return int(min(self.breakouts.current.groups))

    def facilitator(self) -> Participant:
        return self.person(self.members(self.first_group())[0])

    def topic(self) -> int:
        return int(self.breakouts.current.groups[self.first_group()].topics[0])

    async def volunteer(self) -> Participant:
        person = self.facilitator()
        await self.breakouts.volunteer(person)
        return person

    async def capture(self, text: str = "Share early") -> None:
        person = await self.volunteer()
        await self.breakouts.capture(person, self.first_group(), self.topic(), text)


@contextlib.asynccontextmanager
async def open_room(folder: Path) -> AsyncIterator[Room]:
    clock = Clock(START)
    path = database_for(str(folder / "webinar.db"))
    prepare_database(path)
    event = find_webinar_sync(path, DEFAULT_SLUG)
    assert event is not None
    services = await open_services(seed_agenda(), path, encode, clock, webinar_id=event.id)
    try:
        code = services.access.join_code
        people = [
            (await services.access.join(code, f"Person {i}", f"Org {i % 3}"))[1] for i in range(8)
        ]
        _, host = await services.access.enter("host", services.access.secrets()["host_token"])
        room = Room(services, clock, host, people)
        for person in [*people, host]:
            room.screens[person.id] = services.hub.subscribe({"all"}, "json", owner=person.id)
        yield room
    finally:
        await services.db.close()


# -- what must not change -----------------------------------------------------------------


def plain_round(rnd: Any) -> dict[str, Any]:
    """A round as plain data (whatever class holds it), to compare before and after."""
    return {
        "id": rnd.id,
        "item_id": rnd.item_id,
        "ended_at": rnd.ended_at,
        "message": rnd.message,
        "groups": {
            n: (tuple(g.topics), g.facilitator_id, g.help_at, tuple(g.members))
            for n, g in rnd.groups.items()
        },
        "responses": dict(rnd.responses),
        "points": {key: tuple(points) for key, points in rnd.points.items()},
    }


def memory(room: Room) -> dict[str, Any]:
    services = room.services
    return {
        "rounds": [plain_round(r) for r in services.breakouts.rounds],
        "names": dict(services.breakouts.names),
        "presenting": dict(services.breakouts.presenting),
        "survey": services.survey.override,
        "attendees": services.access._attendees,
        "agenda": services.agenda_service.state,
        "questions": dict(services.qa.questions),
        "replies": {qid: list(replies) for qid, replies in services.qa.replies.items()},
        # Not the votes waiting to be flushed: sending a count once too often is harmless.
        "qa": (services.qa.settings, dict(services.qa.counters)),
        "audiences": {pid: sorted(c.audiences) for pid, c in room.screens.items()},
        "last_seq": services.hub.last_seq,
    }


async def database(room: Room) -> dict[str, list[tuple[Any, ...]]]:
    db = room.services.db
    tables = await db.fetchall(tables_query(db.path))
    return {
        t["name"]: [tuple(r) for r in await db.fetchall(f'SELECT * FROM "{t["name"]}"')]
        for t in tables
    }


# -- the two ways a change is refused after its work function ------------------------------


def refuse_after_work(room: Room) -> None:
    """Every change from now on runs its work function, then is refused."""
    live = room.services.committer
    commit = live.commit

    async def refused(work: Any, apply: Any = None) -> Any:
        async def then_refuse(tx: Tx, now: datetime) -> Any:
            await work(tx, now)
            raise Injected("refused after the work function")

        return await commit(then_refuse, apply)

    live.commit = refused  # type: ignore[method-assign]


def fail_at_commit(room: Room) -> None:
    """Every transaction from now on is rolled back at its COMMIT."""
    db = room.services.db
    transaction = db.transaction

    @contextlib.asynccontextmanager
    async def failing(*, fenced: bool = True) -> AsyncIterator[Tx]:
        async with transaction(fenced=fenced) as tx:
            yield tx
            raise sqlite3.OperationalError("injected: disk I/O error at COMMIT")

    db.transaction = failing  # type: ignore[method-assign]


INJECTIONS: dict[str, Callable[[Room], None]] = {
    "refused": refuse_after_work,
    "commit_fails": fail_at_commit,
}


# -- every kind of change: (arrange, act) -----------------------------------------------------

Step = Callable[[Room], Awaitable[Any]]


async def nothing(room: Room) -> None:
    return None


async def dealt(room: Room) -> None:
    await room.deal()


async def on_the_breakout(room: Room) -> None:
    await room.agenda("start")
    await room.agenda("jump", item_id=BREAKOUT)


async def ended(room: Room) -> None:
    await room.deal()
    await room.agenda("next")
    await room.breakouts.reconcile()


async def ended_then_back(room: Room) -> None:
    await ended(room)
    await room.agenda("jump", item_id=BREAKOUT)


async def past_the_volunteer_time(room: Room) -> None:
    await room.deal()
    room.clock.now += timedelta(minutes=5)


async def facilitator_away(room: Room) -> None:
    await room.deal()
    person = await room.volunteer()
    room.services.hub.unsubscribe(room.screens.pop(person.id))
    await room.breakouts.tick()  # notes when they went
    room.clock.now += timedelta(minutes=2)


async def volunteered(room: Room) -> None:
    await room.deal()
    await room.volunteer()


async def captured(room: Room) -> None:
    await room.deal()
    await room.capture()


async def helped(room: Room) -> None:
    await room.deal()
    await room.breakouts.ask_help(room.facilitator())


async def late_joiner(room: Room) -> None:
    await room.deal()
    code = room.services.access.join_code
    _, person = await room.services.access.join(code, "Late Person", "Org 9")
    room.people.append(person)
    room.screens[person.id] = room.services.hub.subscribe({"all"}, "json", owner=person.id)


async def survey_open(room: Room) -> None:
    await room.services.survey.set_override("open")


async def act_reconcile(room: Room) -> None:
    await room.breakouts.reconcile()


async def act_late_join(room: Room) -> None:
    await room.breakouts.ensure_member(room.people[-1])


async def act_volunteer(room: Room) -> None:
    await room.volunteer()


async def act_assign(room: Room) -> None:
    number = room.first_group()
    await room.breakouts.assign_facilitator(number, room.members(number)[-1])


async def act_tick(room: Room) -> None:
    await room.breakouts.tick()


async def act_capture(room: Room) -> None:
    person = room.facilitator()
    await room.breakouts.capture(person, room.first_group(), room.topic(), "Share early")


async def act_correct(room: Room) -> None:
    await room.breakouts.correct(room.first_group(), room.topic(), "Share [name] early")


async def act_star(room: Room) -> None:
    await room.breakouts.star(room.first_group(), room.topic(), True)


async def act_point(room: Room) -> None:
    person = room.person(room.members(room.first_group())[1])
    await room.breakouts.add_point(person, room.first_group(), room.topic(), "Ask", "k" * 20)


async def act_help(room: Room) -> None:
    await room.breakouts.ask_help(room.facilitator())


async def act_clear_help(room: Room) -> None:
    await room.breakouts.clear_help(room.first_group())


async def act_message(room: Room) -> None:
    await room.breakouts.message_all("Five minutes left")


async def act_move(room: Room) -> None:
    numbers = sorted(room.breakouts.current.groups)
    await room.breakouts.move(room.members(numbers[0])[0], numbers[1])


async def act_remove(room: Room) -> None:
    services = room.services
    who = room.members(room.first_group())[0]
    await remove_participant(services.access, services.breakouts, services.hub, who)


async def act_present(room: Room) -> None:
    await room.breakouts.present("topic", room.topic())


async def act_preassign(room: Room) -> None:
    await room.breakouts.preassign("name,group\nPerson 1,2\n", "groups.csv")


async def act_survey_state(room: Room) -> None:
    await room.services.survey.set_override("open")


async def survey_save(room: Room, final: bool) -> None:
    answers = {"overall": 4}
    await room.services.survey.save(
        room.people[0], "s" * 24, answers, final=final, asked_question=False
    )


async def act_survey_save(room: Room) -> None:
    await survey_save(room, final=False)


async def act_survey_submit(room: Room) -> None:
    await survey_save(room, final=True)


async def act_join(room: Room) -> None:
    await room.services.access.join(room.services.access.join_code, "Another Person", "")


async def asked(room: Room) -> None:
    await room.services.qa.ask(room.host, "Is the session recorded?", "q" * 24)


async def act_ask(room: Room) -> None:
    await room.services.qa.ask(room.people[0], "Where are the slides?", "a" * 24)


async def act_vote(room: Room) -> None:
    question = next(iter(room.services.qa.questions))
    await room.services.qa.vote(room.people[1], question, True)


async def voted(room: Room) -> None:
    await asked(room)
    await act_vote(room)


async def act_flush_votes(room: Room) -> None:
    await room.services.qa.flush_votes()


async def act_agenda_next(room: Room) -> None:
    await room.agenda("next")


KINDS: dict[str, tuple[Step, Step]] = {
    "agenda.command": (dealt, act_agenda_next),
    "qa.ask": (nothing, act_ask),
    "qa.vote": (asked, act_vote),
    "qa.votes": (voted, act_flush_votes),
    "breakout.deal": (on_the_breakout, act_reconcile),
    "breakout.end": (dealt, act_reconcile),
    "breakout.reopen": (ended_then_back, act_reconcile),
    "breakout.late_join": (late_joiner, act_late_join),
    "breakout.volunteer": (dealt, act_volunteer),
    "breakout.facilitator": (dealt, act_assign),
    "breakout.auto_facilitator": (past_the_volunteer_time, act_tick),
    "breakout.facilitator_away": (facilitator_away, act_tick),
    "breakout.capture": (volunteered, act_capture),
    "breakout.correct": (captured, act_correct),
    "breakout.star": (captured, act_star),
    "breakout.point": (dealt, act_point),
    "breakout.help": (dealt, act_help),
    "breakout.clear_help": (helped, act_clear_help),
    "breakout.message": (dealt, act_message),
    "breakout.move": (dealt, act_move),
    "roster.remove": (volunteered, act_remove),
    "feedback.present": (captured, act_present),
    "breakout.preassign": (nothing, act_preassign),
    "survey.state": (nothing, act_survey_state),
    "survey.save": (survey_open, act_survey_save),
    "survey.submit": (survey_open, act_survey_submit),
    "roster.join": (nothing, act_join),
}


async def leave_the_breakout(room: Room) -> None:
    await room.agenda("next")


#: Arrangements finished just before the act (outside the part that must be refused).
PREPARE: dict[str, Step] = {"breakout.end": leave_the_breakout}


@pytest.mark.parametrize("injection", sorted(INJECTIONS))
@pytest.mark.parametrize("kind", sorted(KINDS))
async def test_a_change_refused_after_its_work_leaves_memory_and_database_unchanged(
    tmp_path: Path, kind: str, injection: str
) -> None:
    async with open_room(tmp_path) as room:
        arrange, act = KINDS[kind]
        await arrange(room)
        if kind in PREPARE:
            await PREPARE[kind](room)
        memory_before, database_before = memory(room), await database(room)

        INJECTIONS[injection](room)
        with pytest.raises((Injected, sqlite3.OperationalError)):
            await act(room)
        await room.services.committer.flush()  # after a failed COMMIT: until reloaded

        assert memory(room) == memory_before
        assert await database(room) == database_before


async def test_each_kind_changes_something_when_nothing_fails(tmp_path: Path) -> None:
    """The acts above really change memory or the database when they are not refused:
    without this, an act that silently did nothing would pass the test above."""
    unchanged = []
    for kind, (arrange, act) in sorted(KINDS.items()):
        folder = tmp_path / kind.replace(".", "-")
        folder.mkdir()
        async with open_room(folder) as room:
            await arrange(room)
            if kind in PREPARE:
                await PREPARE[kind](room)
            before = (memory(room), await database(room))
            await act(room)
            if (memory(room), await database(room)) == before:
                unchanged.append(kind)
    assert unchanged == []


async def test_the_counts_of_a_vote_flush_that_failed_go_with_the_next_one(
    tmp_path: Path,
) -> None:
    async with open_room(tmp_path) as room:
        await voted(room)
        question = next(iter(room.services.qa.questions))
        transaction = room.services.db.transaction
        fail_at_commit(room)
        with pytest.raises(sqlite3.OperationalError):
            await room.services.qa.flush_votes()
        await room.services.committer.flush()
        room.services.db.transaction = transaction  # type: ignore[method-assign]

        assert await room.services.qa.flush_votes() is True

        rows = await room.services.db.fetchall("SELECT type, data FROM events")
        votes = [json.loads(r["data"]) for r in rows if r["type"] == "qa.votes"]
        assert votes == [{"votes": {str(question): 1}}]
