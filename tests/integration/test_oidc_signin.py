"""Staff sign-in through a real OpenID provider (oidc-provider on Node.js, started by the
test), driven over HTTP through the provider's own login and consent pages."""

from __future__ import annotations

import asyncio
import contextlib
import re
from datetime import UTC, datetime
from html import unescape
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from helpers import LiveServer, OidcProvider, open_database
from webinar.domain.accounts import Grant
from webinar.services.accounts import add_user

pytestmark = pytest.mark.integration

Staffed = tuple[LiveServer, OidcProvider]


async def add_staff(server: LiveServer, email: str, grant: Grant) -> None:
    await asyncio.to_thread(
        add_user, server.db_path, email, "Staff Member", None, (grant,), datetime.now(UTC)
    )


async def through_provider(
    client: httpx.AsyncClient, provider: OidcProvider, login: str
) -> httpx.Response:
    """Start at the app's sign-in button, fill in the provider's login and consent forms,
    and follow the redirects back: the app's last response."""
    response = await client.get("/signin/oidc")
    while urlsplit(str(response.url)).port == provider.port:
        assert response.status_code == 200, response.text[:500]
        action = re.search(r'<form[^>]*action="([^"]+)"', response.text)
        prompt = re.search(r'name="prompt" value="([a-z]+)"', response.text)
        assert action and prompt, response.text[:500]
        data = {"prompt": prompt.group(1), "login": login, "password": "anything"}
        response = await client.post(
            urljoin(str(response.url), unescape(action.group(1))), data=data
        )
    return response


def shown_error(response: httpx.Response) -> str:
    found = re.search(r'<div class="error-summary".*?<li>(.*?)</li>', response.text, re.S)
    assert found, response.text[:500]
    return unescape(found.group(1)).strip()


def linked_subject(server: LiveServer, email: str) -> tuple[str | None, str | None]:
    with contextlib.closing(open_database(server.db_path)) as conn, conn:
        row = conn.execute(
            "SELECT oidc_issuer, oidc_subject FROM users WHERE email = ?", (email,)
        ).fetchone()
    return row[0], row[1]


def app_client(server: LiveServer) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=server.base, follow_redirects=True, timeout=20.0)


async def test_oidc_signin_page_offers_the_provider(oidc_server: Staffed) -> None:
    server, _ = oidc_server
    async with app_client(server) as client:
        page = await client.get("/signin")

    assert '<a class="button primary" href="/signin/oidc">Sign in with Test provider</a>' in (
        page.text
    )


async def test_oidc_first_sign_in_matches_the_verified_email_and_links_the_account(
    oidc_server: Staffed,
) -> None:
    server, provider = oidc_server
    await add_staff(server, "ann@example.org", Grant("organiser"))

    async with app_client(server) as client:
        landed = await through_provider(client, provider, "Ann@Example.org")
        info = (await client.get("/api/session")).json()

    assert (landed.status_code, landed.url.path) == (200, "/organiser")
    assert info["participant"]["role"] == "organiser"
    assert info["participant"]["name"] == "Staff Member"
    assert linked_subject(server, "ann@example.org") == (provider.issuer, "Ann@Example.org")


async def test_oidc_a_linked_account_signs_in_again_by_its_subject(oidc_server: Staffed) -> None:
    server, provider = oidc_server
    await add_staff(server, "hal@example.org", Grant("host", 1))
    async with app_client(server) as first:
        await through_provider(first, provider, "hal@example.org")
    with (
        contextlib.closing(open_database(server.db_path)) as conn,
        conn,
    ):  # the email changes; the subject does not
        conn.execute("UPDATE users SET email = 'hal.h@example.org'")

    async with app_client(server) as client:
        landed = await through_provider(client, provider, "hal@example.org")

    assert (landed.status_code, landed.url.path) == (200, "/host")


async def test_oidc_no_matching_account_is_refused_and_nothing_is_created(
    oidc_server: Staffed,
) -> None:
    server, provider = oidc_server

    async with app_client(server) as client:
        landed = await through_provider(client, provider, "stranger@example.org")
        info = (await client.get("/api/session")).json()
    with contextlib.closing(open_database(server.db_path)) as conn, conn:
        (accounts,) = conn.execute("SELECT count(*) FROM users").fetchone()

    assert (landed.status_code, landed.url.path) == (403, "/signin/oidc/callback")
    assert shown_error(landed) == (
        "There is no staff account for stranger@example.org. Ask an organiser to add you "
        "(webinar users add), then sign in again."
    )
    assert info["participant"] is None
    assert accounts == 0


async def test_oidc_an_unverified_email_does_not_match(oidc_server: Staffed) -> None:
    server, provider = oidc_server
    await add_staff(server, "ann@example.org", Grant("organiser"))

    async with app_client(server) as client:
        landed = await through_provider(client, provider, "unverified+ann@example.org")

    assert landed.status_code == 403
    assert "has not confirmed that ann@example.org is yours" in shown_error(landed)
    assert linked_subject(server, "ann@example.org") == (None, None)


async def test_oidc_a_callback_with_a_state_this_browser_did_not_start_is_refused(
    oidc_server: Staffed,
) -> None:
    server, _ = oidc_server

    async with app_client(server) as client:
        landed = await client.get("/signin/oidc/callback?code=stolen&state=forged")

    assert landed.status_code == 400
    assert shown_error(landed).startswith("This sign-in link was out of date")


async def test_oidc_cancelling_at_the_provider_says_so(oidc_server: Staffed) -> None:
    server, _ = oidc_server

    async with app_client(server) as client:
        login_page = await client.get("/signin/oidc")
        abort = re.search(r'href="([^"]*/abort)"', login_page.text)
        assert abort, login_page.text[:500]
        landed = await client.get(urljoin(str(login_page.url), unescape(abort.group(1))))

    assert landed.status_code == 400
    assert shown_error(landed) == "Signing in with Test provider was cancelled. You can try again."


async def test_oidc_without_a_provider_set_up_there_is_no_oidc_sign_in(server: LiveServer) -> None:
    async with app_client(server) as client:
        page = await client.get("/signin")
        start = await client.get("/signin/oidc")

    assert "/signin/oidc" not in page.text
    assert start.status_code == 404


async def test_oidc_an_unreachable_provider_is_said_plainly_and_passwords_still_work(
    oidc_server: Staffed,
) -> None:
    server, provider = oidc_server
    provider.stop()

    async with app_client(server) as client:
        start = await client.get("/signin/oidc")

    assert start.status_code == 502
    assert shown_error(start) == (
        "Signing in with Test provider is not working at the moment: the server could not "
        "reach it. Please try again in a minute, or sign in with your password."
    )
    assert 'action="/signin"' in start.text
