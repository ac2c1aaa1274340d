"""Browser fixtures: Debian's Chromium driven by Playwright's async API.

The tests run in the same event loop as the in-process ``LiveServer`` (pytest-asyncio,
``asyncio_mode = "auto"``), so they use ``playwright.async_api`` only.

Without ``/usr/bin/chromium`` the browser tests are skipped, except under ``CI=true``,
where a missing browser is an error: CI must never pass by skipping them.

What the browser tests share reaches them through fixtures (this file is no importable
module): ``new_screen`` (one person's browser context and page), ``site`` (the server as
people reach it: the join form, the magic links) and ``check`` (no reload, clean consoles,
axe-core).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import expect

from helpers import PATIENCE, LiveServer

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

#: Records Content-Security-Policy violations in the page, where tests can read them.
#: Init scripts run through the DevTools protocol, so the policy does not block this one.
CSP_RECORDER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__cspViolations.push({
    directive: event.violatedDirective,
    blocked: event.blockedURI,
    source: event.sourceFile,
    line: event.lineNumber,
    sample: event.sample
  });
});
"""

#: Set by ``Site.join`` and ``Site.enter`` (or ``Check.mark_document``): it lives only as
#: long as the page's document, so a reload loses it (``Check.not_reloaded``).
MARK_DOCUMENT = "window.__sameDocument = true"
#: The axe-core impacts that fail a test.
BLOCKING = ("serious", "critical")

axe = Axe()

# What a page must show may take seconds to appear on a busy machine: an expectation waits
# up to PATIENCE (it passes as soon as it holds) instead of Playwright's 5 s.
expect.set_options(timeout=PATIENCE * 1000)


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    message = f"{CHROMIUM} is missing: install Debian's 'chromium' package"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message} (browser tests never skip under CI=true)", pytrace=False)
    pytest.skip(message)


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    _require_chromium()
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            await launched.close()


@dataclass
class Console:
    """Console errors, uncaught page errors and CSP violations of the pages it watches."""

    errors: list[str] = field(default_factory=list)
    pages: list[Any] = field(default_factory=list)

    def watch(self, page: Any) -> None:
        self.pages.append(page)

        def on_console(message: Any) -> None:
            if message.type == "error":
                where = message.location.get("url", "") if message.location else ""
                self.errors.append(f"console.error at {page.url} ({where}): {message.text}")

        page.on("console", on_console)
        page.on("pageerror", lambda exc: self.errors.append(f"page error at {page.url}: {exc}"))

    async def csp_violations(self) -> list[str]:
        found: list[str] = []
        for page in self.pages:
            if page.is_closed():
                continue
            for v in await page.evaluate("window.__cspViolations || []"):
                found.append(f"CSP violation at {page.url}: {v}")
        return found

    async def problems(self, allowed: Callable[[str], bool] = lambda _: False) -> list[str]:
        """Everything that went wrong, less the errors ``allowed`` says a test expects."""
        return [e for e in self.errors if not allowed(e)] + await self.csp_violations()


@dataclass
class Screen:
    """One browser context (its own cookies: one person) with one page."""

    context: Any
    page: Any
    console: Console


@pytest.fixture
async def new_screen(browser: Any) -> AsyncIterator[Callable[..., Any]]:
    """``await new_screen(viewport=...)``: a fresh context and page, closed afterwards."""
    contexts: list[Any] = []

    async def make(**options: Any) -> Screen:
        context = await browser.new_context(**options)
        contexts.append(context)
        await context.add_init_script(CSP_RECORDER)
        console = Console()
        page = await context.new_page()
        console.watch(page)
        page.set_default_timeout(10_000)
        return Screen(context, page, console)

    try:
        yield make
    finally:
        for context in contexts:
            await context.close()


@dataclass
class Site:
    """The server under test as people reach it in a browser."""

    server: LiveServer

    async def join(self, screen: Screen, name: str, organisation: str = "") -> Any:
        """Fill in the join form as a person would; returns the page, on /live and connected."""
        page, base = screen.page, self.server.base
        await page.goto(f"{base}/join")
        await page.get_by_label("Event code").fill(self.server.secrets["join_code"])
        await page.get_by_label("Your name").fill(name)
        await page.get_by_label("Organisation").fill(organisation)
        await page.get_by_role("button", name="Join").click()
        await expect(page).to_have_url(f"{base}/live")
        await expect(page.locator("#connection")).to_have_text("Live")
        await page.evaluate(MARK_DOCUMENT)
        return page

    async def enter(self, screen: Screen, role: str) -> Any:
        """Follow the magic link of ``role`` ("host" or "organiser"); returns the page, on
        ``/{role}`` and connected."""
        page, base = screen.page, self.server.base
        await page.goto(f"{base}/enter/{role}/{self.server.secrets[f'{role}_token']}")
        await expect(page).to_have_url(f"{base}/{role}")
        await expect(page.locator("#connection")).to_have_text("Live")
        await page.evaluate(MARK_DOCUMENT)
        return page


@pytest.fixture
def site(server: LiveServer) -> Site:
    """``await site.join(screen, name, organisation)``, ``await site.enter(screen, role)``."""
    return Site(server)


class Check:
    """What every browser test asserts: no reloads, clean consoles, no axe-core blockers."""

    @staticmethod
    async def mark_document(page: Any) -> None:
        await page.evaluate(MARK_DOCUMENT)

    @staticmethod
    async def not_reloaded(*pages: Any) -> None:
        """Each page still shows the document that was marked (by ``Site`` or ``mark_document``)."""
        for page in pages:
            assert await page.evaluate("window.__sameDocument === true"), f"{page.url} reloaded"

    @staticmethod
    async def clean(*screens: Screen, allowed: Callable[[str], bool] = lambda _: False) -> None:
        """No screen logged a problem, less the errors ``allowed`` says a test expects."""
        problems = [p for s in screens for p in await s.console.problems(allowed)]
        assert not problems, "\n".join(problems)

    @staticmethod
    async def violations(page: Any) -> list[str]:
        """axe-core's serious and critical violations on the page, one line per node."""
        results = await axe.run(page)
        found = []
        for violation in results.response["violations"]:
            if violation["impact"] not in BLOCKING:
                continue
            targets = [" ".join(map(str, node["target"])) for node in violation["nodes"]]
            found.append(
                f"{violation['id']} ({violation['impact']}): {violation['help']} -> {targets}"
            )
        return found

    @staticmethod
    def accessible(report: dict[str, list[str]]) -> None:
        """No page of ``report`` (label: its ``violations``) has a blocking violation."""
        failing = {label: found for label, found in report.items() if found}
        assert not failing, "\n".join(
            f"{label}:\n  " + "\n  ".join(found) for label, found in failing.items()
        )


@pytest.fixture
def check() -> Check:
    return Check()


#: The two sizes every page is checked and photographed at: a laptop and a phone.
SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
#: Where screenshots go: ``artefacts/screenshots`` under the repository, or the folder
#: named by this variable (``docs/ui`` refreshes the copies docs/ui.md shows).
SCREENSHOTS_ENV = "WEBINAR_UI_SCREENSHOTS"
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Shots:
    """Photographs a page at both sizes and runs axe-core at each (``check.violations``).

    ``await shots.take(page, "join-errors")`` writes ``join-errors-desktop.png`` and
    ``join-errors-phone.png`` (the first screen, as a person sees it on arrival) and
    returns axe's blocking violations, and a line if the page scrolls sideways, labelled
    by size; the page is left at its original size.
    """

    folder: Path
    written: list[Path] = field(default_factory=list)

    async def take(self, page: Any, name: str) -> dict[str, list[str]]:
        original = page.viewport_size
        found: dict[str, list[str]] = {}
        try:
            for size, viewport in SIZES.items():
                await page.set_viewport_size(viewport)
                await page.evaluate("document.fonts.ready.then(() => null)")
                path = self.folder / f"{name}-{size}.png"
                await page.screenshot(path=str(path), animations="disabled", caret="hide")
                self.written.append(path)
                found[f"{name} ({size})"] = await Check.violations(page) + await _sideways(page)
        finally:
            if original:
                await page.set_viewport_size(original)
        return found

    async def screen(self, page: Any, name: str) -> Path:
        """A screenshot of what the page shows now, at its current size."""
        path = self.folder / f"{name}.png"
        await page.screenshot(path=str(path), animations="disabled", caret="hide")
        self.written.append(path)
        return path

    async def element(self, locator: Any, name: str) -> Path:
        """A screenshot of one element (a component), at the page's current size."""
        path = self.folder / f"{name}.png"
        await locator.screenshot(path=str(path), animations="disabled", caret="hide")
        self.written.append(path)
        return path


async def _sideways(page: Any) -> list[str]:
    """A line if the page is wider than the window (WCAG 1.4.10: no scrolling sideways)."""
    # scrollWidth of the document, not innerWidth: a wide child widens the layout viewport.
    wide: int = await page.evaluate("document.scrollingElement.scrollWidth")
    window: int = page.viewport_size["width"]
    return [f"scrolls sideways: {wide} px wide in a {window} px window"] if wide > window else []


@pytest.fixture
def shots() -> Shots:
    configured = os.environ.get(SCREENSHOTS_ENV, "")
    folder = Path(configured) if configured else ROOT / "artefacts" / "screenshots"
    if not folder.is_absolute():
        folder = ROOT / folder
    folder.mkdir(parents=True, exist_ok=True)
    return Shots(folder)
