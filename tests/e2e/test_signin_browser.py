"""Staff sign-in in Chromium: the accessible sign-in page, a wrong then a right password,
and OpenID Connect through a real provider's login and consent pages."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from playwright.async_api import expect

from helpers import LiveServer, OidcProvider
from webinar.domain.accounts import Grant
from webinar.services.accounts import add_user

pytestmark = pytest.mark.e2e

PASSWORD = "a long and happy password"
#: Any address but this machine's loopback.
OFF_MACHINE = re.compile(r"^https?://(?!127\.0\.0\.1[:/])")


async def add_organiser(server: LiveServer, password: str | None) -> None:
    await asyncio.to_thread(
        add_user,
        server.db_path,
        "ann@example.org",
        "Ann Organiser",
        password,
        (Grant("organiser"),),
        datetime.now(UTC),
    )


async def test_signin_wrong_then_right_password_on_a_phone(
    server: LiveServer, new_screen: Callable[..., Any], check: Any
) -> None:
    await add_organiser(server, PASSWORD)
    screen = await new_screen(viewport={"width": 360, "height": 740})
    page = screen.page
    await page.goto(f"{server.base}/join")
    await page.get_by_role("link", name="Staff sign-in").click()
    await expect(page).to_have_url(f"{server.base}/signin")
    clean_form = await check.violations(page)

    await page.get_by_label("Email address").fill("ann@example.org")
    await page.get_by_label("Password").fill("not the password")
    await page.get_by_role("button", name="Sign in").click()
    summary = page.get_by_role("alert")
    await expect(summary).to_contain_text("The email address or password is not right.")
    await expect(page.get_by_label("Email address")).to_have_value("ann@example.org")
    await expect(page.get_by_label("Password")).to_have_attribute("aria-invalid", "true")
    with_error = await check.violations(page)
    await summary.get_by_role("link").click()
    await expect(page.get_by_label("Password")).to_be_focused()

    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(f"{server.base}/organiser")
    await expect(page.locator("#connection")).to_have_text("Live")
    await expect(page.locator(".whoami")).to_contain_text("Ann Organiser")

    check.accessible({"sign-in form": clean_form, "sign-in with an error": with_error})
    # The wrong password's 400 is the one console error a browser logs here.
    await check.clean(screen, allowed=lambda e: "400 (Bad Request)" in e)


async def test_signin_through_the_real_openid_provider(
    oidc_server: tuple[LiveServer, OidcProvider],
    new_screen: Callable[..., Any],
    check: Any,
) -> None:
    server, provider = oidc_server
    await add_organiser(server, None)
    screen = await new_screen()
    # The provider's development pages ask for a web font: nothing leaves this machine.
    await screen.context.route(OFF_MACHINE, lambda route: route.abort())
    page = screen.page
    await page.goto(f"{server.base}/signin")
    form = await check.violations(page)

    await page.get_by_role("link", name="Sign in with Test provider").click()
    login = page.locator('input[name="login"]')
    await expect(login).to_be_visible(timeout=15_000)
    assert page.url.startswith(f"{provider.issuer}/interaction/")
    await login.fill("ann@example.org")
    await page.locator('input[name="password"]').fill("anything")
    await page.get_by_role("button", name="Sign-in").click()
    await page.get_by_role("button", name="Continue").click()

    await expect(page).to_have_url(f"{server.base}/organiser", timeout=15_000)
    await expect(page.locator("#connection")).to_have_text("Live")
    await expect(page.locator(".whoami")).to_contain_text("Ann Organiser")
    check.accessible({"sign-in with OpenID offered": form})
    # The provider's own pages (its font and favicon) are not ours to keep clean.
    await check.clean(
        screen, allowed=lambda e: e.startswith(f"console.error at {provider.issuer}/")
    )
