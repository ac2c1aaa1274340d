from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from helpers import LiveServer, OidcProvider


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[LiveServer]:
    from helpers import LiveServer  # imported here so domain tests need no web stack

    live = LiveServer(str(tmp_path / "webinar.db"))
    await live.start()
    try:
        yield live
    finally:
        await live.stop()


@pytest.fixture
async def oidc_server(tmp_path: Path) -> AsyncIterator[tuple[LiveServer, OidcProvider]]:
    """The app with staff sign-in through a real OpenID provider (oidc-provider on Node.js,
    started for the test), and that provider."""
    from helpers import LiveServer, OidcProvider

    live = LiveServer(str(tmp_path / "webinar.db"))
    provider = OidcProvider(redirect_uri=f"{live.base}/signin/oidc/callback")
    provider.start()
    live.oidc = provider.config()
    try:
        await live.start()
        try:
            yield live, provider
        finally:
            await live.stop()
    finally:
        provider.stop()
