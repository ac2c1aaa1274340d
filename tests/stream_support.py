"""Test support for the fan-out tests: numbered changes and a screen that records seqs."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from webinar.realtime.hub import Event, Hub
from webinar.services.commit import Outgoing, Work
from webinar.storage.db import Tx


def encode(event: Event, fmt: str) -> str:
    return str(event.data["n"])


@dataclass
class Screen:
    """A sink that takes everything at once and says when it has seen ``until``."""

    until: int
    seqs: list[int] = field(default_factory=list)
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def write_now(self, seq: int, wire: str) -> bool:
        self.seqs.append(seq)
        if seq >= self.until:
            self.done.set()
        return True

    def write_many(self, items: Sequence[tuple[int, str]]) -> bool:
        for seq, wire in items:
            self.write_now(seq, wire)
        return True

    def wake(self) -> None:  # pragma: no cover - write_now always takes the event
        pass

    def end(self, reason: str) -> None:  # pragma: no cover - never ended here
        pass


def change(n: int) -> Work:
    async def work(tx: Tx, now: datetime) -> tuple[int, list[Outgoing]]:
        return n, [Outgoing("n", "all", {"n": n})]

    return work


class WatchedHub(Hub):
    """A hub that says when it has reached a seq."""

    def __init__(self) -> None:
        super().__init__(lambda event, fmt: "x")
        self.target = 10**9
        self.reached = asyncio.Event()

    def publish_all(self, events: Sequence[Event]) -> None:
        super().publish_all(events)
        if self.last_seq >= self.target:
            self.reached.set()
