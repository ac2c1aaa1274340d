"""PostgreSQL restarted under a running `webinar serve --db postgresql://` in the middle of
a storm of questions and votes: `pg_ctl restart -m fast` and `-m immediate`, and `pg_ctl
stop` (both modes) with a `pg_ctl start` once the outage has been seen.

The server neither crashes nor hangs: actions during the outage get a 503 with a plain
sentence (never a 500), `/readyz` says 503 with the reason and 200 once PostgreSQL is back,
the event's connections come back by themselves, every acknowledged write is in the
database, the event log's seqs are 1..N, and live screens (real WebSocket clients, resuming
if their socket dropped) get every event of their audiences once, in seq order.

Needs PostgreSQL's programs whatever ``WEBINAR_TEST_DB`` says: it starts its own cluster
(never skipped under ``CI=true``).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest
from fault_support import QUESTIONS_EACH, Screen, Tally, attend, until
from ports import free_port

from helpers import PATIENCE, Person, ServerProcess, open_database, stored_secrets
from postgres_cluster import Cluster, require_postgres

pytestmark = pytest.mark.integration

ATTENDEES = 12
#: The audiences of the host's screen and of an attendee's whose events are checked.
SEES = ({"all", "staff"}, {"all"})


@pytest.fixture
def own_postgres() -> Iterator[Cluster]:
    """A PostgreSQL cluster of the test's own (it is stopped and started under the server)."""
    require_postgres()
    cluster = Cluster(port=free_port())
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


async def wait_ready(base: str, ready: bool, seen: list[dict[str, Any]]) -> float:
    """Poll /readyz until it says ``ready``; the seconds it took."""
    began = time.monotonic()
    async with httpx.AsyncClient(timeout=PATIENCE) as client:
        while time.monotonic() - began < 2 * PATIENCE:
            response = await client.get(f"{base}/readyz")
            if (response.status_code == 200) == ready:
                seen.append(response.json())
                return time.monotonic() - began
            await asyncio.sleep(0.1)
    raise AssertionError(f"/readyz never said ready={ready}")


#: A fault done to the cluster under the server at ``base`` mid-storm; what it measured.
Fault = Callable[[Cluster, str, Tally], Awaitable[str]]


def outage(mode: str) -> Fault:
    """``pg_ctl stop -m <mode>``, actions and /readyz refused while it is down (seen, not
    waited for by time), then ``pg_ctl start``."""

    async def fault(cluster: Cluster, base: str, tally: Tally) -> str:
        readiness: list[dict[str, Any]] = []
        stopped = time.monotonic()
        tally.back.clear()
        await asyncio.to_thread(cluster.stop_server, mode)
        away_in = await wait_ready(base, False, readiness)
        await until(lambda: tally.away >= 3, "503s while the database is away")
        await asyncio.to_thread(cluster.start_server)
        started = time.monotonic()
        back_in = await wait_ready(base, True, readiness)
        tally.back.set()
        assert any("database" in reason for reason in readiness[0]["reasons"])
        assert readiness[1]["ready"] is True
        return (
            f"stop -m {mode}, then start: /readyz 503 after {away_in:.2f} s; down "
            f"{started - stopped:.2f} s; /readyz 200 {back_in:.2f} s after the start"
        )

    return fault


def restart(mode: str) -> Fault:
    """``pg_ctl restart -m <mode>``: down for as long as the restart takes."""

    async def fault(cluster: Cluster, base: str, tally: Tally) -> str:
        began = time.monotonic()
        tally.back.clear()
        await asyncio.to_thread(cluster.restart, mode)
        took = time.monotonic() - began
        back_in = await wait_ready(base, True, [])
        tally.back.set()
        return f"restart -m {mode} ({took:.2f} s): /readyz 200 {back_in:.2f} s after it"

    return fault


@pytest.mark.parametrize(
    "fault",
    [outage("fast"), outage("immediate"), restart("fast"), restart("immediate")],
    ids=["stop-fast", "stop-immediate", "restart-fast", "restart-immediate"],
)
async def test_a_postgres_restart_loses_nothing_and_the_server_recovers_by_itself(
    own_postgres: Cluster, fault: Fault
) -> None:
    url = own_postgres.create("faults")
    proc = ServerProcess(url)
    proc.start()
    secrets = stored_secrets(url)
    people = [Person(proc.base) for _ in range(ATTENDEES)]
    host = Person(proc.base)
    tally, stop = Tally(), asyncio.Event()
    tally.back.set()
    watching: list[asyncio.Task[None]] = []
    storm: list[asyncio.Task[None]] = []
    try:
        await host.enter("host", secrets["host_token"])
        ids = [
            (await p.join(secrets["join_code"], f"Attendee {n}"))["participant"]["id"]
            for n, p in enumerate(people)
        ]
        screens = [Screen(host), Screen(people[0])]
        watching += [asyncio.create_task(s.follow()) for s in screens]
        storm += [
            asyncio.create_task(attend(p, ids[n], n, tally, stop)) for n, p in enumerate(people)
        ]
        await until(lambda: len(tally.asked) >= ATTENDEES and len(tally.votes) >= 10, "a storm")
        measured = await fault(own_postgres, proc.base, tally)
        await until(lambda: len(tally.asked) == ATTENDEES * QUESTIONS_EACH, "every question")
        stop.set()
        await asyncio.wait_for(asyncio.gather(*storm), PATIENCE)
        with contextlib.closing(open_database(url)) as conn:
            (last,) = conn.execute("SELECT last_seq FROM webinars").fetchone()
            logged = conn.execute("SELECT seq, audience FROM events ORDER BY seq").fetchall()
            stored = {row[0] for row in conn.execute("SELECT text FROM questions")}
            voted = {
                (str(row[0]), int(row[1]))
                for row in conn.execute("SELECT voter_id, question_id FROM votes")
            }
        audiences = {int(row[0]): row[1] for row in logged}
        for screen, sees in zip(screens, SEES, strict=True):
            screen.target = max(seq for seq, audience in audiences.items() if audience in sees)
        await asyncio.wait_for(asyncio.gather(*watching), PATIENCE)
    finally:
        stop.set()
        for task in [*watching, *storm]:
            task.cancel()
        for person in [host, *people]:
            await person.close()
        proc.stop()

    print(
        f"\nPostgreSQL {measured} (mid-storm); {len(tally.asked)} questions and "
        f"{len(tally.votes)} votes acknowledged; answers "
        f"{dict(sorted(tally.statuses.items()))}; {last} events; screens resumed "
        f"{[s.resumes for s in screens]} times"
    )
    assert 500 not in tally.statuses and set(tally.statuses) <= {200, 429, 503}
    assert set(tally.asked) <= stored and len(stored) == len(tally.asked)  # each once
    assert tally.votes <= voted
    seqs = [int(row[0]) for row in logged]
    assert seqs == list(range(1, last + 1))  # contiguous
    for screen, sees in zip(screens, SEES, strict=True):
        assert len(screen.snapshots) == 1  # never a snapshot for a gap
        assert screen.seqs == sorted(set(screen.seqs))  # once each, in order
        # (a vote flush after the log was read may have sent one more: not compared)
        assert [s for s in screen.seqs if s <= last and audiences[s] in sees] == [
            s for s in seqs if audiences[s] in sees and s > screen.snapshots[0]
        ]  # every event of its audiences after its snapshot
