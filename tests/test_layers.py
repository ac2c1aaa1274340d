"""The domain does no I/O: what import-linter cannot see.

Which layer imports which, the modules the domain may not import (starlette, aiosqlite,
os, asyncio, ...) and cycles inside a layer are import-linter contracts in pyproject.toml,
checked by ``lint-imports`` in scripts/test. Opening a file or awaiting needs no import,
so this test reads the domain's source for them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "webinar"

pytestmark = pytest.mark.unit


def test_domain_opens_no_files_and_awaits_nothing() -> None:
    offending = []
    for path in sorted((PACKAGE / "domain").rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        if re.search(r"\bopen\(|\bawait ", source):
            offending.append(f"{path.name} opens files or awaits")

    assert offending == []
