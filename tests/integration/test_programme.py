"""The organiser's programme over HTTP against the real server: sign-in, the list by
state, new events by upload (problems beside their lines, nothing stored on bad input),
from a template and by duplicating, archiving, who may see what, and the hand-over into
an event's host console."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from html import unescape
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Origin

from helpers import LiveServer, OidcProvider, open_database
from webinar.domain.accounts import Grant
from webinar.domain.clock import RunState
from webinar.services.accounts import add_user, remove_user
from webinar.services.agenda_files import SEED_AGENDA
from webinar.storage.webinars import find_webinar_sync, list_webinars_sync, save_webinar_sync

pytestmark = pytest.mark.integration

ANN = ("ann@example.org", "a long and happy password")
HAL = ("hal@example.org", "hosting is what I do")
SEED = SEED_AGENDA.read_text(encoding="utf-8")
BAD = SEED.replace('kind = "welcome"', 'kind = "welcom"', 1)
BAD_LINE = BAD.splitlines().index('kind = "welcom"') + 1


@pytest.fixture
async def staffed(server: LiveServer) -> AsyncIterator[LiveServer]:
    """The server with an organiser (Ann) and a host of event 2 only (Hal)."""
    now = datetime.now(UTC)
    await asyncio.to_thread(
        save_webinar_sync, server.db_path, "hals", title="Hal's", agenda_name="h.toml", agenda=SEED
    )
    for (email, password), name, grant in (
        (ANN, "Ann Organiser", Grant("organiser")),
        (HAL, "Hal Host", Grant("host", 2)),
    ):
        await asyncio.to_thread(add_user, server.db_path, email, name, password, (grant,), now)
    yield server


def csrf_of(page: httpx.Response) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, page.text[:300]
    return found.group(1)


async def signed_in(server: LiveServer, who: tuple[str, str]) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=server.base, timeout=20.0)
    csrf = csrf_of(await client.get("/programme/signin"))
    response = await client.post(
        "/programme/signin", data={"email": who[0], "password": who[1], "csrf_token": csrf}
    )
    assert (response.status_code, response.headers["location"]) == (303, "/programme")
    return client


async def upload(
    client: httpx.AsyncClient, data: bytes, name: str = "briefing.toml", slug: str = ""
) -> httpx.Response:
    csrf = csrf_of(await client.get("/programme/new"))
    return await client.post(
        "/programme/new",
        data={"csrf_token": csrf, "source": "upload", "slug": slug},
        files={"file": (name, data, "application/toml")},
    )


def slugs(server: LiveServer) -> list[str]:
    return [w.slug for w in list_webinars_sync(server.db_path)]


async def test_programme_refuses_anyone_not_signed_in(staffed: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=staffed.base) as anonymous:
        page = await anonymous.get("/programme")
        new = await anonymous.post("/programme/new", data={"source": "template"})
        event = await anonymous.get("/programme/e/hals")

    assert (page.status_code, page.headers["location"]) == (303, "/programme/signin")
    assert new.status_code == 403
    assert event.status_code == 303
    assert slugs(staffed) == ["webinar", "hals"]


async def test_programme_an_attendee_session_is_not_a_programme_session(
    staffed: LiveServer,
) -> None:
    async with httpx.AsyncClient(base_url=staffed.base) as attendee:
        joined = await attendee.post(
            "/api/join", json={"code": staffed.secrets["join_code"], "name": "Ada"}
        )
        page = await attendee.get("/programme")

    assert joined.status_code == 201
    assert (page.status_code, page.headers["location"]) == (303, "/programme/signin")


async def test_programme_a_wrong_password_is_refused_with_a_sentence(staffed: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=staffed.base) as client:
        csrf = csrf_of(await client.get("/programme/signin"))
        response = await client.post(
            "/programme/signin", data={"email": ANN[0], "password": "wrong", "csrf_token": csrf}
        )

    assert response.status_code == 400
    assert "The email address or password is not right." in unescape(response.text)


async def test_programme_lists_every_event_with_its_figures(staffed: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=staffed.base) as attendee:
        await attendee.post("/api/join", json={"code": staffed.secrets["join_code"], "name": "Ada"})
    ann = await signed_in(staffed, ANN)
    try:
        page = await ann.get("/programme")
    finally:
        await ann.aclose()

    assert page.status_code == 200
    main = re.search(r'data-slug="webinar">(.*?)</li>', page.text, re.S)
    assert main is not None
    figures = re.findall(r"<dt>(.*?)</dt>\s*<dd>(\d+)</dd>", main.group(1))
    assert figures == [("Attendees", "1"), ("Questions", "0"), ("Survey responses", "0")]
    assert 'data-slug="hals"' in page.text


async def test_programme_a_host_sees_only_their_events_and_cannot_create(
    staffed: LiveServer,
) -> None:
    hal = await signed_in(staffed, HAL)
    try:
        page = await hal.get("/programme")
        other = await hal.get("/programme/e/webinar")
        new = await hal.get("/programme/new")
    finally:
        await hal.aclose()

    assert re.findall(r'data-slug="([^"]+)"', page.text) == ["hals"]
    assert other.status_code == 403
    assert new.status_code == 403


async def test_programme_an_upload_with_a_problem_shows_it_beside_its_line_and_stores_nothing(
    staffed: LiveServer,
) -> None:
    ann = await signed_in(staffed, ANN)
    try:
        response = await upload(ann, BAD.encode())
    finally:
        await ann.aclose()

    assert response.status_code == 400
    text = unescape(response.text)
    assert (
        f'<a href="#problem-1">Line {BAD_LINE}: briefing.toml, item 1 "Welcome", field kind' in text
    )
    marked = re.search(
        rf'<li value="{BAD_LINE}" class="problem-line"><code>(.*?)</code><p class="error">', text
    )
    assert marked is not None and marked.group(1) == 'kind = "welcom"'
    assert slugs(staffed) == ["webinar", "hals"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"x" * 600_000, "an agenda file may be at most 500 KB"),
        (b'[event]\ntitle = "Caf\xe9"\n', "is not UTF-8 text at line 2, column 13"),
        (b"[event\ntitle = 1\n", "is not valid TOML at line 1"),
    ],
)
async def test_programme_an_upload_too_large_not_utf8_or_not_toml_gets_a_sentence(
    staffed: LiveServer, data: bytes, message: str
) -> None:
    ann = await signed_in(staffed, ANN)
    try:
        response = await upload(ann, data)
    finally:
        await ann.aclose()

    assert response.status_code == 400
    assert message in unescape(response.text)
    assert slugs(staffed) == ["webinar", "hals"]


async def test_programme_a_far_too_large_upload_is_refused_before_it_is_read(
    staffed: LiveServer,
) -> None:
    ann = await signed_in(staffed, ANN)
    try:
        response = await upload(ann, b"x" * 1_200_000)
    finally:
        await ann.aclose()

    assert response.status_code == 413
    assert response.text == "That request is too large: at most 976 KB."
    assert slugs(staffed) == ["webinar", "hals"]


async def test_programme_an_event_from_a_template_is_served_at_once(staffed: LiveServer) -> None:
    ann = await signed_in(staffed, ANN)
    try:
        csrf = csrf_of(await ann.get("/programme/new"))
        created = await ann.post(
            "/programme/new",
            data={
                "csrf_token": csrf,
                "source": "template",
                "template": "seed.toml",
                "slug": "june",
            },
        )
        join = await ann.get("/e/june/join")
        again = await ann.post(
            "/programme/new",
            data={
                "csrf_token": csrf,
                "source": "template",
                "template": "seed.toml",
                "slug": "june",
            },
        )
    finally:
        await ann.aclose()

    assert (created.status_code, created.headers["location"]) == (303, "/programme/e/june")
    assert join.status_code == 200
    assert again.status_code == 400
    assert "There is already an event called 'june'." in unescape(again.text)
    assert slugs(staffed) == ["webinar", "hals", "june"]


async def test_programme_duplicating_moves_the_copy_to_the_new_date_and_time(
    staffed: LiveServer,
) -> None:
    day = date.today() + timedelta(days=30)
    ann = await signed_in(staffed, ANN)
    try:
        csrf = csrf_of(await ann.get("/programme/e/hals"))
        response = await ann.post(
            "/programme/e/hals/duplicate",
            data={"csrf_token": csrf, "date": day.isoformat(), "start": "14:00", "slug": "hals-2"},
        )
        past = await ann.post(
            "/programme/e/hals/duplicate",
            data={"csrf_token": csrf, "date": "2020-01-01", "start": "14:00", "slug": "hals-3"},
        )
    finally:
        await ann.aclose()

    assert (response.status_code, response.headers["location"]) == (303, "/programme/e/hals-2")
    copy = find_webinar_sync(staffed.db_path, "hals-2")
    assert copy is not None and copy.agenda is not None
    assert f'date = "{day.isoformat()}"' in copy.agenda
    assert 'start = "14:00"' in copy.agenda
    assert past.status_code == 400
    assert "Choose a date from today on." in unescape(past.text)
    assert find_webinar_sync(staffed.db_path, "hals-3") is None


async def test_programme_archiving_moves_an_event_under_archived(staffed: LiveServer) -> None:
    ann = await signed_in(staffed, ANN)
    try:
        csrf = csrf_of(await ann.get("/programme/e/hals"))
        response = await ann.post(
            "/programme/e/hals/archive", data={"csrf_token": csrf, "archived": "yes"}
        )
        page = await ann.get("/programme")
    finally:
        await ann.aclose()

    assert response.status_code == 303
    archived = page.text.split('id="state-archived"', 1)[1]
    assert re.findall(r'data-slug="([^"]+)"', archived) == ["hals"]


async def test_programme_a_post_without_its_token_changes_nothing(staffed: LiveServer) -> None:
    ann = await signed_in(staffed, ANN)
    try:
        response = await ann.post("/programme/e/hals/archive", data={"archived": "yes"})
        page = await ann.get("/programme")
    finally:
        await ann.aclose()

    assert response.status_code == 403
    assert 'data-slug="hals"' not in page.text.split('id="state-archived"', 1)[1]


async def test_programme_opens_the_host_console_as_the_account_without_a_secret_link(
    staffed: LiveServer,
) -> None:
    hal = await signed_in(staffed, HAL)
    try:
        csrf = csrf_of(await hal.get("/programme/e/hals"))
        response = await hal.post(
            "/programme/e/hals/open", data={"csrf_token": csrf, "page": "host"}
        )
        console = await hal.get("/e/hals/host")
        info = (await hal.get("/e/hals/api/session")).json()
        elsewhere = await hal.post(
            "/programme/e/webinar/open", data={"csrf_token": csrf, "page": "host"}
        )
    finally:
        await hal.aclose()

    assert (response.status_code, response.headers["location"]) == (303, "/e/hals/host")
    assert staffed.secrets["host_token"] not in response.headers["location"]
    assert console.status_code == 200
    assert (info["participant"]["role"], info["participant"]["name"]) == ("host", "Hal Host")
    assert elsewhere.status_code == 403


def set_run(server: LiveServer, webinar_id: int, started: str | None, ended: str | None) -> None:
    """Record that the event ran (as its clock would have). The event may have saved no
    run state yet (its clock writes one only once something is due: before the seed
    agenda's first item of the day, nothing is), so the rest comes from a fresh one."""
    conn = open_database(server.db_path)
    try:
        row = conn.execute("SELECT state FROM run_state WHERE webinar_id = ?", (webinar_id,))
        found = row.fetchone()
        saved = json.loads(found[0]) if found else RunState().to_dict()
        state = json.dumps({**saved, "started_at": started, "ended_at": ended})
        with conn:
            conn.execute(
                "INSERT INTO run_state (webinar_id, state, updated_at) VALUES (?, ?, ?)"
                " ON CONFLICT (webinar_id) DO UPDATE SET state = excluded.state,"
                " updated_at = excluded.updated_at",
                (webinar_id, state, started or ""),
            )
    finally:
        conn.close()


async def edit(client: httpx.AsyncClient, slug: str, data: bytes) -> httpx.Response:
    csrf = csrf_of(await client.get(f"/programme/e/{slug}/agenda"))
    return await client.post(
        "/programme/agenda",
        data={"csrf_token": csrf, "event": slug},
        files={"file": ("changed.toml", data, "application/toml")},
    )


def tomorrow_agenda(title: str) -> bytes:
    day = (date.today() + timedelta(days=1)).isoformat()
    text = SEED.replace('date = "today"', f'date = "{day}"', 1)
    return text.replace(
        'title = "Child Safeguarding Practice Review Panel Webinar"', f'title = "{title}"', 1
    ).encode()


async def test_programme_the_agenda_changes_until_the_event_starts_and_is_served_at_once(
    staffed: LiveServer,
) -> None:
    upcoming = tomorrow_agenda("Upcoming").decode()
    await asyncio.to_thread(
        save_webinar_sync, staffed.db_path, "hals", title="Upcoming", agenda=upcoming
    )
    ann = await signed_in(staffed, ANN)
    try:
        first = await edit(ann, "hals", tomorrow_agenda("Hal's briefing"))
        before = await ann.get("/e/hals/join")
        second = await edit(ann, "hals", tomorrow_agenda("Renamed briefing"))
        after = await ann.get("/e/hals/join")
        bad = await edit(ann, "hals", BAD.encode())
        download = await ann.get("/programme/e/hals/agenda.toml")
    finally:
        await ann.aclose()

    assert (first.status_code, second.status_code) == (303, 303)
    assert "Hal&#39;s briefing" in before.text
    assert "Renamed briefing" in after.text
    assert bad.status_code == 400
    assert f"Line {BAD_LINE}:" in bad.text
    assert 'title = "Renamed briefing"' in download.text
    assert download.headers["content-disposition"] == 'attachment; filename="changed.toml"'


async def test_programme_an_agenda_uploaded_under_any_name_downloads_safely(
    staffed: LiveServer,
) -> None:
    ann = await signed_in(staffed, ANN)
    try:
        created = await upload(ann, SEED.encode(), name="Réunion mars (v2).toml", slug="mars")
        download = await ann.get("/programme/e/mars/agenda.toml")
    finally:
        await ann.aclose()

    assert created.status_code == 303
    assert download.status_code == 200
    assert download.headers["content-disposition"] == 'attachment; filename="R_union_mars_v2_.toml"'
    assert download.text == SEED


async def test_programme_the_agenda_is_refused_once_the_event_has_started(
    staffed: LiveServer,
) -> None:
    set_run(staffed, 2, datetime.now(UTC).isoformat(), None)
    ann = await signed_in(staffed, ANN)
    try:
        response = await edit(ann, "hals", tomorrow_agenda("Too late"))
    finally:
        await ann.aclose()

    assert response.status_code == 400
    assert "The event has started: its agenda can no longer be changed." in response.text
    stored = find_webinar_sync(staffed.db_path, "hals")
    assert stored is not None and stored.agenda == SEED


async def test_programme_purge_is_refused_before_the_retention_period_ends(
    staffed: LiveServer,
) -> None:
    ended = datetime.now(UTC) - timedelta(days=3)
    set_run(staffed, 2, (ended - timedelta(hours=2)).isoformat(), ended.isoformat())
    ann = await signed_in(staffed, ANN)
    try:
        csrf = csrf_of(await ann.get("/programme/e/hals"))
        response = await ann.post("/programme/e/hals/purge", data={"csrf_token": csrf})
    finally:
        await ann.aclose()

    due = ended + timedelta(days=30)
    assert response.status_code == 400
    assert f"The retention period runs until {due:%-d %B %Y}: nothing was purged." in response.text


async def test_programme_purge_after_retention_erases_names_and_keeps_the_figures(
    staffed: LiveServer,
) -> None:
    async with httpx.AsyncClient(base_url=staffed.base) as attendee:
        code = await hals_code(staffed, attendee)
        joined = await attendee.post("/e/hals/api/join", json={"code": code, "name": "Ada Byron"})
        assert joined.status_code == 201
    ended = datetime.now(UTC) - timedelta(days=40)
    set_run(staffed, 2, (ended - timedelta(hours=2)).isoformat(), ended.isoformat())
    ann = await signed_in(staffed, ANN)
    try:
        csrf = csrf_of(await ann.get("/programme/e/hals"))
        response = await ann.post("/programme/e/hals/purge", data={"csrf_token": csrf})
        page = await ann.get("/programme/e/hals")
        served = await ann.get("/e/hals/join")
    finally:
        await ann.aclose()

    assert response.status_code == 303
    assert "Purged &#39;hals&#39;: 1 people" in page.text
    assert served.status_code == 200
    conn = open_database(staffed.db_path)
    try:
        names = conn.execute("SELECT name FROM participants WHERE webinar_id = 2").fetchall()
    finally:
        conn.close()
    assert names == [(None,)]


async def hals_code(server: LiveServer, client: httpx.AsyncClient) -> str:
    """Event 2's join code (it is made when the event is first served)."""
    assert (await client.get("/e/hals/join")).status_code == 200
    conn = open_database(server.db_path)
    try:
        row = conn.execute(
            "SELECT value FROM meta WHERE webinar_id = 2 AND key = 'join_code'"
        ).fetchone()
    finally:
        conn.close()
    return str(row[0])


def join_code_of(server: LiveServer, webinar_id: int) -> str | None:
    conn = open_database(server.db_path)
    try:
        row = conn.execute(
            "SELECT value FROM meta WHERE webinar_id = ? AND key = 'join_code'", (webinar_id,)
        ).fetchone()
    finally:
        conn.close()
    return None if row is None else str(row[0])


async def test_programme_an_organiser_replaces_an_events_code_from_its_organiser_page(
    staffed: LiveServer,
) -> None:
    ann = await signed_in(staffed, ANN)
    try:
        csrf = csrf_of(await ann.get("/programme/e/hals"))
        opened = await ann.post(
            "/programme/e/hals/open", data={"csrf_token": csrf, "page": "organiser"}
        )
        before = join_code_of(staffed, 2)
        event_csrf = (await ann.get("/e/hals/api/session")).json()["csrf_token"]
        rotated = await ann.post(
            "/e/hals/organiser/rotate", data={"csrf_token": event_csrf, "code": "yes"}
        )
    finally:
        await ann.aclose()

    assert (opened.status_code, opened.headers["location"]) == (303, "/e/hals/organiser")
    assert rotated.status_code == 303
    assert before is not None and join_code_of(staffed, 2) not in (None, before)


async def test_programme_a_removed_account_is_signed_out_at_its_next_request(
    staffed: LiveServer,
) -> None:
    hal = await signed_in(staffed, HAL)
    try:
        before = await hal.get("/programme")
        await asyncio.to_thread(remove_user, staffed.db_path, HAL[0])
        after = await hal.get("/programme")
    finally:
        await hal.aclose()

    assert before.status_code == 200
    assert (after.status_code, after.headers["location"]) == (303, "/programme/signin")


async def test_programme_signing_in_through_the_openid_provider_leads_to_the_programme(
    oidc_server: tuple[LiveServer, OidcProvider],
) -> None:
    server, provider = oidc_server
    now = datetime.now(UTC)
    grants = (Grant("organiser"),)
    await asyncio.to_thread(add_user, server.db_path, ANN[0], "Ann", None, grants, now)
    async with httpx.AsyncClient(base_url=server.base, follow_redirects=True, timeout=20) as c:
        form = await c.get("/programme/signin")
        start = re.search(r'href="([^"]*next=programme)"', form.text)
        assert start is not None, form.text[:500]
        response = await c.get(unescape(start.group(1)))
        while urlsplit(str(response.url)).port == provider.port:
            action = re.search(r'<form[^>]*action="([^"]+)"', response.text)
            prompt = re.search(r'name="prompt" value="([a-z]+)"', response.text)
            assert action and prompt, response.text[:500]
            data = {"prompt": prompt.group(1), "login": ANN[0], "password": "anything"}
            response = await c.post(
                urljoin(str(response.url), unescape(action.group(1))), data=data
            )
        event_session = (await c.get("/api/session")).json()

    assert str(response.url) == f"{server.base}/programme"
    assert response.status_code == 200
    assert 'data-slug="webinar"' in response.text
    assert event_session["participant"] is None  # signed in to the programme, not the event


def hals_socket(server: LiveServer, client: httpx.AsyncClient) -> connect:
    """A live socket to event 2 with ``client``'s cookies."""
    cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
    url = server.base.replace("http://", "ws://") + "/e/hals/ws?format=json"
    return connect(url, additional_headers={"Cookie": cookie}, origin=Origin(server.base))


async def test_programme_a_changed_agenda_reconnects_open_screens_to_it(
    staffed: LiveServer,
) -> None:
    upcoming = tomorrow_agenda("Upcoming").decode()
    await asyncio.to_thread(
        save_webinar_sync, staffed.db_path, "hals", title="Upcoming", agenda=upcoming
    )
    hal = await signed_in(staffed, HAL)
    ann = await signed_in(staffed, ANN)
    try:
        csrf = csrf_of(await hal.get("/programme/e/hals"))
        await hal.post("/programme/e/hals/open", data={"csrf_token": csrf, "page": "host"})
        cookie = "; ".join(f"{k}={v}" for k, v in hal.cookies.items())
        url = staffed.base.replace("http://", "ws://") + "/e/hals/ws?format=json"
        async with connect(
            url, additional_headers={"Cookie": cookie}, origin=Origin(staffed.base)
        ) as ws:
            await ws.send(json.dumps({"type": "resume", "last_seq": None}))
            first = json.loads(await asyncio.wait_for(ws.recv(), 10))
            changed = await edit(ann, "hals", tomorrow_agenda("Renamed briefing"))
            with pytest.raises(ConnectionClosed):
                while True:
                    await asyncio.wait_for(ws.recv(), 10)
        async with connect(
            url, additional_headers={"Cookie": cookie}, origin=Origin(staffed.base)
        ) as ws:
            await ws.send(json.dumps({"type": "resume", "last_seq": None}))
            again = json.loads(await asyncio.wait_for(ws.recv(), 10))
    finally:
        await hal.aclose()
        await ann.aclose()

    assert first["type"] == "snapshot"
    assert changed.status_code == 303
    assert again["type"] == "snapshot"


async def test_an_event_whose_saved_state_cannot_be_restored_is_no_event_not_a_500(
    staffed: LiveServer,
) -> None:
    """A run state the event's clock cannot read (written by hand, say) makes the event
    one that cannot be served: its pages say there is no such event (404, logged for the
    operator), never a 500, and its database handle is closed again (on PostgreSQL a
    connection left open would be reported when it is collected); the other event is
    served as before."""
    conn = open_database(staffed.db_path)
    try:
        with conn:
            conn.execute(
                "INSERT INTO run_state (webinar_id, state, updated_at) VALUES (?, ?, ?)",
                (2, json.dumps({"started_at": None}), ""),
            )
    finally:
        conn.close()
    async with httpx.AsyncClient(base_url=staffed.base) as visitor:
        broken = await visitor.get("/e/hals/join")
        again = await visitor.get("/e/hals/join")
        main = await visitor.get("/join")
    assert broken.status_code == 404 and again.status_code == 404
    assert broken.text == "There is no event at this address. Check the link you were given."
    assert main.status_code == 200
