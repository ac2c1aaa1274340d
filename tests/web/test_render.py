"""``squeeze``: the template's indentation left out of live fragments, and nothing else.

A fragment goes to thousands of screens, so the runs of indentation between two tags are
cut to their line break; text, and whitespace that is not such a run, stays as written."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import webinar
from agendas_for_tests import SEED
from webinar.realtime.hub import Event
from webinar.web.render import (
    Encoder,
    make_environment,
    plural,
    seq_marker,
    site_environment,
    squeeze,
)

pytestmark = pytest.mark.unit

AT = "2026-08-20T10:00:00+00:00"


class Texts(HTMLParser):
    """The text nodes of a fragment, in order, and its tags with their attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_data(self, data: str) -> None:
        self.texts.append(data)


def parsed(html: str) -> Texts:
    texts = Texts()
    texts.feed(html)
    texts.close()
    return texts


def test_squeeze_cuts_indentation_between_tags_to_the_line_break() -> None:
    html = "<ul>\n    <li>One</li>\n\t\t<li>Two</li>\n  \n  </ul>"

    assert squeeze(html) == "<ul>\n<li>One</li>\n<li>Two</li>\n</ul>"


@pytest.mark.parametrize(
    "html",
    [
        "<p>Is it\n    recorded?</p>",  # text that wraps: may show under pre-wrap
        "<b>Named</b>   <i>anonymous</i>",  # a space between words, no line break
        "<p>  leading and trailing  </p>",
        "<p>\n   Who chairs it?</p>",  # a line break before text, not between two tags
        "",
    ],
)
def test_squeeze_leaves_text_and_spaces_without_a_line_break(html: str) -> None:
    assert squeeze(html) == html


TAGS = st.sampled_from(["<li>", "</li>", "<p class='q'>", "</p>", "<br>", "<span>", "</span>"])
TEXT = st.text(alphabet=" \t\nab?é", max_size=8)


@given(st.lists(st.one_of(TAGS, TEXT), max_size=30))
def test_squeeze_changes_only_whitespace_runs_between_tags(parts: list[str]) -> None:
    html = "".join(parts)

    squeezed = squeeze(html)
    before, after = parsed(html), parsed(squeezed)

    assert squeeze(squeezed) == squeezed
    assert after.tags == before.tags
    assert re.sub(r"\s", "", squeezed) == re.sub(r"\s", "", html)
    # Every text node is kept, or was whitespace with a line break and is now one line break.
    assert len(after.texts) == len(before.texts)
    for old, new in zip(before.texts, after.texts, strict=True):
        assert new == old or (new == "\n" and old.strip(" \t\n") == "" and "\n" in old)


def test_live_fragments_from_the_templates_are_squeezed() -> None:
    env = make_environment(SEED)
    grid = {
        "round": 1,
        "state": "open",
        "topics": ["Information sharing"],
        "groups": [
            {
                "number": 1,
                "help": True,
                "covered": [0],
                "topics": [0],
                "facilitator": None,
                "members": [],
            },
            {
                "number": 2,
                "help": False,
                "covered": [],
                "topics": [0],
                "facilitator": None,
                "members": [],
            },
        ],
        "by_topic": {"0": 1},
        "oversize": "",
    }
    event = Event(seq=7, type="breakout.grid", audience="staff", data=grid, at=AT)

    wire = Encoder(env, SEED)(event, "html-staff")
    raw = env.get_template("live/breakout_grid.html").render(data=grid, oob=True, view="staff")

    assert wire is not None
    assert re.search(r">\n[ \t]+<", raw)  # the template is indented...
    assert not re.search(r">\n[ \t]+<", wire)  # ...what goes on the wire is not
    assert wire.startswith(seq_marker(7, AT))
    assert len(wire) - len(seq_marker(7, AT)) < len(raw)
    assert parsed(wire).tags[1:] == parsed(raw).tags
    # The grid tells static/host.js its state and how many groups ask for help.
    assert 'data-state="open" data-help="1"' in wire


def test_only_render_makes_a_template_environment() -> None:
    """The statement, the programme and each event load templates one way, so their
    escaping and filters cannot drift apart."""
    package = Path(webinar.__file__).parent
    makers = sorted(
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if "jinja2.Environment(" in path.read_text(encoding="utf-8")
    )

    assert makers == ["web/render.py"]


def test_an_events_environment_is_the_sites_with_its_own_filters() -> None:
    site, event = site_environment(), make_environment(SEED)

    for env in (site, event):
        assert (env.trim_blocks, env.lstrip_blocks) == (True, True)
        assert env.filters["plural"] is plural
        assert env.from_string("{{ '<b>' }}").render() == "&lt;b&gt;"
    assert set(site.filters) < set(event.filters)
    assert event.globals["agenda"] is SEED
