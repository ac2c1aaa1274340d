"""A server restarted mid-item resumes from the stored truth."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from helpers import Person, ServerProcess, stored_secrets
from postgres_cluster import database

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["graceful", "killed"])
async def test_restart_mid_item_keeps_the_countdown(tmp_path: Path, sig: int) -> None:
    db = database(str(tmp_path / "webinar.db"))
    proc = ServerProcess(db)
    proc.start()
    try:
        secrets = stored_secrets(db)
        host = Person(proc.base)
        await host.enter("host", secrets["host_token"])
        await host.act("agenda.start")
        await host.act("agenda.next")
        extended = (await host.act("agenda.extend", minutes=3)).json()["agenda"]
        ann = Person(proc.base)
        await ann.join(secrets["join_code"], "Ann")
        ws = await ann.socket()
        snapshot = await ws.wait_for(lambda m: m["type"] == "snapshot")

        proc.stop(sig)
        proc.start()

        again = await ann.socket(last_seq=snapshot["seq"])
        after = (await host.http.get("/api/agenda")).json()
        # The resumed socket is up to date: nothing was missed, so nothing is replayed.
        await again.conn.send('{"type": "ping"}')
        pong = await again.wait_for(lambda m: m.get("type") == "pong")
        await again.close()
    finally:
        proc.stop()

    status = after["status"]
    assert status["current"] == "national-review-updates"
    assert status["current_started_at"] == extended["current_started_at"]
    assert status["current_ends_at"] == extended["current_ends_at"]
    assert 0 < extended["remaining_seconds"] - status["remaining_seconds"] < 30
    assert status["drift_text"] == extended["drift_text"]
    assert pong["seq"] == snapshot["seq"] == after["seq"]
    assert again.events == []
    await host.close()
    await ann.close()
