"""Hostile uploads to the organiser's programme: random bytes, random file names and short
names, and hostile text inside otherwise good agenda files. Never a 5xx, nothing stored
from a refused upload, and whatever comes back is escaped."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import LiveServer
from webinar.domain.accounts import Grant
from webinar.services.accounts import add_user
from webinar.storage.webinars import list_webinars_sync

pytestmark = pytest.mark.integration

FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
EMAIL, PASSWORD = "ann@example.org", "a long and happy password"
HOSTILE = st.sampled_from(
    [
        "<script>alert(1)</script>",
        '"><img src=x onerror=alert(1)>',
        "{{7*7}}{% raw %}",
        "\u202eevil",
        "x" * 500,
        "../../etc/passwd",
        "",
    ]
)


@pytest.fixture
async def organiser(server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    now = datetime.now(UTC)
    grants = (Grant("organiser"),)
    await asyncio.to_thread(add_user, server.db_path, EMAIL, "Ann", PASSWORD, grants, now)
    async with httpx.AsyncClient(base_url=server.base, timeout=20.0) as client:
        token = csrf(await client.get("/programme/signin"))
        signed = await client.post(
            "/programme/signin", data={"email": EMAIL, "password": PASSWORD, "csrf_token": token}
        )
        assert signed.status_code == 303
        yield client


def csrf(page: httpx.Response) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, page.text[:300]
    return found.group(1)


@FUZZ
@given(
    content=st.binary(max_size=2000) | st.text(max_size=2000).map(str.encode),
    name=HOSTILE | st.text(min_size=1, max_size=40),
    slug=HOSTILE | st.text(max_size=40),
)
async def test_programme_random_uploads_get_a_sentence_and_store_nothing(
    server: LiveServer, organiser: httpx.AsyncClient, content: bytes, name: str, slug: str
) -> None:
    token = csrf(await organiser.get("/programme/new"))
    response = await organiser.post(
        "/programme/new",
        data={"csrf_token": token, "source": "upload", "slug": slug},
        files={"file": (name, content, "application/toml")},
    )

    assert response.status_code == 400, response.text[:500]
    assert "<script>alert(1)</script>" not in response.text
    assert "<img src=x" not in response.text
    assert [w.slug for w in list_webinars_sync(server.db_path)] == ["webinar"]


@FUZZ
@given(title=HOSTILE, slug=HOSTILE)
async def test_programme_hostile_text_in_a_good_agenda_is_shown_escaped(
    server: LiveServer, organiser: httpx.AsyncClient, title: str, slug: str
) -> None:
    agenda = (
        '[event]\ntitle = "T"\ndate = "2031-01-01"\ntimezone = "Europe/London"\n'
        f'[[items]]\nid = "a"\ntitle = {title!r}\nkind = "talk"\n'
        'start = "10:00"\nend = "10:30"\n'
    ).replace("'", '"')
    token = csrf(await organiser.get("/programme/new"))
    response = await organiser.post(
        "/programme/new",
        data={"csrf_token": token, "source": "upload", "slug": slug},
        files={"file": ("hostile.toml", agenda.encode(), "application/toml")},
    )
    page = await organiser.get(response.headers.get("location", "/programme"))

    assert response.status_code in (303, 400), response.text[:500]
    for text in (response.text, page.text):
        assert "<script>alert(1)</script>" not in text
        assert "<img src=x" not in text
