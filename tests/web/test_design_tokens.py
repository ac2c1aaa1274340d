"""The stylesheet's colour tokens meet WCAG 2.2 AA contrast (1.4.3, 1.4.11), in both
themes: the one place each pair of colours is checked.

``static/app.css`` declares its colours once, as custom properties in ``:root`` (light)
and ``[data-theme="dark"]``, and lists in a comment every pair of them that carries text
or marks a control (``contrast: --ink on --paper 4.5``). These tests read that file: each
declared pair meets its ratio in each theme, the pairs every page relies on stay
declared, every rule that sets both a text colour and a background from tokens uses a
declared pair, and no colour is written anywhere but in the token blocks. The projector's
two themes are these two (projector.css sets no colour of its own).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from wcag import contrast

ROOT = Path(__file__).resolve().parents[2]
CSS = (ROOT / "static" / "app.css").read_text(encoding="utf-8")

THEMES = {"light": r":root\s*\{", "dark": r'\[data-theme="dark"\]\s*\{'}
PAIR = re.compile(r"contrast: (--[\w-]+) on (--[\w-]+) (\d+(?:\.\d+)?)")
HEX = re.compile(r"#(?:[0-9a-fA-F]{6}|[0-9a-fA-F]{3})\b")


def block(opening: str) -> str:
    """The declarations of the first rule whose selector matches ``opening``."""
    found = re.search(opening + r"(.*?)\}", CSS, re.S)
    assert found is not None, f"app.css has no rule matching {opening}"
    return found.group(1)


def tokens(theme: str) -> dict[str, str]:
    """The colour tokens of ``theme``: the light ones, overridden by the dark ones."""
    light = dict(re.findall(r"(--[\w-]+):\s*(#[0-9a-fA-F]{3,6})\s*;", block(THEMES["light"])))
    if theme == "light":
        return light
    dark = dict(re.findall(r"(--[\w-]+):\s*(#[0-9a-fA-F]{3,6})\s*;", block(THEMES["dark"])))
    return light | dark


def declared_pairs() -> list[tuple[str, str, float]]:
    return [(fg, bg, float(ratio)) for fg, bg, ratio in PAIR.findall(CSS)]


def rules() -> list[tuple[str, str]]:
    """Every ``selector { declarations }`` of app.css outside the token blocks, with
    comments removed and @media wrappers unwrapped."""
    text = re.sub(r"/\*.*?\*/", "", CSS, flags=re.S)
    text = re.sub(r"@media[^{]*\{", "", text)
    return [
        (selector.strip(), body)
        for selector, body in re.findall(r"([^{}]+)\{([^{}]*)\}", text)
        if selector.strip() not in (":root", '[data-theme="dark"]')
    ]


#: Pairs every page relies on, and the least each must be declared with: text (4.5) on the
#: page and on panels, the words on a primary button and on the focus colour; and the
#: outlines of controls (3) against the page: fields (--ink), buttons (--accent), the
#: projector's tools (--muted), errors (--danger), which their 4.5 as text covers.
REQUIRED = (
    *(
        (f"--{fg}", f"--{bg}", 4.5)
        for fg in ("ink", "muted", "accent", "danger", "ok")
        for bg in ("paper", "panel")
    ),
    ("--accent-ink", "--accent", 4.5),
    ("--focus-ink", "--focus", 4.5),
    *((f"--{fg}", "--paper", 3.0) for fg in ("ink", "accent", "muted", "danger")),
)


def test_contrast_matches_known_ratios() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#fff", "#fff") == pytest.approx(1.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
    # #767676 is the lightest grey that passes 4.5:1 on white.
    assert contrast("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)
    assert contrast("#777777", "#ffffff") < 4.5


def test_stylesheet_declares_the_pairs_it_checks() -> None:
    pairs = declared_pairs()
    declared = {(fg, bg): ratio for fg, bg, ratio in pairs}

    assert len(pairs) >= 20
    missing = [
        f"{fg} on {bg} {least}" for fg, bg, least in REQUIRED if declared.get((fg, bg), 0) < least
    ]
    assert missing == []
    for fg, bg, ratio in pairs:
        assert ratio in (3.0, 4.5), f"{fg} on {bg}: AA asks 4.5 (text) or 3 (large, UI)"
        for theme in THEMES:
            assert {fg, bg} <= tokens(theme).keys(), f"{fg} or {bg} is no {theme} token"


@pytest.mark.parametrize("theme", list(THEMES))
def test_every_declared_pair_meets_wcag_aa(theme: str) -> None:
    colours = tokens(theme)

    ratios = [
        (fg, bg, contrast(colours[fg], colours[bg]), ratio) for fg, bg, ratio in declared_pairs()
    ]
    failing = [
        f"{fg} on {bg}: {found:.2f} < {ratio}" for fg, bg, found, ratio in ratios if found < ratio
    ]

    assert failing == []


def test_the_projector_themes_are_app_css_light_and_dark_tokens() -> None:
    template = (ROOT / "templates" / "projector.html").read_text(encoding="utf-8")
    skip_link = block(r"\.skip-link\s*\{")
    dark, light = tokens("dark"), tokens("light")

    # Dark is app.css's [data-theme="dark"], set on <html>; the skip link's words keep
    # their contrast on the focus colour in both (a declared pair, checked above).
    assert '{% if theme == "dark" %} data-theme="dark"{% endif %}' in template
    assert "color: var(--focus-ink)" in skip_link
    assert contrast(dark["--paper"], light["--paper"]) > 10
    assert dark["--ink"] != light["--ink"]


def test_dark_theme_redefines_every_colour() -> None:
    light = dict(re.findall(r"(--[\w-]+):\s*(#[0-9a-fA-F]{3,6})\s*;", block(THEMES["light"])))
    dark = dict(re.findall(r"(--[\w-]+):\s*(#[0-9a-fA-F]{3,6})\s*;", block(THEMES["dark"])))

    # --stage (behind video) is black in both themes; every other colour is set again.
    assert light.keys() - dark.keys() == {"--stage"}


def test_every_rule_with_text_and_background_uses_a_declared_pair() -> None:
    pairs = {(fg, bg) for fg, bg, _ in declared_pairs()}
    used = []
    for selector, body in rules():
        fg = re.search(r"(?<![\w-])color:\s*var\((--[\w-]+)\)", body)
        bg = re.search(r"background(?:-color)?:\s*var\((--[\w-]+)\)", body)
        if fg and bg:
            used.append((selector, fg.group(1), bg.group(1)))

    assert len(used) >= 10
    undeclared = [f"{s}: {fg} on {bg}" for s, fg, bg in used if (fg, bg) not in pairs]
    assert undeclared == []


def test_colours_are_written_only_as_tokens() -> None:
    stray = [f"{selector}: {HEX.findall(body)}" for selector, body in rules() if HEX.search(body)]

    assert stray == []


def test_docs_give_every_colour_token_its_values() -> None:
    docs = (ROOT / "docs" / "ui.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `(--[\w-]+)` \| `(#[0-9a-f]+)` \| `(#[0-9a-f]+)` \|", docs, re.M)

    documented = {name: (light, dark) for name, light, dark in rows}
    light, dark = tokens("light"), tokens("dark")
    assert documented == {name: (light[name], dark[name]) for name in light}


def test_docs_show_pictures_that_exist() -> None:
    docs = (ROOT / "docs" / "ui.md").read_text(encoding="utf-8")
    linked = re.findall(r"\]\((ui/[\w.-]+\.png)\)", docs)

    assert len(linked) >= 60
    missing = [path for path in linked if not (ROOT / "docs" / path).is_file()]
    assert missing == []


#: The page stylesheets: each lays out its own page with app.css's tokens and components.
PAGE_STYLESHEETS = ("host.css", "attendee.css", "projector.css")
#: What only app.css may style: the tabs, count badges, dialogs and keys (docs/ui.md).
COMPONENT = re.compile(
    r'\[role="tab"\]|\[role="tabpanel"\]|\.tabs\b|\.tab-list|\.app-tab|\.tab-count'
    r"|\.badge(?:-count|-count-urgent|-now|-done|-warn)?(?![\w-])|(?<![\w-])dialog\b|\.dialog-|\.host-dialog|(?<![\w-])kbd\b"
)
#: How a page may place a component's list (a sticky or fixed bar), nothing more.
PLACEMENT = re.compile(r"(?:position|top|bottom|left|right|inset|z-index|margin|padding)(?:-\w+)*")


def page_rules(name: str) -> list[tuple[str, str]]:
    """Every ``selector { declarations }`` of a page stylesheet, comments removed and
    @media wrappers unwrapped."""
    text = (ROOT / "static" / name).read_text(encoding="utf-8")
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r"@media[^{]*\{", "", text)
    return [(sel.strip(), body) for sel, body in re.findall(r"([^{}]+)\{([^{}]*)\}", text)]


@pytest.mark.parametrize("name", PAGE_STYLESHEETS)
def test_page_stylesheets_declare_no_colour_tokens(name: str) -> None:
    declared = [
        f"{selector}: {prop}"
        for selector, body in page_rules(name)
        for prop in re.findall(r"(--[\w-]+)\s*:", body)
    ]

    assert page_rules(name), f"{name} has no rules"
    assert declared == []


@pytest.mark.parametrize("name", PAGE_STYLESHEETS)
def test_page_stylesheets_leave_tabs_badges_and_dialogs_to_app_css(name: str) -> None:
    styled = [selector for selector, _ in page_rules(name) if COMPONENT.search(selector)]
    lists = [(s, b) for s, b in page_rules(name) if '[role="tablist"]' in s]
    restyled = [
        f"{selector}: {prop}"
        for selector, body in lists
        for prop in re.findall(r"([\w-]+)\s*:", body)
        if not PLACEMENT.fullmatch(prop)
    ]

    assert styled == []
    assert restyled == []


def test_the_component_check_catches_a_page_that_styles_its_own() -> None:
    assert COMPONENT.search('.side-pane [role="tab"][aria-selected="true"]')
    assert COMPONENT.search(".host-dialog::backdrop")
    assert COMPONENT.search("#qa .badge-count")
    assert COMPONENT.search("kbd")
    assert not COMPONENT.search(".tab-panel + .tab-panel")
    assert not COMPONENT.search("#qa-pending .badge-state")  # a hook, hidden by layout
    assert not COMPONENT.search(".side-pane table.grid .topic-short")
    assert PLACEMENT.fullmatch("margin-bottom") and not PLACEMENT.fullmatch("background")
