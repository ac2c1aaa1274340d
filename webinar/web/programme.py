"""The organiser's programme at ``/programme``: every event an account may see, by state
with its figures; new events from an uploaded agenda file, a shipped template or a past
event; archiving; and the way into an event's host console or organiser page.

It is the server's, not an event's: its own signed cookie (made as the events' are, see
:mod:`webinar.web.sessions`) holds the account's id and a CSRF token, and every request
looks the account up again, so a removed account is signed out at once. Opening an
event's console opens a session on that event for the account (its role decided by
``AccountService.role_on_event``) and sets that event's cookie: no secret link is shown,
put in a URL or logged.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import date, time
from typing import TYPE_CHECKING, Any

import jinja2
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from webinar.domain.accounts import Account, StaffRole, role_on_event
from webinar.domain.agenda_file import MAX_FILE_BYTES, AgendaFileError
from webinar.domain.programme import RETENTION_DAYS, problem_line
from webinar.services.access import AccessError
from webinar.services.programme import (
    ProgrammeError,
    ProgrammeEvent,
    ProgrammeService,
    templates,
)
from webinar.storage.webinars import Webinar, slug_from
from webinar.web.api import client_of
from webinar.web.bodylimit import BodyLimitMiddleware
from webinar.web.pages import HOME_BY_ROLE, with_retry_after
from webinar.web.render import site_environment
from webinar.web.security import (
    CSRF_FIELD,
    SecurityHeadersMiddleware,
    csrf_ok,
    csrf_token,
    origin_allowed,
)
from webinar.web.sessions import SessionCookie

if TYPE_CHECKING:
    from webinar.web.site import Site

PREFIX = "/programme"
NEW_PATH = f"{PREFIX}/new"
#: Where a changed agenda file is uploaded (one exact path, so it gets the upload's limit).
EDIT_PATH = f"{PREFIX}/agenda"
COOKIE = "webinar_programme"
#: A working day: the programme is an office tool, not an event's page.
COOKIE_SECONDS = 8 * 3600
#: An upload's form: the file (the agenda's own limit, which the page explains, and then
#: some) and a few fields. Past this the request is refused with a sentence before it is read.
MAX_UPLOAD = 2 * MAX_FILE_BYTES
#: Lines shown around an agenda problem, on each side.
CONTEXT_LINES = 2


def _environment() -> jinja2.Environment:
    env = site_environment()
    env.filters["day"] = lambda moment: moment.strftime("%-d %B %Y, %H:%M %Z")
    env.globals["retention_days"] = RETENTION_DAYS
    return env


def programme_app(site: Site) -> Starlette:
    """The programme's app, dispatched by ``site`` for ``/programme`` and below."""
    settings = site.settings
    # Derived from the main event's stored session secret, so a restart keeps everyone
    # signed in; a server given none (tests) uses a key of its own.
    base_secret = settings.secrets.get("session_secret") or secrets.token_hex(32)
    secret = hmac.new(base_secret.encode(), b"programme", hashlib.sha256).hexdigest()
    cookie = SessionCookie(COOKIE, secret, max_age=COOKIE_SECONDS, https_only=settings.https_only)
    routes = [
        Route(PREFIX, home),
        Route(f"{PREFIX}/signin", signin_page, methods=["GET"]),
        Route(f"{PREFIX}/signin", signin_submit, methods=["POST"]),
        Route(f"{PREFIX}/signout", signout, methods=["POST"]),
        Route(NEW_PATH, new_page, methods=["GET"]),
        Route(NEW_PATH, new_submit, methods=["POST"]),
        Route(PREFIX + "/e/{slug}", event_page, methods=["GET"]),
        Route(PREFIX + "/e/{slug}/open", open_console, methods=["POST"]),
        Route(PREFIX + "/e/{slug}/duplicate", duplicate_submit, methods=["POST"]),
        Route(PREFIX + "/e/{slug}/archive", archive_submit, methods=["POST"]),
        Route(PREFIX + "/e/{slug}/purge", purge_submit, methods=["POST"]),
        Route(PREFIX + "/e/{slug}/agenda", edit_page, methods=["GET"]),
        Route(PREFIX + "/e/{slug}/agenda.toml", agenda_file, methods=["GET"]),
        Route(EDIT_PATH, edit_submit, methods=["POST"]),
    ]
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(SecurityHeadersMiddleware),
            Middleware(BodyLimitMiddleware, limits={NEW_PATH: MAX_UPLOAD, EDIT_PATH: MAX_UPLOAD}),
            cookie.middleware(),
        ],
    )
    app.state.site = site
    app.state.cookie = cookie  # the event apps' OpenID sign-in sets it (see signin.py)
    app.state.env = _environment()
    served = {event.slug: event.agenda for event in settings.events}
    app.state.programme = ProgrammeService(settings.db_path, settings.clock, served.get)
    return app


# -- helpers ---------------------------------------------------------------------------------


def _site(request: Request) -> Site:
    site: Site = request.app.state.site
    return site


def _service(request: Request) -> ProgrammeService:
    service: ProgrammeService = request.app.state.programme
    return service


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    env: jinja2.Environment = request.app.state.env
    body = env.get_template(f"programme/{template}").render(
        request=request, csrf_token=csrf_token(request), **context
    )
    return HTMLResponse(body, status_code=status)


async def _account(request: Request) -> Account | None:
    uid = request.session.get("uid")
    if not isinstance(uid, int):
        return None
    account = await _site(request).accounts().account(uid)
    if account is None:
        request.session.clear()
    return account


def _is_organiser(account: Account) -> bool:
    return any(g.role == "organiser" for g in account.grants)


def _refused(request: Request, account: Account | None, message: str) -> HTMLResponse:
    return render(request, "refused.html", status=403, account=account, message=message)


async def _posted(request: Request, **limits: int) -> tuple[Account | None, dict[str, Any]]:
    """The account and form of a POST whose CSRF token and Origin are right (else None)."""
    account = await _account(request)
    form = await request.form(**limits)
    token = form.get(CSRF_FIELD)
    ok = csrf_ok(request, token if isinstance(token, str) else None) and origin_allowed(
        request.headers, _site(request).settings.allowed_origins
    )
    return (account if ok else None), dict(form)


NOT_ORGANISER = "Only an organiser of the whole programme can do this."
SIGN_IN = "Please sign in again: your page was out of date or you have been signed out."


# -- sign-in ---------------------------------------------------------------------------------


async def signin_page(request: Request) -> Response:
    if await _account(request) is not None:
        return RedirectResponse(PREFIX, status_code=303)
    return _signin_render(request, 200, email="", errors={})


def _signin_render(
    request: Request, status: int, *, email: str, errors: dict[str, str]
) -> HTMLResponse:
    site = _site(request)
    oidc = site.settings.oidc
    return render(
        request,
        "signin.html",
        status,
        account=None,
        email=email,
        errors=errors,
        oidc_label=oidc.label if oidc else None,
        oidc_start=site.base_of(site.settings.slug) + "/signin/oidc?next=programme",
    )


async def signin_submit(request: Request) -> Response:
    form = await request.form(max_files=0, max_fields=10)
    values = {k: v if isinstance(v, str) else "" for k, v in form.items()}
    email = values.get("email", "")[:320]
    if not origin_allowed(request.headers, _site(request).settings.allowed_origins) or not csrf_ok(
        request, values.get(CSRF_FIELD)
    ):
        errors = {"form": "Your page was out of date. Please try again."}
        return _signin_render(request, 403, email=email, errors=errors)
    try:
        account = (
            await _site(request)
            .accounts()
            .authenticate(email, values.get("password", ""), client=client_of(request))
        )
    except AccessError as exc:
        errors = {exc.field or "form": str(exc)}
        page = _signin_render(request, exc.status, email=email, errors=errors)
        return with_retry_after(page, exc)
    request.session.clear()  # a new session: nothing planted before sign-in is kept
    request.session["uid"] = account.id
    return RedirectResponse(PREFIX, status_code=303)


async def signout(request: Request) -> Response:
    account, _form = await _posted(request, max_files=0, max_fields=5)
    if account is not None:
        request.session.clear()
    return RedirectResponse(f"{PREFIX}/signin", status_code=303)


# -- the list and an event's page ------------------------------------------------------------


async def home(request: Request) -> Response:
    account = await _account(request)
    if account is None:
        return RedirectResponse(f"{PREFIX}/signin", status_code=303)
    events = await _service(request).events(account)
    notice = request.session.pop("notice", None)
    return render(
        request,
        "home.html",
        account=account,
        events=events,
        organiser=_is_organiser(account),
        notice=notice,
    )


async def _event_for(request: Request, account: Account) -> Webinar | None:
    """The event the path names, if the account has a role on it."""
    found = await _service(request).find(request.path_params["slug"])
    if found is None or role_on_event(account.grants, found.id) is None:
        return None
    return found


async def event_page(request: Request) -> Response:
    account = await _account(request)
    if account is None:
        return RedirectResponse(f"{PREFIX}/signin", status_code=303)
    webinar = await _event_for(request, account)
    if webinar is None:
        return _refused(request, account, "There is no event of yours at this address.")
    return _event_render(request, account, webinar, await _service(request).row(webinar))


def _event_render(
    request: Request,
    account: Account,
    webinar: Webinar,
    event: ProgrammeEvent | None,
    status: int = 200,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
) -> HTMLResponse:
    return render(
        request,
        "event.html",
        status,
        account=account,
        webinar=webinar,
        role=role_on_event(account.grants, webinar.id),
        organiser=_is_organiser(account),
        base=_site(request).base_of(webinar.slug),
        event=event,
        main=_site(request).is_main(webinar.slug),
        errors=errors or {},
        form=form or {},
        notice=request.session.pop("notice", None),
    )


async def open_console(request: Request) -> Response:
    """POST: into the event's host console (or organiser page, ``page=organiser``) as this
    account, with a session of its own on that event."""
    account, form = await _posted(request, max_files=0, max_fields=5)
    if account is None:
        return _refused(request, None, SIGN_IN)
    webinar = await _event_for(request, account)
    event = None if webinar is None else await _site(request).event(webinar.slug)
    if event is None:
        return _refused(request, account, "This event cannot be opened. Check its agenda.")
    as_role: StaffRole = "organiser" if form.get("page") == "organiser" else "host"
    try:
        session_id, participant = await event.services.accounts.open_session(account.id, as_role)
    except AccessError as exc:
        return _refused(request, account, str(exc))
    page = HOME_BY_ROLE[participant.role]
    response = RedirectResponse(event.app.state.base + page, status_code=303)
    cookie: SessionCookie = event.app.state.cookie
    response.set_cookie(
        cookie.name,
        cookie.codec.encode({"sid": session_id}),
        max_age=cookie.max_age,
        path="/",
        secure=cookie.https_only,
        httponly=True,
        samesite=cookie.same_site,
    )
    return response


# -- new events ------------------------------------------------------------------------------


def _new_render(
    request: Request,
    account: Account,
    status: int = 200,
    *,
    errors: dict[str, str] | None = None,
    problems: list[dict[str, Any]] | None = None,
    excerpts: list[dict[str, Any]] | None = None,
    form: dict[str, str] | None = None,
) -> HTMLResponse:
    return render(
        request,
        "new.html",
        status,
        account=account,
        templates=list(templates()),
        errors=errors or {},
        problems=problems or [],
        excerpts=excerpts or [],
        form=form or {},
    )


async def new_page(request: Request) -> Response:
    account = await _account(request)
    if account is None:
        return RedirectResponse(f"{PREFIX}/signin", status_code=303)
    if not _is_organiser(account):
        return _refused(request, account, NOT_ORGANISER)
    return _new_render(request, account)


def _problems_beside_lines(
    text: str | None, error: AgendaFileError
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The problems for the error summary (each with the line it is about, if known) and
    excerpts of the file around each such line, the problem shown beside its line."""
    problems: list[dict[str, Any]] = []
    for number, found in enumerate(error.problems, start=1):
        line = problem_line(text, found) if text is not None else None
        problems.append({"id": f"problem-{number}", "line": line, "text": str(found)})
    if text is None:
        return problems, []
    lines = text.splitlines()
    excerpts = []
    for problem in problems:
        line = problem["line"]
        if line is None or not 1 <= line <= len(lines):
            continue
        first, last = max(1, line - CONTEXT_LINES), min(len(lines), line + CONTEXT_LINES)
        excerpts.append(
            {
                "problem": problem,
                "lines": [(n, lines[n - 1], n == line) for n in range(first, last + 1)],
            }
        )
    return problems, excerpts


async def _upload(form: dict[str, Any]) -> tuple[str, bytes]:
    """The uploaded file's name and bytes (one past the limit at most);
    ``ProgrammeError`` when no file was chosen."""
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise ProgrammeError("Choose an agenda file to upload.", "file")
    return upload.filename[-120:], await upload.read(MAX_FILE_BYTES + 1)


async def new_submit(request: Request) -> Response:
    try:
        return await _new_submit(request)
    finally:
        await request.close()  # the upload's temporary file


async def _new_submit(request: Request) -> Response:
    account, form = await _posted(request, max_files=1, max_fields=10)
    if account is None:
        return _refused(request, None, SIGN_IN)
    if not _is_organiser(account):
        return _refused(request, account, NOT_ORGANISER)
    source = form.get("source")
    shown = {k: str(form.get(k, ""))[:60] for k in ("slug", "template", "source")}
    service = _service(request)
    text: str | None = None
    try:
        if source == "template":
            name = str(form.get("template", ""))
            text, agenda = service.template(name)
        else:
            name, data = await _upload(form)
            text = service.decode_upload(data, name)
            agenda = service.check(text, name)
        slug = shown["slug"].strip() or slug_from(name)
        created = await service.create(slug, name, text, agenda)
    except ProgrammeError as exc:
        errors = {exc.field or "form": str(exc)}
        return _new_render(request, account, 400, errors=errors, form=shown)
    except AgendaFileError as exc:
        problems, excerpts = _problems_beside_lines(text, exc)
        return _new_render(request, account, 400, problems=problems, excerpts=excerpts, form=shown)
    _site(request).added(created.slug)
    request.session["notice"] = f"The event '{created.slug}' is ready."
    return RedirectResponse(f"{PREFIX}/e/{created.slug}", status_code=303)


# -- a past event again, and archiving ------------------------------------------------------


async def duplicate_submit(request: Request) -> Response:
    account, form = await _posted(request, max_files=0, max_fields=10)
    if account is None:
        return _refused(request, None, SIGN_IN)
    webinar = await _event_for(request, account)
    if webinar is None or not _is_organiser(account):
        return _refused(request, account, NOT_ORGANISER)
    shown = {k: str(form.get(k, ""))[:60] for k in ("date", "start", "slug")}
    try:
        new_date, new_start = _when(shown["date"], shown["start"])
        text, agenda = _service(request).duplicate(webinar, new_date, new_start)
        slug = shown["slug"].strip() or f"{webinar.slug[:29]}-{new_date.isoformat()}"
        name = webinar.agenda_name or f"{webinar.slug}.toml"
        created = await _service(request).create(slug, name, text, agenda)
    except ProgrammeError as exc:
        errors = {exc.field or "form": str(exc)}
        event = await _service(request).row(webinar)
        return _event_render(request, account, webinar, event, 400, errors=errors, form=shown)
    _site(request).added(created.slug)
    request.session["notice"] = (
        f"The event '{created.slug}' is ready: a copy of '{webinar.slug}' on {new_date:%-d %B %Y}."
    )
    return RedirectResponse(f"{PREFIX}/e/{created.slug}", status_code=303)


def _when(day: str, start: str) -> tuple[date, time]:
    try:
        new_date = date.fromisoformat(day.strip())
    except ValueError:
        raise ProgrammeError("Enter the date as year-month-day, like 2027-01-14.", "date") from None
    try:
        new_start = time.fromisoformat(start.strip())
    except ValueError:
        raise ProgrammeError(
            "Enter the start time as hours:minutes, like 10:00.", "start"
        ) from None
    return new_date, new_start


async def archive_submit(request: Request) -> Response:
    account, form = await _posted(request, max_files=0, max_fields=5)
    if account is None:
        return _refused(request, None, SIGN_IN)
    webinar = await _event_for(request, account)
    if webinar is None or not _is_organiser(account):
        return _refused(request, account, NOT_ORGANISER)
    archived = form.get("archived") != "no"
    await _service(request).archive(webinar, archived)
    request.session["notice"] = (
        f"'{webinar.slug}' is archived: it is listed under Archived and can still be exported."
        if archived
        else f"'{webinar.slug}' is back in the programme."
    )
    return RedirectResponse(PREFIX, status_code=303)


async def purge_submit(request: Request) -> Response:
    """POST: erase the event's personal data and free text, once its retention is over."""
    account, _form = await _posted(request, max_files=0, max_fields=5)
    if account is None:
        return _refused(request, None, SIGN_IN)
    webinar = await _event_for(request, account)
    if webinar is None or not _is_organiser(account):
        return _refused(request, account, NOT_ORGANISER)
    service, site = _service(request), _site(request)
    event = await service.row(webinar)
    try:
        if site.is_main(webinar.slug):
            raise ProgrammeError(MAIN_EVENT)
        service.purge_check(event.row.ended_at if event else None)
    except ProgrammeError as exc:
        return _event_render(request, account, webinar, event, 400, errors={"form": str(exc)})
    agenda = service.agenda_of(webinar)
    counts = await site.purge(webinar.slug, lambda: service.purge(webinar, agenda))
    request.session["notice"] = (
        f"Purged '{webinar.slug}': {counts['participants']} people's names and organisations, "
        "who asked, voted and answered what, and all free text. The figures stay."
    )
    return RedirectResponse(f"{PREFIX}/e/{webinar.slug}", status_code=303)


MAIN_EVENT = (
    "This event is served from the agenda file named when the server started: change that "
    "file and restart the server, or purge it with webinar purge while the server is stopped."
)


# -- changing the agenda until the event starts ---------------------------------------------


async def agenda_file(request: Request) -> Response:
    """GET: the event's agenda file as stored, to edit and upload again."""
    account = await _account(request)
    webinar = None if account is None else await _event_for(request, account)
    if account is None or webinar is None or webinar.agenda is None:
        return _refused(request, account, "There is no agenda file of yours at this address.")
    # Any name an upload had, made safe for a header (ASCII, no quotes or line breaks).
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", webinar.agenda_name or "") or f"{webinar.slug}.toml"
    return Response(
        webinar.agenda,
        media_type="application/toml; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _edit_render(
    request: Request,
    account: Account,
    webinar: Webinar,
    status: int = 200,
    *,
    errors: dict[str, str] | None = None,
    problems: list[dict[str, Any]] | None = None,
    excerpts: list[dict[str, Any]] | None = None,
) -> HTMLResponse:
    return render(
        request,
        "agenda.html",
        status,
        account=account,
        webinar=webinar,
        errors=errors or {},
        problems=problems or [],
        excerpts=excerpts or [],
    )


async def edit_page(request: Request) -> Response:
    account = await _account(request)
    if account is None:
        return RedirectResponse(f"{PREFIX}/signin", status_code=303)
    webinar = await _event_for(request, account)
    if webinar is None or not _is_organiser(account):
        return _refused(request, account, NOT_ORGANISER)
    return _edit_render(request, account, webinar)


async def edit_submit(request: Request) -> Response:
    try:
        return await _edit_submit(request)
    finally:
        await request.close()  # the upload's temporary file


async def _edit_submit(request: Request) -> Response:
    account, form = await _posted(request, max_files=1, max_fields=10)
    if account is None:
        return _refused(request, None, SIGN_IN)
    service, site = _service(request), _site(request)
    slug = str(form.get("event", ""))[:60]
    webinar = await service.find(slug) if slug else None
    if webinar is None or role_on_event(account.grants, webinar.id) is None:
        return _refused(request, account, "There is no event of yours by that name.")
    if not _is_organiser(account):
        return _refused(request, account, NOT_ORGANISER)
    text: str | None = None
    try:
        if site.is_main(webinar.slug):
            raise ProgrammeError(MAIN_EVENT, "file")
        name, data = await _upload(form)
        text = service.decode_upload(data, name)
        agenda = service.check(text, name)
        await service.edit(webinar, name, text, agenda)
    except ProgrammeError as exc:
        return _edit_render(request, account, webinar, 400, errors={exc.field or "form": str(exc)})
    except AgendaFileError as exc:
        problems, excerpts = _problems_beside_lines(text, exc)
        return _edit_render(request, account, webinar, 400, problems=problems, excerpts=excerpts)
    await site.withdraw(webinar.slug)  # served from the new agenda on its next visit
    request.session["notice"] = f"The agenda of '{webinar.slug}' is changed."
    return RedirectResponse(f"{PREFIX}/e/{webinar.slug}", status_code=303)
