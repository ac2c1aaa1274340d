"""Several workers' metrics in one exposition: each series labelled with its worker, each
family once, readable by Prometheus's own parser."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from webinar.web.metrics import by_worker


def worker_text(screens: int, deliveries: int, commit: float) -> str:
    registry = CollectorRegistry()
    Gauge("webinar_screens_connected", "Screens.", ["event"], registry=registry).labels("main").set(
        screens
    )
    Counter("webinar_deliveries", "Deliveries.", ["event"], registry=registry).labels("main").inc(
        deliveries
    )
    Histogram("webinar_commit_latency_seconds", "Latency.", ["event"], registry=registry).labels(
        "main"
    ).observe(commit)
    return generate_latest(registry).decode()


def test_each_workers_series_carry_its_label_and_each_family_comes_once() -> None:
    text = by_worker(
        {"127.0.0.1:4001": worker_text(3, 30, 0.01), "127.0.0.1:4002": worker_text(5, 50, 2.0)}
    ).decode()

    families = list(text_string_to_metric_families(text))
    names = [f.name for f in families]
    values = {
        (s.name, s.labels.get("worker"), s.labels.get("le")): s.value
        for f in families
        for s in f.samples
    }

    assert len(names) == len(set(names))
    assert text.count("# TYPE webinar_deliveries_total counter") == 1
    assert values[("webinar_screens_connected", "127.0.0.1:4001", None)] == 3
    assert values[("webinar_screens_connected", "127.0.0.1:4002", None)] == 5
    assert values[("webinar_deliveries_total", "127.0.0.1:4002", None)] == 50
    assert values[("webinar_commit_latency_seconds_bucket", "127.0.0.1:4001", "0.025")] == 1
    assert values[("webinar_commit_latency_seconds_bucket", "127.0.0.1:4002", "0.025")] == 0
    assert all(s.labels["event"] == "main" for f in families for s in f.samples)


def test_no_worker_no_series() -> None:
    assert by_worker({}) == b""


def test_a_worker_whose_answer_is_not_metrics_is_left_out() -> None:
    """Another process answering on a dead worker's old port: its page is left out of the
    exposition, the other workers' series are all there (never a 500 on /metrics)."""
    text = by_worker(
        {"127.0.0.1:4001": worker_text(3, 30, 0.01), "127.0.0.1:4002": "<html>not metrics"}
    ).decode()

    workers = {s.labels["worker"] for f in text_string_to_metric_families(text) for s in f.samples}
    assert workers == {"127.0.0.1:4001"}
