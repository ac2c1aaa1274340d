"""The one control-character check: single-line text allows none, multi-line text allows
line breaks and tabs; every input refuses the rest in its own words."""

from __future__ import annotations

import pytest

from webinar.domain import breakout, qa, survey
from webinar.domain.agenda import Survey, SurveyQuestion
from webinar.domain.text import LINE_BREAKS_AND_TABS, has_control_character

pytestmark = pytest.mark.unit

#: A bell, NUL, escape, DEL, the C1 "next line" and a lone surrogate.
REFUSED = ["\x07", "\x00", "\x1b", "\x7f", "\x85", "\ud800"]


@pytest.mark.parametrize("character", REFUSED)
def test_control_characters_and_lone_surrogates_are_found(character: str) -> None:
    assert has_control_character(f"Ann{character}Lee")
    assert has_control_character(f"Ann{character}Lee", allow=LINE_BREAKS_AND_TABS)


def test_line_breaks_and_tabs_are_allowed_only_where_asked() -> None:
    text = "First line\r\nsecond\tline\n"

    assert has_control_character(text)
    assert not has_control_character(text, allow=LINE_BREAKS_AND_TABS)


def test_what_people_type_is_not_a_control_character() -> None:
    # Emoji, combining accents, right-to-left text and its marks (format characters, Cf).
    assert not has_control_character("Zoë 👩🏽‍⚕️ نور\u200f e\u0301")


def test_a_breakout_point_sent_with_a_windows_line_break_is_kept() -> None:
    assert breakout.clean_short("First\r\nsecond", breakout.POINT_MAX, "point") == (
        "First\r\nsecond"
    )


def test_every_input_refuses_a_control_character_in_its_own_words() -> None:
    question = SurveyQuestion(code="q1", text="Anything else?", kind="text")
    refusals = []
    for check in (
        lambda: breakout.clean_response("a\x07"),
        lambda: breakout.clean_short("a\x07", breakout.POINT_MAX, "point"),
        lambda: qa.clean_text("a\x07", limit=500),
        lambda: survey.clean_answers(
            Survey(questions=(question,)), {"q1": "a\x07"}, asked_question=False, final=True
        ),
    ):
        with pytest.raises(ValueError) as caught:
            check()
        refusals.append(str(caught.value))

    assert refusals == [
        "The response contains a control character.",
        "The point contains a control character.",
        "Your question contains a control character; remove it.",
        'Your answer to question 1 ("Anything else?") contains a control character; remove it.',
    ]
