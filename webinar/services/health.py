"""Is an event ready to serve? Its database answers, its schema is current, and the tasks
that run beside it (the agenda's ticker, the vote and results flushers, the breakout
ticker) are alive. ``/readyz`` asks this of every event served."""

from __future__ import annotations

import asyncio

from webinar.services import Services

#: Seconds the database has to answer before the event counts as not ready.
DATABASE_TIMEOUT = 2.0


def stopped_tasks(services: Services) -> list[str]:
    """The names of the event's background tasks that are not running."""
    running = {
        "agenda ticker": services.agenda_service.ticker_running,
        "question vote flusher": services.qa.flusher_running,
        "breakout ticker": services.breakouts.ticker_running,
        "poll results flusher": services.polls.flusher_running,
    }
    return [name for name, alive in running.items() if not alive]


async def problems(
    services: Services, timeout: float = DATABASE_TIMEOUT, writing: bool = True
) -> list[str]:
    """Why the event cannot serve now, one sentence each; empty when it is ready.
    ``writing`` False: a worker that forwards the event to its writer, and so runs none
    of its tasks."""
    found: list[str] = []
    try:
        version = await asyncio.wait_for(services.db.schema_version(), timeout)
    except TimeoutError:
        found.append(f"the database did not answer within {timeout:g} seconds")
    except Exception as exc:  # closed, unreadable, locked: say what the driver said
        found.append(f"the database did not answer: {exc}")
    else:
        latest = services.db.latest_migration
        if version != latest:
            found.append(f"the database is at migration {version}, this server needs {latest}")
    if writing:
        found += [f"the {name} is not running" for name in stopped_tasks(services)]
    return found
