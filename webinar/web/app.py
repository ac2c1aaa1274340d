"""The Starlette application factory."""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass, field
from datetime import timedelta

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles

from webinar.domain.agenda import Agenda, session_lifetime
from webinar.domain.breakout import AWAY_AFTER
from webinar.domain.video import origins_of
from webinar.services import DEFAULT_SLUG
from webinar.services.access import AccessLimits
from webinar.services.calls import CallConfig
from webinar.services.commit import Clock, utcnow
from webinar.storage.postgres import Unreachable
from webinar.web import api, calls, pages, signin
from webinar.web.actions.core import DATABASE_AWAY
from webinar.web.bodylimit import BodyLimitMiddleware
from webinar.web.links import links_for
from webinar.web.oidc import CALLBACK_PATH, OidcConfig, make_client
from webinar.web.paths import route_path
from webinar.web.render import Encoder, make_environment
from webinar.web.security import SecurityHeadersMiddleware, security_headers
from webinar.web.sessions import SessionCookie
from webinar.web.ws import SOCKET_PATH, SocketShortcut, socket_endpoint

log = logging.getLogger(__name__)

SESSION_COOKIE = "webinar_session"


@dataclass(frozen=True)
class Hosted:
    """An event a server serves: its short name, its agenda and its secrets."""

    slug: str
    agenda: Agenda
    secrets: dict[str, str]


@dataclass(frozen=True)
class Settings:
    """What a server serves. ``agenda``, ``secrets`` and ``slug`` name its main event (the
    one ``webinar serve AGENDA`` names); ``others`` are served beside it, each under
    ``/e/<slug>/``. With ``aliases`` the main event also answers at the short addresses
    (``/live``, ``/join``, ...), as a one-event server always did."""

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
    #: Secrets for breakout group calls (Jitsi, BigBlueButton): never from the agenda.
    calls: CallConfig = field(default_factory=CallConfig)
    #: Staff sign-in through the organisation's OpenID provider (None: passwords only).
    oidc: OidcConfig | None = None
    slug: str = DEFAULT_SLUG
    others: tuple[Hosted, ...] = ()
    aliases: bool = True
    #: Where people report an accessibility problem (an email or web address), shown in
    #: the accessibility statement; empty: a placeholder asking the operator to set it.
    accessibility_contact: str = ""
    #: Redis (``redis://host:port/db``) for the fan-out log and the writers' leases: each
    #: event's commits are copied to its stream (docs/architecture.md, "Many workers").
    redis_url: str | None = None
    #: Networks besides this computer that may read ``/metrics`` (``--metrics-allow``).
    metrics_allow: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    #: This process is one of the workers of ``webinar serve --workers N`` (with
    #: ``redis_url``): it forwards an event's requests to the worker that writes for it,
    #: and the supervisor holds the database (``webinar.web.workers``).
    worker: bool = False
    #: How many workers this serve runs (``--workers N``): each waits for the others to
    #: join at start, so that the events' leases are spread over all of them.
    workers: int = 1
    #: The host of each worker's private address, which the others forward to.
    advertise: str = "127.0.0.1"
    #: With ``worker``: serve the screens of an event another worker writes for from this
    #: worker's hub, fed by the event's stream, instead of piping them to the writer
    #: (``webinar.web.edge``; not finished: off by default).
    edge_fanout: bool = False

    @property
    def events(self) -> tuple[Hosted, ...]:
        return (Hosted(self.slug, self.agenda, self.secrets), *self.others)


def event_base(slug: str) -> str:
    """Where an event's pages live: ``/e/<slug>``."""
    return f"/e/{slug}"


def links(settings: Settings) -> dict[str, str]:
    """The main event's links as the server starts (``webinar serve`` prints them): the
    short addresses when it has them."""
    base = "" if settings.aliases else event_base(settings.slug)
    return links_for(settings.base_url + base, settings.secrets)


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
    if route_path(request.scope).startswith("/api/"):
        return JSONResponse({"error": {"message": message}}, status_code=status, headers=headers)
    return PlainTextResponse(message, status_code=status, headers=headers)


async def server_error(request: Request, exc: Exception) -> Response:
    """A bug, not the user's fault: say so plainly, never with a traceback."""
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    message = (
        "Something went wrong on the server. Please try again, and tell the host if it persists."
    )
    if route_path(request.scope).startswith("/api/"):
        return JSONResponse({"error": {"message": message}}, status_code=500)
    return PlainTextResponse(message, status_code=500)


async def database_away(request: Request, exc: Exception) -> Response:
    """The database does not answer (PostgreSQL restarting): 503 and a plain sentence,
    which a retry a few seconds later gets past (the connection comes back by itself).
    (Also called for a socket, whose scope has no method: the response is not sent.)"""
    method = request.scope.get("method", "WebSocket")
    log.warning("%s %s: the database did not answer (%s)", method, request.url.path, exc)
    headers = {"Retry-After": "5"}
    if route_path(request.scope).startswith("/api/"):
        body = {"error": {"message": DATABASE_AWAY}}
        return JSONResponse(body, status_code=503, headers=headers)
    return PlainTextResponse(DATABASE_AWAY, status_code=503, headers=headers)


def event_app(settings: Settings, event: Hosted, base: str) -> Starlette:
    """One event's app: its pages, actions, exports and live socket, its own session
    cookie (signed with its own secret) and templates whose links start with ``base``.
    Its services are set on ``app.state.services`` by the :class:`Site` that opens them."""
    env = make_environment(event.agenda)
    env.globals["base"] = base
    encoder = Encoder(env, event.agenda)
    routes = [
        Route("/", pages.home),
        Route("/join", pages.join_page, methods=["GET"]),
        Route("/join", pages.join_submit, methods=["POST"]),
        Route("/enter/{role}/{token}", pages.enter),
        Route("/leave", pages.leave, methods=["POST"]),
        Route("/signin", signin.signin_page, methods=["GET"]),
        Route("/signin", signin.signin_submit, methods=["POST"]),
        Route("/signin/oidc", signin.oidc_start, methods=["GET"]),
        Route(CALLBACK_PATH, signin.oidc_callback, methods=["GET"]),
        Route("/signout", signin.signout, methods=["POST"]),
        Route("/live", pages.attendee_page),
        Route("/host", pages.host_page),
        Route("/projector", pages.projector_page),
        Route("/organiser", pages.organiser_page),
        Route("/organiser/rotate", pages.rotate_submit, methods=["POST"]),
        Route("/breakout/call", calls.call_page),
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
        WebSocketRoute(SOCKET_PATH, socket_endpoint),
        Mount("/static", STATIC, name="static"),
    ]
    cookie = SessionCookie(
        # One cookie per event: being someone in one event says nothing in another.
        session_cookie(event.slug),
        event.secrets["session_secret"],
        # For the event (and its survey), not weeks: see session_lifetime.
        max_age=int(session_lifetime(event.agenda, settings.clock()).total_seconds()),
        https_only=settings.https_only,
    )
    middleware = [
        Middleware(SocketShortcut, cookie=cookie),  # /ws: straight to the endpoint
        Middleware(
            SecurityHeadersMiddleware,
            headers=security_headers(origins_of(event.agenda.stages(), event.agenda.calls())),
        ),
        # Before anything reads a body: refused at its limit, chunked or not.
        Middleware(BodyLimitMiddleware, limits={api.PREASSIGN_PATH: api.MAX_UPLOAD}),
        cookie.middleware(),
    ]
    app = Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={
            404: not_found,
            405: not_found,
            500: server_error,
            Unreachable: database_away,
        },
    )
    app.state.env = env
    app.state.encoder = encoder
    app.state.allowed_origins = settings.allowed_origins
    app.state.base_url = settings.base_url
    app.state.oidc = (settings.oidc, make_client(settings.oidc)) if settings.oidc else None
    app.state.base = base
    app.state.slug = event.slug
    app.state.cookie = cookie  # the programme hands a signed-in account over with it
    return app


def session_cookie(slug: str) -> str:
    """The name of an event's session cookie."""
    return f"{SESSION_COOKIE}_{slug}"


STATIC = StaticFiles(packages=[("webinar", "static")])
