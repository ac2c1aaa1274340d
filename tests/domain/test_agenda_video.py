"""The agenda file's stage and call settings: read when right, a sentence when wrong."""

from __future__ import annotations

from datetime import date

import pytest

from webinar.domain.agenda import Agenda
from webinar.domain.agenda_file import AgendaFileError, AgendaProblem, parse_agenda
from webinar.domain.video import CallSettings, Stage

pytestmark = pytest.mark.unit

NAME = "agendas/test.toml"
EVENT = """\
[event]
title = "Test webinar"
date = "2020-08-20"
timezone = "Europe/London"
"""
ITEMS = """
[[items]]
title = "Welcome"
kind = "welcome"
start = "10:00"
end = "10:10"
{welcome}
[[items]]
title = "Groups"
kind = "breakout"
end = "10:30"

  [items.breakout]
  topics = ["A", "B"]
{breakout}
[[items]]
title = "Close"
kind = "closing"
end = "10:40"
"""
STAGE = """
[stage]
kind = "youtube"
url = "https://www.youtube-nocookie.com/embed/live"
captions = "https://captions.example.org/event"
"""


def parse(stage: str = "", welcome: str = "", breakout: str = "") -> Agenda:
    text = EVENT + stage + ITEMS.format(welcome=welcome, breakout=breakout)
    return parse_agenda(text, NAME, today=date(2020, 8, 20))


def only_problem(stage: str = "", welcome: str = "", breakout: str = "") -> AgendaProblem:
    with pytest.raises(AgendaFileError) as info:
        parse(stage, welcome, breakout)
    found = info.value.problems
    assert len(found) == 1, [str(p) for p in found]
    return found[0]


def test_event_stage_is_read_and_shown_outside_breakouts() -> None:
    agenda = parse(STAGE)

    expected = Stage(
        "youtube",
        "https://www.youtube-nocookie.com/embed/live",
        "",
        "https://captions.example.org/event",
    )
    assert agenda.stage == expected
    assert agenda.stage_of("welcome") == expected
    assert agenda.stage_of("groups") is None
    assert agenda.stage_of("close") == expected


def test_item_stage_overrides_and_false_hides() -> None:
    own = '[items.stage]\nkind = "hls"\nurl = "https://cdn.example.org/live.m3u8"\n'

    agenda = parse(STAGE, welcome=own)
    hidden = parse(STAGE, welcome="stage = false\n")

    assert agenda.stage_of("welcome") == Stage("hls", "https://cdn.example.org/live.m3u8")
    assert hidden.stage_of("welcome") is None
    assert hidden.stage_of("close") is not None


def test_breakout_call_is_read() -> None:
    call = '  [items.breakout.call]\n  provider = "jitsi"\n  url = "https://meet.example.org"\n'

    agenda = parse(breakout=call)

    settings = agenda.item("groups").breakout
    assert settings is not None
    assert settings.call == CallSettings("jitsi", "https://meet.example.org")
    assert agenda.calls() == [CallSettings("jitsi", "https://meet.example.org")]


def test_stage_over_plain_http_is_refused_with_a_reason() -> None:
    problem = only_problem(STAGE.replace("https://www.youtube", "http://www.youtube"))

    assert (problem.item, problem.field) == (None, "stage.url")
    assert "only allowed for this computer" in problem.message


def test_stage_on_loopback_over_http_is_allowed() -> None:
    agenda = parse('[stage]\nkind = "hls"\nurl = "http://127.0.0.1:8081/live.m3u8"\n')

    assert agenda.stage == Stage("hls", "http://127.0.0.1:8081/live.m3u8")


def test_stage_of_unknown_kind_names_the_kinds() -> None:
    problem = only_problem('[stage]\nkind = "twitch"\nurl = "https://x.example"\n')

    assert problem.field == "stage.kind"
    assert "youtube" in problem.message and "hls" in problem.message


def test_secret_in_the_agenda_is_refused() -> None:
    call = (
        '  [items.breakout.call]\n  provider = "bbb"\n  url = "https://bbb.example.org"\n'
        '  secret = "s3cret"\n'
    )

    problem = only_problem(breakout=call)

    assert problem.field == "breakout.call.secret"
    assert "never written in an agenda file" in problem.message
    assert "s3cret" not in str(problem)


def test_call_provider_must_be_known() -> None:
    call = '  [items.breakout.call]\n  provider = "skype"\n  url = "https://x.example"\n'

    problem = only_problem(breakout=call)

    assert problem.field == "breakout.call.provider"
    assert "jitsi, bbb, link" in problem.message


def test_call_and_template_together_are_refused() -> None:
    both = (
        '  video_url_template = "https://v.example/{group}"\n'
        '  [items.breakout.call]\n  provider = "link"\n  url = "https://v.example/{group}"\n'
    )

    problem = only_problem(breakout=both)

    assert problem.field == "breakout.call"


def test_jitsi_address_with_group_placeholder_is_refused() -> None:
    call = '  [items.breakout.call]\n  provider = "jitsi"\n  url = "https://m.example/{group}"\n'

    problem = only_problem(breakout=call)

    assert problem.field == "breakout.call.url"
