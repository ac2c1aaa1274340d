"""Benchmark of a burst of facilitators' saves in a breakout of 2,000 people.

Run from the repository root, for example::

    python bench/capture_burst.py --people 2000 --saves 2000

In process, no HTTP: the services are opened on a temporary database with the seed agenda
(no tickers running), ``--people`` attendees join and have a screen, the breakout item
deals them into groups of 6, one member of every group volunteers, and then every
facilitator saves ``--saves`` responses in all, all at once (``asyncio.gather``), as a
room of typing facilitators' autosaves arrive. The saves go through the real
``BreakoutService.capture`` and ``Committer.commit`` (group commit, SQLite with
``synchronous=FULL``), and their events to the hub.

Prints the burst's wall-clock time, saves per second, how many commits it took, and the
CPU time per save inside the writer (the work function, the events and ``apply``).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

from webinar.realtime.hub import Event
from webinar.services import DEFAULT_SLUG, open_services, prepare_database
from webinar.services.access import AccessLimits, Participant
from webinar.services.agenda_files import SEED_AGENDA, load_agenda
from webinar.storage.webinars import find_webinar_sync


def encode(event: Event, fmt: str) -> str:
    return str(event.seq)


async def run(people: int, saves: int, repeat: int) -> list[float]:
    times = []
    for attempt in range(repeat):
        with tempfile.TemporaryDirectory() as folder:
            times.append(await burst(Path(folder), people, saves, attempt))
    return times


async def burst(folder: Path, people: int, saves: int, attempt: int) -> float:
    path = str(folder / "bench.db")
    prepare_database(path)
    event = find_webinar_sync(path, DEFAULT_SLUG)
    assert event is not None
    limits = AccessLimits(join_burst=people + 10, joins_per_minute=60_000.0)
    services = await open_services(
        load_agenda(SEED_AGENDA, today=date.today()),
        path,
        encode,
        lambda: datetime.now(UTC),
        limits,
        webinar_id=event.id,
    )
    try:
        code = services.access.join_code
        attendees: dict[str, Participant] = {}
        for i in range(people):
            _, person = await services.access.join(code, f"Person {i}", f"Org {i % 7}")
            attendees[person.id] = person
            services.hub.subscribe({"all"}, "json", owner=person.id)
        _, host = await services.access.enter("host", services.access.secrets()["host_token"])
        await services.agenda_service.command("start", host.id)
        await services.agenda_service.command("jump", host.id, item_id="lcspr-breakout")
        await services.breakouts.reconcile()
        rnd = services.breakouts.current
        assert rnd is not None, "the breakout item made no round"
        writers = []
        for number, group in sorted(rnd.groups.items()):
            person = attendees[group.members[0]]
            await services.breakouts.volunteer(person)
            writers.append((person, number, group.topics[0]))
        commits = services.committer.commits
        started, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(
            *(
                services.breakouts.capture(p, n, t, f"Draft {k} of group {n}: share early.")
                for k in range(saves)
                for p, n, t in [writers[k % len(writers)]]
            )
        )
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        print(
            f"run {attempt + 1}: {len(rnd.groups)} groups, {saves} saves in {wall:.3f} s "
            f"({saves / wall:,.0f}/s), {services.committer.commits - commits} commits, "
            f"{cpu / saves * 1e6:,.0f} µs CPU per save"
        )
        return wall
    finally:
        await services.db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--saves", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    times = asyncio.run(run(args.people, args.saves, args.repeat))
    print(f"median {statistics.median(times):.3f} s for {args.saves} saves")


if __name__ == "__main__":
    main()
