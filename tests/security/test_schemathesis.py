"""Schemathesis against the OpenAPI document, as an attendee and as a host.

Cases are generated from ``/api/openapi.json`` (valid ones, then ones that break the
schema) and sent to a real ``webinar serve``; each response must be no 5xx, carry a
status code and content type the document declares, and match its schema; a request
that breaks the schema must be refused. Bounded: 8 valid and 25 invalid examples per
operation and role (about 3,000 requests).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.errors import InvalidSchema
from schemathesis.core.result import Err, Ok
from schemathesis.schemas import APIOperation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from helpers import ServerProcess
from postgres_cluster import database
from webinar.services import prepare_database
from webinar.web.openapi import openapi_document

pytestmark = pytest.mark.integration

#: Examples per operation and role. Invalid requests need more: most operations have
#: several inputs to break, and a lax parser (``"yes"`` taken for ``true``) was found only
#: from about 25.
EXAMPLES = {GenerationMode.POSITIVE: 8, GenerationMode.NEGATIVE: 25}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Any:
    db = database(str(tmp_path_factory.mktemp("schemathesis") / "api.db"), keep=True)
    secrets = prepare_database(db)
    server = ServerProcess(db)
    server.start()
    try:
        yield server, {role: session_of(server, secrets, role) for role in ("attendee", "host")}
    finally:
        server.stop()


def session_of(server: ServerProcess, secrets: dict[str, str], role: str) -> dict[str, str]:
    """Headers for a session of ``role``: its cookie and CSRF token."""
    with httpx.Client(base_url=server.base, timeout=30) as client:
        if role == "host":
            client.get(f"/enter/host/{secrets['host_token']}")
        else:
            client.post("/api/join", json={"code": secrets["join_code"], "name": "Schema"})
        info = client.get("/api/session").json()
        assert info["participant"]["role"] == role
        cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
    return {"Cookie": cookie, "X-CSRF-Token": info["csrf_token"], "Origin": server.base}


SCHEMA = schemathesis.openapi.from_dict(openapi_document())

Operation = APIOperation[Any, Any, Any, Any]


def operation(result: Ok[Operation] | Err[InvalidSchema]) -> Operation:
    """An operation of the document, or the error that made it unreadable."""
    if isinstance(result, Err):
        raise result.err()
    return result.ok()


OPERATIONS = [operation(result) for result in SCHEMA.get_all_operations()]
#: Valid requests for every operation; invalid ones where there is an input to break.
CASES = [(op, GenerationMode.POSITIVE) for op in OPERATIONS] + [
    (op, GenerationMode.NEGATIVE)
    for op in OPERATIONS
    if op.body or any(True for _ in op.iter_parameters())
]


@pytest.mark.parametrize("role", ["attendee", "host"])
@pytest.mark.parametrize(
    ("operation", "mode"), CASES, ids=lambda v: v.label if hasattr(v, "label") else v.value
)
def test_the_api_keeps_to_its_document(
    running: Any, role: str, mode: GenerationMode, operation: Any
) -> None:
    server, sessions = running
    headers = sessions[role]
    checks = CHECKS + ([negative_data_rejection] if mode is GenerationMode.NEGATIVE else [])

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES[mode],
        deadline=None,
        database=None,
        derandomize=True,  # the same examples every run: a failure reproduces
        suppress_health_check=list(HealthCheck),
    )
    def probe(case: Any) -> None:
        response = case.call(base_url=server.base, headers=headers, timeout=30)
        # 413 (too large: a text at its length limit in 4-byte characters) is a refusal
        # too, though not one of those schemathesis expects for invalid data.
        refused = response.status_code == 413
        case.validate_response(response, checks=CHECKS if refused else checks)

    probe()
