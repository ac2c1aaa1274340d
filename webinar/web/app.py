"""The Starlette application factory."""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles

from webinar import services as service_layer
from webinar.domain.agenda import Agenda
from webinar.services.live import Clock, utcnow
from webinar.storage.db import exclusive
from webinar.web import api, pages
from webinar.web.gctune import GcTuner
from webinar.web.live import LIVE_PATH, LiveShortcut, live_endpoint
from webinar.web.render import Encoder, make_environment
from webinar.web.security import SecurityHeadersMiddleware

log = logging.getLogger(__name__)

SESSION_COOKIE = "webinar_session"
SESSION_MAX_AGE = 14 * 24 * 3600


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


def links(settings: Settings) -> dict[str, str]:
    base = settings.base_url.rstrip("/")
    code = settings.secrets["join_code"]
    return {
        "code": code,
        "attendee": f"{base}/join?code={code}",
        "host": f"{base}/enter/host/{settings.secrets['host_token']}",
        "organiser": f"{base}/enter/organiser/{settings.secrets['organiser_token']}",
        "projector": f"{base}/projector",
    }


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
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": {"message": message}}, status_code=status)
    return PlainTextResponse(message, status_code=status)


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
                settings.agenda, settings.db_path, encoder, settings.clock
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
        Route("/api/breakout/preassign", api.upload_preassignments, methods=["POST"]),
        Route("/api/breakout/export", api.export_breakouts, methods=["GET"]),
        Route("/api/survey/export", api.export_survey, methods=["GET"]),
        Route("/api/{area}/{command}", api.action, methods=["POST"]),
        WebSocketRoute(LIVE_PATH, live_endpoint),
        Mount("/static", StaticFiles(packages=[("webinar", "static")]), name="static"),
    ]
    session = functools.partial(
        SessionMiddleware,
        secret_key=settings.secrets["session_secret"],
        session_cookie=SESSION_COOKIE,
        max_age=SESSION_MAX_AGE,
        same_site="lax",
        https_only=settings.https_only,
    )
    middleware = [
        Middleware(LiveShortcut, session=session),  # /ws: straight to the endpoint
        Middleware(SecurityHeadersMiddleware),
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
    app.state.links = links(settings)
    return app
