from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from helpers import LiveServer


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[LiveServer]:
    from helpers import LiveServer  # imported here so domain tests need no web stack

    live = LiveServer(str(tmp_path / "webinar.db"))
    await live.start()
    try:
        yield live
    finally:
        await live.stop()
