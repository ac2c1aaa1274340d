"""Group calls over the real app, against local engines that check what the real ones do.

Four attendees are split into two groups of two by the seed webinar's breakout (set to
two groups). Each asks ``/breakout/call`` for their group's call and follows the redirect
to a local Jitsi (tokens verified as Prosody verifies them) or BigBlueButton (checksums
verified as BBB's API defines them).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from fake_providers import (
    BBB_SECRET,
    JITSI_APP_ID,
    JITSI_SECRET,
    FakeBbb,
    FakeJitsi,
)
from helpers import LiveServer, Person, host_of, seed_agenda
from webinar.domain.agenda import Agenda
from webinar.domain.video import CallSettings
from webinar.services.calls import CallConfig

pytestmark = pytest.mark.integration

BREAKOUT = "lcspr-breakout"
NAMES = ("Ann Example", "Bob Example", "Cat Example", "Dan Example")


def agenda_with_call(call: CallSettings) -> Agenda:
    agenda = seed_agenda()
    items = []
    for item in agenda.items:
        if item.breakout is not None:
            settings = replace(item.breakout, call=call, group_size=None, group_count=2)
            item = replace(item, breakout=settings)
        items.append(item)
    return replace(agenda, items=tuple(items))


@dataclass
class Member:
    person: Person
    id: str
    name: str
    group: int


@dataclass
class Split:
    server: LiveServer
    host: Person
    round: int
    members: list[Member]

    def of_group(self, number: int) -> list[Member]:
        return [m for m in self.members if m.group == number]


class Crowd(list[Person]):
    """Every client a test made, closed at its end."""

    def new(self, base: str) -> Person:
        self.append(Person(base))
        return self[-1]


@pytest.fixture
async def crowd() -> AsyncIterator[Crowd]:
    made = Crowd()
    try:
        yield made
    finally:
        for person in made:
            await person.close()


async def split(server: LiveServer, crowd: Crowd) -> Split:
    host = await host_of(server)
    crowd.append(host)
    people = []
    for name in NAMES:
        person = crowd.new(server.base)
        body = await person.join(server.secrets["join_code"], name)
        people.append((person, body["participant"]["id"], name))
    sockets = [await p.socket() for p, _, _ in people]
    for sock in sockets:
        await sock.wait_for(lambda m: m["type"] == "snapshot")
    assert (await host.act("agenda.start")).status_code == 200
    assert (await host.act("agenda.jump", item_id=BREAKOUT)).status_code == 200
    members = []
    round_id = 0
    for (person, pid, name), sock in zip(people, sockets, strict=True):
        event = await sock.wait_for(lambda m: m["type"] == "breakout.group", timeout=10)
        round_id = event["data"]["round"]
        members.append(Member(person, pid, name, event["data"]["number"]))
    for sock in sockets:
        await sock.close()
    assert sorted(m.group for m in members) == [1, 1, 2, 2]
    return Split(server, host, round_id, members)


async def follow(person: Person, round_id: int, group: int) -> httpx.Response:
    """What the person's group frame gets: /breakout/call and every redirect after it."""
    return await person.http.get(
        "/breakout/call", params={"round": round_id, "group": group}, follow_redirects=True
    )


@pytest.fixture
def jitsi() -> Iterator[FakeJitsi]:
    fake = FakeJitsi()
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
async def jitsi_server(tmp_path: Path, jitsi: FakeJitsi) -> AsyncIterator[LiveServer]:
    server = LiveServer(
        str(tmp_path / "webinar.db"),
        agenda=agenda_with_call(CallSettings("jitsi", jitsi.base)),
        calls=CallConfig(jitsi_app_id=JITSI_APP_ID, jitsi_secret=JITSI_SECRET),
    )
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def test_jitsi_tokens_verify_as_prosody_does_and_pin_each_group_to_its_room(
    jitsi_server: LiveServer, jitsi: FakeJitsi, crowd: Crowd
) -> None:
    groups = await split(jitsi_server, crowd)
    facilitator = groups.of_group(1)[0]
    assert (await facilitator.person.act("breakout.volunteer")).status_code == 200

    rooms: dict[int, set[str]] = {1: set(), 2: set()}
    for member in groups.members:
        response = await follow(member.person, groups.round, member.group)
        assert response.status_code == 200, response.text
        visit = jitsi.visits[-1]
        claims: dict[str, Any] = visit.detail
        rooms[member.group].add(visit.path.strip("/"))
        moderator = member is facilitator
        assert claims["context"]["user"] == {
            "name": member.name,
            "moderator": moderator,
            "affiliation": "owner" if moderator else "member",
        }
        assert (claims["iss"], claims["aud"], claims["sub"]) == (JITSI_APP_ID, "jitsi", "127.0.0.1")
        lifetime = datetime.fromtimestamp(claims["exp"], UTC) - datetime.now(UTC)
        assert timedelta(minutes=4) < lifetime < timedelta(hours=3, minutes=1)

    assert len(rooms[1]) == len(rooms[2]) == 1
    assert rooms[1] != rooms[2]
    assert all(v.status == 200 for v in jitsi.visits)


async def test_call_of_another_group_is_refused_in_a_sentence_that_leaks_nothing(
    jitsi_server: LiveServer, jitsi: FakeJitsi, crowd: Crowd
) -> None:
    groups = await split(jitsi_server, crowd)
    outsider = groups.of_group(2)[0]

    response = await outsider.person.http.get(
        "/breakout/call", params={"round": groups.round, "group": 1}
    )

    assert response.status_code == 403
    assert response.text == "You can only join your own group's call."
    assert "location" not in response.headers
    assert jitsi.visits == []


@pytest.mark.parametrize(
    ("params", "status"),
    [({"round": "1"}, 400), ({"round": "x", "group": "1"}, 400), ({"round": 99, "group": 1}, 404)],
)
async def test_call_request_with_bad_numbers_gets_a_plain_message(
    jitsi_server: LiveServer, params: dict[str, Any], status: int, crowd: Crowd
) -> None:
    person = crowd.new(jitsi_server.base)
    await person.join(jitsi_server.secrets["join_code"], "Eve Example")

    response = await person.http.get("/breakout/call", params=params)

    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text.endswith(".")


async def test_visitor_without_a_session_gets_no_call(
    jitsi_server: LiveServer, crowd: Crowd
) -> None:
    response = await crowd.new(jitsi_server.base).http.get(
        "/breakout/call", params={"round": 1, "group": 1}
    )

    assert response.status_code == 403
    assert response.text.startswith("Join the event first")


async def test_moved_person_gets_the_new_room_and_loses_the_old(
    jitsi_server: LiveServer, jitsi: FakeJitsi, crowd: Crowd
) -> None:
    groups = await split(jitsi_server, crowd)
    stay = groups.of_group(2)[0]
    await follow(stay.person, groups.round, 2)
    room_two = jitsi.visits[-1].path
    mover = groups.of_group(1)[0]

    moved = await groups.host.act("breakout.move", participant_id=mover.id, group=2)
    new = await follow(mover.person, groups.round, 2)
    old = await mover.person.http.get("/breakout/call", params={"round": groups.round, "group": 1})

    assert moved.status_code == 200
    assert new.status_code == 200
    assert jitsi.visits[-1].path == room_two
    assert old.status_code == 403


async def test_calls_close_when_the_breakout_ends(
    jitsi_server: LiveServer, jitsi: FakeJitsi, crowd: Crowd
) -> None:
    groups = await split(jitsi_server, crowd)
    member = groups.members[0]
    watch = await groups.host.socket()
    await watch.wait_for(lambda m: m["type"] == "snapshot")

    assert (await groups.host.act("agenda.next")).status_code == 200
    await watch.wait_for(
        lambda m: m["type"] == "breakout.round" and m["data"]["state"] == "ended", timeout=10
    )
    await watch.close()
    response = await member.person.http.get(
        "/breakout/call", params={"round": groups.round, "group": member.group}
    )

    assert response.status_code == 409
    assert "back in the main session" in response.text


# -- BigBlueButton ------------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ["sha1", "sha256"])
async def test_bbb_meetings_are_created_joined_and_ended_with_valid_checksums(
    tmp_path: Path, algorithm: str, crowd: Crowd
) -> None:
    bbb = FakeBbb(allowed=(algorithm,))
    bbb.start()
    server = LiveServer(
        str(tmp_path / "webinar.db"),
        agenda=agenda_with_call(CallSettings("bbb", bbb.base + "/bigbluebutton/")),
        calls=CallConfig(bbb_secret=BBB_SECRET, bbb_checksum=algorithm),
    )
    await server.start()
    try:
        groups = await split(server, crowd)
        facilitator = groups.of_group(1)[0]
        assert (await facilitator.person.act("breakout.volunteer")).status_code == 200
        for member in groups.members:
            response = await follow(member.person, groups.round, member.group)
            assert response.status_code == 200, response.text

        meetings = dict(bbb.meetings)
        assert len(meetings) == 2
        joined = sorted(j for m in meetings.values() for j in m.joined)
        assert joined == sorted(
            (m.name, "MODERATOR" if m is facilitator else "VIEWER") for m in groups.members
        )
        assert all(v.detail != "checksumError" for v in bbb.visits)

        assert (await groups.host.act("agenda.next")).status_code == 200
        visits = await asyncio.to_thread(
            bbb.wait_for, lambda vs: sum(v.path == "end" for v in vs) == 2
        )
        assert {v.params["meetingID"] for v in visits if v.path == "end"} == set(meetings)
        assert not any(m.running for m in bbb.meetings.values())
        assert all(v.detail != "checksumError" for v in visits)
    finally:
        await server.stop()
        bbb.stop()


async def test_bbb_with_the_wrong_secret_is_refused_and_said_plainly(
    tmp_path: Path, crowd: Crowd
) -> None:
    bbb = FakeBbb()
    bbb.start()
    server = LiveServer(
        str(tmp_path / "webinar.db"),
        agenda=agenda_with_call(CallSettings("bbb", bbb.base)),
        calls=CallConfig(bbb_secret="not-the-secret"),
    )
    await server.start()
    try:
        groups = await split(server, crowd)
        member = groups.members[0]

        response = await follow(member.person, groups.round, member.group)

        assert response.status_code == 502
        assert response.text == (
            "The video call server refused to create the meeting (checksumError)."
        )
        assert "not-the-secret" not in response.text
    finally:
        await server.stop()
        bbb.stop()


def test_app_refuses_a_provider_without_its_secret(tmp_path: Path) -> None:
    from webinar.web.app import Settings
    from webinar.web.site import create_app

    settings = Settings(
        agenda=agenda_with_call(CallSettings("jitsi", "https://meet.example.org")),
        db_path=str(tmp_path / "webinar.db"),
        secrets={"session_secret": "x" * 48},
    )

    with pytest.raises(ValueError, match="no Jitsi app secret: set WEBINAR_JITSI_SECRET"):
        create_app(settings)


async def test_link_provider_sends_each_group_to_its_own_address(
    tmp_path: Path, crowd: Crowd
) -> None:
    server = LiveServer(
        str(tmp_path / "webinar.db"),
        agenda=agenda_with_call(CallSettings("link", "https://video.example.org/room-{group}")),
    )
    await server.start()
    try:
        groups = await split(server, crowd)
        for member in groups.members:
            response = await member.person.http.get(
                "/breakout/call", params={"round": groups.round, "group": member.group}
            )
            assert response.status_code == 303
            assert response.headers["location"] == (
                f"https://video.example.org/room-{member.group}"
            )
            assert response.headers["referrer-policy"] == "no-referrer"
    finally:
        await server.stop()
