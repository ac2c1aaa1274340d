"""The JSON API: the same services the pages use, for integrations and tests.

Every state-changing call is ``POST /api/{area}/{command}`` dispatched through the action
registry; see ``docs/api.md`` and ``GET /api/openapi.json``.
"""

from __future__ import annotations

import inspect
import json
from typing import Any

from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, Response

from webinar.domain.preassign import PreassignError
from webinar.services.access import AccessError, Participant
from webinar.services.exports import breakout_export, question_export, survey_export
from webinar.services.poll_exports import poll_export
from webinar.web.actions import ActionError, perform
from webinar.web.actions.join import join_params
from webinar.web.auth import current_participant, services_of
from webinar.web.bodylimit import DEFAULT_LIMIT
from webinar.web.openapi import openapi_document
from webinar.web.security import CSRF_FIELD, CSRF_HEADER, csrf_ok, csrf_token, origin_allowed

#: Largest part of a form; whole bodies are limited by ``bodylimit.BodyLimitMiddleware``.
MAX_BODY = DEFAULT_LIMIT


#: The deepest nesting of arrays and objects accepted (real messages use 3 or 4 levels).
#: Python's parser gives up at about 1,000 levels on 3.11 and 3.12 but takes far more on
#: 3.13: one limit keeps the answer the same on every version.
MAX_DEPTH = 100


def parse_json(text: str | bytes) -> Any:
    """``json.loads``, with ``ValueError`` also for what it cannot or must not take.

    Nesting deeper than ``MAX_DEPTH`` (or too deep for the parser, which raises
    ``RecursionError`` there), and a JSON escape for a lone surrogate (``"\\ud800"``),
    which decodes to a string that no UTF-8 response, database row or hash can hold, are
    invalid input, not server errors.
    """
    try:
        data = json.loads(text)
        if _depth(data) > MAX_DEPTH:
            raise ValueError(f"nested deeper than {MAX_DEPTH} levels")
        json.dumps(data, ensure_ascii=False).encode("utf-8")  # lone surrogates fail here
    except (RecursionError, UnicodeError) as exc:
        raise ValueError("not well-formed JSON text") from exc
    return data


def _depth(data: Any) -> int:
    """How deeply arrays and objects nest in ``data`` (0 for a plain value), counted
    without recursion, stopping one level past ``MAX_DEPTH``."""
    deepest = 0
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children = list(value.values())
        elif isinstance(value, list):
            children = value
        else:
            continue
        deepest = max(deepest, depth)
        if deepest > MAX_DEPTH:
            break
        stack.extend((child, depth + 1) for child in children)
    return deepest


def error(status: int, message: str, field: str | None = None) -> JSONResponse:
    return JSONResponse(ActionError(status, message, field).as_json(), status_code=status)


def content_type_of(request: Request) -> str:
    """The media type of the body, lower case, without parameters."""
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def read_input(request: Request) -> dict[str, Any]:
    """The request's JSON object or form fields; ``ActionError(400/415)`` otherwise.

    A body over its limit never gets here whole: ``BodyLimitMiddleware`` answers 413.
    """
    content_type = content_type_of(request)
    if content_type == "application/json":
        body = await request.body()
        if not body.strip():
            return {}
        try:
            data = parse_json(body)
        except ValueError:
            raise ActionError(400, "The request body is not valid JSON.") from None
        if not isinstance(data, dict):
            raise ActionError(400, "The request body must be a JSON object.")
        return data
    if content_type in ("application/x-www-form-urlencoded", "multipart/form-data", ""):
        try:
            form = await request.form(max_files=0, max_fields=100, max_part_size=MAX_BODY)
        except Exception:  # python-multipart raises several kinds on garbage
            raise ActionError(400, "The form data could not be read.") from None
        out: dict[str, Any] = {}
        for key, value in form.multi_items():
            if not isinstance(value, str):
                continue
            if key in out:  # a repeated field (ticked checkboxes) becomes a list
                previous = out[key]
                out[key] = [*previous, value] if isinstance(previous, list) else [previous, value]
            else:
                out[key] = value
        return out
    raise ActionError(415, "Send JSON or form data.")


def check_unsafe(request: Request, participant: Participant | None, raw: dict[str, Any]) -> None:
    """Origin and CSRF checks for a state-changing request; takes the token out of ``raw``.

    The token comes in the ``X-CSRF-Token`` header (htmx, API clients) or a form field.
    """
    field_token = raw.pop(CSRF_FIELD, None)
    if not origin_allowed(request.headers, request.app.state.allowed_origins):
        raise ActionError(403, "Requests from other sites are refused.")
    if participant is None:
        return
    given = request.headers.get(CSRF_HEADER) or field_token
    if not isinstance(given, str) or not csrf_ok(request, given):
        raise ActionError(403, "Your session token is missing or old. Reload the page.")


async def action(request: Request) -> Response:
    """POST /api/{area}/{command}: run one registered action."""
    name = f"{request.path_params['area']}.{request.path_params['command']}"
    try:
        participant = await current_participant(request)
        raw = await read_input(request)
        check_unsafe(request, participant, raw)
        data, context = await perform(
            services_of(request),
            participant,
            name,
            raw,
            own_keys(request),
            request.session,
            form=content_type_of(request) != "application/json",
        )
    except ActionError as exc:
        return JSONResponse(exc.as_json(), status_code=exc.status)
    if context is not None and context.new_keys:
        remember_keys(request, context.new_keys)
    if context is not None:
        request.session.update(context.session_updates)
    return JSONResponse({"ok": True, **data}, headers=triggers(context.triggers if context else {}))


def triggers(named: dict[str, dict[str, Any]]) -> dict[str, str]:
    """The ``HX-Trigger`` header naming what an action did, for the page (none if none).

    JSON with every non-ASCII character escaped: a header carries Latin-1 only."""
    return {"HX-Trigger": json.dumps(named, separators=(",", ":"))} if named else {}


#: How many submit keys a session remembers (to prove authorship of anonymous questions).
OWN_KEYS_MAX = 50


def own_keys(conn: HTTPConnection) -> list[str]:
    keys = conn.session.get("own", [])
    return [k for k in keys if isinstance(k, str)] if isinstance(keys, list) else []


def remember_keys(request: Request, keys: list[str]) -> None:
    known = own_keys(request)
    known += [k for k in keys if k not in known]
    request.session["own"] = known[-OWN_KEYS_MAX:]


async def join(request: Request) -> Response:
    """POST /api/join {code, name, organisation?}: join as an attendee."""
    try:
        raw = await read_input(request)
        check_unsafe(request, None, raw)
        given = join_params(raw, form=content_type_of(request) != "application/json")
    except ActionError as exc:
        return JSONResponse(exc.as_json(), status_code=exc.status)
    try:
        session_id, participant = await services_of(request).access.join(
            given.code, given.name, given.organisation, client=client_of(request)
        )
    except AccessError as exc:
        refused = error(exc.status, str(exc), exc.field)
        if exc.retry_after:
            refused.headers["Retry-After"] = str(exc.retry_after)
        return refused
    request.session.clear()
    request.session["sid"] = session_id
    return JSONResponse(
        {"participant": participant_json(participant), "csrf_token": csrf_token(request)},
        status_code=201,
    )


async def session_info(request: Request) -> Response:
    """GET /api/session: who you are, and the CSRF token to send with changes."""
    participant = await current_participant(request)
    return JSONResponse(
        {
            "participant": participant_json(participant) if participant else None,
            "csrf_token": csrf_token(request),
        }
    )


async def agenda(request: Request) -> Response:
    """GET /api/agenda: the agenda as planned and its live status."""
    services = services_of(request)
    if await current_participant(request) is None:
        return error(401, "Please join the event first.")
    return JSONResponse(
        {
            "event": agenda_json(services),
            "status": services.agenda_service.snapshot(),
            "seq": services.hub.last_seq,
        }
    )


async def openapi(request: Request) -> Response:
    document = openapi_document()
    base: str = request.app.state.base
    if base:  # an event's paths are under its /e/<slug>
        document = {**document, "servers": [{"url": base}]}
    return JSONResponse(document)


def client_of(conn: HTTPConnection) -> str:
    """The caller's address (uvicorn resolves X-Forwarded-For from a trusted proxy)."""
    return conn.client.host if conn.client else ""


def participant_json(participant: Participant) -> dict[str, Any]:
    return {
        "id": participant.id,
        "role": participant.role,
        "name": participant.name,
        "organisation": participant.organisation,
    }


def agenda_json(services: Any) -> dict[str, Any]:
    agenda = services.agenda
    return {
        "title": agenda.title,
        "timezone": agenda.timezone_name,
        "organiser": agenda.organiser,
        "items": [
            {
                "id": item.id,
                "title": item.title,
                "kind": item.kind,
                "start": item.start.isoformat(),
                "end": item.end.isoformat(),
                "presenters": list(item.presenters),
                "serves": list(item.serves),
                "slides": [{"title": s.title, "body": s.body} for s in item.slides],
                "breakout": (
                    {
                        "topics": list(item.breakout.topics),
                        "group_size": item.breakout.group_size,
                        "groups": item.breakout.group_count,
                        "min_topics": item.breakout.min_topics,
                        "instructions": item.breakout.instructions,
                    }
                    if item.breakout
                    else None
                ),
            }
            for item in agenda.items
        ],
    }


async def questions(request: Request) -> Response:
    """GET /api/qa/questions?sort=votes|newest: the forum as you may see it."""
    participant = await current_participant(request)
    if participant is None:
        return error(401, "Please join the event first.")
    sort = request.query_params.get("sort", "votes")
    if sort not in ("votes", "newest"):
        return error(400, "'sort' must be 'votes' or 'newest'.", "sort")
    qa = services_of(request).qa
    own = await qa.owned(participant, own_keys(request))
    data = qa.snapshot(participant.role, own)
    if sort == "newest":
        # Newest first, pinned on top (sorts are stable).
        data["questions"].sort(key=lambda q: (q["created_at"], q["id"]), reverse=True)
        data["questions"].sort(key=lambda q: not q["pinned"])
    data["my_votes"] = sorted(await qa.my_votes(participant))
    return JSONResponse(data)


def exporter(name: str, build: Any) -> Any:
    """GET /api/.../export?format=csv|xlsx for hosts and organisers."""

    async def export(request: Request) -> Response:
        participant = await current_participant(request)
        if participant is None:
            return error(401, "Please join the event first.")
        if not participant.is_staff:
            return error(403, "Only hosts and organisers can export results.")
        fmt = request.query_params.get("format", "csv")
        if fmt not in ("csv", "xlsx"):
            return error(400, "'format' must be 'csv' or 'xlsx'.", "format")
        built = build(services_of(request), fmt)
        body, media_type = await built if inspect.isawaitable(built) else built
        return Response(
            body,
            media_type=media_type,
            headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'},
        )

    return export


export_questions = exporter("questions", question_export)
export_breakouts = exporter("breakout-responses", breakout_export)
export_survey = exporter("survey-responses", survey_export)
export_polls = exporter("polls", poll_export)


#: Largest pre-assignment upload accepted, form encoding included (about 20,000 rows).
MAX_UPLOAD = 2 * 1024 * 1024
PREASSIGN_PATH = "/api/breakout/preassign"


async def upload_preassignments(request: Request) -> Response:
    """POST /api/breakout/preassign: a CSV (file field "file", or text/csv body)."""
    participant = await current_participant(request)
    if participant is None:
        return error(401, "Please join the event first.")
    if not participant.is_staff:
        return error(403, "Only hosts and organisers can pre-assign groups.")
    if not origin_allowed(request.headers, request.app.state.allowed_origins):
        return error(403, "Requests from other sites are refused.")
    upload = await _upload_of(request)
    if isinstance(upload, Response):
        return upload
    raw, given, filename = upload
    if not isinstance(given, str) or not csrf_ok(request, given):
        return error(403, "Your session token is missing or old. Reload the page.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return error(400, f"{filename} is not UTF-8 text: save it as 'CSV UTF-8' and try again.")
    try:
        result = await services_of(request).breakouts.preassign(text, filename)
    except PreassignError as exc:
        return JSONResponse(
            {
                "error": {"message": str(exc), "field": "file"},
                "problems": [{"line": p.line, "message": p.message} for p in exc.problems],
            },
            status_code=400,
        )
    # Counts only: a header must stay small (the names are in the body).
    detail = {"stored": result["stored"], "not_joined_yet": len(result["not_joined_yet"])}
    return JSONResponse({"ok": True, **result}, headers=triggers({"webinar:preassigned": detail}))


async def _upload_of(request: Request) -> tuple[bytes, str | None, str] | Response:
    """(the file's bytes, the CSRF token sent with it, its name) of a pre-assignment
    upload, or the error to reply with."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    filename = "upload.csv"
    try:
        if content_type == "multipart/form-data":
            async with request.form(
                max_files=1, max_fields=5, max_part_size=MAX_UPLOAD
            ) as form:  # closes the uploaded file's temporary storage
                token = form.get(CSRF_FIELD)
                given = request.headers.get(CSRF_HEADER) or (
                    token if isinstance(token, str) else None
                )
                upload = form.get("file")
                if upload is None or isinstance(upload, str):
                    return error(400, "Choose a CSV file to upload.", "file")
                return await upload.read(), given, upload.filename or filename
        elif content_type in ("text/csv", "text/plain"):
            return await request.body(), request.headers.get(CSRF_HEADER), filename
        else:
            return error(415, "Upload a CSV file.")
    except Exception:  # python-multipart raises several kinds on garbage
        return error(400, "The upload could not be read.")
