"""The pages' policy allows exactly the stages' and call providers' origins, no others."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from helpers import LiveServer, Person, host_of, seed_agenda
from webinar.cli.main import cli
from webinar.domain.agenda import Agenda
from webinar.domain.video import CallSettings, Stage
from webinar.services.calls import CallConfig
from webinar.web.security import CSP

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def staged_agenda() -> Agenda:
    """The seed webinar with a YouTube stage, one talk on HLS, and Jitsi group calls."""
    agenda = seed_agenda()
    items = []
    for item in agenda.items:
        if item.id == "national-review-updates":
            item = replace(item, stage=Stage("hls", "http://127.0.0.1:8099/live/stream.m3u8"))
        if item.breakout is not None:
            call = CallSettings("jitsi", "https://meet.example.org/")
            item = replace(item, breakout=replace(item.breakout, call=call))
        items.append(item)
    return replace(
        agenda,
        items=tuple(items),
        stage=Stage("youtube", "https://www.youtube-nocookie.com/embed/live_stream?x=1"),
    )


async def test_policy_names_each_configured_origin_and_nothing_else(tmp_path: Path) -> None:
    server = LiveServer(
        str(tmp_path / "webinar.db"),
        agenda=staged_agenda(),
        calls=CallConfig(jitsi_secret="s" * 40),
    )
    await server.start()
    visitor = Person(server.base)
    try:
        response = await visitor.http.get("/join")
    finally:
        await visitor.close()
        await server.stop()

    stream = "http://127.0.0.1:8099"
    assert response.headers["content-security-policy"] == (
        CSP.replace("connect-src 'self'", f"connect-src 'self' {stream}")
        + f"; media-src 'self' blob: {stream}"
        + "; frame-src 'self' https://meet.example.org https://www.youtube-nocookie.com"
    )
    assert response.headers["permissions-policy"] == (
        'camera=("https://meet.example.org"), microphone=("https://meet.example.org"), '
        'display-capture=("https://meet.example.org"), geolocation=()'
    )


async def test_policy_without_stage_or_calls_is_the_strict_default(server: LiveServer) -> None:
    visitor = Person(server.base)
    try:
        response = await visitor.http.get("/join")
    finally:
        await visitor.close()

    assert response.headers["content-security-policy"] == CSP
    assert response.headers["permissions-policy"] == "camera=(), microphone=(), geolocation=()"


def test_serve_refuses_jitsi_calls_without_a_secret(tmp_path: Path) -> None:
    seed = (ROOT / "agendas" / "seed.toml").read_text(encoding="utf-8")
    marker = 'wider safeguarding system in the country?",\n  ]\n'
    assert marker in seed
    agenda = tmp_path / "calls.toml"
    call = '  [items.breakout.call]\n  provider = "jitsi"\n  url = "https://meet.example.org"\n'
    agenda.write_text(seed.replace(marker, marker + call), encoding="utf-8")

    result = CliRunner().invoke(
        cli,
        ["serve", str(agenda), "--db", str(tmp_path / "w.db")],
        env={"WEBINAR_JITSI_SECRET": ""},
    )

    assert result.exit_code == 1
    assert "uses Jitsi group calls, but the server has no Jitsi app secret" in result.output
    assert "Traceback" not in result.output


async def test_projector_shows_the_stage_and_can_hide_it(tmp_path: Path) -> None:
    server = LiveServer(
        str(tmp_path / "webinar.db"),
        agenda=staged_agenda(),
        calls=CallConfig(jitsi_secret="s" * 40),
    )
    await server.start()
    host = await host_of(server)
    try:
        shown = await host.http.get("/projector")
        hidden = await host.http.get("/projector", params={"stage": "hide"})
    finally:
        await host.close()
        await server.stop()

    assert 'id="stage"' in shown.text
    assert 'title="Main stage: YouTube"' in shown.text
    assert ">Hide the main stage</a>" in shown.text
    assert 'id="stage"' not in hidden.text
    assert 'href="/projector">Show the main stage</a>' in hidden.text
