"""An HLS stage in a real browser: the vendored hls.js fetches the configured stream's
playlist (a local stream server that allows other origins, as a real one must), and the
page's policy refuses a fetch from another local stream server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from fake_providers import FakeStream
from helpers import LiveServer, seed_agenda
from webinar.domain.video import Stage

pytestmark = pytest.mark.e2e


@pytest.fixture
def streams() -> Iterator[tuple[FakeStream, FakeStream]]:
    made = (FakeStream(), FakeStream())
    for fake in made:
        fake.start()
    try:
        yield made
    finally:
        for fake in made:
            fake.stop()


@pytest.fixture
async def server(
    tmp_path: Path, streams: tuple[FakeStream, FakeStream]
) -> AsyncIterator[LiveServer]:
    agenda = replace(seed_agenda(), stage=Stage("hls", f"{streams[0].base}/live.m3u8"))
    live = LiveServer(str(tmp_path / "webinar.db"), agenda=agenda)
    await live.start()
    try:
        yield live
    finally:
        await live.stop()


async def test_hls_stage_loads_its_stream_and_no_other(
    new_screen: Any, site: Any, check: Any, streams: tuple[FakeStream, FakeStream]
) -> None:
    stream, other = streams
    screen = await new_screen()
    page = await site.join(screen, "Ann Example")
    video = page.locator("#stage video")
    await expect(video).to_have_attribute("data-hls-manifest", "parsed")
    await expect(video).to_have_accessible_name("Main stage: the live stream")
    refused = await page.evaluate(
        "url => fetch(url).then(() => 'fetched', () => 'refused')", f"{other.base}/live.m3u8"
    )
    violations = await page.evaluate("window.__cspViolations.splice(0)")

    assert refused == "refused"
    assert [(v["directive"], v["blocked"]) for v in violations] == [
        ("connect-src", f"{other.base}/live.m3u8")
    ]
    assert other.visits == []
    assert stream.visits[0].path == "/live.m3u8"
    # The missing segment and the refused fetch are what Chromium logs; nothing else.
    await check.clean(
        screen,
        allowed=lambda e: "segment0.ts" in e or f"{other.base}/live.m3u8" in e,
    )
