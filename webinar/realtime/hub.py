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

Folding: with ``fold_seconds`` set, a screen gets at most one push per window. The
first events after a quiet window go out at once; what is committed during the window
waits for its end and then goes out together, each screen's share as one message
(``Sink.write_many``). Every event keeps its own sequence number: the ring takes it at
once (so a resume or a snapshot already includes it) and a screen skips, by sequence
number, whatever it already got that way.
"""

from __future__ import annotations

import asyncio
import logging
import time
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


#: Runs a callback after a delay in seconds (``loop.call_later`` by default).
Scheduler = Callable[[float, Callable[[], None]], object]


class FoldGate:
    """When the held events may go out: at most one push per ``window`` seconds.

    Pure: the hub passes the time in. ``ask`` is called when events are published:
    0.0 means send now (the window since the last push has passed), a positive number
    means schedule a push that many seconds from now, None means one is already due.
    """

    __slots__ = ("last", "waiting", "window")

    def __init__(self, window: float) -> None:
        self.window = window
        self.last: float | None = None
        self.waiting = False

    def ask(self, now: float) -> float | None:
        if self.waiting:
            return None
        self.waiting = True
        if self.last is None or now - self.last >= self.window:
            return 0.0
        return self.last + self.window - now

    def pushed(self, now: float) -> None:
        """The held events went out at ``now``: the next window starts."""
        self.last = now
        self.waiting = False


#: Turns an event into the text sent on the wire in one format ("json", "html").
#: Returns None when the format has nothing to show for that event.
Encoder = Callable[[Event, str], str | None]


@dataclass(slots=True)
class _Entry:
    event: Event
    wires: dict[str, str | None] = field(default_factory=dict)


class _Push:
    """A push being written: its events, the screens they go to (fixed when it starts)
    and how far it got. Each screen's share is worked out when its slice is written: the
    first screens get their events without waiting for the shares of the last, and no
    list per screen is held for the whole push."""

    __slots__ = ("clients", "common", "entries", "everyone", "next", "special")

    def __init__(self, entries: Sequence[_Entry], clients: list[Client]) -> None:
        self.entries = entries
        self.clients = clients
        #: Where the next slice starts in ``clients``.
        self.next = 0
        #: The events every screen sees, and those for narrower audiences.
        self.everyone = [entry for entry in entries if entry.event.audience == EVERYONE]
        self.special = [entry for entry in entries if entry.event.audience != EVERYONE]
        #: By format: the (seq, wire) of ``everyone``, shared by every screen that sees
        #: none of ``special``.
        self.common: dict[str, tuple[tuple[int, str], ...]] = {}


class Sink(Protocol):
    """The screen behind a client: how the hub hands it events without waiting.

    ``write_now`` writes at once when the screen is idle (nothing queued, no write in
    progress) and returns True; it returns False when the event must wait in the
    client's queue. ``wake`` is called when an event enters an empty queue, or when the
    client is dropped, so that the screen starts draining it (or closes).
    """

    def write_now(self, seq: int, wire: str) -> bool: ...

    def write_many(self, items: Sequence[tuple[int, str]]) -> bool:
        """Like ``write_now`` for several events, in order, sent as one message."""
        ...

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
        sink = self.sink
        if not self.queue and not self.dropped and sink is not None and sink.write_now(seq, wire):
            return True  # the common case, kept short: written at once
        return self._keep(((seq, wire),))

    def offer_many(self, items: Sequence[tuple[int, str]]) -> bool:
        """Hand over several messages, in order, to go out together; False (and the
        client is dropped) when its backlog cannot take them all."""
        if len(items) == 1:
            return self.offer(*items[0])
        sink = self.sink
        if not self.queue and not self.dropped and sink is not None and sink.write_many(items):
            return True
        return self._keep(items)

    def _keep(self, items: Sequence[tuple[int, str]]) -> bool:
        """Queue what the screen could not take at once (the one backlog path of both
        ``offer`` and ``offer_many``): dropped when it would overflow."""
        if self.dropped:
            return False
        queue = self.queue
        if queue is None:
            queue = self.queue = deque()
        if len(queue) + len(items) > self.limit:
            self.drop()
            return False
        queue.extend(items)
        if self.sink is not None and len(queue) == len(items):
            self.sink.wake()
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

    def __init__(
        self,
        encode: Encoder,
        *,
        ring_size: int = 4096,
        queue_size: int = 1024,
        fold_seconds: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
        schedule: Scheduler | None = None,
        slice_size: int = 0,
    ) -> None:
        self._encode = encode
        #: None: every publish goes out at once (no folding).
        self._gate = FoldGate(fold_seconds) if fold_seconds > 0 else None
        self._clock = clock
        self._schedule = schedule
        #: Published (in the ring) but not yet pushed to the screens, oldest first.
        self._held: list[_Entry] = []
        #: Screens a push writes to before it lets the loop run (0: all at once), so that
        #: the writer's next transaction is not kept waiting behind thousands of writes.
        self._slice = slice_size
        #: The sliced push still being written, if any.
        self._pushing: _Push | None = None
        self._generation = 0
        self.pushes = 0
        self._ring: deque[_Entry] = deque(maxlen=ring_size)
        self._queue_size = queue_size
        self._clients: set[Client] = set()
        self._by_audience: dict[str, set[Client]] = {}
        #: Each participant's screens, oldest first (a dict keeps the order they opened).
        self._by_owner: dict[str, dict[Client, None]] = {}
        self.last_seq = 0
        #: Told ``(owner, op, value)`` of every change to a participant's audiences made
        #: through ``add_audience_for`` (op ``add``), ``remove_audience_for`` (``remove``)
        #: and ``end_screens`` of all their screens (``end``, value: the reason): the
        #: screens of that participant on other workers (``webinar.web.edge``).
        self.audience_changed: Callable[[str, str, str], None] | None = None
        #: Caps one participant's open screens when some are on other workers (the edge
        #: fan-out's writer counts them too); None: this hub's screens are all there are.
        self.screen_cap: Callable[[str], None] | None = None
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

    def remove_audience(self, client: Client, audience: str) -> None:
        """Stop a connected client seeing an audience."""
        client.audiences = client.audiences - {audience}
        members = self._by_audience.get(audience)
        if members is not None:
            members.discard(client)
            if not members:
                del self._by_audience[audience]

    def add_audience_for(self, owner: str, audience: str) -> None:
        """Let every open screen of one participant see a further audience."""
        for client in self._by_owner.get(owner, ()):
            self.add_audience(client, audience)
        if self.audience_changed is not None:
            self.audience_changed(owner, "add", audience)

    def remove_audience_for(self, owner: str, audience: str) -> None:
        """Stop every open screen of one participant seeing an audience (moved elsewhere)."""
        for client in self._by_owner.get(owner, ()):
            self.remove_audience(client, audience)
        if self.audience_changed is not None:
            self.audience_changed(owner, "remove", audience)

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
        if keep == 0 and self.audience_changed is not None:
            self.audience_changed(owner, "end", reason)
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
        if not entries:
            return
        self._ring.extend(entries)
        self.last_seq = last
        gate = self._gate
        if gate is None:
            self._finish_push()
            self._deliver(entries)
            return
        self._held.extend(entries)
        delay = gate.ask(self._clock())
        if delay is not None:  # else a push is already due and takes these too
            self._later(delay, self.push)

    def push(self) -> None:
        """Send what is held (folding) to the screens now, each screen's share as one
        message."""
        self._finish_push()  # the previous push, if still going out, goes first
        entries, self._held = self._held, []
        if self._gate is not None:
            self._gate.pushed(self._clock())
        if not entries:
            return
        if not self._slice:
            self._deliver(entries)
            return
        self.pushes += 1
        self._pushing = _Push(entries, self._targets(entries))
        self._generation += 1
        self._write_slice(self._generation)

    def _write_slice(self, generation: int) -> None:
        """Write the next slice of the push in progress; schedule the one after."""
        push = self._pushing
        if generation != self._generation or push is None:
            return  # that push was finished by a later one
        start, end = push.next, push.next + self._slice
        self._offer(push, push.clients[start:end])
        push.next = end
        if end < len(push.clients):
            self._later(0.0, lambda: self._write_slice(generation))
        else:
            self._pushing = None

    def _finish_push(self) -> None:
        """Write what the push in progress has left, now (nothing may overtake it)."""
        push = self._pushing
        if push is not None:
            self._pushing = None
            self._offer(push, push.clients[push.next :])

    def _targets(self, entries: Sequence[_Entry]) -> list[Client]:
        """The screens that may see any of ``entries`` (in no particular order)."""
        audiences = {entry.event.audience for entry in entries}
        if EVERYONE in audiences:  # every screen sees EVERYONE: that set is all of them
            return list(self._by_audience.get(EVERYONE, ()))
        targets: set[Client] = set()
        for audience in audiences:
            targets.update(self._by_audience.get(audience, ()))
        return list(targets)

    def _offer(self, push: _Push, clients: Iterable[Client]) -> None:
        """Hand each of ``clients`` its share of ``push``, worked out now (with the
        audiences it has now, as a resume would)."""
        delivered = 0
        for client in clients:
            if client.dropped:  # closing; it resumes on its next connection
                continue
            items = self._share(push, client)
            if not items:
                continue
            if client.offer_many(items):
                delivered += len(items)
            else:
                self.dropped_clients += 1
        self.deliveries += delivered

    def _share(self, push: _Push, client: Client) -> Sequence[tuple[int, str]]:
        """What ``client`` gets of ``push``: (seq, wire) in order. A screen that sees none
        of the push's narrower audiences (most screens, most pushes) gets the one share of
        its format, made once for all of them."""
        seen = client.audiences
        if not any(entry.event.audience in seen for entry in push.special):
            common = push.common.get(client.fmt)
            if common is None:
                common = push.common[client.fmt] = self._items(push.everyone, client.fmt)
            return common
        mine = [entry for entry in push.entries if entry.event.audience in seen]
        return self._items(mine, client.fmt)

    def _items(self, entries: Iterable[_Entry], fmt: str) -> tuple[tuple[int, str], ...]:
        """(seq, wire) of ``entries`` in ``fmt``, leaving out what it does not show."""
        items = []
        for entry in entries:
            wire = self.wire(entry, fmt)
            if wire is not None:
                items.append((entry.event.seq, wire))
        return tuple(items)

    @property
    def fold_seconds(self) -> float:
        """The fold window (0: no folding)."""
        return self._gate.window if self._gate is not None else 0.0

    @fold_seconds.setter
    def fold_seconds(self, seconds: float) -> None:
        if seconds <= 0:
            self.push()  # nothing stays held once folding stops
            self._gate = None
        elif self._gate is None:
            self._gate = FoldGate(seconds)
        else:
            self._gate.window = seconds

    @property
    def held(self) -> int:
        """Events published but not yet pushed (folding)."""
        return len(self._held)

    def _later(self, delay: float, callback: Callable[[], None]) -> None:
        # Even "now" runs from the loop, not inside the commit that published: the
        # writer goes on to its next transaction first.
        if self._schedule is not None:
            self._schedule(delay, callback)
        else:
            asyncio.get_running_loop().call_later(delay, callback)

    def _deliver(self, entries: Sequence[_Entry]) -> None:
        self.pushes += 1
        if len(entries) == 1:
            self._fan_out(entries[0])
            return
        push = _Push(entries, self._targets(entries))
        self._offer(push, push.clients)

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

    def events_after(self, seq: int) -> list[Event] | None:
        """The committed events after ``seq``, oldest first, from the ring; None when the
        ring no longer holds all of them (read them from the database's log)."""
        if seq >= self.last_seq:
            return []
        if not self._ring or self._ring[0].event.seq > seq + 1:
            return None
        return [entry.event for entry in self._ring if entry.event.seq > seq]

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
