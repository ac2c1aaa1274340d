"""An event under its own address (``/e/<slug>/``) in real browsers: every link, form,
htmx request and the live socket stay within it, and the event beside it sees nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from helpers import LiveServer
from postgres_cluster import database
from webinar.domain.agenda_file import parse_agenda
from webinar.services import prepare_event
from webinar.services.agenda_files import SEED_AGENDA
from webinar.web.app import Hosted

pytestmark = pytest.mark.e2e

QUESTION = "Is the neglect briefing recorded?"


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[LiveServer]:
    db = database(str(tmp_path / "two.db"))
    text = SEED_AGENDA.read_text(encoding="utf-8").replace(
        'title = "Child Safeguarding Practice Review Panel Webinar"',
        'title = "Neglect learning briefing"',
    )
    beta = parse_agenda(text, "beta.toml", today=date.today())
    _, _, secrets = prepare_event(db, "beta", "beta.toml", text, beta.title)
    live = LiveServer(db, slug="alpha", others=(Hosted("beta", beta, secrets),), aliases=False)
    await live.start()
    yield live
    await live.stop()


async def join(page: Any, base: str, code: str, name: str) -> None:
    await page.goto(f"{base}/join")
    await page.get_by_label("Event code").fill(code)
    await page.get_by_label("Your name").fill(name)
    await page.get_by_role("button", name="Join").click()
    await expect(page).to_have_url(f"{base}/live")
    await expect(page.locator("#connection")).to_have_text("Live")


async def test_an_event_at_its_own_address_works_whole_and_alone(
    server: LiveServer, new_screen: Any, check: Any
) -> None:
    beta, alpha = f"{server.base}/e/beta", f"{server.base}/e/alpha"
    beta_secrets = server.others[0].secrets
    bea, host, ann = await new_screen(), await new_screen(), await new_screen()
    await join(bea.page, beta, beta_secrets["join_code"], "Bea")
    await join(ann.page, alpha, server.secrets["join_code"], "Ann")
    await host.page.goto(f"{beta}/enter/host/{beta_secrets['host_token']}")
    await expect(host.page).to_have_url(f"{beta}/host")
    await expect(host.page.locator("#connection")).to_have_text("Live")
    for screen in (bea, host, ann):
        await check.mark_document(screen.page)

    await bea.page.get_by_label("Your question", exact=True).fill(QUESTION)
    await bea.page.get_by_role("button", name="Send question").click()

    await expect(host.page.locator("p.q-text", has_text=QUESTION)).to_be_visible()  # live
    await expect(bea.page.get_by_text(QUESTION).first).to_be_visible()
    await expect(bea.page.locator("h1")).to_contain_text("Neglect learning briefing")
    await expect(ann.page.locator("h1")).not_to_contain_text("Neglect learning briefing")
    assert QUESTION not in await ann.page.content()
    await check.not_reloaded(bea.page, host.page, ann.page)
    await check.clean(bea, host, ann)
    check.accessible(
        {
            "beta live": await check.violations(bea.page),
            "beta host": await check.violations(host.page),
        }
    )
