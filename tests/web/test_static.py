"""Vendored front-end files are the pinned versions, and pages carry the security headers."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from helpers import LiveServer, Person

ROOT = Path(__file__).resolve().parents[2]


def test_vendored_files_match_the_recorded_hashes() -> None:
    table = (ROOT / "static" / "vendor" / "VENDORED.md").read_text(encoding="utf-8")
    rows = re.findall(r"\| `([^`]+\.js)` \| .*? \| ([0-9a-f]{64}) \|", table)

    assert len(rows) == 3
    for name, digest in rows:
        data = (ROOT / "static" / "vendor" / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == digest, name


def test_templates_load_no_script_from_elsewhere() -> None:
    sources = []
    for path in (ROOT / "templates").rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        sources += re.findall(r'<script[^>]*src="([^"]+)"', text)
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), f"inline script in {path}"
        assert " style=" not in text, f"inline style in {path}"
        assert " hx-on" not in text, f"hx-on needs eval, which the CSP forbids: {path}"

    assert sources and all(src.startswith("/static/") for src in sources)


@pytest.mark.integration
async def test_pages_send_security_headers(server: LiveServer) -> None:
    visitor = Person(server.base)

    response = await visitor.http.get("/join")
    static = await visitor.http.get("/static/app.css")

    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    assert static.headers["content-security-policy"] == csp
    set_cookie = response.headers["set-cookie"].lower()
    assert "httponly" in set_cookie
    assert "samesite=lax" in set_cookie
    await visitor.close()


@pytest.mark.integration
async def test_openapi_lists_every_action(server: LiveServer) -> None:
    from webinar.web.actions import REGISTRY

    visitor = Person(server.base)
    document = (await visitor.http.get("/api/openapi.json")).json()
    await visitor.close()

    fixed = {"/api/session", "/api/join", "/api/agenda", "/api/qa/questions", "/api/qa/export"}
    paths = set(document["paths"]) - fixed
    assert paths == {"/api/" + name.replace(".", "/") for name in REGISTRY}
    assert document["openapi"] == "3.1.0"
