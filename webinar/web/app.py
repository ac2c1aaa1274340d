"""The Starlette application factory."""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles

from webinar import services as service_layer
from webinar.domain.agenda import Agenda, session_lifetime
from webinar.domain.breakout import AWAY_AFTER
from webinar.services.access import AccessLimits
from webinar.services.live import Clock, utcnow
from webinar.storage.db import exclusive
from webinar.web import api, pages
from webinar.web.bodylimit import BodyLimitMiddleware
from webinar.web.gctune import GcTuner
from webinar.web.links import links_for
from webinar.web.live import LIVE_PATH, LiveShortcut, live_endpoint
from webinar.web.render import Encoder, make_environment
from webinar.web.security import SecurityHeadersMiddleware

log = logging.getLogger(__name__)

SESSION_COOKIE = "webinar_session"


@dataclass(frozen=True)
class Settings:
    agenda: Agenda
    db_path: str
    secrets: dict[str, str]
    base_url: str = "http://127.0.0.1:8000"
    #: Extra Origins allowed besides this site's own (e.g. behind a reverse proxy).
    allowed_origins: tuple[str, ...] = ()
    #: Mark cookies Secure: set when users reach the server over HTTPS.
    https_only: bool = False
    clock: Clock = field(default=utcnow)
    #: Freeze long-lived objects so full garbage collections stay short (see gctune).
    tune_gc: bool = False
    #: Joins per address, and how wrong codes and links are slowed (see AccessLimits).
    access_limits: AccessLimits = field(default_factory=AccessLimits)
    #: Someone with no screen open for longer is not dealt into a breakout group.
    away_after: timedelta = AWAY_AFTER


def links(settings: Settings) -> dict[str, str]:
    """The links as the server starts (``webinar serve`` prints them)."""
    return links_for(settings.base_url, settings.secrets)


async def healthz(request: Request) -> Response:
    return PlainTextResponse("ok")


async def not_found(request: Request, exc: Exception) -> Response:
    """404 and 405: JSON for the API (as documented), plain text elsewhere."""
    status = getattr(exc, "status_code", 404)
    message = (
        "There is nothing at this address."
        if status == 404
        else "This address does not take that method."
    )
    headers = getattr(exc, "headers", None)  # 405 carries Allow
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": {"message": message}}, status_code=status, headers=headers)
    return PlainTextResponse(message, status_code=status, headers=headers)


async def server_error(request: Request, exc: Exception) -> Response:
    """A bug, not the user's fault: say so plainly, never with a traceback."""
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    message = (
        "Something went wrong on the server. Please try again, and tell the host if it persists."
    )
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": {"message": message}}, status_code=500)
    return PlainTextResponse(message, status_code=500)


def create_app(settings: Settings) -> Starlette:
    """Build the app. The database opens in the lifespan, in the server's event loop."""
    env = make_environment(settings.agenda)
    encoder = Encoder(env, settings.agenda)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # One server per database; purge and erase wait for it to stop (see exclusive).
        with exclusive(settings.db_path):
            services = await service_layer.open_services(
                settings.agenda,
                settings.db_path,
                encoder,
                settings.clock,
                settings.access_limits,
                settings.away_after,
            )
            app.state.services = services
            await service_layer.start(services)
            tuner = GcTuner()
            if settings.tune_gc:
                tuner.start()
            try:
                yield
            finally:
                await tuner.stop()
                await service_layer.stop(services)

    routes = [
        Route("/", pages.home),
        Route("/join", pages.join_page, methods=["GET"]),
        Route("/join", pages.join_submit, methods=["POST"]),
        Route("/enter/{role}/{token}", pages.enter),
        Route("/leave", pages.leave, methods=["POST"]),
        Route("/live", pages.attendee_page),
        Route("/host", pages.host_page),
        Route("/projector", pages.projector_page),
        Route("/organiser", pages.organiser_page),
        Route("/organiser/rotate", pages.rotate_submit, methods=["POST"]),
        Route("/feedback", pages.feedback_page),
        Route("/survey", pages.survey_page),
        Route("/results", pages.results_page),
        Route("/results/group", pages.results_group),
        Route("/report", pages.report_page),
        Route("/report.md", pages.report_page),
        Route("/healthz", healthz),
        Route("/api/openapi.json", api.openapi),
        Route("/api/session", api.session_info),
        Route("/api/agenda", api.agenda, methods=["GET"]),
        Route("/api/join", api.join, methods=["POST"]),
        Route("/api/qa/questions", api.questions, methods=["GET"]),
        Route("/api/qa/export", api.export_questions, methods=["GET"]),
        Route(api.PREASSIGN_PATH, api.upload_preassignments, methods=["POST"]),
        Route("/api/breakout/export", api.export_breakouts, methods=["GET"]),
        Route("/api/survey/export", api.export_survey, methods=["GET"]),
        Route("/api/polls/export", api.export_polls, methods=["GET"]),
        Route("/api/{area}/{command}", api.action, methods=["POST"]),
        WebSocketRoute(LIVE_PATH, live_endpoint),
        Mount("/static", StaticFiles(packages=[("webinar", "static")]), name="static"),
    ]
    session = functools.partial(
        SessionMiddleware,
        secret_key=settings.secrets["session_secret"],
        session_cookie=SESSION_COOKIE,
        # For the event (and its survey), not weeks: see session_lifetime.
        max_age=int(session_lifetime(settings.agenda, settings.clock()).total_seconds()),
        same_site="lax",
        https_only=settings.https_only,
    )
    middleware = [
        Middleware(LiveShortcut, session=session),  # /ws: straight to the endpoint
        Middleware(SecurityHeadersMiddleware),
        # Before anything reads a body: refused at its limit, chunked or not.
        Middleware(BodyLimitMiddleware, limits={api.PREASSIGN_PATH: api.MAX_UPLOAD}),
        Middleware(session),
    ]
    app = Starlette(
        routes=routes,
        middleware=middleware,
        lifespan=lifespan,
        exception_handlers={404: not_found, 405: not_found, 500: server_error},
    )
    app.state.env = env
    app.state.encoder = encoder
    app.state.allowed_origins = settings.allowed_origins
    app.state.base_url = settings.base_url
    return app
