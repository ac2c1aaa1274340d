"""`webinar serve --start`: a rehearsal's plan moves only until the event starts."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from helpers import Person, ServerProcess, seed_agenda, stored_secrets
from postgres_cluster import database
from webinar.services import prepare_database
from webinar.services.plan import plan_event, planned_agenda
from webinar.storage.webinars import list_webinars_sync

pytestmark = pytest.mark.integration


def local(hhmm: str) -> datetime:
    """Today at ``hhmm`` in the seed webinar's time zone, as ``--start`` reads it."""
    zone = seed_agenda().timezone
    return datetime.combine(
        datetime.now(zone).date(), datetime.strptime(hhmm, "%H:%M").time(), zone
    )


def planned(body: dict[str, object]) -> list[tuple[str, str]]:
    items = body["event"]["items"]  # type: ignore[index]
    return [(item["start"], item["end"]) for item in items]


async def test_restart_with_start_keeps_a_started_events_plan(tmp_path: Path) -> None:
    db = database(str(tmp_path / "webinar.db"))
    proc = ServerProcess(db, args=("--start", "06:00"))
    proc.start()
    try:
        secrets = stored_secrets(db)
        host = Person(proc.base)
        await host.enter("host", secrets["host_token"])
        first = (await host.http.get("/api/agenda")).json()
        await host.act("agenda.start")
        await host.act("agenda.next")
        before = (await host.http.get("/api/agenda")).json()

        proc.stop()
        proc.args = ("--start", "now")
        proc.start()

        after = (await host.http.get("/api/agenda")).json()
    finally:
        proc.stop()
    await host.close()

    assert datetime.fromisoformat(planned(first)[0][0]) == local("06:00")
    assert planned(after) == planned(first)
    finished = [e for e in after["status"]["schedule"] if e["state"] == "done"]
    assert [e["id"] for e in finished] == ["welcome"]
    assert datetime.fromisoformat(finished[0]["planned_start"]) == local("06:00")
    assert finished[0]["start"] == before["status"]["schedule"][0]["start"]
    assert "The event has already started, so --start is ignored" in proc.output


def test_a_rehearsal_not_yet_started_moves_on_restart(tmp_path: Path) -> None:
    db = database(str(tmp_path / "webinar.db"))
    prepare_database(db)
    (event,) = list_webinars_sync(db)
    seed = seed_agenda()

    moved, note = plan_event(db, event.id, seed, local("06:00"))
    again, again_note = plan_event(db, event.id, seed, local("07:30"))
    kept_for_export = planned_agenda(db, event.id, seed)
    unmoved, _ = plan_event(db, event.id, seed, None)

    assert (moved.planned_start, note) == (local("06:00"), "")
    assert (again.planned_start, again_note) == (local("07:30"), "")
    assert kept_for_export.planned_start == local("07:30")
    assert unmoved == seed
    assert planned_agenda(db, event.id, seed) == seed
    assert [i.duration for i in again.items] == [i.duration for i in seed.items]
    assert again.items[-1].end - again.items[0].start == seed.planned_end - seed.planned_start
