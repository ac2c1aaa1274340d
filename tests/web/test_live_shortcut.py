"""LiveShortcut: the live socket skips the HTTP middleware and router; nothing else does."""

from __future__ import annotations

from typing import Any

import pytest

from webinar.web.live import LiveShortcut

pytestmark = pytest.mark.unit


def recorder(name: str, calls: list[str]) -> Any:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        calls.append(f"{name} {scope['type']} {scope['path']}")

    return app


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        ({"type": "websocket", "path": "/ws"}, "live websocket /ws"),
        (
            {"type": "websocket", "path": "/site/ws", "root_path": "/site"},
            "live websocket /site/ws",
        ),
        ({"type": "websocket", "path": "/ws/other"}, "app websocket /ws/other"),
        ({"type": "http", "path": "/ws"}, "app http /ws"),
        ({"type": "lifespan", "path": ""}, "app lifespan "),
    ],
)
async def test_only_the_live_socket_takes_the_shortcut(
    scope: dict[str, Any], expected: str
) -> None:
    calls: list[str] = []
    shortcut = LiveShortcut(recorder("app", calls), session=lambda _: recorder("live", calls))

    await shortcut(scope, None, None)

    assert calls == [expected]
