"""The layers import downwards only, and the domain does no I/O."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "webinar"
ORDER = ["domain", "storage", "realtime", "services", "web", "cli"]
#: What each layer may import from the project (besides itself).
ALLOWED = {
    "domain": set(),
    "storage": {"domain"},
    "realtime": {"domain"},
    "services": {"domain", "storage", "realtime"},
    "web": {"domain", "services", "realtime", "storage"},
    "cli": {"domain", "services", "web", "storage"},
}
IO_MODULES = {
    "starlette",
    "aiosqlite",
    "sqlite3",
    "jinja2",
    "websockets",
    "uvicorn",
    "httpx",
    "asyncio",
    "socket",
    "subprocess",
    "os",
    "pathlib",
    "open",
}

pytestmark = pytest.mark.unit


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("layer", ORDER)
def test_layer_imports_only_lower_layers(layer: str) -> None:
    offending = []
    for path in sorted((PACKAGE / layer).rglob("*.py")):
        for name in imports_of(path):
            parts = name.split(".")
            inner = parts[1] if parts[0] == "webinar" and len(parts) > 1 else ""
            if inner in ORDER and inner != layer and inner not in ALLOWED[layer]:
                offending.append(f"{path.relative_to(PACKAGE)} imports {name}")

    assert offending == []


def test_domain_does_no_io() -> None:
    offending = []
    for path in sorted((PACKAGE / "domain").rglob("*.py")):
        for name in imports_of(path):
            if name.split(".")[0] in IO_MODULES:
                offending.append(f"{path.name} imports {name}")
        source = path.read_text(encoding="utf-8")
        if re.search(r"\bopen\(|\bawait ", source):
            offending.append(f"{path.name} opens files or awaits")

    assert offending == []
