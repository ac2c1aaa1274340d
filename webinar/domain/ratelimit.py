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
