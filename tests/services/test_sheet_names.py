"""Excel sheet names made from topic titles."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook, load_workbook

from webinar.services.exports import sheet_names

pytestmark = pytest.mark.unit


def test_sheet_names_are_valid_short_and_unique() -> None:
    titles = [
        "Can you anticipate any difficulties in completing LCSPRs?",
        "Can you anticipate any difficulties in conducting LCSPRs?",
        "What: [else] *should* we do? a/b\\c",
        "history",
        "  ",
        "'Quoted'",
        "Short",
        "SHORT",
    ]

    names = sheet_names(titles)

    assert names == [
        "Can you anticipate any…",
        "Can you anticipate any… (2)",
        "What else should we do a b c",
        "history (2)",
        "Sheet",
        "Quoted",
        "Short",
        "SHORT (2)",
    ]
    book = Workbook(write_only=True)
    for name in names:
        book.create_sheet(name)
    out = io.BytesIO()
    book.save(out)
    assert load_workbook(out).sheetnames == names


def test_sheet_names_keep_a_title_that_fits() -> None:
    assert sheet_names(["What would you change first"]) == ["What would you change first"]
