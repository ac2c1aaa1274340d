"""The group call settings: secrets stay hidden, missing ones are named."""

from __future__ import annotations

from dataclasses import replace

import pytest

from helpers import seed_agenda
from webinar.domain.agenda import Agenda
from webinar.domain.video import CallSettings
from webinar.services.calls import CallConfig, config_problems

pytestmark = pytest.mark.unit


def with_call(call: CallSettings) -> Agenda:
    agenda = seed_agenda()
    items = tuple(
        replace(i, breakout=replace(i.breakout, call=call)) if i.breakout else i
        for i in agenda.items
    )
    return replace(agenda, items=items)


def test_call_config_never_shows_its_secrets() -> None:
    config = CallConfig(jitsi_secret="jitsi-s3cret", bbb_secret="bbb-s3cret")

    assert "s3cret" not in repr(config)


def test_missing_secret_is_named_with_the_breakout_and_the_fix() -> None:
    problems = config_problems(
        with_call(CallSettings("bbb", "https://bbb.example.org")), CallConfig()
    )

    assert problems == [
        'The breakout "LCSPR Breakout" uses BigBlueButton group calls, but the server has '
        "no BigBlueButton secret: set WEBINAR_BBB_SECRET or give --bbb-secret-file (the "
        "output of 'bbb-conf --secret'; see docs/video.md)."
    ]


def test_configured_secret_or_link_provider_has_no_problem() -> None:
    jitsi = with_call(CallSettings("jitsi", "https://meet.example.org"))
    link = with_call(CallSettings("link", "https://v.example.org/{group}"))

    assert config_problems(jitsi, CallConfig(jitsi_secret="s")) == []
    assert config_problems(link, CallConfig()) == []
