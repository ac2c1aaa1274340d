"""The file formats of every export: CSV and XLSX, cells made safe for spreadsheets.

Its own module so that the exports of each area (``exports``, ``poll_exports``) share it
without importing one another.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

#: In CSV, spreadsheet programs run text starting with these as formulas: prefix a quote.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _safe(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def to_csv(rows: list[dict[str, Any]], columns: Sequence[tuple[str, str]]) -> bytes:
    """UTF-8 CSV with a byte-order mark (so spreadsheet programs read accents right)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([label for _, label in columns])
    for row in rows:
        writer.writerow([_safe(row[key]) for key, _ in columns])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(
    sheets: list[tuple[str, list[dict[str, Any]], Sequence[tuple[str, str]]]],
) -> bytes:
    """An XLSX workbook with one sheet per (title, rows, columns).

    Each sheet has a bold header row (frozen), column widths set, and its other cells
    wrapped and aligned to the top; text starting with "=" stays text, never a formula.
    Written in openpyxl's write-only mode, a row at a time: linear in the cells (the
    normal mode's ``sheet.max_row`` scans every cell, which made a row loop quadratic).
    """
    book = Workbook(write_only=True)
    for title, rows, columns in sheets:
        sheet = book.create_sheet(title[:31])
        # Widths and panes go out before the first row, so they are set first.
        for index, (key, _) in enumerate(columns, start=1):
            width = 60 if key in ("text", "answer", "replies") else 18
            sheet.column_dimensions[get_column_letter(index)].width = width
        sheet.freeze_panes = "A2"
        sheet.append([_header_cell(sheet, label) for _, label in columns])
        for row in rows:
            sheet.append([_body_cell(sheet, row[key]) for key, _ in columns])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


_BOLD = Font(bold=True)


_WRAP_TOP = Alignment(wrap_text=True, vertical="top")


def _header_cell(sheet: Any, label: str) -> Cell:
    cell = WriteOnlyCell(sheet, label)
    cell.font = _BOLD
    return cell


def _body_cell(sheet: Any, value: Any) -> Cell:
    cell = WriteOnlyCell(sheet, value)
    cell.alignment = _WRAP_TOP
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"  # text, never a formula
    return cell


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
