"""The accessibility statement: the sections the model statement requires, the contact
the operator sets, and each of its claims backed by tests that exist and run."""

from __future__ import annotations

import re
import subprocess
import sys
from html.parser import HTMLParser

import httpx
import pytest

from helpers import ROOT
from webinar.web.render import site_environment
from webinar.web.statement import PATH, parse_contact, statement_app

pytestmark = pytest.mark.unit

PROJECTOR = "tests/e2e/test_projector_browser.py::"
STATEMENT = "tests/e2e/test_statement_browser.py::"
TOKENS = "tests/web/test_design_tokens.py::"

#: Each claim the statement makes (its data-claim) and the tests that check it.
CLAIMS: dict[str, tuple[str, ...]] = {
    "reflow": (STATEMENT + "test_main_pages_reflow_at_320_css_pixels",),
    "keyboard": (
        STATEMENT + "test_joining_with_the_keyboard_alone",
        "tests/e2e/test_polls_browser.py::test_word_cloud_poll_hidden_until_revealed_on_the_projector",
        PROJECTOR + "test_projector_tools_work_from_the_keyboard",
    ),
    "live": (
        "tests/e2e/test_screens_browser.py::test_the_breakout_room_opens_without_taking_focus_from_someone_typing",
        "tests/e2e/test_screens_browser.py::test_questions_votes_and_highlight_read_as_words",
    ),
    "contrast": (
        TOKENS + "test_every_declared_pair_meets_wcag_aa",
        TOKENS + "test_stylesheet_declares_the_pairs_it_checks",
        TOKENS + "test_the_projector_themes_are_app_css_light_and_dark_tokens",
        PROJECTOR + "test_projector_passes_axe_in_both_themes",
    ),
    "target-size": (STATEMENT + "test_targets_on_the_main_pages_are_at_least_24_px",),
    "anonymity": (
        "tests/integration/test_qa.py::test_anonymous_question_has_no_author_anywhere",
        "tests/integration/test_polls.py::test_anonymous_answers_keep_no_participant_and_named_ones_do",
    ),
    "axe": (
        "tests/e2e/test_accessibility.py::test_every_page_passes_axe",
        STATEMENT + "test_main_pages_pass_axe_on_a_phone",
        PROJECTOR + "test_projector_passes_axe_in_both_themes",
    ),
    "keyboard-tests": (
        STATEMENT + "test_joining_with_the_keyboard_alone",
        "tests/e2e/test_polls_browser.py::test_word_cloud_poll_hidden_until_revealed_on_the_projector",
        PROJECTOR + "test_projector_tools_work_from_the_keyboard",
    ),
    "reflow-tests": (STATEMENT + "test_main_pages_reflow_at_320_css_pixels",),
    "contrast-tests": (
        TOKENS + "test_every_declared_pair_meets_wcag_aa",
        TOKENS + "test_stylesheet_declares_the_pairs_it_checks",
        TOKENS + "test_the_projector_themes_are_app_css_light_and_dark_tokens",
    ),
    "target-size-tests": (STATEMENT + "test_targets_on_the_main_pages_are_at_least_24_px",),
}

#: The model statement's sections, in its order.
HEADINGS = [
    "Accessibility statement for this webinar service",
    "How accessible this service is",
    "Feedback and contact information",
    "Reporting accessibility problems with this service",
    "Enforcement procedure",
    "Technical information about this service's accessibility",
    "Compliance status",
    "Non-accessible content",
    "Content that's not within the scope of the accessibility regulations",
    "Content the organiser writes",
    "How we tested this service",
    "What we're doing to improve accessibility",
    "Preparation of this accessibility statement",
]


class Outline(HTMLParser):
    """The headings' text and the claims (data-claim) of a page, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.headings: list[str] = []
        self.claims: list[str] = []
        self._in_heading = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("h1", "h2", "h3"):
            self._in_heading = True
            self.headings.append("")
        claim = dict(attrs).get("data-claim")
        if claim:
            self.claims.append(claim)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("h1", "h2", "h3"):
            self._in_heading = False

    def handle_data(self, data: str) -> None:
        if self._in_heading:
            self.headings[-1] += data


async def statement(contact: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=statement_app(contact))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        return await client.get(PATH)


def outline(html: str) -> Outline:
    parsed = Outline()
    parsed.feed(html)
    return parsed


async def test_statement_has_the_model_statements_sections() -> None:
    response = await statement("access@example.org")

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert [h.strip() for h in outline(response.text).headings] == HEADINGS
    text = re.sub(r"\s+", " ", response.text)
    assert "partially compliant with the" in text and "version 2.2</a> AA standard" in text
    assert "Equality and Human Rights Commission (EHRC)" in text
    assert "Equality Advisory and Support Service (EASS)" in text
    assert "Equality Commission for Northern Ireland" in text
    assert '<time datetime="2026-12-07">7 December 2026</time>' in text


async def test_statement_shows_the_operators_email_address() -> None:
    response = await statement("access@example.org")

    assert '<a href="mailto:access@example.org">access@example.org</a>' in response.text
    assert "No contact address has been set" not in response.text


async def test_statement_shows_the_operators_web_address() -> None:
    response = await statement("https://example.org/accessibility-help")

    assert (
        '<a href="https://example.org/accessibility-help">https://example.org/accessibility-help</a>'
        in response.text
    )


@pytest.mark.parametrize("contact", ["", "not an address"])
async def test_statement_without_a_usable_contact_tells_operators_to_set_one(contact: str) -> None:
    response = await statement(contact)

    assert "No contact address has been set for this service yet." in response.text
    assert "webinar serve --accessibility-contact ADDRESS" in response.text
    assert "mailto:" not in response.text


@pytest.mark.parametrize(
    ("value", "href"),
    [
        ("access@example.org", "mailto:access@example.org"),
        ("  https://example.org/help ", "https://example.org/help"),
        ("", None),
    ],
)
def test_parse_contact_takes_an_email_or_a_web_address(value: str, href: str | None) -> None:
    contact = parse_contact(value)

    assert (contact.href if contact else None) == href


@pytest.mark.parametrize("value", ["nobody", "javascript:alert(1)", "a@b", "ftp://example.org"])
def test_parse_contact_refuses_anything_else_with_a_sentence(value: str) -> None:
    with pytest.raises(ValueError) as refused:
        parse_contact(value)

    assert str(refused.value) == (
        "The accessibility contact must be an email address (access@example.org) or a web "
        f"address (https://...), not '{value}'."
    )


async def test_every_claim_of_the_statement_is_mapped_to_tests() -> None:
    claims = outline((await statement("")).text).claims

    assert sorted(claims) == sorted(CLAIMS)
    assert all(CLAIMS[claim] for claim in claims)


def test_every_test_backing_a_claim_exists_and_is_collected() -> None:
    wanted = sorted({test for tests in CLAIMS.values() for test in tests})

    collected = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *wanted],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert collected.returncode == 0, collected.stdout + collected.stderr
    found = {line.split("[", 1)[0] for line in collected.stdout.splitlines() if "::" in line}
    assert found == set(wanted)


def frame(page: str) -> str:
    """A page without its title, header's content and main: what its layout gives it."""
    page = re.sub(r"<title>.*?</title>", "<title></title>", page, flags=re.S)
    page = re.sub(r'(<header class="site-header">).*?(</header>)', r"\1\2", page, flags=re.S)
    page = re.sub(r"(<main [^>]*>).*?(</main>)", r"\1\2", page, flags=re.S)
    return page.replace(' aria-current="page"', "").replace(' class="statement"', "")


async def test_the_statement_has_the_programmes_layout() -> None:
    programme = site_environment().get_template("programme/signin.html")
    signin = programme.render(errors={}, account=None, csrf_token="t", notice=None)

    page = (await statement("")).text

    assert frame(page) == frame(signin)
    assert '<p class="event-title">Webinar</p>' in page
    assert '<a href="/accessibility" aria-current="page">Accessibility statement</a>' in page
    assert '<main id="main" tabindex="-1" class="statement">' in page
