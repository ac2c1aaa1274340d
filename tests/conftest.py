from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from redis_server import own_redis_server, redis, redis_server

if TYPE_CHECKING:
    from helpers import LiveServer, OidcProvider

__all__ = ["own_redis_server", "redis", "redis_server"]  # fixtures for the tests that need Redis

#: Servers started as subprocesses (``webinar serve``) check their events too.
os.environ["WEBINAR_CHECK_EVENTS"] = "1"


@pytest.fixture(autouse=True)
def events_match_their_models() -> Iterator[None]:
    """Every event written and every snapshot sent in a test matches its model in
    ``webinar.domain.events``: a mismatch refuses the change and fails the test."""
    from webinar.domain import events
    from webinar.services.commit import CHECKS

    mismatches: list[str] = []

    def event(type_: str, audience: str, data: dict[str, Any]) -> None:
        try:
            events.check(type_, audience, data)
        except events.EventMismatch as exc:
            mismatches.append(str(exc))
            raise

    def snapshot(data: dict[str, Any]) -> None:
        try:
            events.check_snapshot(data)
        except events.EventMismatch as exc:
            mismatches.append(str(exc))
            raise

    CHECKS.event, CHECKS.snapshot = event, snapshot
    try:
        yield
    finally:
        CHECKS.event = CHECKS.snapshot = None
    assert mismatches == []


def pytest_report_header() -> str:
    from postgres_cluster import BACKEND

    return f"database backend: {BACKEND} (WEBINAR_TEST_DB)"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """On PostgreSQL, tests of SQLite's own files are skipped, each with its reason."""
    from postgres_cluster import BACKEND

    if BACKEND != "postgresql":
        return
    for item in items:
        marker = item.get_closest_marker("sqlite_only")
        if marker is not None:
            reason = marker.kwargs.get("reason") or (marker.args[0] if marker.args else "")
            item.add_marker(pytest.mark.skip(reason=f"SQLite only: {reason}"))


@pytest.fixture(autouse=True)
def fresh_databases() -> Iterator[None]:
    """On PostgreSQL, the databases a test made are dropped when it ends."""
    yield
    from postgres_cluster import end_of_test

    end_of_test()


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
