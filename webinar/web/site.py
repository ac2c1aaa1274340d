"""The server's app: every event in the database, each under ``/e/<slug>/``.

Each event runs in its own app (:func:`webinar.web.app.event_app`) with its own services:
its clock and tickers, hub and audiences, rate limits, session cookie and secrets, and a
database handle that reads and writes only its rows. The events share the database file
and its one write lock. The main event (the one ``webinar serve AGENDA`` names, or the
only one) also answers at the short addresses (``/live``, ``/join``, ``/ws``, ...), so
links printed by a one-event server keep working.

An event added to the database while the server runs (``webinar events add``) is opened
on the first request for its address. A plain ASGI dispatcher rather than a router: a
live socket's every event passes through each layer between the server and the endpoint
(see :class:`webinar.web.ws.SocketShortcut`), and this one adds a single call.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar
from urllib.parse import parse_qs

from prometheus_client import CONTENT_TYPE_LATEST
from redis.asyncio import Redis
from redis.exceptions import RedisError
from starlette.applications import Starlette
from starlette.datastructures import State
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from webinar import services as service_layer
from webinar.domain.accounts import SigninThrottle
from webinar.domain.agenda_file import AgendaFileError, parse_agenda
from webinar.realtime.lease import Membership, members_key
from webinar.realtime.streams import connect
from webinar.services import Services
from webinar.services.access import new_secrets
from webinar.services.accounts import AccountService
from webinar.services.calls import config_problems
from webinar.services.fanout import StreamFollower
from webinar.services.plan import planned_agenda
from webinar.services.writer import (
    LEASE_MS,
    EventWriter,
    bidding,
    event_writer,
    join,
    keep_bidding,
    key_prefix,
    stay_member,
    write_for,
)
from webinar.storage import repo, webinars
from webinar.storage.db import exclusive
from webinar.web import edge
from webinar.web.app import (
    SESSION_COOKIE,
    STATIC,
    Hosted,
    Settings,
    event_app,
    event_base,
    session_cookie,
)
from webinar.web.forward import (
    EDGE_HEADER,
    FROM_PEER,
    WITHDRAW_PATH,
    WORKER_METRICS_PATH,
    Forwarder,
    PrivateListener,
    as_forwarded,
    header,
    internal,
    not_writer,
    peer_proof,
    proven,
)
from webinar.web.gctune import GcTuner
from webinar.web.metrics import (
    METRICS_PATH,
    READY_PATH,
    SiteMetrics,
    metrics_app,
    readiness_app,
)
from webinar.web.paths import route_path
from webinar.web.programme import PREFIX as PROGRAMME
from webinar.web.programme import programme_app
from webinar.web.security import SecurityHeadersMiddleware
from webinar.web.statement import PATH as STATEMENT
from webinar.web.statement import statement_app
from webinar.web.ws import SOCKET_PATH

log = logging.getLogger(__name__)

T = TypeVar("T")

#: The prefix of every event's addresses.
EVENTS_PREFIX = "/e/"

NO_EVENT = "There is no event at this address. Check the link you were given."
INTERNAL = "This address is for the server's own workers."

#: The programme's pages of one event.
PROGRAMME_EVENTS = PROGRAMME + EVENTS_PREFIX

#: Seconds an address that names no event is answered without looking in the database.
MISSING_FOR = 5.0


@dataclass
class _Open:
    """An event being served: its app and its services."""

    app: Starlette
    services: Services
    #: The peer header's value for this event (``webinar.web.forward``).
    proof: bytes = b""


class Site:
    """ASGI app: dispatches ``/e/<slug>/...`` to that event's app, anything else to the
    main event's (when it has the short addresses); runs every event's services between
    start-up and shutdown."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.state = State()  # ``state.services``: the main event's, for tests and benches
        self.events: dict[str, _Open] = {}
        self._opening = asyncio.Lock()
        self._missing: dict[str, float] = {}  # slug -> until when it is known not to exist
        self._write_lock = asyncio.Lock()
        self._redis: Redis | None = None
        #: Each event's writer role, with ``settings.redis_url`` (the fan-out log).
        self._writers: dict[str, EventWriter] = {}
        #: A worker's membership of the live workers, over which the leases are spread.
        self._members: Membership | None = None
        self._membership: asyncio.Task[None] | None = None
        #: A worker's bids for the events another worker writes for (``settings.worker``).
        self._bids: dict[str, asyncio.Task[None]] = {}
        self._forwarder: Forwarder | None = None
        self._listener: PrivateListener | None = None  # a worker's
        #: With ``settings.edge_fanout``: the screens other workers serve of the events
        #: this worker writes for, and this worker's lines to the writers of the others.
        self._remote: dict[str, edge.RemoteScreens] = {}
        self._links: dict[str, edge.EdgeLink] = {}
        #: One throttle of staff sign-in guesses for every event served.
        self._signin_throttle = SigninThrottle()
        self._stack = contextlib.ExitStack()
        self._tuner = GcTuner()
        self._static = SecurityHeadersMiddleware(_static_files)
        self.programme = programme_app(self)
        self.statement = statement_app(settings.accessibility_contact)
        #: True between a start-up that completed and shutdown (``/readyz``).
        self.serving = False
        #: Screens closed because their event stopped being served (``withdraw``), by
        #: event, for the metrics: kept here, as the event's hub goes with it.
        self.withdrawn_screens: dict[str, int] = {}
        self.metrics = SiteMetrics(self)
        self._operations = {METRICS_PATH: metrics_app(self), READY_PATH: readiness_app(self)}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] == "http":
            send = self.metrics.counting(send)
        from_peer = bool(scope.get(FROM_PEER))
        path = route_path(scope)
        slug = self._event_slug(path)
        site_level = None if slug is not None else self._site_level(path, scope["type"])
        if (from_peer and site_level is not None) or (not from_peer and internal(scope)):
            # Only an event's requests are forwarded; only workers send the peer headers.
            await _refuse(scope, receive, send, INTERNAL, 403)
            return
        if site_level is not None:
            await site_level(scope, receive, send)
            return
        if slug is not None:
            await self._event_path(slug, path, scope, receive, send)
            return
        main = self.events.get(self.settings.slug) if self.settings.aliases else None
        if main is not None and path == "/healthz" and not from_peer:
            await main.app(scope, receive, send)  # this worker's health, never forwarded
        elif main is not None:
            scope = _legacy_cookie(scope, self.settings.slug)
            await self._event(self.settings.slug, main, scope, receive, send)
        elif path == "/healthz" and scope["type"] == "http":  # the server's, for monitors
            await SecurityHeadersMiddleware(PlainTextResponse("ok"))(scope, receive, send)
        else:
            await _refuse(scope, receive, send)

    def _event_slug(self, path: str) -> str | None:
        """The event an address under ``/e/<slug>/`` is for; for a worker, also the
        programme's pages of one event (``/programme/e/<slug>...``), which change it (its
        agenda, its staff sessions) and so are served by the worker that writes for it."""
        if path.startswith(EVENTS_PREFIX):
            return path[len(EVENTS_PREFIX) :].split("/", 1)[0]
        if self.settings.worker and path.startswith(PROGRAMME_EVENTS):
            return path[len(PROGRAMME_EVENTS) :].split("/", 1)[0]
        return None

    async def _event_path(
        self, slug: str, path: str, scope: Scope, receive: Receive, send: Send
    ) -> None:
        event = self.events.get(slug) or await self._open_added(slug)
        if event is None and not path.startswith(EVENTS_PREFIX):
            await self.programme(scope, receive, send)  # it says what is wrong
        elif event is None:
            await _refuse(scope, receive, send)
        elif path.startswith(EVENTS_PREFIX):
            inner = dict(scope)
            inner["root_path"] = scope.get("root_path", "") + event_base(slug)
            await self._event(slug, event, inner, receive, send)
        else:
            await self._event(slug, event, scope, receive, send, self.programme)

    async def _event(
        self,
        slug: str,
        event: _Open,
        scope: Scope,
        receive: Receive,
        send: Send,
        app: ASGIApp | None = None,
    ) -> None:
        """Serve a request for one event (by ``app``, else the event's own) here, or, on a
        worker that does not write for it, forward it to the worker that does
        (``webinar.web.forward``)."""
        app = app or event.app
        writer = self._writers.get(slug) if self.settings.worker else None
        if scope.get(FROM_PEER):
            if not proven(scope, event.proof):
                await _refuse(scope, receive, send, INTERNAL, 403)
            elif writer is not None and not writer.writing:
                await not_writer(scope, receive, send)
            elif self._edge_request(scope):
                await self._remote_screens(slug, event).handle(as_forwarded(scope), receive, send)
            else:
                await app(as_forwarded(scope), receive, send)
            return
        if writer is None or writer.writing or self._forwarder is None:
            await app(scope, receive, send)
            return
        local = self._here(slug, programme=app is self.programme)
        if self._edge_socket(scope, app is self.programme):
            await edge.edge_socket(scope, receive, send, event.app, self._link(slug, writer, event))
        elif scope["type"] == "websocket":
            await self._forwarder.websocket(scope, receive, send, writer, event.proof, local)
        else:
            await self._forwarder.http(scope, receive, send, writer, event.proof, local)

    @staticmethod
    def _edge_request(scope: Scope) -> bool:
        """A worker's own request about a screen it serves (a client's request passed on
        never carries the header: forwarding drops it, the public port refuses it)."""
        return (
            scope["type"] == "http"
            and header(scope, EDGE_HEADER) == b"1"
            and route_path(scope).startswith(edge.PREFIX)
        )

    def _edge_socket(self, scope: Scope, programme: bool) -> bool:
        """Whether this worker serves a socket of an event it does not write for itself."""
        return (
            self.settings.edge_fanout
            and not programme
            and scope["type"] == "websocket"
            and route_path(scope) == SOCKET_PATH
        )

    def _link(self, slug: str, writer: EventWriter, event: _Open) -> edge.EdgeLink:
        link = self._links.get(slug)
        if link is None:
            assert self._forwarder is not None
            link = self._links[slug] = edge.EdgeLink(slug, self._forwarder, writer, event.proof)
        return link

    def _remote_screens(self, slug: str, event: _Open) -> edge.RemoteScreens:
        """The writer's record of the event's screens on other workers (for the services
        being served: a new record when the event was opened again)."""
        remote = self._remote.get(slug)
        if remote is None or remote.services is not event.services:
            state = event.app.state
            remote = edge.RemoteScreens(event.services, state.cookie, state.encoder)
            writer = self._writers.get(slug)
            if writer is not None:
                remote.publish = writer.publisher.add_change
            self._remote[slug] = remote
        return remote

    def _follow(self, slug: str, writer: EventWriter, event: _Open) -> None:
        """Feed the hub of an event another worker writes for from its stream, audience
        changes of this worker's screens included (edge fan-out); taking over stops it
        (``EventWriter.take_over``)."""
        if not self.settings.edge_fanout:
            return
        services = event.services
        follower = StreamFollower(services.hub, writer.publisher.stream, services.committer.db)
        link = self._link(slug, writer, event)
        follower.on_change = link.apply
        follower.on_resync = link.resync
        writer.follower = follower
        follower.start()

    async def _unlink(self, slug: str, writer: EventWriter | None) -> None:
        """Stop following the event's stream and close its edge screens (they resume)."""
        link = self._links.pop(slug, None)
        if link is not None:
            await link.stop()
        if writer is not None and writer.follower is not None:
            await writer.follower.stop()

    def _here(self, slug: str, programme: bool) -> ASGIApp:
        """Serve on this worker, by the event as it is served when called (a request that
        waited for the next writer, and that writer was this worker)."""

        async def serve(scope: Scope, receive: Receive, send: Send) -> None:
            current = self.events.get(slug)
            if current is None:
                await _refuse(scope, receive, send)
            else:
                await (self.programme if programme else current.app)(scope, receive, send)

        return serve

    async def _from_peer(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The private listener's app: requests forwarded by the other workers, and their
        requests to withdraw an event (``Site.withdraw`` on a worker that does not write
        for it)."""
        if scope["type"] == "http" and scope["path"] == WITHDRAW_PATH:
            await self._withdraw_for_peer(scope, receive, send)
        elif scope["type"] == "http" and scope["path"] == WORKER_METRICS_PATH:
            await self._metrics_for_peer(scope, receive, send)
        elif scope["type"] in ("http", "websocket"):
            await self({**scope, FROM_PEER: True}, receive, send)

    async def _withdraw_for_peer(self, scope: Scope, receive: Receive, send: Send) -> None:
        slug = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("event", [""])[0]
        event = self.events.get(slug)
        if event is not None and not proven(scope, event.proof):
            await _refuse(scope, receive, send, INTERNAL, 403)
            return
        if event is not None and not self.is_main(slug):
            await self.withdraw(slug)
        await PlainTextResponse("withdrawn")(scope, receive, send)

    async def _metrics_for_peer(self, scope: Scope, receive: Receive, send: Send) -> None:
        """This worker's own metrics, for the worker gathering them (``/metrics``): to a
        request with the main event's peer proof only."""
        main = self.events.get(self.settings.slug)
        if main is None or not proven(scope, main.proof):
            await _refuse(scope, receive, send, INTERNAL, 403)
            return
        own = Response(self.metrics.exposition(), headers={"Content-Type": CONTENT_TYPE_LATEST})
        await own(scope, receive, send)

    def worker_address(self) -> str | None:
        """This worker's private address (its ``worker`` label); None when not a worker."""
        return self._listener.address if self._listener is not None else None

    async def peer_metrics(self) -> dict[str, str]:
        """The other live workers' own metrics by address, those of this host (its
        ``--advertise`` address): a worker that does not answer is left out."""
        main = self.events.get(self.settings.slug)
        if self._members is None or self._forwarder is None or main is None:
            return {}
        own = self._members.member
        host = own.rsplit(":", 1)[0]
        peers = [m for m in self._members.live if m != own and m.rsplit(":", 1)[0] == host]
        texts = await asyncio.gather(
            *(self._forwarder.metrics_of(peer, main.proof) for peer in peers)
        )
        return {peer: text for peer, text in zip(peers, texts, strict=True) if text is not None}

    def _site_level(self, path: str, kind: str) -> ASGIApp | None:
        """The app of an address that belongs to the site, not to an event: /metrics and
        /readyz, /static/..., the accessibility statement, the programme."""
        operations = self._operations.get(path)
        if operations is not None and kind == "http":  # /metrics, /readyz
            return operations
        if path.startswith("/static/"):
            return self._static
        if path == STATEMENT:
            return self.statement
        if path == PROGRAMME or path.startswith(PROGRAMME + "/"):
            return self.programme
        return None

    # -- for the programme -------------------------------------------------------------

    def accounts(self) -> AccountService:
        """The staff accounts (they are the install's; the main event's services hold them)."""
        return self.events[self.settings.slug].services.accounts

    async def event(self, slug: str) -> _Open | None:
        """The event ``slug`` as served, opened now if it was added since start-up."""
        return self.events.get(slug) or await self._open_added(slug)

    def added(self, slug: str) -> None:
        """An event was just created: serve it on its first visit, however recently its
        address was asked for."""
        self._missing.pop(slug, None)

    def base_of(self, slug: str) -> str:
        """Where the event's pages are: the short addresses for the main event."""
        main = slug == self.settings.slug and self.settings.aliases
        return "" if main else event_base(slug)

    def writes_for(self, slug: str) -> bool:
        """Whether this process runs the event's services (always, unless it is a worker
        that forwards the event to another worker)."""
        writer = self._writers.get(slug) if self.settings.worker else None
        return writer is None or writer.writing

    def is_main(self, slug: str) -> bool:
        """The event named on the command line: served from its file, holding the accounts."""
        return slug == self.settings.slug

    async def withdraw(self, slug: str, release: bool = True) -> EventWriter | None:
        """Stop serving an event (not the main one); it is opened again from the database
        on its next visit, with the agenda stored then. Under workers another worker
        takes the lease and opens it again at once; with ``release`` False this worker's
        writer is returned still holding the lease, so that none does yet."""
        if self.is_main(slug):
            raise ValueError("the main event is served for as long as the server runs")
        async with self._opening:
            event = self.events.pop(slug, None)
            if event is None:
                return None
            writer = self._writers.get(slug)
            elsewhere = writer is not None and not writer.writing  # another worker writes
            # Open screens reconnect (as after a restart) to the event opened again.
            hub = event.services.hub
            closing = [
                client
                for owner in hub.owners()
                for client in hub.screens_of(owner)
                if not client.dropped
            ]
            for client in closing:
                client.drop()
            self.withdrawn_screens[slug] = self.withdrawn_screens.get(slug, 0) + len(closing)
            kept = await self._stop(slug, event.services, release)
        if writer is not None and elsewhere and self._forwarder is not None:
            # The worker that writes for it serves it: withdraw it there too.
            await self._forwarder.withdraw(writer, slug, event.proof)
        return kept

    async def purge(self, slug: str, erase: Callable[[], T]) -> T:
        """Run ``erase`` (a purge) in a worker thread with the event not served and no
        event writing meanwhile; the event is opened again on its next visit. Under
        workers this worker keeps the event's lease through the erase, so no other
        worker opens the event half erased."""
        holding = await self.withdraw(slug, release=False)
        try:
            async with self._opening, self._write_lock:
                return await asyncio.to_thread(erase)
        finally:
            if holding is not None:
                await holding.step_down()

    # -- start-up and shutdown ----------------------------------------------------------

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        await receive()  # lifespan.startup
        try:
            await self.open()
        except Exception as exc:
            log.exception("the server could not start")
            await send({"type": "lifespan.startup.failed", "message": str(exc)})
            return
        await send({"type": "lifespan.startup.complete"})
        await receive()  # lifespan.shutdown
        await self.close()
        await send({"type": "lifespan.shutdown.complete"})

    async def open(self) -> None:
        """Hold the database (one server per file), open and start every event."""
        if not self.settings.worker:
            # One server per database; purge and erase wait for it to stop (see
            # exclusive). A worker's supervisor holds it for all its workers.
            self._stack.enter_context(exclusive(self.settings.db_path))
        if self.settings.redis_url is not None:
            self._redis = connect(self.settings.redis_url)
        try:
            if self.settings.worker:
                await self._listen_privately()
            for hosted in self.settings.events:
                found = webinars.find_webinar_sync(self.settings.db_path, hosted.slug)
                if found is None:
                    raise LookupError(f"the database holds no event '{hosted.slug}'")
                await self._start(hosted, found.id)
            main = self.events.get(self.settings.slug)
            if main is not None:
                self.state.services = main.services
            if self.settings.tune_gc:
                self._tuner.start()
            self.serving = True
        except BaseException:
            await self.close()
            raise

    async def _listen_privately(self) -> None:
        self._listener = PrivateListener(self._from_peer, self.settings.advertise)
        await self._listener.start()
        self._forwarder = Forwarder(self._listener.address)
        log.info("worker %d: private address %s", os.getpid(), self._listener.address)
        assert self._redis is not None
        prefix = key_prefix(self.settings.db_path)
        members = Membership(self._redis, members_key(prefix), self._listener.address, LEASE_MS)
        self._members = members
        try:
            await join(members, self.settings.workers, LEASE_MS / 1000)
        except (RedisError, OSError) as exc:  # bid anyway: every event still gets a writer
            log.warning("joining the workers failed (%s); trying again", exc)
        self._membership = asyncio.create_task(stay_member(members), name="membership")

    async def _leave(self) -> None:
        """Stop renewing this worker's membership and leave, so the others prefer
        themselves for the events' next leases."""
        if self._membership is not None:
            self._membership.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._membership
            self._membership = None
        if self._members is not None:
            with contextlib.suppress(RedisError, OSError):
                await self._members.leave()
            self._members = None

    async def close(self) -> None:
        self.serving = False
        await self._tuner.stop()
        # Leave first: the others then prefer themselves for the leases given up below
        # once their view of the live workers is renewed (every 1.7 s).
        await self._leave()
        for slug, event in list(self.events.items()):
            await self._stop(slug, event.services)
        self.events.clear()
        if self._listener is not None:
            await self._listener.stop()
            self._listener = None
        if self._forwarder is not None:
            await self._forwarder.close()
            self._forwarder = None
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None
        self._stack.close()

    async def _stop(
        self, slug: str, services: Services, release: bool = True
    ) -> EventWriter | None:
        """Stop one event (its tickers, its last changes written), then copy what its
        stream lacks and give up its lease; with ``release`` False, the writer is
        returned still holding (and renewing) the lease, for its caller to step down."""
        bid = self._bids.pop(slug, None)
        if bid is not None:
            bid.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await bid
        await service_layer.stop(services)
        writer = self._writers.pop(slug, None)
        await self._unlink(slug, writer)
        self._remote.pop(slug, None)
        if writer is not None and release:
            await writer.step_down()
            return None
        return writer

    async def _start(self, hosted: Hosted, webinar_id: int) -> _Open:
        opened = await self._open_event(hosted, webinar_id)
        services = opened.services
        if self._redis is not None and self._listener is not None:
            await self._bid(hosted.slug, opened)
        elif self._redis is not None:
            try:
                self._writers[hosted.slug] = await write_for(
                    services.committer, self._redis, key_prefix(self.settings.db_path)
                )
            except BaseException:
                await service_layer.stop(services)
                raise
            await service_layer.start(services)
        else:
            await service_layer.start(services)
        self.events[hosted.slug] = opened
        return opened

    async def _open_event(self, hosted: Hosted, webinar_id: int) -> _Open:
        """The event's app and services, state loaded, nothing started."""
        settings = self.settings
        main = hosted.slug == settings.slug and settings.aliases
        app = event_app(settings, hosted, "" if main else event_base(hosted.slug))
        app.state.programme_cookie = self.programme.state.cookie  # OpenID sign-in to it
        services = await service_layer.open_services(
            hosted.agenda,
            settings.db_path,
            app.state.encoder,
            settings.clock,
            settings.access_limits,
            settings.away_after,
            settings.calls,
            webinar_id=webinar_id,
            write_lock=self._write_lock,
            signin_throttle=self._signin_throttle,
        )
        app.state.services = services
        services.committer.observer = self.metrics.commit_times(hosted.slug)
        return _Open(app, services, peer_proof(hosted.secrets))

    async def _bid(self, slug: str, opened: _Open) -> None:
        """A worker's writer role for an event: write now if the lease is free, else bid
        for it in the background (``_won`` once it is this worker's)."""
        assert self._redis is not None and self._listener is not None
        # "address pid nonce": where to forward, and which process (for operators).
        token = f"{self._listener.address} {os.getpid()} {secrets.token_hex(8)}"
        prefix = key_prefix(self.settings.db_path)
        writer = event_writer(opened.services.committer, self._redis, prefix, token)
        self._writers[slug] = writer

        async def lost() -> None:
            await self._lost(slug, writer)

        writer.lost = lost
        try:
            # At start only the events this worker is preferred for; later (a first
            # visit to an event added since) at once: the visitor waits for its writer.
            free = (self.serving or self._bid_for(slug)(0.0)) and await writer.take_over()
        except (RedisError, OSError) as exc:
            log.warning("bidding for event %s failed (%s); trying again", slug, exc)
            free = False
        if free:
            await service_layer.start(opened.services)
        else:
            self._follow(slug, writer, opened)
            self._keep_bidding(slug, writer)

    def _keep_bidding(self, slug: str, writer: EventWriter) -> None:
        async def won() -> None:
            await self._won(slug, writer)

        self._bids[slug] = asyncio.create_task(
            keep_bidding(writer.lease, won, self._bid_for(slug)), name=f"bid for {slug}"
        )

    def _bid_for(self, slug: str) -> Callable[[float], bool]:
        """Whether this worker bids for the event's lease, seen free so many seconds
        (``webinar.domain.placement``): its writers are spread over the live workers."""
        writer = self._writers[slug]
        if self._members is None:
            return lambda free_for: True
        return bidding(self._members, writer.committer.db.webinar_id)

    async def _won(self, slug: str, writer: EventWriter) -> None:
        """This worker holds the event's lease now (its writer died or gave it up): open
        the event again from the database (its agenda may have been changed through the
        writer since this worker opened it; the main event's comes from the command
        line), take over and start its tickers."""
        log.info("worker %d writes for event %s now", os.getpid(), slug)
        async with self._opening:
            old = self.events.get(slug)
            if old is None:
                return  # withdrawn meanwhile: the next visit opens and bids again
            fresh = old if self.is_main(slug) else await self._fresh(slug, old)
            if fresh is None:  # removed from the database, or its agenda is unusable
                await self._unlink(slug, writer)
                self.events.pop(slug, None)
                self._bids.pop(slug, None)
                self._writers.pop(slug, None)
                await writer.step_down()
                await service_layer.stop(old.services)
                return
            # Edge screens reconnect, to be served here as local ones.
            await self._unlink(slug, writer)
            # Requests now reach the fresh app; they wait (forward.py) until it writes.
            self.events[slug] = fresh
            if fresh is not old:
                writer.serve(fresh.services.committer)
            if not await self._take_over(slug, writer):  # not now: follow, bid again
                self._follow(slug, writer, fresh)
                self._keep_bidding(slug, writer)
                return
            await service_layer.start(fresh.services)
            if fresh is not old:
                await service_layer.stop(old.services)

    async def _take_over(self, slug: str, writer: EventWriter) -> bool:
        """``writer.take_over()``; False when the lease ran out meanwhile, or when Redis or
        the database failed half-way (the lease is given up, so the bidding goes on here
        or elsewhere: an error must not end this worker's bidding for the event)."""
        try:
            return await writer.take_over()
        except Exception:
            log.exception("taking over event %s failed; bidding again", slug)
            await writer.step_down()
            return False

    async def _lost(self, slug: str, writer: EventWriter) -> None:
        """Another worker took this one's lease (Redis did not answer past the lease's
        time): stop the event's tickers (the epoch refuses their writes anyway), open it
        again from the database, nothing started, and bid again."""
        log.warning("worker %d no longer writes for event %s", os.getpid(), slug)
        async with self._opening:
            old = self.events.get(slug)
            if old is None or self._writers.get(slug) is not writer:
                return  # withdrawn meanwhile
            fresh = await self._fresh(slug, old)
            if fresh is None:
                self.events.pop(slug, None)
                self._writers.pop(slug, None)
            else:
                self.events[slug] = fresh
                writer.serve(fresh.services.committer)
                self._follow(slug, writer, fresh)
                self._keep_bidding(slug, writer)
            await service_layer.stop(old.services)

    async def _fresh(self, slug: str, old: _Open) -> _Open | None:
        """The event opened again, nothing started: from the command line's agenda for
        the main event, else from the database (None: removed, or its agenda unusable)."""
        if self.is_main(slug):
            hosted = next(h for h in self.settings.events if h.slug == slug)
            return await self._open_event(hosted, old.services.db.webinar_id)
        try:
            found = await asyncio.to_thread(self._load, slug)
        except Exception:
            log.exception("event %s could not be opened", slug)
            return None
        if found is None:
            return None
        return await self._open_event(*found)

    async def _open_added(self, slug: str) -> _Open | None:
        """Serve an event added to the database since start-up; None if there is none by
        that name (or its agenda can no longer be used, which is logged)."""
        if not webinars.SLUG.fullmatch(slug) or self._missing.get(slug, 0.0) > time.monotonic():
            return None
        async with self._opening:
            if slug in self.events:
                return self.events[slug]
            try:
                hosted = await asyncio.to_thread(self._load, slug)
            except Exception:  # the database, not the visitor: say no event, log why
                log.exception("event %s could not be opened", slug)
                hosted = None
            if hosted is None:
                # Not looked up again for a while: a stream of made-up addresses costs
                # one query each per MISSING_FOR, not one per request.
                if len(self._missing) > 1000:
                    self._missing.clear()
                self._missing[slug] = time.monotonic() + MISSING_FOR
                return None
            event, webinar_id = hosted
            try:
                return await self._start(event, webinar_id)
            except Exception:  # its saved state cannot be restored: say no event, log why
                log.exception("event %s could not be opened", slug)
                self._missing[slug] = time.monotonic() + MISSING_FOR
                return None

    def _load(self, slug: str) -> tuple[Hosted, int] | None:
        path = self.settings.db_path
        found = webinars.find_webinar_sync(path, slug)
        if found is None or found.agenda is None:
            return None
        try:
            agenda = parse_agenda(found.agenda, found.agenda_name or slug, today=date.today())
        except AgendaFileError as exc:
            log.error("event %s: its stored agenda cannot be used: %s", slug, exc)
            return None
        problems = config_problems(agenda, self.settings.calls)
        if problems:
            log.error("event %s cannot be served: %s", slug, " ".join(problems))
            return None
        secrets = repo.ensure_meta_sync(path, found.id, new_secrets())
        return Hosted(slug, planned_agenda(path, found.id, agenda), secrets), found.id


#: The session cookie of the one-event release, signed with the same secret as the event
#: it became: read as that event's at its short addresses, so nobody is signed out by the
#: upgrade.
LEGACY_COOKIE = SESSION_COOKIE.encode() + b"="


def _legacy_cookie(scope: Scope, slug: str) -> Scope:
    """``scope`` with a legacy session cookie renamed to the event's, when it has only that."""
    headers: list[tuple[bytes, bytes]] = scope["headers"]
    for name, value in headers:
        if name == b"cookie" and LEGACY_COOKIE in value:
            own = session_cookie(slug).encode() + b"="
            cookies = [c.strip() for c in value.split(b";")]
            if any(c.startswith(own) for c in cookies):
                return scope
            renamed = b"; ".join(
                own + c[len(LEGACY_COOKIE) :] if c.startswith(LEGACY_COOKIE) else c for c in cookies
            )
            return {
                **scope,
                "headers": [(n, renamed if n == b"cookie" else v) for n, v in headers],
            }
    return scope


async def _static_files(scope: Scope, receive: Receive, send: Send) -> None:
    """The package's static files, for pages of any event (they name ``/static/...``)."""
    inner = dict(scope)
    inner["root_path"] = scope.get("root_path", "") + "/static"
    await STATIC(inner, receive, send)


async def _refuse(
    scope: Scope, receive: Receive, send: Send, sentence: str = NO_EVENT, status: int = 404
) -> None:
    """404 (or ``status``) with a sentence (a socket is closed before it opens: HTTP 403
    to the client)."""
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008})
        return
    await SecurityHeadersMiddleware(PlainTextResponse(sentence, status_code=status))(
        scope, receive, send
    )


def services_of_event(site: Any, slug: str) -> Services:
    """The services of an event a running :class:`Site` serves (for tests)."""
    event: _Open = site.events[slug]
    return event.services


def create_app(settings: Settings) -> Site:
    """Build the server's app: every event of ``settings``, each under ``/e/<slug>/``
    (the main one also at the short addresses with ``settings.aliases``), and any event
    added to the database while it runs. The database opens in the lifespan, in the
    server's event loop.

    ``ValueError`` (every sentence) when an event's group calls need a secret the
    settings lack.
    """
    problems = [p for e in settings.events for p in config_problems(e.agenda, settings.calls)]
    if problems:
        raise ValueError("\n".join(problems))
    return Site(settings)
