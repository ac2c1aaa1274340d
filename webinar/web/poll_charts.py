"""Poll results as accessible SVG: bars (the survey's chart) and a word cloud.

Pure string building, as the survey's chart: presentation attributes only (no ``style``,
CSS, fonts or script), so a strict Content Security Policy allows it; every text is
escaped. The page shows the same figures in a table beside each picture.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from html import escape
from typing import Any

from webinar.domain.polls import Row, Tally
from webinar.web.chart import BAR_COLOUR, TEXT_COLOUR, bar_chart_svg

CLOUD_WIDTH = 480
CLOUD_LINE = 12
SMALLEST, LARGEST = 14, 44
#: Average glyph width as a share of the font size, to lay words out without fonts.
GLYPH = 0.6


def bars_svg(tally: Tally, title: str) -> str:
    """Each option's (or rating value's) percentage of respondents as a bar."""
    return bar_chart_svg(
        [row.label + (" (correct)" if row.correct else "") for row in tally.rows],
        [row.percent for row in tally.rows],
        title=title,
        max_value=100.0,
    )


def word_cloud_svg(tally: Tally, title: str) -> str:
    """The words, most frequent first and largest, flowed into lines.

    The ``<desc>`` lists each word with how many people gave it, for screen readers.
    """
    rows = tally.rows
    top = max((row.count for row in rows), default=1)
    placed: list[tuple[str, float, float, int]] = []
    x = y = 0.0
    line_height = 0
    for row in rows:
        size = round(SMALLEST + (LARGEST - SMALLEST) * row.count / top)
        # A long word is made smaller rather than run past the picture's edge.
        size = min(size, int(CLOUD_WIDTH / (max(len(row.label), 1) * GLYPH)))
        width = len(row.label) * size * GLYPH
        if x and x + width > CLOUD_WIDTH:
            x, y = 0.0, y + line_height + CLOUD_LINE
            line_height = 0
        line_height = max(line_height, size)
        placed.append((row.label, x, y + size, size))
        x += width + size * GLYPH
    height = int(y + line_height + CLOUD_LINE) if rows else 40
    description = ", ".join(f"{row.label}: {row.count}" for row in rows) or "No words yet."
    digest = hashlib.sha1((title + description).encode(), usedforsecurity=False).hexdigest()[:10]
    chart_id = f"cloud-{digest}"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="100%" '
        f'viewBox="0 0 {CLOUD_WIDTH} {height}" preserveAspectRatio="xMinYMin meet" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" font-family="sans-serif">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>',
    ]
    for index, (label, left, baseline, size) in enumerate(placed):
        colour = BAR_COLOUR if index % 2 == 0 else TEXT_COLOUR
        parts.append(
            f'<text x="{round(left, 1)}" y="{round(baseline, 1)}" font-size="{size}" '
            f'fill="{colour}">{escape(label)}</text>'
        )
    if not rows:
        parts.append(
            f'<text x="0" y="24" font-size="{SMALLEST}" fill="{TEXT_COLOUR}">No words yet.</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def chart_svg(results: Mapping[str, Any]) -> str:
    """The chart for results as the service sends them (``PollService.results_data``):
    a word cloud for a word-cloud poll, bars otherwise; "" for open text."""
    kind = results["kind"]
    if kind == "text":
        return ""
    rows = tuple(
        Row(str(r["label"]), int(r["count"]), float(r["percent"]), bool(r["correct"]))
        for r in results["rows"]
    )
    tally = Tally(int(results["respondents"]), rows)
    title = str(results["question"])
    return word_cloud_svg(tally, title) if kind == "words" else bars_svg(tally, title)
