"""Browser fixtures: Debian's Chromium driven by Playwright's async API.

The tests run in the same event loop as the in-process ``LiveServer`` (pytest-asyncio,
``asyncio_mode = "auto"``), so they use ``playwright.async_api`` only.

Without ``/usr/bin/chromium`` the browser tests are skipped, except under ``CI=true``,
where a missing browser is an error: CI must never pass by skipping them.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

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
