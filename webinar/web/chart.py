"""Survey results drawn as accessible SVG bar charts (for the results page and report).

Rendering, not rules: the domain counts the answers (:mod:`webinar.domain.survey`); this
module only draws them.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence
from xml.sax.saxutils import escape

#: Bar colour: 8.6:1 against white (at least 3:1 is needed for graphics).
BAR_COLOUR = "#1d4f91"
#: Text colour: 21:1 against white (at least 4.5:1 is needed for text).
TEXT_COLOUR = "#000000"
#: Characters XML 1.0 does not allow; removed from chart text so the SVG stays well-formed.
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

#: Chart geometry in viewBox units. The chart is drawn 480 wide so that, scaled down to a
#: phone's width, its 16-unit text stays readable (about 12 px on a 360 px screen).
_WIDTH = 480
_ROW = 56
_LABEL_BASELINE = 18
_BAR_TOP = 26
_BAR_HEIGHT = 20
_VALUE_SPACE = 80
_LABEL_CHARS = 56
_FONT_SIZE = 16


def bar_chart_svg(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    title: str,
    unit: str = "%",
    max_value: float | None = None,
) -> str:
    """A horizontal bar chart as an accessible, self-contained SVG string.

    Each row shows its label above a bar and the value after the bar. The ``<title>`` names
    the chart and the ``<desc>`` gives the data in words ("Excellent: 40.0%, Good: 30.0%").
    The SVG is 100% wide and scales through its viewBox; it uses presentation attributes only
    (no ``style``, CSS, fonts or script), so a strict Content Security Policy allows it.

    ``unit`` is appended to each value: directly for ``"%"`` (one decimal, ``"40.0%"``),
    after a space otherwise (``"12 responses"``). Bars are drawn to scale against
    ``max_value``; by default 100 for percentages (or the largest value if above 100) and the
    largest value otherwise. Labels longer than 56 characters are shortened on the bars but
    given in full in the description. ``ValueError`` if the lengths differ or a value is
    negative or not finite.
    """
    if len(labels) != len(values):
        raise ValueError(f"{len(labels)} labels but {len(values)} values")
    numbers = [float(v) for v in values]
    if any(not math.isfinite(v) or v < 0 for v in numbers):
        raise ValueError("values must be finite and not negative")
    top = max(numbers, default=0.0)
    if max_value is not None:
        scale = max_value
    elif unit == "%":
        scale = max(100.0, top)
    else:
        scale = top
    if not math.isfinite(scale) or scale <= 0:
        scale = 1.0

    names = [_xml_text(label) for label in labels]
    shown = [_format_value(v, unit) for v in numbers]
    description = ", ".join(f"{name}: {value}" for name, value in zip(names, shown, strict=True))
    description = description or "No data."
    title_text = _xml_text(title)
    digest = hashlib.sha1(
        "\x1f".join([title_text, description]).encode("utf-8"), usedforsecurity=False
    ).hexdigest()[:10]
    chart_id = f"chart-{digest}"

    bar_space = _WIDTH - _VALUE_SPACE
    height = max(len(numbers), 1) * _ROW + 8
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="100%" '
        f'viewBox="0 0 {_WIDTH} {height}" preserveAspectRatio="xMinYMin meet" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" '
        f'font-family="sans-serif" font-size="{_FONT_SIZE}">',
        f'<title id="{chart_id}-title">{escape(title_text)}</title>',
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>',
    ]
    for index, (name, value, text) in enumerate(zip(names, numbers, shown, strict=True)):
        row = index * _ROW
        width = round(bar_space * min(value, scale) / scale, 1)
        parts.append(
            f'<text x="0" y="{row + _LABEL_BASELINE}" fill="{TEXT_COLOUR}">'
            f"{escape(_clip(name, _LABEL_CHARS))}</text>"
        )
        parts.append(
            f'<rect x="0" y="{row + _BAR_TOP}" width="{width}" height="{_BAR_HEIGHT}" '
            f'fill="{BAR_COLOUR}"/>'
        )
        parts.append(
            f'<text x="{round(width + 6, 1)}" y="{row + _BAR_TOP + _BAR_HEIGHT - 5}" '
            f'fill="{TEXT_COLOUR}">{escape(text)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _xml_text(text: str) -> str:
    """``text`` without characters XML cannot hold (escaping is done where it is written)."""
    return _NOT_XML.sub("", text)


def _format_value(value: float, unit: str) -> str:
    if unit == "%":
        return f"{value:.1f}%"
    number = f"{round(value, 2):.2f}".rstrip("0").rstrip(".")
    return f"{number} {unit}" if unit else number


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
