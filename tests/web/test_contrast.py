"""WCAG 2.2 contrast (1.4.3, 1.4.11) of the colours the stylesheets name: app.css's tokens,
the background colours it writes out, and the projector's two themes, which are app.css's
light (``:root``) and dark (``[data-theme="dark"]``) tokens: projector.css sets none.

Text on a background needs 4.5:1; the outlines of controls (buttons, fields, the focus
ring) 3:1. ``--line`` draws separators and table rules only, which 1.4.11 leaves out."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from wcag import contrast

pytestmark = pytest.mark.unit

STATIC = Path(__file__).resolve().parents[2] / "static"

TEXT = ("ink", "muted", "accent", "danger", "ok")
BACKGROUNDS = ("paper", "panel")
#: Outlines of controls against the page: buttons (--accent), fields (--ink), the
#: projector's tools (--muted), errors (--danger).
OUTLINES = ("ink", "accent", "muted", "danger")

_HEX = r"#[0-9a-fA-F]{6}\b|#[0-9a-fA-F]{3}\b"


def tokens_in(css: str, selector: str) -> dict[str, str]:
    """The colour tokens (``--name: #hex``) set in the rule for ``selector``."""
    rule = re.search(re.escape(selector) + r"\s*\{(.*?)\}", css, re.S)
    assert rule is not None, f"no rule for {selector}"
    return dict(re.findall(r"--([\w-]+):\s*(" + _HEX + ")", rule.group(1)))


def app_tokens() -> dict[str, str]:
    return tokens_in((STATIC / "app.css").read_text(), ":root")


def themes() -> dict[str, dict[str, str]]:
    """Each projector theme's tokens: app.css's light ones, and its dark ones over them."""
    css = (STATIC / "app.css").read_text()
    base = app_tokens()
    return {"light": base, "dark": {**base, **tokens_in(css, '[data-theme="dark"]')}}


def failures(
    tokens: dict[str, str], backgrounds: dict[str, str], on_focus: str = "focus-ink"
) -> list[str]:
    """Every pair below its minimum; ``on_focus`` names the skip link's text colour on the
    focus colour (app.css gives it ``--focus-ink`` in both themes)."""
    found = []
    for text in TEXT:
        for name, background in backgrounds.items():
            ratio = contrast(tokens[text], background)
            if ratio < 4.5:
                found.append(f"--{text} on {name}: {ratio:.2f}:1 < 4.5:1")
    for outline in OUTLINES:
        ratio = contrast(tokens[outline], tokens["paper"])
        if ratio < 3:
            found.append(f"--{outline} outline on --paper: {ratio:.2f}:1 < 3:1")
    for text, background in (("accent-ink", "accent"), (on_focus, "focus")):
        ratio = contrast(tokens[text], tokens[background])
        if ratio < 4.5:
            found.append(f"--{text} on --{background}: {ratio:.2f}:1 < 4.5:1")
    return found


def test_contrast_ratio_matches_wcag_reference_values() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
    assert contrast("#fff", "#ffffff") == pytest.approx(1.0)


def test_contrast_of_every_text_and_background_token_in_app_css() -> None:
    tokens = app_tokens()
    css = (STATIC / "app.css").read_text()
    # Backgrounds written out rather than named (a highlighted row, a starred response).
    written = set(re.findall(r"background:\s*(" + _HEX + ")", css)) - {"#000"}
    backgrounds = {f"--{b}": tokens[b] for b in BACKGROUNDS} | {c: c for c in written}

    assert set(TEXT + BACKGROUNDS + ("accent-ink", "focus")) <= set(tokens)
    assert failures(tokens, backgrounds) == []


@pytest.mark.parametrize("theme", ["dark", "light"])
def test_contrast_of_every_token_in_both_projector_themes(theme: str) -> None:
    tokens = themes()[theme]
    backgrounds = {f"--{b}": tokens[b] for b in BACKGROUNDS}
    projector_css = (STATIC / "projector.css").read_text()
    app_css = (STATIC / "app.css").read_text()
    template = (STATIC.parent / "templates" / "projector.html").read_text()

    # What the projector really uses: app.css's tokens, its dark ones on <html> when dark.
    assert re.findall(r"--[\w-]+\s*:", projector_css) == []
    assert '{% if theme == "dark" %} data-theme="dark"{% endif %}' in template
    skip_link = re.search(r"\.skip-link \{(.*?)\}", app_css)
    assert skip_link is not None and "color: var(--focus-ink)" in skip_link.group(1)
    assert failures(tokens, backgrounds) == []


def test_the_projector_themes_differ_in_their_colours() -> None:
    dark, light = themes()["dark"], themes()["light"]

    assert contrast(dark["paper"], light["paper"]) > 10
    assert dark["ink"] != light["ink"]
