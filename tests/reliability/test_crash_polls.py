"""SIGKILL while poll answers are being written: every answer acknowledged is there after
the restart, and no answer is stored without its respondent's mark (or the reverse)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import signal
import uuid
from pathlib import Path

import httpx
import pytest

from helpers import Person, ServerProcess, open_database, stored_secrets
from postgres_cluster import database

pytestmark = pytest.mark.integration

PEOPLE = 60


async def test_acknowledged_poll_answers_survive_a_kill(tmp_path: Path) -> None:
    db = database(str(tmp_path / "webinar.db"))
    proc = ServerProcess(db)
    proc.start()
    secrets = stored_secrets(db)
    host = Person(proc.base)
    await host.enter("host", secrets["host_token"])
    made = await host.act("polls.create", question="Which?", kind="single", options=["A", "B"])
    poll_id = made.json()["poll"]["id"]
    await host.act("polls.open", poll_id=poll_id)
    people = [Person(proc.base) for _ in range(PEOPLE)]
    for i, person in enumerate(people):
        await person.join(secrets["join_code"], f"P{i}")
    acked: list[str] = []
    enough = asyncio.Event()

    async def answer(person: Person, n: int) -> None:
        key = uuid.uuid4().hex
        try:
            response = await person.act("polls.answer", poll_id=poll_id, choices=[n % 2], key=key)
        except httpx.HTTPError:
            return  # the server is gone: not acknowledged
        assert response.status_code < 500, response.text
        if response.status_code == 200:
            acked.append(key)
            if len(acked) >= PEOPLE // 4:
                enough.set()

    tasks = [asyncio.create_task(answer(p, n)) for n, p in enumerate(people)]
    await asyncio.wait_for(enough.wait(), 30)
    proc.stop(signal.SIGKILL)
    await asyncio.gather(*tasks)
    proc.start()
    try:
        with contextlib.closing(open_database(db)) as conn, conn:
            stored = {r[0] for r in conn.execute("SELECT key_hash FROM poll_answers")}
            ((respondents,),) = conn.execute("SELECT COUNT(*) FROM poll_respondents").fetchall()
        reopened = await host.act("polls.close", poll_id=poll_id)
    finally:
        proc.stop()

    hashes = {hashlib.sha256(f"poll:{poll_id}:{k}".encode()).hexdigest() for k in acked}
    assert acked and hashes <= stored
    assert respondents == len(stored)
    assert reopened.status_code == 200
    assert reopened.json()["poll"]["results"]["respondents"] == len(stored)
    for person in (host, *people):
        await person.close()
