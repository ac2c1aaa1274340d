"""Staff sign-in with a password, over HTTP against the real server: roles, sessions,
throttling that never locks the real user out, and the account commands beside a
running server."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from html import unescape

import httpx
import pytest
from argon2 import PasswordHasher

from helpers import LiveServer, Person, open_database
from webinar.domain.accounts import Grant
from webinar.services.accounts import WRONG, add_user, remove_user, set_password
from webinar.storage.webinars import save_webinar_sync
from webinar.web.app import session_cookie

pytestmark = pytest.mark.integration

ANN = "ann@example.org"
ANN_PASSWORD = "a long and happy password"
HAL = "hal@example.org"
HAL_PASSWORD = "hosting is what I do"


@pytest.fixture
async def staffed(server: LiveServer) -> AsyncIterator[LiveServer]:
    """The server, with an organiser (Ann), a host of event 1 (Hal) and a host of another
    event only (Ola)."""
    now = datetime.now(UTC)
    other, _ = await asyncio.to_thread(save_webinar_sync, server.db_path, "other")
    assert other.id == 2
    for email, name, password, grant in (
        (ANN, "Ann Organiser", ANN_PASSWORD, Grant("organiser")),
        (HAL, "Hal Host", HAL_PASSWORD, Grant("host", 1)),
        ("ola@example.org", "Ola", "another event's host", Grant("host", 2)),
    ):
        await asyncio.to_thread(add_user, server.db_path, email, name, password, (grant,), now)
    yield server


async def sign_in(
    person: Person, email: str, password: str, address: str = "192.0.2.10"
) -> httpx.Response:
    csrf = (await person.http.get("/api/session")).json()["csrf_token"]
    return await person.http.post(
        "/signin",
        data={"email": email, "password": password, "csrf_token": csrf},
        headers={"X-Forwarded-For": address},
    )


def shown_error(response: httpx.Response) -> str:
    """The sentence in the page's error summary."""
    found = re.search(r'<div class="error-summary".*?<li>(?:<a [^>]*>)?(.*?)<', response.text, re.S)
    assert found, response.text[:500]
    return unescape(found.group(1)).strip()


async def test_signin_an_organiser_lands_on_the_organiser_page_as_the_organiser(
    staffed: LiveServer,
) -> None:
    ann = Person(staffed.base)
    try:
        response = await sign_in(ann, "  Ann@Example.ORG ", ANN_PASSWORD)
        page = await ann.http.get("/organiser")
        info = (await ann.http.get("/api/session")).json()
    finally:
        await ann.close()

    assert (response.status_code, response.headers["location"]) == (303, "/organiser")
    assert page.status_code == 200
    assert info["participant"]["role"] == "organiser"
    assert info["participant"]["name"] == "Ann Organiser"


async def test_signin_a_host_of_this_event_lands_on_the_host_console(staffed: LiveServer) -> None:
    hal = Person(staffed.base)
    try:
        response = await sign_in(hal, HAL, HAL_PASSWORD)
        console = await hal.http.get("/host")
        organiser = await hal.http.get("/organiser")
    finally:
        await hal.close()

    assert response.headers["location"] == "/host"
    assert (console.status_code, organiser.status_code) == (200, 403)


async def test_signin_a_host_of_another_event_is_told_they_have_no_role_here(
    staffed: LiveServer,
) -> None:
    ola = Person(staffed.base)
    try:
        response = await sign_in(ola, "ola@example.org", "another event's host")
        info = (await ola.http.get("/api/session")).json()
    finally:
        await ola.close()

    assert response.status_code == 403
    assert shown_error(response).startswith("Your account has no role on this event.")
    assert info["participant"] is None


async def test_signin_unknown_email_and_wrong_password_get_the_same_answer(
    staffed: LiveServer,
) -> None:
    visitor = Person(staffed.base)
    try:
        wrong = await sign_in(visitor, ANN, "not her password at all")
        unknown = await sign_in(visitor, "nobody@example.org", "not her password at all")
    finally:
        await visitor.close()

    assert (wrong.status_code, unknown.status_code) == (400, 400)
    assert shown_error(wrong) == shown_error(unknown) == WRONG


async def test_signin_replaces_the_session_so_a_planted_session_is_not_kept(
    staffed: LiveServer,
) -> None:
    ann = Person(staffed.base)
    try:
        before = (await ann.http.get("/api/session")).json()["csrf_token"]
        cookie_before = ann.http.cookies[session_cookie(staffed.slug)]
        await sign_in(ann, ANN, ANN_PASSWORD)
        after = (await ann.http.get("/api/session")).json()["csrf_token"]
    finally:
        await ann.close()

    assert after != before
    assert ann.http.cookies[session_cookie(staffed.slug)] != cookie_before


async def test_signin_without_the_pages_csrf_token_is_refused(staffed: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=staffed.base) as client:
        response = await client.post("/signin", data={"email": ANN, "password": ANN_PASSWORD})

    assert response.status_code == 403
    assert shown_error(response) == "Your page was out of date. Please try again."


async def test_signin_throttles_a_guesser_but_not_the_real_user_elsewhere(
    staffed: LiveServer,
) -> None:
    attacker, ann = Person(staffed.base), Person(staffed.base)
    try:
        statuses = [
            (await sign_in(attacker, ANN, f"guess number {n}", "203.0.113.9")).status_code
            for n in range(6)
        ]
        # Even the right password is not checked from the guesser's address now.
        throttled = await sign_in(attacker, ANN, ANN_PASSWORD, "203.0.113.9")
        real = await sign_in(ann, ANN, ANN_PASSWORD, "198.51.100.20")
        attacker_info = (await attacker.http.get("/api/session")).json()
    finally:
        await attacker.close()
        await ann.close()

    assert statuses == [400] * 6
    assert throttled.status_code == 429
    assert throttled.headers["retry-after"] == "2"
    assert shown_error(throttled) == (
        "Too many sign-ins with a wrong password have come from your network. Please wait "
        "2 seconds before trying again."
    )
    assert attacker_info["participant"] is None
    assert (real.status_code, real.headers["location"]) == (303, "/organiser")


async def test_signin_removing_an_account_ends_its_session_on_the_running_server(
    staffed: LiveServer,
) -> None:
    hal = Person(staffed.base)
    try:
        await sign_in(hal, HAL, HAL_PASSWORD)
        assert (await hal.http.get("/host")).status_code == 200

        await asyncio.to_thread(remove_user, staffed.db_path, HAL)
        console = await hal.http.get("/host")
        again = await sign_in(hal, HAL, HAL_PASSWORD, "192.0.2.77")
    finally:
        await hal.close()

    assert console.status_code == 403
    assert shown_error(again) == WRONG


async def test_signin_a_new_password_signs_the_account_out_and_replaces_the_old(
    staffed: LiveServer,
) -> None:
    ann = Person(staffed.base)
    try:
        await sign_in(ann, ANN, ANN_PASSWORD)
        new_password = "a brand new passphrase"
        ended = await asyncio.to_thread(set_password, staffed.db_path, ANN, new_password)
        page = await ann.http.get("/organiser")
        old = await sign_in(ann, ANN, ANN_PASSWORD, "192.0.2.78")
        new = await sign_in(ann, ANN, "a brand new passphrase", "192.0.2.78")
    finally:
        await ann.close()

    assert ended == 1
    assert page.status_code == 403
    assert old.status_code == 400
    assert new.headers["location"] == "/organiser"


async def test_signin_replacing_the_organiser_link_keeps_signed_in_accounts(
    staffed: LiveServer,
) -> None:
    ann, linked = Person(staffed.base), Person(staffed.base)
    try:
        await sign_in(ann, ANN, ANN_PASSWORD)
        await linked.enter("organiser", staffed.secrets["organiser_token"])
        ann.csrf = (await ann.http.get("/api/session")).json()["csrf_token"]
        rotated = await ann.act("event.rotate", organiser=True, end_sessions=True)
        ann_page = await ann.http.get("/organiser")
        linked_page = await linked.http.get("/organiser")
    finally:
        await ann.close()
        await linked.close()

    assert rotated.status_code == 200, rotated.text
    assert (ann_page.status_code, linked_page.status_code) == (200, 403)


async def test_signin_signout_ends_the_session(staffed: LiveServer) -> None:
    ann = Person(staffed.base)
    try:
        await sign_in(ann, ANN, ANN_PASSWORD)
        csrf = (await ann.http.get("/api/session")).json()["csrf_token"]
        out = await ann.http.post("/signout", data={"csrf_token": csrf})
        page = await ann.http.get("/organiser")
    finally:
        await ann.close()

    assert (out.status_code, out.headers["location"]) == (303, "/signin")
    assert page.status_code == 403


async def test_signin_rehashes_a_password_hashed_with_older_parameters(
    staffed: LiveServer,
) -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(HAL_PASSWORD)
    with contextlib.closing(open_database(staffed.db_path)) as conn, conn:
        conn.execute("UPDATE users SET password_hash = ? WHERE email = ?", (weak, HAL))
    hal = Person(staffed.base)
    try:
        response = await sign_in(hal, HAL, HAL_PASSWORD)
    finally:
        await hal.close()
    with contextlib.closing(open_database(staffed.db_path)) as conn, conn:
        row = conn.execute("SELECT password_hash FROM users WHERE email = ?", (HAL,)).fetchone()
    stored: str = row[0]

    assert response.status_code == 303
    assert stored != weak
    assert not PasswordHasher().check_needs_rehash(stored)
    assert PasswordHasher().verify(stored, HAL_PASSWORD)


async def test_signin_the_role_of_a_signed_in_session_on_each_event(staffed: LiveServer) -> None:
    ann, hal = Person(staffed.base), Person(staffed.base)
    try:
        await sign_in(ann, ANN, ANN_PASSWORD)
        await sign_in(hal, HAL, HAL_PASSWORD)
        linked = Person(staffed.base)
        await linked.enter("host", staffed.secrets["host_token"])
        await linked.close()
    finally:
        await ann.close()
        await hal.close()
    with contextlib.closing(open_database(staffed.db_path)) as conn, conn:
        sessions = dict(
            conn.execute(
                "SELECT ifnull(u.email, 'link'), s.id FROM sessions s"
                " LEFT JOIN users u ON u.id = s.user_id"
            ).fetchall()
        )
    accounts = staffed.services.accounts

    roles = {
        who: [await accounts.role_for_session(sid, event) for event in (1, 2)]
        for who, sid in sessions.items()
    }

    assert roles == {ANN: ["organiser", "organiser"], HAL: ["host", None], "link": [None, None]}
    assert await accounts.role_for_session("no-such-session", 1) is None
