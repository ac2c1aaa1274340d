"""A whole breakout with the real server and a dozen live attendees."""

from __future__ import annotations

import asyncio
import csv
import io
import sqlite3
import uuid
from collections import Counter
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from helpers import LiveServer, Person, Socket, host_of, seed_agenda

pytestmark = pytest.mark.integration

ORGS = ["Leeds SP", "West Yorkshire Police", "NHS Trust", "Kirklees SP"]


async def join_all(server: LiveServer, count: int) -> list[tuple[Person, Socket, str]]:
    people = []
    for i in range(count):
        person = Person(server.base)
        body = await person.join(server.secrets["join_code"], f"Person {i:02d}", ORGS[i % 4])
        sock = await person.socket()
        await sock.wait_for(lambda m: m["type"] == "snapshot")
        people.append((person, sock, body["participant"]["id"]))
    return people


def group_event(m: dict[str, Any]) -> bool:
    return bool(m["type"] == "breakout.group")


@dataclass
class Room:
    """Four attendees split by the breakout item; the first one facilitates."""

    people: list[tuple[Person, Socket, str]]
    number: int
    topic: int
    #: The facilitator, then the rest of their group.
    members: list[tuple[Person, Socket, str]]


async def split_with_facilitator(server: LiveServer, host: Person) -> Room:
    people = await join_all(server, 4)
    await host.act("agenda.start")
    await host.act("agenda.jump", item_id="lcspr-breakout")
    data = (await people[0][1].wait_for(group_event))["data"]
    ids = [m["id"] for m in data["members"]]
    room = Room(
        people,
        data["number"],
        data["topics"][0]["index"],
        [entry for entry in people if entry[2] in ids],
    )
    assert (await people[0][0].act("breakout.volunteer")).status_code == 200
    return room


async def test_breakout_lifecycle_with_twelve_attendees(tmp_path: Path) -> None:
    server = LiveServer(str(tmp_path / "webinar.db"))
    await server.start()
    host = await host_of(server)
    people = await join_all(server, 12)
    host_ws = await host.socket()

    # The breakout item starts: everyone is split into groups and told which.
    await host.act("agenda.start")
    assert (await host.act("agenda.jump", item_id="lcspr-breakout")).status_code == 200
    rooms = {pid: (await sock.wait_for(group_event))["data"] for _, sock, pid in people}
    grid = await host_ws.wait_for(lambda m: m["type"] == "breakout.grid")

    numbers = Counter(room["number"] for room in rooms.values())
    assert sorted(numbers.values()) == [6, 6]
    for number in numbers:
        members = next(r["members"] for r in rooms.values() if r["number"] == number)
        assert max(Counter(m["organisation"] for m in members).values()) <= 2
        assert len(next(r["topics"] for r in rooms.values() if r["number"] == number)) >= 2
    assert all(pid in [m["id"] for m in rooms[pid]["members"]] for pid in rooms)
    assert [len(g["members"]) for g in grid["data"]["groups"]] == [6, 6]

    # One volunteer per group; a second volunteer is refused.
    by_group: dict[int, list[tuple[Person, Socket, str]]] = {}
    for entry in people:
        by_group.setdefault(rooms[entry[2]]["number"], []).append(entry)
    facilitators = {}
    for number, members in sorted(by_group.items()):
        first, second = members[0], members[1]
        assert (await first[0].act("breakout.volunteer")).status_code == 200
        refused = await second[0].act("breakout.volunteer")
        assert refused.status_code == 409
        facilitators[number] = first
    topic_of = {n: rooms[m[0][2]]["topics"][0]["index"] for n, m in by_group.items()}

    # The facilitator captures; the group sees it; nobody else may write.
    person, sock, _ = facilitators[1]
    saved = await person.act("breakout.capture", group=1, topic=topic_of[1], text="Flexibility")
    assert saved.status_code == 200
    watcher = by_group[1][2][1]
    seen = await watcher.wait_for(
        lambda m: m["type"] == "breakout.response" and m["data"]["text"] == "Flexibility"
    )
    assert seen["data"]["index"] == topic_of[1]
    member = by_group[1][3][0]
    not_facilitator = await member.act("breakout.capture", group=1, topic=0, text="mine")
    other_group = await person.act("breakout.capture", group=2, topic=0, text="theirs")
    assert (not_facilitator.status_code, other_group.status_code) == (403, 403)
    point = await member.act(
        "breakout.point",
        group=1,
        topic=topic_of[1],
        text="Use practitioner events",
        key=uuid.uuid4().hex,
    )
    assert point.status_code == 200

    # The facilitator's connection drops mid-sentence; what was saved is there on return.
    last = sock.last_seq
    await sock.close()
    await person.act("breakout.capture", group=1, topic=topic_of[1], text="Flexibility of approach")
    again = await person.socket(last_seq=last)
    missed = await again.wait_for(
        lambda m: m["type"] == "breakout.response" and m["data"]["text"].endswith("approach")
    )
    assert missed["seq"] > last
    assert [m["seq"] for m in again.events] == sorted({m["seq"] for m in again.events})

    # Someone joins late: they land in a group.
    late = Person(server.base)
    late_id = (await late.join(server.secrets["join_code"], "Late Comer", "Leeds SP"))[
        "participant"
    ]["id"]
    late_ws = await late.socket()
    snapshot = await late_ws.wait_for(lambda m: m["type"] == "snapshot")
    assert snapshot["data"]["breakout"]["group"]["number"] in (1, 2)
    assert late_id in [m["id"] for m in snapshot["data"]["breakout"]["group"]["members"]]

    # The server restarts mid-breakout: groups, facilitators and responses are intact.
    ends_at = (await host.http.get("/api/agenda")).json()["status"]["current_ends_at"]
    for _, s, _ in people:
        await s.close()
    await again.close()
    await late_ws.close()
    await host_ws.close()
    await server.stop()
    await server.start()
    after = (await host.http.get("/api/agenda")).json()["status"]
    assert (after["current"], after["current_ends_at"]) == ("lcspr-breakout", ends_at)
    back = await person.socket()
    state = (await back.wait_for(lambda m: m["type"] == "snapshot"))["data"]["breakout"]
    topic = next(t for t in state["group"]["topics"] if t["index"] == topic_of[1])
    assert topic["text"] == "Flexibility of approach"
    assert [p["text"] for p in topic["points"]] == ["Use practitioner events"]
    assert state["group"]["facilitator"] == facilitators[1][2]

    # Time is up (the host moves on): everyone is back; capture locks after the grace.
    watcher_ws = await by_group[2][1][0].socket()
    await watcher_ws.wait_for(lambda m: m["type"] == "snapshot")
    await host.act("agenda.next")
    ended = await watcher_ws.wait_for(
        lambda m: m["type"] == "breakout.round" and m["data"]["state"] == "ended"
    )
    assert ended["data"]["capture_open"] is True
    in_grace = await person.act("breakout.capture", group=1, topic=topic_of[1], text="Final")
    server.offset = timedelta(seconds=61)
    locked = await person.act("breakout.capture", group=1, topic=topic_of[1], text="Too late")
    assert in_grace.status_code == 200
    assert locked.status_code == 409
    assert locked.json()["error"]["message"] == (
        "The breakout has ended and its responses are locked."
    )
    final = server.services.breakouts.current.responses[(1, topic_of[1])][0]
    assert final == "Final"

    await back.close()
    await watcher_ws.close()
    for p, _, _ in people:
        await p.close()
    await late.close()
    await host.close()
    await server.stop()


async def test_nobody_volunteers_so_one_member_is_picked(server: LiveServer) -> None:
    host = await host_of(server)
    people = await join_all(server, 4)
    await host.act("agenda.start")
    await host.act("agenda.jump", item_id="lcspr-breakout")
    first = await people[0][1].wait_for(group_event)
    assert first["data"]["facilitator"] is None

    server.offset = timedelta(seconds=61)  # past the volunteer time
    picked = await people[0][1].wait_for(
        lambda m: group_event(m) and m["data"]["facilitator"] is not None
    )

    assert picked["data"]["facilitator"] in [pid for _, _, pid in people]
    for p, s, _ in people:
        await s.close()
        await p.close()
    await host.close()


async def test_host_moves_a_person_and_answers_help(server: LiveServer) -> None:
    host = await host_of(server)
    people = await join_all(server, 12)
    host_ws = await host.socket()
    await host.act("agenda.start")
    await host.act("agenda.jump", item_id="lcspr-breakout")
    rooms = {pid: (await s.wait_for(group_event))["data"] for _, s, pid in people}
    mover_person, mover_ws, mover = people[0]
    target = 2 if rooms[mover]["number"] == 1 else 1

    asked = await mover_person.act("breakout.help")
    alert = await host_ws.wait_for(lambda m: m["type"] == "breakout.help")
    moved = await host.act("breakout.move", participant_id=mover, group=target)
    new_room = await mover_ws.wait_for(lambda m: group_event(m) and m["data"]["number"] == target)
    attendee_tries = await mover_person.act("breakout.move", participant_id=mover, group=1)
    message = await host.act("breakout.message", text="Please save your key points.")
    told = await people[5][1].wait_for(
        lambda m: m["type"] == "breakout.round" and m["data"]["message"]
    )

    assert asked.status_code == 200
    assert alert["data"]["group"] == rooms[mover]["number"]
    assert moved.status_code == 200
    assert mover in [m["id"] for m in new_room["data"]["members"]]
    assert attendee_tries.status_code == 403
    assert message.status_code == 200
    assert told["data"]["message"] == "Please save your key points."
    for p, s, _ in people:
        await s.close()
        await p.close()
    await host_ws.close()
    await host.close()


async def test_breakout_actions_outside_a_breakout_are_refused(server: LiveServer) -> None:
    host = await host_of(server)
    ann = Person(server.base)
    await ann.join(server.secrets["join_code"], "Ann")

    volunteer = await ann.act("breakout.volunteer")
    capture = await ann.act("breakout.capture", group=1, topic=0, text="x")
    message = await host.act("breakout.message", text="hello")
    bad = await ann.act("breakout.capture", group=0, topic=-1, text="x")

    assert (volunteer.status_code, volunteer.json()["error"]["message"]) == (
        409,
        "There is no breakout at the moment.",
    )
    assert capture.status_code == 409
    assert message.status_code == 409
    assert bad.status_code == 400
    await ann.close()
    await host.close()


async def test_split_reaches_every_attendee_quickly(server: LiveServer) -> None:
    host = await host_of(server)
    people = await join_all(server, 30)
    await host.act("agenda.start")
    loop = asyncio.get_running_loop()
    started = loop.time()

    await host.act("agenda.jump", item_id="lcspr-breakout")
    await asyncio.gather(*(s.wait_for(group_event) for _, s, _ in people))

    assert loop.time() - started < 5
    for p, s, _ in people:
        await s.close()
        await p.close()
    await host.close()


async def test_preassignment_upload_is_honoured_and_bad_files_explained(
    server: LiveServer,
) -> None:
    organiser = Person(server.base)
    await organiser.enter("organiser", server.secrets["organiser_token"])
    host = await host_of(server)
    people = await join_all(server, 12)
    good = "name,group\nPerson 00,2\nperson 01,2\nNobody Here,1\n"
    bad = "name;group\nPerson 00;two\n;1\nPerson 00;1\n"

    stored = await organiser.http.post(
        "/api/breakout/preassign",
        files={"file": ("groups.csv", good.encode(), "text/csv")},
        data={"csrf_token": organiser.csrf},
    )
    refused = await organiser.http.post(
        "/api/breakout/preassign",
        content=bad.encode(),
        headers={"Content-Type": "text/csv", "X-CSRF-Token": organiser.csrf},
    )
    by_attendee = await people[0][0].http.post(
        "/api/breakout/preassign",
        content=good.encode(),
        headers={"Content-Type": "text/csv", "X-CSRF-Token": people[0][0].csrf},
    )
    await host.act("agenda.start")
    await host.act("agenda.jump", item_id="lcspr-breakout")
    rooms = {pid: (await s.wait_for(group_event))["data"] for _, s, pid in people}

    assert stored.status_code == 200, stored.text
    assert stored.json()["stored"] == 3
    assert stored.json()["not_joined_yet"] == [{"line": 4, "name": "Nobody Here", "group": 1}]
    assert refused.status_code == 400
    assert [p["line"] for p in refused.json()["problems"]] == [2, 3, 4]
    assert by_attendee.status_code == 403
    assert rooms[people[0][2]]["number"] == 2
    assert rooms[people[1][2]]["number"] == 2
    for p, s, _ in people:
        await s.close()
        await p.close()
    await host.close()
    await organiser.close()


async def test_feedback_view_star_present_and_export(server: LiveServer) -> None:
    import io

    from openpyxl import load_workbook

    from webinar.services.exports import sheet_names

    host = await host_of(server)
    people = await join_all(server, 12)
    await host.act("agenda.start")
    await host.act("agenda.jump", item_id="lcspr-breakout")
    rooms = {pid: (await s.wait_for(group_event))["data"] for _, s, pid in people}
    writers = {}
    for person, _, pid in people:
        number = rooms[pid]["number"]
        if number not in writers:
            await person.act("breakout.volunteer")
            writers[number] = (person, [t["index"] for t in rooms[pid]["topics"]])
    for number, (person, topics) in writers.items():
        for topic in topics:
            await person.act(
                "breakout.capture", group=number, topic=topic, text=f"G{number} on T{topic + 1}"
            )
    await host.act("agenda.next")
    host_ws = await host.socket()
    await host_ws.wait_for(lambda m: m["type"] == "snapshot")
    first_topic = writers[1][1][0]

    starred = await host.act("breakout.star", group=1, topic=first_topic)
    shown = await host.act("feedback.present", mode="topic", index=first_topic)
    assert shown.status_code == 200, shown.text
    presented = await host_ws.wait_for(lambda m: m["type"] == "feedback.present")
    page = (await host.http.get("/feedback")).text
    by_group = (await host.http.get("/feedback?by=group")).text
    workbook = load_workbook(
        io.BytesIO((await host.http.get("/api/breakout/export?format=xlsx")).content)
    )
    attendee_page = await people[0][0].http.get("/feedback")

    assert starred.status_code == 200
    assert shown.status_code == 200
    entries = {e["group"]: e for e in presented["data"]["entries"]}
    assert entries[1]["text"] == f"G1 on T{first_topic + 1}"
    assert entries[1]["starred"] is True
    for number, (_, topics) in writers.items():
        for topic in topics:
            assert f"G{number} on T{topic + 1}" in page
            assert f"G{number} on T{topic + 1}" in by_group
    assert "Show this topic on the projector" in page  # the host's controls
    assert "Show this group on the projector" in by_group
    covered = sum(len(topics) for _, topics in writers.values())
    rows = [
        row for sheet in workbook.worksheets for row in sheet.iter_rows(min_row=2, values_only=True)
    ]
    assert len(rows) == covered
    settings = server.agenda.item("lcspr-breakout").breakout
    assert settings is not None
    # A sheet per topic, named by its title.
    assert workbook.sheetnames == sheet_names(settings.topics)
    assert attendee_page.status_code == 403
    for p, s, _ in people:
        await s.close()
        await p.close()
    await host_ws.close()
    await host.close()


async def test_second_breakout_mixes_people_who_met_before(tmp_path: Path) -> None:
    from itertools import combinations

    from webinar.domain.agenda_file import parse_agenda

    text = """
[event]
title = "Two breakouts"
date = "today"
timezone = "Europe/London"

[[items]]
title = "First breakout"
kind = "breakout"
start = "10:00"
end = "10:20"
  [items.breakout]
  topics = ["A", "B", "C"]
  group_size = 6
  min_topics = 2

[[items]]
title = "Second breakout"
kind = "breakout"
start = "10:20"
end = "10:40"
  [items.breakout]
  topics = ["D", "E", "F"]
  group_size = 6
  min_topics = 2
"""
    server = LiveServer(
        str(tmp_path / "two.db"), agenda=parse_agenda(text, "two.toml", today=date.today())
    )
    await server.start()
    host = await host_of(server)
    people = []
    for i in range(12):
        person = Person(server.base)
        pid = (await person.join(server.secrets["join_code"], f"P{i}"))["participant"]["id"]
        sock = await person.socket()
        await sock.wait_for(lambda m: m["type"] == "snapshot")
        people.append((person, sock, pid))

    await host.act("agenda.start")
    first = {pid: (await s.wait_for(group_event))["data"]["number"] for _, s, pid in people}
    await host.act("agenda.next")
    second = {
        pid: (
            await s.wait_for(lambda m: group_event(m) and m["data"]["item_id"] == "second-breakout")
        )["data"]["number"]
        for _, s, pid in people
    }

    def pairs(groups: dict[str, int]) -> set[frozenset[str]]:
        return {
            frozenset(pair)
            for pair in combinations(sorted(groups), 2)
            if groups[pair[0]] == groups[pair[1]]
        }

    # Splitting 12 people who met in two groups of 6 into two new groups of 6 repeats at
    # least 12 pairs (each old group splits 3 and 3 at best); the allocator reaches that.
    assert sorted(Counter(second.values()).values()) == [6, 6]
    assert len(pairs(first) & pairs(second)) == 12
    for p, s, _ in people:
        await s.close()
        await p.close()
    await host.close()
    await server.stop()


async def test_host_corrects_a_response_after_the_lock_before_presenting_it(
    server: LiveServer,
) -> None:
    """A facilitator's response names a child; after the breakout (responses locked) the
    host takes the name out before presenting: the group, the feedback view, the
    projector and the export show the correction (marked where it is shown to the group
    and to staff); a correction of a version since replaced is refused."""
    host = await host_of(server)
    host_ws = await host.socket()
    room = await split_with_facilitator(server, host)
    people, number, topic = room.people, room.number, room.topic
    facilitator, watcher = room.members[0], room.members[1]
    named = "Jamie Smith's school was not told about the plan"
    saved = await facilitator[0].act("breakout.capture", group=number, topic=topic, text=named)
    assert saved.status_code == 200
    await host.act("agenda.next")
    await watcher[1].wait_for(
        lambda m: m["type"] == "breakout.round" and m["data"]["state"] == "ended"
    )
    server.offset = timedelta(seconds=61)  # past the grace: the group can no longer write
    assert (
        await facilitator[0].act("breakout.capture", group=number, topic=topic, text="x")
    ).status_code == 409
    await host.act("feedback.present", mode="topic", index=topic)

    fixed = "A child's school was not told about the plan"
    seen_version = server.services.breakouts.current.responses[(number, topic)][1]
    corrected = await host.act(
        "breakout.correct", group=number, topic=topic, text=fixed, version=seen_version
    )

    assert corrected.status_code == 200, corrected.text
    assert corrected.json()["version"] == seen_version + 1
    stale = await host.act(
        "breakout.correct", group=number, topic=topic, text="stale", version=seen_version
    )
    assert stale.status_code == 409
    assert stale.json()["error"]["message"].startswith("The group has saved a newer version")
    seen = await watcher[1].wait_for(
        lambda m: m["type"] == "breakout.response" and m["data"]["text"] == fixed
    )
    assert seen["data"]["edited_by_host"] is True
    staff = await host_ws.wait_for(
        lambda m: m["type"] == "breakout.response" and m["data"]["text"] == fixed
    )
    assert staff["data"]["edited_by_host"] is True
    feedback = (await host.http.get("/feedback")).text
    assert fixed.replace("'", "&#39;") in feedback and "Edited by the host" in feedback
    assert "Jamie Smith" not in feedback
    projector = (await host.http.get("/projector")).text  # presenting this topic
    assert fixed.replace("'", "&#39;") in projector and "Jamie Smith" not in projector
    export = (await host.http.get("/api/breakout/export?format=csv")).text
    assert "Jamie Smith" not in export
    exported = list(csv.DictReader(io.StringIO(export.lstrip("\ufeff"))))
    assert [(r["Response"], r["Edited by the host"]) for r in exported] == [(fixed, "yes")]

    # Plain refusals: nothing written there, no such group, not a host.
    other = next(i for i in range(5) if i != topic)  # the seed's breakout has 5 topics
    nothing = await host.act("breakout.correct", group=number, topic=other, text="x")
    no_group = await host.act("breakout.correct", group=99, topic=topic, text="x")
    member = await watcher[0].act("breakout.correct", group=number, topic=topic, text="x")
    assert (nothing.status_code, no_group.status_code, member.status_code) == (404, 404, 403)
    for p, s, _ in people:
        await s.close()
        await p.close()
    await host_ws.close()
    await host.close()


async def test_a_response_refused_late_in_its_transaction_leaves_no_trace_in_memory(
    server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    host = await host_of(server)
    room = await split_with_facilitator(server, host)
    people, number, topic = room.people, room.number, room.topic
    facilitator = room.members[0][0]
    assert (
        await facilitator.act("breakout.capture", group=number, topic=topic, text="First")
    ).status_code == 200
    from webinar.storage import repo

    real = repo.append_events

    async def failing(
        tx: Any, at: str, events: list[tuple[str, str, Any]], db: Any = None
    ) -> list[int]:
        if any(type_ == "breakout.response" for type_, _, _ in events):
            raise sqlite3.OperationalError("disk I/O error")
        return await real(tx, at, events, db)

    monkeypatch.setattr(repo, "append_events", failing)
    refused = await facilitator.act("breakout.capture", group=number, topic=topic, text="Lost")
    monkeypatch.setattr(repo, "append_events", real)

    assert refused.status_code == 500
    cached = server.services.breakouts.current.responses[(number, topic)]
    assert cached[:2] == ("First", 1)
    again = await facilitator.act("breakout.capture", group=number, topic=topic, text="Second")
    assert again.json() == {"ok": True, "group": number, "topic": topic, "version": 2}
    assert server.services.breakouts.current.responses[(number, topic)][:2] == ("Second", 2)
    for p, s, _ in people:
        await s.close()
        await p.close()
    await host.close()


def seed_with_breakout(**changes: Any) -> Any:
    """The seed webinar with its breakout's settings changed."""
    agenda = seed_agenda()
    items = tuple(
        replace(item, breakout=replace(item.breakout, **changes)) if item.breakout else item
        for item in agenda.items
    )
    return replace(agenda, items=items)


async def test_late_joiner_past_the_group_size_is_told_to_the_host(tmp_path: Path) -> None:
    server = LiveServer(str(tmp_path / "w.db"), agenda=seed_with_breakout(group_size=2))
    await server.start()
    host = await host_of(server)
    people = await join_all(server, 4)
    host_ws = await host.socket()
    await host.act("agenda.start")
    await host.act("agenda.jump", item_id="lcspr-breakout")
    split = await host_ws.wait_for(lambda m: m["type"] == "breakout.grid")

    late = Person(server.base)
    await late.join(server.secrets["join_code"], "Late Comer", "Leeds SP")
    late_ws = await late.socket()

    def grew(m: dict[str, Any]) -> bool:
        return m["type"] == "breakout.grid" and any(
            len(g["members"]) == 3 for g in m["data"]["groups"]
        )

    grown = await host_ws.wait_for(grew)

    assert sorted(len(g["members"]) for g in split["data"]["groups"]) == [2, 2]
    assert split["data"]["oversize"] == ""
    (big,) = [g["number"] for g in grown["data"]["groups"] if len(g["members"]) == 3]
    assert grown["data"]["oversize"] == (
        f"Group {big} has more than 2 people, the group size asked for: people who join late "
        "go to the smallest group, so a group grows past 2 only when every group is full."
    )
    page = await host.http.get("/host")
    assert grown["data"]["oversize"] in page.text
    await late_ws.close()
    await late.close()
    for p, s, _ in people:
        await s.close()
        await p.close()
    await host_ws.close()
    await host.close()
    await server.stop()


async def test_a_fixed_number_of_groups_splits_into_that_many(tmp_path: Path) -> None:
    server = LiveServer(
        str(tmp_path / "w.db"), agenda=seed_with_breakout(group_size=None, group_count=3)
    )
    await server.start()
    host = await host_of(server)
    people = await join_all(server, 7)
    host_ws = await host.socket()
    await host.act("agenda.start")
    await host.act("agenda.jump", item_id="lcspr-breakout")
    grid = await host_ws.wait_for(lambda m: m["type"] == "breakout.grid")

    assert sorted(len(g["members"]) for g in grid["data"]["groups"]) == [2, 2, 3]
    assert grid["data"]["oversize"] == ""
    for p, s, _ in people:
        await s.close()
        await p.close()
    await host_ws.close()
    await host.close()
    await server.stop()


SECOND_TOPICS = ("What would you change first?", "Who: [else] should hear this?")


def seed_with_two_breakouts() -> Any:
    """The seed webinar whose feedback item is a second breakout, with its own topics."""
    from webinar.domain.agenda import BreakoutSettings

    agenda = seed_agenda()
    second = BreakoutSettings(topics=SECOND_TOPICS, group_size=6, min_topics=2)
    items = tuple(
        replace(item, kind="breakout", breakout=second) if item.id == "breakout-feedback" else item
        for item in agenda.items
    )
    return replace(agenda, items=items)


async def capture_every_given_topic(people: list[tuple[Person, Socket, str]], item: str) -> None:
    """Each group's first member volunteers and writes on every topic the group was given."""
    rooms = {}
    for _, sock, pid in people:
        rooms[pid] = (
            await sock.wait_for(lambda m: group_event(m) and m["data"]["item_id"] == item)
        )["data"]
    writers: set[int] = set()
    for person, _, pid in people:
        room = rooms[pid]
        if room["number"] in writers:
            continue
        writers.add(room["number"])
        assert (await person.act("breakout.volunteer")).status_code == 200
        for topic in room["topics"]:
            saved = await person.act(
                "breakout.capture",
                group=room["number"],
                topic=topic["index"],
                text=f"{item} group {room['number']} on {topic['title']}",
            )
            assert saved.status_code == 200, saved.text


async def test_breakout_xlsx_has_a_sheet_per_breakout_and_topic(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    from webinar.services.exports import sheet_names

    server = LiveServer(str(tmp_path / "w.db"), agenda=seed_with_two_breakouts())
    await server.start()
    host = await host_of(server)
    people = await join_all(server, 4)
    await host.act("agenda.start")
    await host.act("agenda.jump", item_id="lcspr-breakout")
    await capture_every_given_topic(people, "lcspr-breakout")
    await host.act("agenda.next")
    await capture_every_given_topic(people, "breakout-feedback")

    response = await host.http.get("/api/breakout/export?format=xlsx")
    workbook = load_workbook(io.BytesIO(response.content))

    settings = server.agenda.item("lcspr-breakout").breakout
    assert settings is not None
    first_topics = settings.topics
    titles = [*first_topics, *SECOND_TOPICS]
    names = sheet_names(titles)
    assert workbook.sheetnames == names
    # ":", "[", "]" and "?" are not allowed in a sheet name.
    assert names[-2:] == ["What would you change first", "Who else should hear this"]
    assert all(len(name) <= 31 for name in names)
    assert len({name.casefold() for name in names}) == len(names)
    written = 0
    for sheet, title in zip(workbook.worksheets, titles, strict=True):
        breakout = "LCSPR Breakout" if title in first_topics else "Breakout Feedback"
        item = "lcspr-breakout" if title in first_topics else "breakout-feedback"
        for row in sheet.iter_rows(min_row=2, values_only=True):
            written += 1
            assert (row[0], row[3]) == (breakout, title)
            assert row[5] == f"{item} group {row[1]} on {title}"
    # One group in each breakout: 2 topics given in the first, both topics in the second.
    assert written == 4
    for p, s, _ in people:
        await s.close()
        await p.close()
    await host.close()
    await server.stop()
