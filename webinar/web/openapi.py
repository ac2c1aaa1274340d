"""The OpenAPI 3.1 document, generated from the action registry and its pydantic models."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from webinar.web.actions import REGISTRY
from webinar.web.actions.join import JoinParams

ERROR = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "message": {"type": "string"},
                "field": {"type": "string"},
                "errors": {
                    "description": "Every field in error, when there are several.",
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "field": {"type": "string"},
                            "message": {"type": "string"},
                        },
                        "required": ["field", "message"],
                    },
                },
            },
            "required": ["message"],
        }
    },
    "required": ["error"],
}


def _errors(*codes: int) -> dict[str, Any]:
    text = {
        400: "Invalid input; the message says what to change.",
        401: "Not joined.",
        403: "Not allowed for your role, wrong origin, or missing CSRF token.",
        404: "Unknown action.",
        409: "Not possible in the current state.",
        413: "Body too large (64 KB for actions and joins, 2 MB for an upload).",
        415: "Unsupported content type.",
        429: "Too many attempts from your address: wait as long as Retry-After says.",
        503: "The database is not answering for a moment: try again in a few seconds.",
    }
    return {
        str(code): {
            "description": text[code],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
        for code in codes
    }


@lru_cache(maxsize=1)
def openapi_document() -> dict[str, Any]:
    paths: dict[str, Any] = {
        "/api/session": {
            "get": {
                "summary": "Who you are, and the CSRF token for state-changing calls.",
                "responses": {"200": {"description": "Session info."}},
            }
        },
        "/api/join": {
            "post": {
                "summary": "Join the event as an attendee.",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": JoinParams.model_json_schema()}},
                },
                "responses": {
                    "201": {"description": "Joined."},
                    **_errors(400, 403, 413, 415, 429, 503),
                },
            }
        },
        "/api/qa/questions": {
            "get": {
                "summary": "The forum as you may see it: questions, your own, your votes.",
                "parameters": [
                    {
                        "name": "sort",
                        "in": "query",
                        "schema": {"type": "string", "enum": ["votes", "newest"]},
                    }
                ],
                "responses": {"200": {"description": "The forum."}, **_errors(400, 401)},
            }
        },
        "/api/qa/export": {
            "get": {
                "summary": "Every question with answers and replies (hosts and organisers).",
                "parameters": [
                    {
                        "name": "format",
                        "in": "query",
                        "schema": {"type": "string", "enum": ["csv", "xlsx"]},
                    }
                ],
                "responses": {"200": {"description": "A file."}, **_errors(400, 401, 403)},
            }
        },
        "/api/agenda": {
            "get": {
                "summary": "The agenda as planned and its live status.",
                "responses": {"200": {"description": "Agenda and status."}, **_errors(401)},
            }
        },
    }
    for name, action in sorted(REGISTRY.items()):
        schema = action.params.model_json_schema()
        paths["/api/" + name.replace(".", "/")] = {
            "post": {
                "operationId": name.replace(".", "_"),
                "summary": action.summary,
                "description": f"Allowed roles: {', '.join(sorted(action.roles))}.",
                "parameters": [
                    {
                        "name": "X-CSRF-Token",
                        "in": "header",
                        "required": True,
                        "schema": {"type": "string"},
                    }
                ],
                "requestBody": {
                    # An action with required fields cannot be called without a body.
                    "required": bool(schema.get("required")),
                    "content": {"application/json": {"schema": schema}},
                },
                "responses": {
                    "200": {"description": "Done; the new state."},
                    **_errors(400, 401, 403, 404, 409, 413, 415, 503),
                },
            }
        }
    return {
        "openapi": "3.1.0",
        "info": {"title": "webinar", "version": "0.1.0"},
        "paths": paths,
        "components": {"schemas": {"Error": ERROR}},
    }
