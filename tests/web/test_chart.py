"""The survey results chart: an accessible SVG drawn from the domain's counts."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from webinar.domain.agenda import Survey, SurveyQuestion
from webinar.domain.survey import Answer, summarise
from webinar.web.chart import bar_chart_svg

pytestmark = pytest.mark.unit

SVG = "{http://www.w3.org/2000/svg}"
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SURVEY = Survey(
    questions=(
        SurveyQuestion(
            code="overall",
            text="Overall, how would you rate today's webinar?",
            kind="rating",
            required=True,
            scale_min=1,
            scale_max=5,
            scale_min_label="Poor",
            scale_max_label="Excellent",
        ),
    )
)


def parse_svg(svg: str) -> ET.Element:
    return ET.fromstring(svg)


#: Charts as the domain drew them before the chart moved to the web layer, byte for byte.
DRAWN_BEFORE_THE_MOVE = [
    (
        (["1 (Poor)", "2", "5 (Excellent) <&>"], [0.0, 33.3, 66.7]),
        {"title": "Overall, how was it?", "max_value": 100.0},
        '<svg xmlns="http://www.w3.org/2000/svg" role="img" width="100%" '
        'viewBox="0 0 480 176" preserveAspectRatio="xMinYMin meet" '
        'aria-labelledby="chart-f5cdc71162-title chart-f5cdc71162-desc" '
        'font-family="sans-serif" font-size="16">'
        '<title id="chart-f5cdc71162-title">Overall, how was it?</title>'
        '<desc id="chart-f5cdc71162-desc">1 (Poor): 0.0%, 2: 33.3%, '
        "5 (Excellent) &lt;&amp;&gt;: 66.7%</desc>"
        '<text x="0" y="18" fill="#000000">1 (Poor)</text>'
        '<rect x="0" y="26" width="0.0" height="20" fill="#1d4f91"/>'
        '<text x="6.0" y="41" fill="#000000">0.0%</text>'
        '<text x="0" y="74" fill="#000000">2</text>'
        '<rect x="0" y="82" width="133.2" height="20" fill="#1d4f91"/>'
        '<text x="139.2" y="97" fill="#000000">33.3%</text>'
        '<text x="0" y="130" fill="#000000">5 (Excellent) &lt;&amp;&gt;</text>'
        '<rect x="0" y="138" width="266.8" height="20" fill="#1d4f91"/>'
        '<text x="272.8" y="153" fill="#000000">66.7%</text></svg>',
    ),
    (
        ([], []),
        {"title": "Nothing yet"},
        '<svg xmlns="http://www.w3.org/2000/svg" role="img" width="100%" '
        'viewBox="0 0 480 64" preserveAspectRatio="xMinYMin meet" '
        'aria-labelledby="chart-b7a5f52c43-title chart-b7a5f52c43-desc" '
        'font-family="sans-serif" font-size="16">'
        '<title id="chart-b7a5f52c43-title">Nothing yet</title>'
        '<desc id="chart-b7a5f52c43-desc">No data.</desc></svg>',
    ),
    (
        (["A", "L" * 70], [1.5, 3]),
        {"title": "Mean", "unit": "responses"},
        '<svg xmlns="http://www.w3.org/2000/svg" role="img" width="100%" '
        'viewBox="0 0 480 120" preserveAspectRatio="xMinYMin meet" '
        'aria-labelledby="chart-1f2460ab8d-title chart-1f2460ab8d-desc" '
        'font-family="sans-serif" font-size="16">'
        '<title id="chart-1f2460ab8d-title">Mean</title>'
        '<desc id="chart-1f2460ab8d-desc">A: 1.5 responses, ' + "L" * 70 + ": 3 responses</desc>"
        '<text x="0" y="18" fill="#000000">A</text>'
        '<rect x="0" y="26" width="200.0" height="20" fill="#1d4f91"/>'
        '<text x="206.0" y="41" fill="#000000">1.5 responses</text>'
        '<text x="0" y="74" fill="#000000">' + "L" * 53 + "...</text>"
        '<rect x="0" y="82" width="400.0" height="20" fill="#1d4f91"/>'
        '<text x="406.0" y="97" fill="#000000">3 responses</text></svg>',
    ),
]


@pytest.mark.parametrize(("data", "options", "expected"), DRAWN_BEFORE_THE_MOVE)
def test_bar_chart_svg_is_drawn_as_before_the_move(
    data: tuple[list[str], list[float]], options: dict[str, Any], expected: str
) -> None:
    labels, values = data

    assert bar_chart_svg(labels, values, **options) == expected


def test_bar_chart_svg_is_accessible_image_with_title_and_desc() -> None:
    svg = bar_chart_svg(["Excellent", "Good"], [40.0, 30.0], title="Overall rating")

    root = parse_svg(svg)
    title = root.find(f"{SVG}title")
    desc = root.find(f"{SVG}desc")

    assert (root.tag, root.get("role"), root.get("width")) == (f"{SVG}svg", "img", "100%")
    assert root.get("viewBox") == "0 0 480 120"
    assert title is not None and desc is not None
    assert (title.text, desc.text) == ("Overall rating", "Excellent: 40.0%, Good: 30.0%")
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    assert list(root)[:2] == [title, desc]


def test_bar_chart_svg_draws_one_rect_and_two_texts_per_bar() -> None:
    svg = bar_chart_svg(["Excellent", "Good", "Poor"], [40.0, 30.0, 0.0], title="Overall")

    root = parse_svg(svg)

    assert [r.get("width") for r in root.iter(f"{SVG}rect")] == ["160.0", "120.0", "0.0"]
    assert [t.text for t in root.iter(f"{SVG}text")] == [
        "Excellent",
        "40.0%",
        "Good",
        "30.0%",
        "Poor",
        "0.0%",
    ]


def test_bar_chart_svg_max_value_scales_bars() -> None:
    svg = bar_chart_svg(["A", "B"], [3, 6], title="Ticks", unit="responses", max_value=12)

    root = parse_svg(svg)

    assert [r.get("width") for r in root.iter(f"{SVG}rect")] == ["100.0", "200.0"]
    assert [t.text for t in root.iter(f"{SVG}text")][1::2] == ["3 responses", "6 responses"]


def test_bar_chart_svg_without_unit_scales_to_largest_value() -> None:
    svg = bar_chart_svg(["A", "B"], [1.5, 3], title="Mean", unit="")

    root = parse_svg(svg)
    desc = root.find(f"{SVG}desc")

    assert [r.get("width") for r in root.iter(f"{SVG}rect")] == ["200.0", "400.0"]
    assert desc is not None and desc.text == "A: 1.5, B: 3"


def test_bar_chart_svg_escapes_markup_in_labels_and_title() -> None:
    svg = bar_chart_svg(["<script>alert(1)</script>", "Q&A"], [50.0, 50.0], title="R&D <b>")

    root = parse_svg(svg)
    desc = root.find(f"{SVG}desc")
    title = root.find(f"{SVG}title")

    assert "<script>" not in svg
    assert root.find(f".//{SVG}script") is None
    assert [t.text for t in root.iter(f"{SVG}text")][::2] == ["<script>alert(1)</script>", "Q&A"]
    assert title is not None and title.text == "R&D <b>"
    assert desc is not None and desc.text == "<script>alert(1)</script>: 50.0%, Q&A: 50.0%"


def test_bar_chart_svg_has_no_style_script_or_external_resources() -> None:
    svg = bar_chart_svg(["A"], [10.0], title="T")

    root = parse_svg(svg)
    attributes = {name for element in root.iter() for name in element.attrib}
    tags = {element.tag.removeprefix(SVG) for element in root.iter()}

    assert "style" not in attributes
    assert tags == {"svg", "title", "desc", "text", "rect"}
    assert "href" not in svg and "url(" not in svg and "@import" not in svg


def luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_with_white(colour: str) -> float:
    return 1.05 / (luminance(colour) + 0.05)


def test_bar_chart_svg_colours_meet_contrast_against_white() -> None:
    root = parse_svg(bar_chart_svg(["A", "B"], [10.0, 20.0], title="T"))

    bar_fills = {r.get("fill", "") for r in root.iter(f"{SVG}rect")}
    text_fills = {t.get("fill", "") for t in root.iter(f"{SVG}text")}

    assert (bar_fills, text_fills) == ({"#1d4f91"}, {"#000000"})
    assert min(contrast_with_white(c) for c in bar_fills) >= 3.0
    assert min(contrast_with_white(c) for c in text_fills) >= 4.5


def test_bar_chart_svg_long_label_shortened_on_bar_full_in_desc() -> None:
    label = "L" * 100

    root = parse_svg(bar_chart_svg([label], [5.0], title="T"))
    desc = root.find(f"{SVG}desc")

    assert next(t.text for t in root.iter(f"{SVG}text")) == "L" * 53 + "..."
    assert desc is not None and desc.text == f"{label}: 5.0%"


def test_bar_chart_svg_no_data_is_well_formed() -> None:
    root = parse_svg(bar_chart_svg([], [], title="Nothing yet"))
    desc = root.find(f"{SVG}desc")

    assert desc is not None and desc.text == "No data."
    assert list(root.iter(f"{SVG}rect")) == []


def test_bar_chart_svg_control_characters_removed_to_stay_well_formed() -> None:
    root = parse_svg(bar_chart_svg(["a\x00b\x1bc"], [1.0], title="t\x07"))

    assert next(t.text for t in root.iter(f"{SVG}text")) == "abc"


def test_bar_chart_svg_same_data_same_ids_different_data_different_ids() -> None:
    first = parse_svg(bar_chart_svg(["A"], [1.0], title="One"))
    again = parse_svg(bar_chart_svg(["A"], [1.0], title="One"))
    other = parse_svg(bar_chart_svg(["A"], [2.0], title="One"))

    assert first.get("aria-labelledby") == again.get("aria-labelledby")
    assert first.get("aria-labelledby") != other.get("aria-labelledby")


@pytest.mark.parametrize(
    ("labels", "values", "message"),
    [
        (["A", "B"], [1.0], "2 labels but 1 values"),
        (["A"], [-1.0], "values must be finite and not negative"),
        (["A"], [float("inf")], "values must be finite and not negative"),
    ],
)
def test_bar_chart_svg_bad_data_is_refused(
    labels: list[str], values: list[float], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        bar_chart_svg(labels, values, title="T")


def test_bar_chart_svg_from_summary_rating_counts() -> None:
    responses: list[Mapping[str, Answer]] = [{"overall": 5}, {"overall": 5}, {"overall": 4}]
    overall = summarise(SURVEY, responses)[0]

    svg = bar_chart_svg(
        [c.label for c in overall.counts], [c.percent for c in overall.counts], title=overall.text
    )
    desc = parse_svg(svg).find(f"{SVG}desc")

    assert desc is not None and desc.text == (
        "1 (Poor): 0.0%, 2: 0.0%, 3: 0.0%, 4: 33.3%, 5 (Excellent): 66.7%"
    )


@SETTINGS
@given(
    labels=st.lists(st.text(max_size=100), max_size=8),
    title=st.text(max_size=100),
    data=st.data(),
    unit=st.sampled_from(["%", "", "responses", "<&>"]),
)
def test_bar_chart_svg_any_text_is_well_formed(
    labels: list[str], title: str, data: st.DataObject, unit: str
) -> None:
    values = data.draw(
        st.lists(
            st.floats(0, 1e6, allow_nan=False, allow_infinity=False),
            min_size=len(labels),
            max_size=len(labels),
        )
    )

    svg = bar_chart_svg(labels, values, title=title, unit=unit)
    root = ET.fromstring(svg)

    assert root.get("role") == "img"
    assert len(list(root.iter(f"{SVG}rect"))) == len(labels)
    assert len(list(root.iter(f"{SVG}text"))) == 2 * len(labels)
    assert "style" not in {name for element in root.iter() for name in element.attrib}
    assert root.find(f".//{SVG}script") is None
