"""Prometheus metrics, health and readiness for operators (docs/scaling.md).

What the hot paths count are plain integers on the hub and the committer (an add, no
lock, no label lookup); :class:`SiteCollector` reads them, and every event's screens and
backlogs, only when ``/metrics`` is scraped. Commit latency goes into histograms, one
observation per change and per COMMIT. HTTP responses are counted by status class.

``/metrics`` answers only the addresses allowed: this computer (loopback) and the
networks given with ``webinar serve --metrics-allow CIDR``. Behind a reverse proxy the
address is the one the proxy passes in ``X-Forwarded-For`` (trusted from 127.0.0.1 only),
so the internet is refused through the proxy too; a proxy that does not pass it makes
every visitor look local, so docs/scaling.md also denies ``/metrics`` at the proxy.

Several workers (``webinar serve --workers N``): each process counts its own screens and
deliveries. ``/metrics``, answered by whichever worker gets the request, gathers every
live worker's of this host (each serves its own on its private listener, to the other
workers only: ``webinar.web.forward.WORKER_METRICS_PATH``) and labels every series with
``worker``, the worker's private address: one scrape target per host, as with one
process; see docs/scaling.md.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from webinar.services import Services, health
from webinar.web.security import SecurityHeadersMiddleware

if TYPE_CHECKING:
    from webinar.web.site import Site

log = logging.getLogger(__name__)

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

METRICS_PATH = "/metrics"
READY_PATH = "/readyz"

REFUSED = (
    "Metrics are served only to this computer and to the networks given with "
    "webinar serve --metrics-allow CIDR."
)

#: Seconds: from a few milliseconds (a COMMIT's fsync) to the seconds of a stalled writer.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def allowed(client: tuple[str, int] | None, networks: Iterable[IPNetwork]) -> bool:
    """Whether a request from ``client`` (the ASGI scope's) may read the metrics: loopback
    always, otherwise only an address inside one of ``networks``."""
    if client is None:
        return False
    try:
        address = ipaddress.ip_address(client[0])
    except ValueError:
        return False
    if address.is_loopback:
        return True
    return any(address in network for network in networks)


class CommitTimes:
    """A committer's observer: each COMMIT's duration and each change's wait for it."""

    __slots__ = ("transaction", "wait")

    def __init__(self, transaction: Histogram, wait: Histogram) -> None:
        self.transaction = transaction
        self.wait = wait

    def __call__(self, transaction: float, waits: list[float]) -> None:
        self.transaction.observe(transaction)
        for seconds in waits:
            self.wait.observe(seconds)


class SiteCollector(Collector):
    """Reads every served event's counters and gauges when the metrics are scraped."""

    def __init__(self, site: Site) -> None:
        self.site = site

    def collect(self) -> Iterator[Metric]:
        events = [(slug, e.services) for slug, e in list(self.site.events.items())]
        writing = {slug for slug, _ in events if self.site.writes_for(slug)}
        yield from _gauges(events, writing)
        yield from _counters(events, dict(self.site.withdrawn_screens))


def _gauges(events: list[tuple[str, Services]], writing: set[str]) -> Iterator[Metric]:
    screens = GaugeMetricFamily(
        "webinar_screens_connected", "Screens with a live socket.", labels=["event"]
    )
    hub_backlog = GaugeMetricFamily(
        "webinar_hub_backlog_events",
        "Events queued for screens that are behind (sent as their connection takes them).",
        labels=["event"],
    )
    present = GaugeMetricFamily(
        "webinar_participants_present",
        "Participants with a screen open, as the breakout allocator counts them (with the"
        " edge fan-out, the writer's count takes in other workers' screens while they are"
        " renewed).",
        labels=["event"],
    )
    writer_backlog = GaugeMetricFamily(
        "webinar_writer_backlog_changes",
        "Changes waiting for the writer (not yet in a transaction).",
        labels=["event"],
    )
    writer = GaugeMetricFamily(
        "webinar_writer",
        "1 when this process writes for the event (runs its services), 0 when another "
        "worker does and this one forwards to it.",
        labels=["event"],
    )
    for slug, services in events:
        hub = services.hub
        screens.add_metric([slug], hub.client_count)
        hub_backlog.add_metric([slug], hub.backlog())
        present.add_metric([slug], len(services.breakouts.connected()))
        writer_backlog.add_metric([slug], services.committer.backlog)
        writer.add_metric([slug], 1 if slug in writing else 0)
    yield from (screens, hub_backlog, present, writer_backlog, writer)


def _counters(events: list[tuple[str, Services]], withdrawn: dict[str, int]) -> Iterator[Metric]:
    """The counters of each event served, and ``withdrawn`` (event -> screens closed when
    it stopped being served) for those served and those withdrawn since start-up."""
    deliveries = CounterMetricFamily(
        "webinar_deliveries",
        "Live events handed to screens, one per screen (rate() gives deliveries a second).",
        labels=["event"],
    )
    closed = CounterMetricFamily(
        "webinar_screens_closed",
        "Screens closed by the server: too_slow (dropped, they resume), for_good "
        "(signed out, removed, one screen too many) or event_withdrawn (the event stopped "
        "being served: archived, purged or given a new agenda; they reconnect).",
        labels=["event", "reason"],
    )
    starts = CounterMetricFamily(
        "webinar_screen_starts",
        "Screens that started live with a replay of what they missed (resume) or a snapshot.",
        labels=["event", "kind"],
    )
    commits = CounterMetricFamily(
        "webinar_commits", "Transactions committed by the writer.", labels=["event"]
    )
    changes = CounterMetricFamily(
        "webinar_changes", "Changes written (several share a transaction).", labels=["event"]
    )
    for slug, services in events:
        hub = services.hub
        deliveries.add_metric([slug], hub.deliveries)
        closed.add_metric([slug, "too_slow"], hub.dropped_clients)
        closed.add_metric([slug, "for_good"], hub.ended_screens)
        starts.add_metric([slug, "resume"], hub.resumes)
        starts.add_metric([slug, "snapshot"], hub.snapshots)
        commits.add_metric([slug], services.committer.commits)
        changes.add_metric([slug], services.committer.changes)
    for slug in dict.fromkeys([slug for slug, _ in events] + list(withdrawn)):
        closed.add_metric([slug, "event_withdrawn"], withdrawn.get(slug, 0))
    yield from (deliveries, closed, starts, commits, changes)


class SiteMetrics:
    """The site's registry: the collector, commit histograms and HTTP responses."""

    def __init__(self, site: Site) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.registry.register(SiteCollector(site))
        self._transaction = Histogram(
            "webinar_commit_transaction_seconds",
            "Seconds from BEGIN to the end of COMMIT (the fsync included), per transaction.",
            ["event"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self._wait = Histogram(
            "webinar_commit_latency_seconds",
            "Seconds from a change's submit to the end of the COMMIT that holds it.",
            ["event"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self._responses = Counter(
            "webinar_http_responses",
            "HTTP responses by status class (2xx, 3xx, 4xx, 5xx).",
            ["status"],
            registry=self.registry,
        )
        self._classes = {n: self._responses.labels(f"{n}xx") for n in range(1, 6)}

    def commit_times(self, slug: str) -> CommitTimes:
        """The observer for the committer of event ``slug``."""
        return CommitTimes(self._transaction.labels(slug), self._wait.labels(slug))

    def counting(self, send: Send) -> Send:
        """``send`` that counts the response's status class as it starts."""

        async def counted(message: Message) -> None:
            if message["type"] == "http.response.start":
                counter = self._classes.get(int(message["status"]) // 100)
                if counter is not None:
                    counter.inc()
            await send(message)

        return counted

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class _Families(Collector):
    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterator[Metric]:
        return iter(self.families)


def by_worker(texts: dict[str, str]) -> bytes:
    """One exposition of several workers' (``texts``: worker -> its exposition), each
    series labelled with its ``worker``."""
    families: dict[str, Metric] = {}
    for worker, text in texts.items():
        try:
            parsed = list(text_string_to_metric_families(text))
        except ValueError:  # not a worker's metrics (another process on its old port)
            log.warning("the metrics of worker %s could not be read; left out", worker)
            continue
        for family in parsed:
            merged = families.get(family.name)
            if merged is None:
                merged = families[family.name] = Metric(
                    family.name, family.documentation, family.type, family.unit
                )
            merged.samples += [
                sample._replace(labels={**sample.labels, "worker": worker})
                for sample in family.samples
            ]
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Families(list(families.values())))
    return generate_latest(registry)


async def exposition(site: Site) -> bytes:
    """The metrics ``/metrics`` shows: this process's, or on a worker every live worker's
    of this host, labelled by worker."""
    own = site.metrics.exposition()
    address = site.worker_address()
    if address is None:
        return own
    texts = {address: own.decode(), **await site.peer_metrics()}
    return by_worker(dict(sorted(texts.items())))


def metrics_app(site: Site) -> ASGIApp:
    """``/metrics`` alone, for the addresses allowed."""

    async def endpoint(scope: Scope, receive: Receive, send: Send) -> None:
        if not allowed(scope.get("client"), site.settings.metrics_allow):
            response: Response = PlainTextResponse(REFUSED, status_code=403)
        else:
            response = Response(
                await exposition(site), headers={"Content-Type": CONTENT_TYPE_LATEST}
            )
        await SecurityHeadersMiddleware(response)(scope, receive, send)

    return endpoint


async def readiness(site: Site) -> tuple[bool, dict[str, object]]:
    """(ready, the JSON body): every event served answers (see :mod:`services.health`)."""
    if not site.serving:
        return False, {"ready": False, "reasons": ["the server is starting or stopping"]}
    # Every event at once: each may take the database timeout, the probe only one.
    events = list(site.events.items())
    found = await asyncio.gather(
        *(health.problems(event.services, writing=site.writes_for(slug)) for slug, event in events)
    )
    reasons = [
        f"event {slug}: {p}" for (slug, _), ps in zip(events, found, strict=True) for p in ps
    ]
    if reasons:
        return False, {"ready": False, "reasons": reasons}
    return True, {"ready": True, "events": sorted(site.events)}


#: What /readyz says to an address not allowed the details (which name the events).
DETAILS_REFUSED = (
    "The reasons are shown only to this computer and to the networks given with "
    "webinar serve --metrics-allow CIDR."
)


def readiness_app(site: Site) -> ASGIApp:
    """``/readyz``: 200 when ready, else 503, for anyone (a load balancer, a probe); the
    JSON names the events and the reasons only for the addresses allowed the metrics (an
    event's name can say more than its organiser wants the world to know)."""

    async def endpoint(scope: Scope, receive: Receive, send: Send) -> None:
        ready, body = await readiness(site)
        if not allowed(scope.get("client"), site.settings.metrics_allow):
            body = {"ready": ready} if ready else {"ready": False, "reasons": [DETAILS_REFUSED]}
        response = Response(
            json.dumps(body),
            status_code=200 if ready else 503,
            media_type="application/json",
            headers={"Cache-Control": "no-store"},
        )
        await SecurityHeadersMiddleware(response)(scope, receive, send)

    return endpoint
