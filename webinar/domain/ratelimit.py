"""A sliding-window rate limiter, kept in memory (pure: ``now`` is passed in)."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass
class RateLimiter:
    """At most ``limit`` actions per ``window`` per key (a sliding window, kept in memory)."""

    limit: int
    window: timedelta
    _events: dict[str, deque[datetime]] = field(default_factory=dict)

    def allow(self, key: str, now: datetime) -> bool:
        """Record an action at ``now`` and say whether it is within the limit."""
        if len(self._events) > 10_000:  # forget keys that have been quiet for a window
            self._events = {
                k: v for k, v in self._events.items() if v and now - v[-1] < self.window
            }
        times = self._events.setdefault(key, deque())
        while times and now - times[0] >= self.window:
            times.popleft()
        if len(times) >= self.limit:
            return False
        times.append(now)
        return True

    def retry_after(self, key: str, now: datetime) -> int:
        """Whole seconds until ``key`` may act again."""
        active = [t for t in self._events.get(key, ()) if now - t < self.window]
        if len(active) < self.limit:
            return 0
        # The oldest action that still counts must leave the window first (ceil, never 0).
        wait = active[len(active) - self.limit] + self.window - now
        return max(1, math.ceil(wait.total_seconds()))


@dataclass
class _Failures:
    count: int
    last: datetime
    until: datetime


@dataclass
class GuessBackoff:
    """Wrong guesses (of a code or a link) slowed per key, with a ceiling over all keys.

    Only failures are recorded: the caller checks the guess first and admits a right one
    whatever this says, so one person's typos never lock anyone else at the same address
    out. The first ``free`` failures of a key cost nothing; each further one makes that
    key wait twice as long as the last (``base``, ``2 * base``, ... up to ``cap``) before
    its next wrong guess is even answered as wrong. A key quiet for ``forget`` starts
    afresh. Over all keys, more than ``global_limit`` failures in ``global_window`` make
    every key wait until the window has room again.
    """

    free: int = 5
    base: timedelta = timedelta(seconds=2)
    cap: timedelta = timedelta(minutes=5)
    forget: timedelta = timedelta(minutes=15)
    global_limit: int = 600
    global_window: timedelta = timedelta(minutes=1)
    _keys: dict[str, _Failures] = field(default_factory=dict)
    _all: deque[datetime] = field(default_factory=deque)

    def wait(self, key: str, now: datetime) -> int:
        """Whole seconds ``key`` must wait before a wrong guess is answered; 0 if none."""
        until = now
        failures = self._keys.get(key)
        if failures is not None and now - failures.last < self.forget:
            until = max(until, failures.until)
        times = self._all
        while times and now - times[0] >= self.global_window:
            times.popleft()
        if len(times) >= self.global_limit:
            until = max(until, times[len(times) - self.global_limit] + self.global_window)
        if until <= now:
            return 0
        return max(1, math.ceil((until - now).total_seconds()))

    def clear(self, key: str) -> None:
        """Start ``key`` afresh (its holder proved who they are)."""
        self._keys.pop(key, None)

    def failed(self, key: str, now: datetime) -> None:
        """Record a wrong guess by ``key`` at ``now`` (ignored while it must wait, so a
        client that retries at once does not push its own wait further out)."""
        if len(self._keys) > 10_000:  # forget keys that have been quiet long enough
            self._keys = {k: v for k, v in self._keys.items() if now - v.last < self.forget}
        failures = self._keys.get(key)
        if failures is None or now - failures.last >= self.forget:
            failures = self._keys[key] = _Failures(0, now, now)
        if now < failures.until:
            return
        self._all.append(now)
        failures.count += 1
        failures.last = now
        over = failures.count - self.free
        if over > 0:
            delay = self.base * 2 ** min(over - 1, 30)
            failures.until = now + min(delay, self.cap)


@dataclass
class TokenBucket:
    """Per key, a burst of up to ``burst`` actions, then ``per_minute`` a minute.

    Each key has a bucket of ``burst`` tokens that refills steadily; an action takes one.
    """

    burst: int
    per_minute: float
    _buckets: dict[str, tuple[float, datetime]] = field(default_factory=dict)

    def take(self, key: str, now: datetime) -> int:
        """Take a token for ``key`` at ``now``: 0 if taken, else whole seconds to wait."""
        rate = self.per_minute / 60.0  # tokens a second
        if len(self._buckets) > 10_000:  # forget full buckets: a new key starts full
            self._buckets = {
                k: (t, at)
                for k, (t, at) in self._buckets.items()
                if t + (now - at).total_seconds() * rate < self.burst
            }
        tokens, at = self._buckets.get(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + max(0.0, (now - at).total_seconds()) * rate)
        if tokens >= 1.0:
            self._buckets[key] = (tokens - 1.0, now)
            return 0
        self._buckets[key] = (tokens, now)
        return max(1, math.ceil((1.0 - tokens) / rate))
