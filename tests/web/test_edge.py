"""The writer's side of the edge fan-out (``webinar.web.edge.RemoteScreens``), against the
real app's services: a screen another worker serves is opened for a signed-in session
only, gets its snapshot and performs actions as its participant, and counts as present
only while its worker renews it (a fixed clock: no sleeping)."""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass
from typing import Any, cast

import pytest
from starlette.types import Message

from helpers import PATIENCE, LiveServer, Person, site_of
from webinar.realtime.streams import Change
from webinar.services.writer import EventWriter
from webinar.web.edge import PRESENCE_SECONDS, EdgeConnection, EdgeLink, RemoteScreens, screen_key
from webinar.web.forward import Forwarder
from webinar.web.ws import MAX_SCREENS, TOO_MANY_SCREENS

pytestmark = pytest.mark.integration


@dataclass
class WriterSide:
    """The writer's record of remote screens for the server's event, on a clock the test
    sets (``now[0]``, seconds)."""

    services: Any
    remote: RemoteScreens
    now: list[float]


@pytest.fixture
def writer(server: LiveServer) -> WriterSide:
    event = site_of(server).events[server.slug]
    now = [0.0]
    remote = RemoteScreens(
        event.services, event.app.state.cookie, event.app.state.encoder, clock=lambda: now[0]
    )
    return WriterSide(event.services, remote, now)


async def ask(
    remote: RemoteScreens, what: str, body: dict[str, Any], cookie: str = ""
) -> tuple[int, Any]:
    """A private request to ``remote`` as the private listener hands it over."""
    raw = json.dumps(body).encode()
    scope: dict[str, Any] = {
        "type": "http",
        "method": "POST",
        "path": f"/_edge/{what}",
        "raw_path": f"/_edge/{what}".encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"cookie", cookie.encode()), (b"content-type", b"application/json")],
        "client": ("127.0.0.1", 1),
        "scheme": "http",
        "http_version": "1.1",
    }
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": raw, "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await remote.handle(scope, receive, send)
    status = int(sent[0]["status"])
    payload = b"".join(m.get("body", b"") for m in sent[1:])
    try:
        return status, json.loads(payload)
    except ValueError:
        return status, payload.decode()


async def test_a_remote_screen_is_opened_served_and_forgotten_when_its_worker_stops(
    server: LiveServer, writer: WriterSide
) -> None:
    services, remote, now = writer.services, writer.remote, writer.now
    person = Person(server.base)
    try:
        joined = await person.join(server.secrets["join_code"], "Ann Attendee")
        pid = str(joined["participant"]["id"])
        cookie = person.cookie_header()

        refused, _ = await ask(remote, "open", {"fmt": "json", "worker": "w1"})
        status, opened = await ask(remote, "open", {"fmt": "json", "worker": "w1"}, cookie)
        assert refused == 403  # a visitor with no session gets no screen
        assert status == 200
        assert opened["participant"]["id"] == pid
        assert {"all", f"p:{pid}"} <= set(opened["audiences"])
        assert "staff" not in opened["audiences"]
        token = opened["token"]
        assert pid in services.breakouts.connected()  # present, though not in this hub
        assert pid not in services.hub.owners()

        status, snap = await ask(remote, "snapshot", {"token": token})
        assert status == 200
        assert snap["seq"] == services.hub.last_seq
        assert json.loads(snap["wire"])["type"] == "snapshot"

        status, result = await ask(
            remote,
            "action",
            {
                "token": token,
                "name": "qa.ask",
                "params": {"text": "Edge?", "key": uuid.uuid4().hex},
            },
            cookie,
        )
        assert status == 200 and result["ok"], result
        asked = services.qa.questions[int(result["data"]["question"]["id"])]
        assert asked.author_name == "Ann Attendee"  # performed as the screen's participant

        # Renewed in time it stays; a worker that stops renewing loses its screens.
        now[0] = PRESENCE_SECONDS - 1
        status, renewed = await ask(remote, "renew", {"worker": "w1", "tokens": [token, "x"]})
        assert status == 200 and renewed == {"unknown": ["x"]}
        now[0] = 2 * PRESENCE_SECONDS - 2
        assert pid in services.breakouts.connected()
        now[0] = 2 * PRESENCE_SECONDS
        assert pid not in services.breakouts.connected()
        gone, _ = await ask(remote, "snapshot", {"token": token})
        assert gone == 409  # its worker is told to reconnect the screen

        # A renewal that does not name a screen opened since it set out keeps it; one
        # whose close was lost is forgotten once it is older than the presence time.
        _, again = await ask(remote, "open", {"fmt": "json", "worker": "w1"}, cookie)
        await ask(remote, "renew", {"worker": "w1", "tokens": []})
        assert again["token"] in remote.screens
        now[0] += PRESENCE_SECONDS + 1
        await ask(remote, "renew", {"worker": "w1", "tokens": []})
        assert again["token"] not in remote.screens
    finally:
        await person.close()


async def test_audience_changes_of_a_remote_screen_go_out_keyed_by_screen_and_kind(
    server: LiveServer, writer: WriterSide
) -> None:
    services, remote = writer.services, writer.remote
    published: list[Change] = []
    remote.publish = published.append
    person = Person(server.base)
    try:
        joined = await person.join(server.secrets["join_code"], "Bea Attendee")
        pid = str(joined["participant"]["id"])
        _, opened = await ask(
            remote, "open", {"fmt": "json", "worker": "w1"}, person.cookie_header()
        )
        token = opened["token"]
        seq = services.hub.last_seq

        services.hub.add_audience_for(pid, "g:1:2")
        services.hub.add_audience_for(pid, "q:41")
        services.hub.add_audience_for("someone-else", "q:42")  # no remote screen: nothing
        services.hub.remove_audience_for(pid, "g:1:2")
        services.hub.end_screens(pid, "Signed out.")
        _, resynced = await ask(remote, "resync", {"tokens": [token]})
    finally:
        await person.close()

    assert [(c.seq, c.k, c.op, c.value) for c in published] == [
        (seq, 1, "add", "g:1:2"),
        (seq, 2, "add", "q:41"),
        (seq, 3, "remove", "g:1:2"),
        (seq, 4, "end", "Signed out."),
    ]
    assert [c.n for c in published] == [1, 2, 3, 4]
    group_key, question_key = screen_key(token, "group"), screen_key(token, "question")
    assert [c.screen for c in published[:3]] == [group_key, question_key, group_key]
    assert group_key != question_key != screen_key(token, "end")
    for change in published:  # the stream learns no participant and no token
        assert pid not in repr(change) and token not in repr(change)
    assert token not in remote.screens  # ended
    assert resynced == {"audiences": {token: None}}


async def test_the_screen_cap_counts_a_participants_screens_on_every_worker(
    server: LiveServer, writer: WriterSide
) -> None:
    """MAX_SCREENS holds for screens spread over the writer and other workers: one more
    closes the oldest wherever it is, with the local cap's policy close and reason (a
    screen of the writer's own by its socket, a remote one by an ``end`` entry in the
    stream for that screen only)."""
    remote = writer.remote
    published: list[Change] = []
    remote.publish = published.append
    person = Person(server.base)
    try:
        await person.join(server.secrets["join_code"], "Cat Attendee")
        cookie = person.cookie_header()
        oldest = await person.socket()  # on the writer's own hub
        tokens = []
        for _ in range(MAX_SCREENS):  # the ninth screen, elsewhere
            status, opened = await ask(remote, "open", {"fmt": "json", "worker": "w1"}, cookie)
            assert status == 200, opened
            tokens.append(str(opened["token"]))
        await asyncio.wait_for(oldest.conn.wait_closed(), PATIENCE)
        ended_before = list(published)

        newest = await person.socket()  # a tenth: the oldest remote screen goes
        await newest.wait_for(lambda m: m["type"] == "snapshot")
        ended_by_newest = [c.screen for c in published]
        _, last = await ask(remote, "open", {"fmt": "json", "worker": "w2"}, cookie)
        await newest.conn.send('{"type": "ping"}')
        pong = await newest.wait_for(lambda m: m["type"] == "pong")
        await newest.close()
    finally:
        await person.close()

    assert oldest.conn.close_code == 1008  # a policy close: browsers do not retry it
    assert oldest.conn.close_reason == TOO_MANY_SCREENS
    assert ended_before == []  # no remote screen was closed for the writer's own
    assert ended_by_newest == [screen_key(tokens[0], "end")]  # as the writer's own opened
    assert [(c.screen, c.op, c.value) for c in published] == [
        (screen_key(tokens[0], "end"), "end", TOO_MANY_SCREENS),
        (screen_key(tokens[1], "end"), "end", TOO_MANY_SCREENS),
    ]
    assert pong["type"] == "pong"  # the newest screen of the writer's stays open
    assert tokens[0] not in remote.screens and tokens[1] not in remote.screens
    assert set(tokens[2:]) | {last["token"]} <= set(remote.screens)


async def test_an_open_is_a_sign_of_life_of_its_worker(
    server: LiveServer, writer: WriterSide
) -> None:
    """A worker that had no screens (so renewed nothing) opens one long after its last
    renewal: the open itself counts as the worker being alive, so the next count of
    who is present does not forget the screen just opened."""
    services, remote, now = writer.services, writer.remote, writer.now
    person = Person(server.base)
    try:
        joined = await person.join(server.secrets["join_code"], "Ann Attendee")
        pid = str(joined["participant"]["id"])
        cookie = person.cookie_header()
        _, first = await ask(remote, "open", {"fmt": "json", "worker": "w1"}, cookie)
        await ask(remote, "close", {"token": first["token"]})
        now[0] = 3 * PRESENCE_SECONDS  # w1 had nothing to renew all this time
        status, opened = await ask(remote, "open", {"fmt": "json", "worker": "w1"}, cookie)
        assert status == 200
        assert pid in services.breakouts.connected()
        assert opened["token"] in remote.screens
    finally:
        await person.close()


async def test_a_hosts_screen_opened_in_html_gets_the_staff_view(
    server: LiveServer, writer: WriterSide
) -> None:
    """The edge serves a host's ``html`` socket in the staff view; the writer keeps the
    screen in that view too, so its snapshots carry the moderation controls."""
    remote = writer.remote
    host = Person(server.base)
    try:
        await host.enter("host", server.secrets["host_token"])
        status, opened = await ask(
            remote, "open", {"fmt": "html", "worker": "w1"}, host.cookie_header()
        )
        assert status == 200
        assert remote.screens[opened["token"]].fmt == "html-staff"
        _, snap = await ask(remote, "snapshot", {"token": opened["token"]})
        assert 'id="qa-pending"' in snap["wire"]  # the moderation queue
    finally:
        await host.close()


async def test_a_screen_is_opened_under_the_token_its_edge_chose_once(
    server: LiveServer, writer: WriterSide
) -> None:
    """The edge names the token before it asks (so it can hold the stream's changes for
    the screen that come before the answer); the writer opens the screen under it, and
    refuses a token in use or not of the token's form."""
    remote = writer.remote
    person = Person(server.base)
    try:
        await person.join(server.secrets["join_code"], "Ann Attendee")
        cookie = person.cookie_header()
        chosen = "edge-chosen-token-0123"
        body = {"fmt": "json", "worker": "w1", "token": chosen}
        status, opened = await ask(remote, "open", body, cookie)
        assert status == 200 and opened["token"] == chosen
        assert chosen in remote.screens
        again, said = await ask(remote, "open", body, cookie)
        assert again == 400 and "fresh token" in said
        for bad in ("short", "has spaces in it, sixteen+", 7):
            status, _ = await ask(remote, "open", {**body, "token": bad}, cookie)
            assert status == 400
        assert len(remote.screens) == 1  # nothing half-opened by a refusal
    finally:
        await person.close()


async def test_a_silent_workers_screens_all_leave_at_once_and_count_as_just_left(
    server: LiveServer, writer: WriterSide
) -> None:
    """Three people's screens on a worker that stops renewing are forgotten together:
    none is connected any more, and each counts as having just left (still "here" for a
    breakout split within the away time, as a closed screen does)."""
    services, remote, now = writer.services, writer.remote, writer.now
    people = [Person(server.base) for _ in range(3)]
    try:
        ids = set()
        for n, person in enumerate(people):
            joined = await person.join(server.secrets["join_code"], f"Person {n}")
            ids.add(str(joined["participant"]["id"]))
            await ask(remote, "open", {"fmt": "json", "worker": "w1"}, person.cookie_header())
        assert ids <= services.breakouts.connected()
        now[0] = 2 * PRESENCE_SECONDS
        assert not ids & services.breakouts.connected()
        assert not remote.screens
        assert ids <= services.breakouts.here()
    finally:
        for person in people:
            await person.close()


class FakeScreen:
    """An edge screen as ``EdgeLink.resync`` sees it."""

    def __init__(self) -> None:
        self.restarted = 0
        self.audiences: set[str] | None = None

    def restart(self) -> None:
        self.restarted += 1

    def set_audiences(self, audiences: set[str]) -> None:
        self.audiences = audiences


async def test_a_resync_the_writer_does_not_answer_in_time_reconnects_the_screens() -> None:
    """A resync holds up the event's stream follower (no screen of the event is fed
    meanwhile): when the writer does not answer within its patience the screens reconnect
    and resume, rather than the follower waiting out the private client's timeouts."""
    link = EdgeLink("main", cast(Forwarder, None), cast(EventWriter, None), b"")
    link.resync_patience = 0.05
    never = asyncio.Event()

    async def no_answer(what: str, scope: Any, body: dict[str, Any]) -> Any:
        await never.wait()

    link.request = no_answer  # type: ignore[method-assign]
    screens = [FakeScreen(), FakeScreen()]
    for n, screen in enumerate(screens):
        link.tokens[f"token-{n}"] = cast(EdgeConnection, screen)

    await asyncio.wait_for(link.resync(), PATIENCE)

    assert [s.restarted for s in screens] == [1, 1]
    assert all(s.audiences is None for s in screens)
