"""Which worker of ``webinar serve --workers N`` should write for an event.

The workers share the events: each event has a preferred worker among the live ones (the
event's id modulo their number, in the order of their addresses, so consecutive events go
round the workers). A worker bids at once for a free lease of an event it is preferred
for, and for any other only once the lease has been free for a grace period (its
preferred worker died, or does not serve the event), so no event is left without a
writer. A lease that is held is never bid for: a writer keeps its events when workers
join or leave (no hand-over while an event runs); only a fresh lease follows the choice.
"""

from __future__ import annotations

from collections.abc import Iterable


def preferred_worker(webinar_id: int, workers: Iterable[str]) -> str | None:
    """The live worker (by its address) that should write for event ``webinar_id``; None
    when there is none."""
    ranked = sorted(set(workers))
    if not ranked:
        return None
    return ranked[webinar_id % len(ranked)]


def should_bid(
    webinar_id: int, me: str, workers: Iterable[str], free_for: float | None, grace: float
) -> bool:
    """Whether worker ``me`` bids now for the lease of event ``webinar_id``: ``free_for``
    is how many seconds it has seen the lease free (None: somebody holds it), ``workers``
    the live workers (``me`` counts as one even before it is seen live)."""
    if free_for is None:
        return False
    if preferred_worker(webinar_id, {*workers, me}) == me:
        return True
    return free_for >= grace
