"""Replacing the event code and the secret links (issue 11, item 4)."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from websockets.exceptions import ConnectionClosed

from helpers import LiveServer, Person, attendee_of, host_of
from postgres_cluster import database
from webinar.cli.main import cli
from webinar.services import prepare_database

pytestmark = pytest.mark.integration


async def organiser_of(server: LiveServer) -> Person:
    organiser = Person(server.base)
    await organiser.enter("organiser", server.secrets["organiser_token"])
    return organiser


async def whoami(person: Person) -> str | None:
    info = (await person.http.get("/api/session")).json()
    return info["participant"]["role"] if info["participant"] else None


async def test_a_replaced_host_link_stops_working_and_its_sessions_end(
    server: LiveServer,
) -> None:
    organiser = await organiser_of(server)
    host = await host_of(server)
    old = server.secrets["host_token"]
    screen = await host.socket()
    await screen.wait_for(lambda m: m["type"] == "snapshot")

    response = await organiser.act("event.rotate", host=True, end_sessions=True)
    with pytest.raises(ConnectionClosed) as closed:
        await screen.wait_for(lambda m: False, timeout=30)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["replaced"] == ["host"]
    assert body["signed_out"] == 1
    new = body["secrets"]["host_token"]
    assert new != old
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.reason == "Your link or code was replaced: you are signed out."
    assert (await host.http.get(f"/enter/host/{old}")).status_code == 403
    assert await whoami(host) is None  # the old host's cookie no longer works
    assert (await host.act("agenda.start")).status_code == 401
    fresh = Person(server.base)
    await fresh.enter("host", new)
    assert await whoami(fresh) == "host"
    assert await whoami(organiser) == "organiser"  # the one who did it stays in
    assert body["secrets"]["join_code"] == server.secrets["join_code"]  # untouched
    for person in (organiser, host, fresh):
        await person.close()


async def test_a_replaced_code_keeps_attendees_in_unless_asked(server: LiveServer) -> None:
    organiser = await organiser_of(server)
    ann = await attendee_of(server, "Ann")
    old = server.secrets["join_code"]

    response = await organiser.act("event.rotate", code=True)
    new = response.json()["secrets"]["join_code"]
    late = Person(server.base)
    refused = await late.http.post("/api/join", json={"code": old, "name": "Bo"})
    await late.join(new, "Bo")

    assert response.status_code == 200
    assert refused.status_code == 400
    assert await whoami(ann) == "attendee"
    assert await whoami(late) == "attendee"
    for person in (organiser, ann, late):
        await person.close()


async def test_the_organiser_page_replaces_and_shows_the_new_links(server: LiveServer) -> None:
    organiser = await organiser_of(server)
    token = (await organiser.http.get("/api/session")).json()["csrf_token"]

    posted = await organiser.http.post(
        "/organiser/rotate",
        data={"csrf_token": token, "code": "yes", "organiser": "yes", "end_sessions": "yes"},
    )
    page = (await organiser.http.get("/organiser")).text
    again = (await organiser.http.get("/organiser")).text

    assert posted.status_code == 303
    assert (
        "Replaced the event code and the organiser link: the old ones no longer work. "
        "0 people were signed out." in page
    )
    assert "Replaced the" not in again  # the notice is shown once
    code = server.services.access.join_code
    assert code != server.secrets["join_code"]
    assert f"<code>{code}</code>" in page
    assert server.secrets["organiser_token"] not in page
    assert re.search(r"/enter/organiser/[\w-]+</code>", page)
    await organiser.close()


async def test_replacing_nothing_or_as_a_host_is_refused(server: LiveServer) -> None:
    organiser = await organiser_of(server)
    host = await host_of(server)

    nothing = await organiser.act("event.rotate")
    as_host = await host.act("event.rotate", host=True)
    not_bool = await organiser.act("event.rotate", host="yes")

    assert nothing.status_code == 400
    assert nothing.json()["error"]["message"] == (
        "Choose what to replace: the event code, the host link or the organiser link."
    )
    assert as_host.status_code == 403
    assert not_bool.status_code == 400
    assert server.services.access.secrets()["host_token"] == server.secrets["host_token"]
    for person in (organiser, host):
        await person.close()


def test_rotate_on_the_command_line(tmp_path: object) -> None:
    db = database(str(tmp_path) + "/cli.db")
    before = prepare_database(db)
    runner = CliRunner()

    result = runner.invoke(cli, ["rotate", "--db", db, "--code", "--host-link"])
    after = prepare_database(db)
    nothing = runner.invoke(cli, ["rotate", "--db", db])

    assert result.exit_code == 0, result.output
    assert after["join_code"] != before["join_code"]
    assert after["host_token"] != before["host_token"]
    assert after["organiser_token"] == before["organiser_token"]
    assert f"(event code {after['join_code']})" in result.output
    assert f"/enter/host/{after['host_token']}" in result.output
    assert nothing.exit_code == 2
    assert "Say what to replace" in nothing.output
