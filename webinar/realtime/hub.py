"""The live hub: fans committed events out to connected clients.

Every event has a sequence number given by the database when it was committed; the hub
only ever sees committed events, in sequence order. A screen that keeps up gets each
event written at once, from ``publish`` itself, as ``websockets.broadcast()`` does; a
screen whose connection cannot take more right now gets a bounded queue, drained by a
task of its own while the backlog lasts (see the broadcast guide of the websockets docs).
A client that overflows its queue is dropped, to reconnect and resume, and never stalls
anyone else. An event is encoded at most once per wire format, not once per client.

The hub keeps the newest events in a ring so that a client reconnecting with the last
sequence number it saw gets exactly what it missed; older than the ring, it gets a fresh
snapshot instead.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from webinar.domain.audiences import EVERYONE

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Event:
    """One committed state change."""

    seq: int
    type: str
    audience: str
    data: dict[str, Any]
    at: str


#: Turns an event into the text sent on the wire in one format ("json", "html").
#: Returns None when the format has nothing to show for that event.
Encoder = Callable[[Event, str], str | None]


@dataclass(slots=True)
class _Entry:
    event: Event
    wires: dict[str, str | None] = field(default_factory=dict)


class Sink(Protocol):
    """The screen behind a client: how the hub hands it events without waiting.

    ``write_now`` writes at once when the screen is idle (nothing queued, no write in
    progress) and returns True; it returns False when the event must wait in the
    client's queue. ``wake`` is called when an event enters an empty queue, or when the
    client is dropped, so that the screen starts draining it (or closes).
    """

    def write_now(self, seq: int, wire: str) -> bool: ...

    def wake(self) -> None: ...

    def end(self, reason: str) -> None:
        """Close the screen for good (a policy close, no reconnecting), saying why."""


class Client:
    """One connected screen: the audiences it may see, its format and its backlog.

    Events go straight to the screen while it keeps up (no task wake-up per client per
    event); only a screen that is behind has a queue, bounded by ``limit``. With
    thousands of screens connected, every kilobyte and every wake-up per client counts.
    """

    __slots__ = ("audiences", "dropped", "fmt", "limit", "owner", "queue", "sink")

    def __init__(
        self,
        audiences: frozenset[str],
        fmt: str,
        limit: int,
        owner: str = "",
        sink: Sink | None = None,
    ) -> None:
        self.audiences = audiences | {EVERYONE}
        self.fmt = fmt
        self.owner = owner
        self.limit = limit
        self.sink = sink
        #: (seq, wire) waiting to be sent, oldest first; None while there is no backlog
        #: (an empty deque costs most of a kilobyte, times every screen).
        self.queue: deque[tuple[int, str]] | None = None
        self.dropped = False

    def offer(self, seq: int, wire: str) -> bool:
        """Hand over a message without waiting; False (and the client is dropped) when
        its backlog is full."""
        if self.dropped:
            return False
        queue = self.queue
        sink = self.sink
        if not queue and sink is not None and sink.write_now(seq, wire):
            return True
        if queue is None:
            queue = self.queue = deque()
        elif len(queue) >= self.limit:
            self.drop()
            return False
        queue.append((seq, wire))
        if sink is not None and len(queue) == 1:
            sink.wake()
        return True

    def drop(self) -> None:
        """Mark the client as too slow: its backlog is freed at once and its screen woken
        to close with 1013 (so that it reconnects and resumes). The close frame leaves
        when the connection next takes data; a peer that never reads again holds only
        its transport's buffer until TCP gives up on it."""
        if self.dropped:
            return
        self.dropped = True
        self.queue = None  # nothing more will be sent: free the backlog now
        if self.sink is not None:
            self.sink.wake()


class Hub:
    """Per-audience fan-out with an in-memory replay ring."""

    def __init__(self, encode: Encoder, *, ring_size: int = 4096, queue_size: int = 1024) -> None:
        self._encode = encode
        self._ring: deque[_Entry] = deque(maxlen=ring_size)
        self._queue_size = queue_size
        self._clients: set[Client] = set()
        self._by_audience: dict[str, set[Client]] = {}
        #: Each participant's screens, oldest first (a dict keeps the order they opened).
        self._by_owner: dict[str, dict[Client, None]] = {}
        self.last_seq = 0
        #: A screen resuming from before this sequence number gets a snapshot, never a
        #: replay: something shown earlier was taken back (see ``raise_replay_floor``).
        self.replay_floor = 0
        # Plain counters, read when metrics are scraped (webinar.web.metrics): an integer
        # add on the hot path, no lock, no label lookup.
        #: Screens dropped for being too slow (closed with 1013, to resume).
        self.dropped_clients = 0
        #: Screens closed for good by ``end_screens`` (signed out, removed, one too many).
        self.ended_screens = 0
        #: Events handed to screens by ``publish`` (sent at once or queued), one per screen.
        self.deliveries = 0
        #: Screens that started with a replay of what they missed, and with a snapshot.
        self.resumes = 0
        self.snapshots = 0

    # -- clients -----------------------------------------------------------------------------

    def subscribe(
        self, audiences: Iterable[str], fmt: str, owner: str = "", sink: Sink | None = None
    ) -> Client:
        """Register a screen; ``owner`` (a participant id) lets audiences added later reach
        it; ``sink`` takes its events (without one they wait in ``client.queue``)."""
        client = Client(frozenset(audiences), fmt, self._queue_size, owner, sink)
        self._clients.add(client)
        if owner:
            self._by_owner.setdefault(owner, {})[client] = None
        for audience in client.audiences:
            self._by_audience.setdefault(audience, set()).add(client)
        return client

    def unsubscribe(self, client: Client) -> None:
        self._clients.discard(client)
        owned = self._by_owner.get(client.owner)
        if owned is not None:
            owned.pop(client, None)
            if not owned:
                del self._by_owner[client.owner]
        for audience in client.audiences:
            members = self._by_audience.get(audience)
            if members is not None:
                members.discard(client)
                if not members:
                    del self._by_audience[audience]

    def add_audience(self, client: Client, audience: str) -> None:
        """Let a connected client see a further audience (a breakout group, an owned question)."""
        client.audiences = client.audiences | {audience}
        self._by_audience.setdefault(audience, set()).add(client)

    def add_audience_for(self, owner: str, audience: str) -> None:
        """Let every open screen of one participant see a further audience."""
        for client in self._by_owner.get(owner, ()):
            self.add_audience(client, audience)

    def remove_audience_for(self, owner: str, audience: str) -> None:
        """Stop every open screen of one participant seeing an audience (moved elsewhere)."""
        for client in self._by_owner.get(owner, ()):
            client.audiences = client.audiences - {audience}
            members = self._by_audience.get(audience)
            if members is not None:
                members.discard(client)
                if not members:
                    del self._by_audience[audience]

    def screens_of(self, owner: str) -> list[Client]:
        """One participant's open screens, oldest first."""
        return list(self._by_owner.get(owner, ()))

    def end_screens(self, owner: str, reason: str, keep: int = 0) -> int:
        """Close one participant's screens for good, all but the newest ``keep``; returns
        how many were told to close."""
        screens = self.screens_of(owner)
        ending = screens[: max(0, len(screens) - keep)]
        for client in ending:
            if client.sink is not None:
                client.sink.end(reason)
        self.ended_screens += len(ending)
        return len(ending)

    def owners(self) -> set[str]:
        """Participant ids with at least one open screen."""
        return set(self._by_owner)

    @property
    def client_count(self) -> int:
        return len(self._clients)

    def backlog(self) -> int:
        """Events waiting in the queues of screens that are behind (for metrics: it walks
        every client, so it is read when scraped, never on the hot path)."""
        return sum(len(c.queue) for c in self._clients if c.queue)

    # -- events ------------------------------------------------------------------------------

    def load(self, events: Iterable[Event]) -> None:
        """Fill the replay ring at start-up with already committed events."""
        for event in events:
            self._ring.append(_Entry(event))
            self.last_seq = max(self.last_seq, event.seq)

    def publish(self, event: Event) -> None:
        """Deliver a committed event to every client of its audience, without waiting."""
        self.publish_all((event,))

    def publish_all(self, events: Sequence[Event]) -> None:
        """Deliver the events of one commit, in order, without waiting.

        Each screen gets its share of the commit back to back, not interleaved with
        every other screen's: its events leave in one burst and its client wakes up once
        to read them, not once per event.
        """
        last = self.last_seq
        for event in events:  # all checked before any is kept: nothing half-published
            if event.seq <= last:
                raise ValueError(f"event {event.seq} published after {last}")
            last = event.seq
        entries = [_Entry(event) for event in events]
        self._ring.extend(entries)
        self.last_seq = last
        if len(entries) == 1:
            self._fan_out(entries[0])
            return
        delivered = 0
        for client, items in self._shares(entries).items():
            for seq, wire in items:
                if client.dropped:  # closing; it resumes on its next connection
                    break
                if not client.offer(seq, wire):
                    self.dropped_clients += 1
                    break
                delivered += 1
        self.deliveries += delivered

    def _shares(self, entries: Sequence[_Entry]) -> dict[Client, list[tuple[int, str]]]:
        """What each client gets of ``entries``: (seq, wire) in order."""
        share: dict[Client, list[tuple[int, str]]] = {}
        for entry in entries:
            # No copy of the set: nothing here subscribes or unsubscribes anyone.
            for client in self._by_audience.get(entry.event.audience, ()):
                wire = self.wire(entry, client.fmt)
                if wire is not None:
                    share.setdefault(client, []).append((entry.event.seq, wire))
        return share

    def _fan_out(self, entry: _Entry) -> None:
        seq = entry.event.seq
        members = self._by_audience.get(entry.event.audience, ())
        # Deliveries are counted by what was not delivered: nothing to count per screen
        # on the common path.
        missed = 0
        for client in members:
            if client.dropped:  # closing; it resumes on its next connection
                missed += 1
                continue
            wire = self.wire(entry, client.fmt)
            if wire is None:
                missed += 1
            elif not client.offer(seq, wire):
                self.dropped_clients += 1
                missed += 1
        self.deliveries += len(members) - missed

    def wire(self, entry: _Entry, fmt: str) -> str | None:
        """The event as sent in ``fmt``, encoded on first use; None when that format has
        nothing to show, or when encoding failed (logged: screens resync on reconnect)."""
        wires = entry.wires
        if fmt not in wires:
            try:
                wires[fmt] = self._encode(entry.event, fmt)
            except Exception:
                log.exception("encoding event %s as %s failed", entry.event.seq, fmt)
                wires[fmt] = None
        return wires[fmt]

    def missed(self, client: Client, last_seq: int) -> list[tuple[int, str]] | None:
        """What ``client`` missed after ``last_seq``, encoded; None if the ring is too short."""
        if last_seq > self.last_seq:
            return None  # a sequence from another database (server reset): start afresh
        if last_seq < self.replay_floor:
            return None  # replaying would show again what was taken back
        if last_seq == self.last_seq:
            return []
        if not self._ring or self._ring[0].event.seq > last_seq + 1:
            return None
        out: list[tuple[int, str]] = []
        for entry in self._ring:
            event = entry.event
            if event.seq > last_seq and event.audience in client.audiences:
                wire = self.wire(entry, client.fmt)
                if wire is not None:
                    out.append((event.seq, wire))
        return out
