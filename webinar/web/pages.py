"""HTML pages: join, attendee view, host console, projector, organiser."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from functools import wraps
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response

from webinar.domain import audiences
from webinar.domain.survey import QUESTION_ANSWERED_OPTIONS
from webinar.services.access import AccessError, Participant
from webinar.services.report import report_data, report_markdown
from webinar.web.actions import ActionError, perform
from webinar.web.api import client_of, own_keys
from webinar.web.auth import current_participant, services_of
from webinar.web.links import links_for
from webinar.web.polls_view import poll_context
from webinar.web.qr import qr_svg, short_address
from webinar.web.security import CSRF_FIELD, csrf_ok, csrf_token, origin_allowed

HOME_BY_ROLE = {
    audiences.ATTENDEE: "/live",
    audiences.HOST: "/host",
    audiences.ORGANISER: "/organiser",
}


def at(request: Request, path: str) -> str:
    """``path`` within this event: its pages live under the event's base (``/e/<slug>``, or
    nothing for the default event's short addresses)."""
    base: str = request.app.state.base
    return base + path


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    env = request.app.state.env
    body = env.get_template(template).render(
        request=request, csrf_token=csrf_token(request), **context
    )
    return HTMLResponse(body, status_code=status)


async def live_context(request: Request, participant: Participant) -> dict[str, Any]:
    """State for a live page, read with no await in between so it matches ``seq``."""
    services = services_of(request)
    own = await services.qa.owned(participant, own_keys(request))
    my_votes = sorted(await services.qa.my_votes(participant))
    seq = services.hub.last_seq
    agenda_state = services.agenda_service.snapshot()
    forum = services.qa.snapshot(participant.role, own)
    rooms = services.breakouts.snapshot(participant)
    return {
        "breakout": rooms,
        "group": rooms["group"],
        "grid": rooms["grid"],
        "participant": participant,
        "seq": seq,
        "agenda_state": agenda_state,
        "qa": services.qa,
        "questions": forum["questions"],
        "counters": forum["counters"],
        "settings": forum["settings"],
        "highlighted": forum["highlighted"],
        "mine": forum["mine"],
        "my_votes": my_votes,
        **poll_context(request, participant),
    }


def staff_links(request: Request) -> dict[str, str]:
    """The links as they are now (the organiser may have replaced the code or a link)."""
    base_url = request.app.state.base_url + request.app.state.base
    return links_for(base_url, services_of(request).access.secrets())


async def rotate_submit(request: Request) -> Response:
    """POST /organiser/rotate (a form): the ``event.rotate`` action, then back to the page."""
    participant = await current_participant(request)
    form = await request.form(max_files=0, max_fields=10)
    token = form.get(CSRF_FIELD)
    if participant is None or not participant.is_organiser:
        return forbidden(request, participant)
    if not csrf_ok(request, token if isinstance(token, str) else None) or not origin_allowed(
        request.headers, request.app.state.allowed_origins
    ):
        return forbidden(request, participant)
    ticked = {name: form.get(name) == "yes" for name in ("code", "host", "organiser")}
    raw = {**ticked, "end_sessions": form.get("end_sessions") == "yes"}
    try:
        result, _ = await perform(
            services_of(request), participant, "event.rotate", raw, session=request.session
        )
    except ActionError as exc:
        request.session["notice"] = {"text": exc.message, "ok": False}
    else:
        replaced = [label for name, label in ROTATED_LABELS.items() if ticked[name]]
        ended = result["signed_out"] if raw["end_sessions"] else None
        request.session["notice"] = {"ok": True, "text": rotated_notice(replaced, ended)}
    return RedirectResponse(at(request, "/organiser#links-heading"), status_code=303)


ROTATED_LABELS = {"code": "event code", "host": "host link", "organiser": "organiser link"}


def rotated_notice(replaced: list[str], signed_out: int | None) -> str:
    """ "Replaced the host link: the old one no longer works. 2 people were signed out." """
    old = "the old ones no longer work" if len(replaced) > 1 else "the old one no longer works"
    text = f"Replaced the {' and the '.join(replaced)}: {old}."
    if signed_out is not None:
        people = "1 person was" if signed_out == 1 else f"{signed_out} people were"
        text += f" {people} signed out."
    return text


def with_retry_after(response: Response, exc: AccessError) -> Response:
    """Say when to try again, for a refusal that is only for now (429)."""
    if exc.retry_after:
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


def forbidden(request: Request, participant: Participant | None) -> HTMLResponse:
    return render(request, "forbidden.html", status=403, participant=participant)


Page = Callable[[Request, Participant], Awaitable[Response]]


def page_for(roles: Iterable[str]) -> Callable[[Page], Callable[[Request], Awaitable[Response]]]:
    """Decorator: a page for these roles only. The page gets the participant; a visitor
    or anyone in another role gets the 403 page instead."""
    allowed = frozenset(roles)

    def guard(page: Page) -> Callable[[Request], Awaitable[Response]]:
        @wraps(page)
        async def endpoint(request: Request) -> Response:
            participant = await current_participant(request)
            if participant is None or participant.role not in allowed:
                return forbidden(request, participant)
            return await page(request, participant)

        return endpoint

    return guard


async def home(request: Request) -> Response:
    participant = await current_participant(request)
    if participant is None:
        return RedirectResponse(at(request, "/join"), status_code=303)
    return RedirectResponse(at(request, HOME_BY_ROLE[participant.role]), status_code=303)


async def join_page(request: Request) -> Response:
    participant = await current_participant(request)
    if participant is not None:
        return RedirectResponse(at(request, HOME_BY_ROLE[participant.role]), status_code=303)
    code = request.query_params.get("code", "")[:32]
    return render(request, "join.html", form={"code": code}, errors={})


async def join_submit(request: Request) -> Response:
    form = await request.form(max_files=0, max_fields=20)
    values = {k: v if isinstance(v, str) else "" for k, v in form.items()}
    shown = {k: values.get(k, "")[:200] for k in ("code", "name", "organisation")}
    if not origin_allowed(request.headers, request.app.state.allowed_origins) or not csrf_ok(
        request, values.get(CSRF_FIELD)
    ):
        errors = {"form": "Your page was out of date. Please try again."}
        return render(request, "join.html", status=403, form=shown, errors=errors)
    try:
        session_id, _participant = await services_of(request).access.join(
            values.get("code", ""),
            values.get("name", ""),
            values.get("organisation", ""),
            client=client_of(request),
        )
    except AccessError as exc:
        errors = {exc.field or "form": str(exc)}
        page = render(request, "join.html", status=exc.status, form=shown, errors=errors)
        return with_retry_after(page, exc)
    request.session.clear()
    request.session["sid"] = session_id
    return RedirectResponse(at(request, "/live"), status_code=303)


async def enter(request: Request) -> Response:
    """GET /enter/{role}/{token}: the secret host and organiser links."""
    role = request.path_params["role"]
    if not audiences.is_staff(role):
        return render(request, "forbidden.html", status=404, participant=None)
    try:
        session_id, _ = await services_of(request).access.enter(
            role, request.path_params["token"], client=client_of(request)
        )
    except AccessError as exc:
        status = 429 if exc.status == 429 else 403
        page = render(request, "forbidden.html", status=status, participant=None, message=str(exc))
        return with_retry_after(page, exc)
    request.session.clear()
    request.session["sid"] = session_id
    return RedirectResponse(at(request, HOME_BY_ROLE[role]), status_code=303)


async def leave(request: Request) -> Response:
    participant = await current_participant(request)
    form = await request.form(max_files=0, max_fields=5)
    token = form.get(CSRF_FIELD)
    if participant is not None and not csrf_ok(request, token if isinstance(token, str) else None):
        return forbidden(request, participant)
    session_id = request.session.get("sid")
    if isinstance(session_id, str):
        await services_of(request).access.end_session(session_id)
    request.session.clear()
    return RedirectResponse(at(request, "/join"), status_code=303)


async def attendee_page(request: Request) -> Response:
    participant = await current_participant(request)
    if participant is None:
        return RedirectResponse(at(request, "/join"), status_code=303)
    return render(request, "attendee.html", **(await live_context(request, participant)))


@page_for((audiences.HOST,))
async def host_page(request: Request, participant: Participant) -> Response:
    services = services_of(request)
    context = await live_context(request, participant)
    context["attendee_count"] = await services.access.attendee_count()
    context["roster"] = await services.access.roster()
    context["links"] = staff_links(request)
    context["survey_state"] = services.survey.state()
    submitted, started = await services.survey.counts()
    context["survey_counts"] = {"submitted": submitted, "started": started}
    return render(request, "host.html", **context)


#: The projector's themes; the first is the default.
PROJECTOR_THEMES = ("dark", "light")


def projector_theme(request: Request) -> str:
    """``?theme=dark|light`` chooses the projector's theme and this browser keeps it (in
    its session); without one, the kept theme or the default."""
    asked = request.query_params.get("theme")
    if asked in PROJECTOR_THEMES:
        request.session["projector_theme"] = asked
        return asked
    kept = request.session.get("projector_theme")
    return kept if kept in PROJECTOR_THEMES else PROJECTOR_THEMES[0]


@page_for(audiences.STAFF_ROLES)
async def projector_page(request: Request, participant: Participant) -> Response:
    context = await live_context(request, participant)
    # The attendee link (join address and code): the code is on the screen anyway, and
    # the QR code carries no secret (not the host's or organiser's link).
    join_link = staff_links(request)["attendee"]
    context["join_code"] = services_of(request).access.join_code
    context["join_address"] = short_address(join_link)
    context["join_qr"] = qr_svg(join_link)
    context["show_stage"] = request.query_params.get("stage") != "hide"
    context["theme"] = projector_theme(request)
    return render(request, "projector.html", **context)


@page_for((audiences.ORGANISER,))
async def organiser_page(request: Request, participant: Participant) -> Response:
    services = services_of(request)
    context = await live_context(request, participant)
    context["links"] = staff_links(request)
    context["notice"] = request.session.pop("notice", None)
    context["attendee_count"] = await services.access.attendee_count()
    context["log"] = await services.agenda_service.history()
    return render(request, "organiser.html", **context)


@page_for(audiences.STAFF_ROLES)
async def feedback_page(request: Request, participant: Participant) -> Response:
    """GET /feedback?by=topic|group: every group's responses together (hosts, organisers)."""
    by = "group" if request.query_params.get("by") == "group" else "topic"
    context = await live_context(request, participant)
    breakouts = services_of(request).breakouts
    context["feedback"] = breakouts.feedback_data(breakouts.current)
    context["by"] = by
    return render(request, "feedback.html", **context)


async def survey_page(request: Request) -> Response:
    """GET /survey: the post-event survey, prefilled with this session's saved answers."""
    participant = await current_participant(request)
    if participant is None:
        return RedirectResponse(at(request, "/join"), status_code=303)
    survey = services_of(request).survey
    stored = request.session.get("survey")
    key = stored if isinstance(stored, str) else None
    mine = await survey.mine(key)
    return render(
        request,
        "survey.html",
        participant=participant,
        state=survey.state(),
        answers=mine.answers if mine else {},
        submitted=bool(mine and mine.submitted),
        survey_key=key or "",
        asked=await survey.asked_question(participant, own_keys(request)),
        answered_options=QUESTION_ANSWERED_OPTIONS,
    )


@page_for(audiences.STAFF_ROLES)
async def results_page(request: Request, participant: Participant) -> Response:
    """GET /results: survey results for organisers and hosts."""
    survey = services_of(request).survey
    return render(
        request,
        "results.html",
        participant=participant,
        results=await survey.results(),
        state=survey.state(),
    )


@page_for(audiences.STAFF_ROLES)
async def report_page(request: Request, participant: Participant) -> Response:
    """GET /report: the printable event report; GET /report.md: the same in Markdown."""
    data = await report_data(services_of(request))
    if request.url.path.endswith(".md"):
        return PlainTextResponse(
            report_markdown(data),
            media_type="text/markdown; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="report.md"'},
        )
    return render(request, "report.html", participant=participant, r=data)


@page_for(audiences.STAFF_ROLES)
async def results_group(request: Request, participant: Participant) -> Response:
    """GET /results/group?group=N|none: one breakout group's results (shown groups only)."""
    wanted = request.query_params.get("group", "")
    # isascii: str.isdigit() also accepts digits int() refuses, like "²".
    whole = wanted.isascii() and wanted.isdigit()
    number = None if wanted == "none" else int(wanted) if whole else -1
    results = await services_of(request).survey.results()
    group = next((g for g in results["groups"] if g.group == number), None)
    if group is None or group.suppressed:
        return HTMLResponse('<p class="hint">Not shown.</p>', status_code=404)
    env = request.app.state.env
    body = "".join(
        env.get_template("survey/_summary.html").render(s=summary, g=group)
        for summary in group.questions
    )
    return HTMLResponse(body)
