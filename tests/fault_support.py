"""Test support for the fault tests (a database or Redis failing under a real server):
live screens that resume across dropped sockets, the storm's tally, and waiting."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
import websockets

from helpers import PATIENCE, Person, Socket

#: What the server says when the database does not answer (web/actions/core.py).
AWAY = "database is not answering"
QUESTIONS_EACH = 4  # under the limit of 5 a minute


@dataclass
class Tally:
    """What the attendees of a storm were told, and when."""

    asked: list[str] = field(default_factory=list)
    question_ids: list[int] = field(default_factory=list)
    votes: set[tuple[str, int]] = field(default_factory=set)  # (participant, question)
    statuses: dict[int, int] = field(default_factory=dict)
    away: int = 0  # 503s that said the database is not answering
    #: ``time.monotonic()`` of each acknowledged (200) action.
    acknowledged_at: list[float] = field(default_factory=list)
    #: Set while the database is known to answer (cleared at a fault, set again when
    #: /readyz says 200): an attendee told 503 asks again once it is set.
    back: asyncio.Event = field(default_factory=asyncio.Event)

    def count(self, response: httpx.Response) -> int:
        status = response.status_code
        self.statuses[status] = self.statuses.get(status, 0) + 1
        if status == 200:
            self.acknowledged_at.append(time.monotonic())
        if status == 503:
            assert AWAY in response.json()["error"]["message"]
            self.away += 1
        return status

    def acknowledged_between(self, began: float, ended: float) -> int:
        return sum(1 for at in self.acknowledged_at if began <= at <= ended)


@dataclass
class Screen:
    """A live screen that resumes from its last seq whenever its socket drops."""

    person: Person
    socket: Socket | None = None
    seqs: list[int] = field(default_factory=list)
    #: The seq of each snapshot it was sent: one, at the start (a resume gets events).
    snapshots: list[int] = field(default_factory=list)
    resumes: int = 0
    #: The last seq of its audiences in the log, once the storm is over.
    target: int | None = None

    async def follow(self) -> None:
        """Read until the screen has had ``target`` (set once the storm is over)."""
        while self.target is None or not self.seqs or self.seqs[-1] < self.target:
            if self.socket is None:
                resume = max([*self.seqs, *self.snapshots], default=None)
                self.socket = await self.person.socket(resume)
            try:
                message = await self.socket.next_message(timeout=1.0)
            except TimeoutError:
                continue
            except websockets.ConnectionClosed:
                self.socket, self.resumes = None, self.resumes + 1
                continue
            if message.get("type") == "snapshot":
                self.snapshots.append(message["seq"])
            elif "seq" in message and message.get("type") != "pong":
                self.seqs.append(message["seq"])


async def ask(person: Person, text: str, tally: Tally) -> None:
    """Ask once; told 503, ask again with the same key once the database is back (the
    key makes it count once, whether or not the first one was written)."""
    key = uuid.uuid4().hex
    while True:
        response = await person.act("qa.ask", text=text, key=key)
        if tally.count(response) == 200:
            tally.asked.append(text)
            tally.question_ids.append(response.json()["question"]["id"])
            return
        await tally.back.wait()


async def attend(person: Person, me: str, n: int, tally: Tally, stop: asyncio.Event) -> None:
    """One attendee of the storm: a question now and then, a vote every 0.6 s (under the
    limit of 120 a minute) on the questions asked so far, until ``stop``."""
    turn = 0
    while not stop.is_set():
        if turn % 5 == 0 and turn // 5 < QUESTIONS_EACH:
            await ask(person, f"Question {n}.{turn // 5}?", tally)
        if tally.question_ids:
            question = tally.question_ids[(n + turn) % len(tally.question_ids)]
            response = await person.act("qa.vote", question_id=question, on=True)
            if tally.count(response) == 200:
                tally.votes.add((me, question))
        turn += 1
        await asyncio.sleep(0.6)  # a storm's pace


async def until(done: Callable[[], bool], what: str) -> None:
    """Wait (polling, up to 2 x PATIENCE) until ``done()``."""
    deadline = time.monotonic() + 2 * PATIENCE
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"never: {what}")
        await asyncio.sleep(0.05)
