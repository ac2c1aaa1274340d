"""Running the agenda live: host commands, automatic advance, and what every screen shows.

The run state lives in the database as absolute timestamps and in memory as a cache.
A ticker task sleeps until the next automatic change (an item's deadline), applies it,
and publishes; after a restart it simply continues from the stored truth.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from webinar.domain import audiences, clock
from webinar.domain.agenda import Agenda
from webinar.domain.clock import ClockError, RunState, Status
from webinar.services.background import Background
from webinar.services.commit import Committer, Outgoing, iso
from webinar.storage import repo
from webinar.storage.db import Tx

log = logging.getLogger(__name__)

#: Host commands: name -> the domain function that applies it.
COMMANDS: dict[str, Callable[..., RunState]] = {
    "start": clock.start,
    "next": clock.next_item,
    "back": clock.back,
    "jump": clock.jump,
    "skip": clock.skip,
    "unskip": clock.unskip,
    "extend": clock.extend,
    "pause": clock.pause,
    "resume": clock.resume,
    "hold": clock.hold,
    "release": clock.release,
    "next_slide": clock.next_slide,
    "previous_slide": clock.previous_slide,
}

STATE_EVENT = "agenda.state"


class AgendaService:
    """Load, command and advance the agenda; publish ``agenda.state`` on every change."""

    def __init__(self, agenda: Agenda, committer: Committer) -> None:
        self.agenda = agenda
        self.committer = committer
        self.state = RunState()
        self._wake = asyncio.Event()
        self._ticker = Background("agenda-ticker", self._run_ticker)
        #: Called with the old and new state after every committed change.
        self.listeners: list[Callable[[RunState, RunState, datetime], None]] = []

    async def load(self) -> None:
        stored = await repo.load_run_state(self.committer.db)
        if stored is not None:
            self.state = RunState.from_dict(stored)

    async def history(self) -> list[dict[str, Any]]:
        """Every host command as logged: when, what, with which arguments, by whom."""
        return await repo.agenda_log(self.committer.db)

    def status(self, now: datetime | None = None) -> Status:
        return clock.status(self.agenda, self.state, now or self.committer.clock())

    def snapshot(self, now: datetime | None = None) -> dict[str, Any]:
        """What every screen shows of the agenda now, as JSON-safe data."""
        return status_data(self.status(now))

    async def command(self, name: str, actor: str, **args: Any) -> Status:
        """Apply a host command; ``ClockError`` (a plain sentence) when it cannot apply.

        ``KeyError`` for an unknown command name.
        """
        function = COMMANDS[name]

        async def work(tx: Tx, now: datetime) -> tuple[tuple[RunState, datetime], list[Outgoing]]:
            new = function(self.agenda, self.state, now, **args)
            await repo.save_run_state(tx, new.to_dict(), iso(now))
            await repo.log_agenda_action(tx, iso(now), name, args, actor)
            data = status_data(clock.status(self.agenda, new, now))
            return (new, now), [Outgoing(STATE_EVENT, audiences.EVERYONE, data)]

        new, now = await self.committer.commit(work, self._adopt)
        self._wake.set()
        return clock.status(self.agenda, new, now)

    def _adopt(self, result: tuple[RunState, datetime]) -> None:
        new, now = result
        old, self.state = self.state, new
        for listener in self.listeners:
            listener(old, new, now)

    async def tick(self) -> bool:
        """Apply automatic changes due now; True if something changed and was published."""

        async def work(
            tx: Tx, now: datetime
        ) -> tuple[tuple[RunState, datetime] | None, list[Outgoing]]:
            new = clock.advance(self.agenda, self.state, now)
            if new == self.state and not _needs_refresh(self.agenda, self.state, now):
                return None, []
            await repo.save_run_state(tx, new.to_dict(), iso(now))
            data = status_data(clock.status(self.agenda, new, now))
            return (new, now), [Outgoing(STATE_EVENT, audiences.EVERYONE, data)]

        def adopt(result: tuple[RunState, datetime] | None) -> None:
            if result is not None:
                self._adopt(result)

        return await self.committer.commit(work, adopt) is not None

    def start_ticker(self) -> None:
        self._ticker.start()

    @property
    def ticker_running(self) -> bool:
        return self._ticker.running

    async def stop_ticker(self) -> None:
        await self._ticker.stop()

    async def _run_ticker(self) -> None:
        while True:
            try:
                await self.tick()
            except Exception:  # keep the clock alive; the next tick retries
                log.exception("agenda tick failed")
            now = self.committer.clock()
            due = clock.next_change_at(self.agenda, self.state, now)
            # Refresh at least every minute: drift and projected end move while an item
            # is paused or held past its end, and before a late start.
            delay = 60.0 - now.second - now.microsecond / 1e6
            if due is not None:
                delay = min(delay, max(0.0, (due - now).total_seconds()))
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=delay + 0.01)


def _needs_refresh(agenda: Agenda, state: RunState, now: datetime) -> bool:
    """Whether the published drift is stale although the state did not change."""
    current = clock.status(agenda, state, now)
    if current.phase == "finished":
        return False
    return (
        current.paused
        or current.overrun
        or (current.phase == "before" and current.drift > timedelta(0))
    )


def status_data(status: Status) -> dict[str, Any]:
    """A :class:`Status` as JSON-safe data: the payload of ``agenda.state``."""

    def at(moment: datetime | None) -> str | None:
        return iso(moment) if moment is not None else None

    return {
        "phase": status.phase,
        "now": iso(status.now),
        "current": status.current.id if status.current else None,
        "current_started_at": at(status.current_started_at),
        "current_ends_at": at(status.current_ends_at),
        "remaining_seconds": (
            status.remaining.total_seconds() if status.remaining is not None else None
        ),
        "paused": status.paused,
        "held": status.held,
        "overrun": status.overrun,
        "next": status.next.id if status.next else None,
        "next_starts_at": at(status.next_starts_at),
        "drift_seconds": status.drift.total_seconds(),
        "drift_text": clock.format_drift(status.drift),
        "projected_end": iso(status.projected_end),
        "slide": status.slide,
        "schedule": [
            {
                "id": entry.item.id,
                "state": entry.state,
                "start": iso(entry.start),
                "end": iso(entry.end),
                "planned_start": iso(entry.planned_start),
                "planned_end": iso(entry.planned_end),
            }
            for entry in status.schedule
        ],
    }


__all__ = ["COMMANDS", "AgendaService", "ClockError", "status_data"]
