"""Prometheus metrics that add up correctly across several uvicorn worker processes."""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    generate_latest,
)
from prometheus_client import multiprocess as prometheus_multiprocess
from starlette.requests import Request

from health_export.core.request_metrics import HttpRequestMetrics
from health_export.sync.drift import DRIFT_REGISTRY

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def is_multiprocess() -> bool:
    """Whether worker processes share metrics through files (``serve --workers N``)."""
    return bool(os.environ.get(MULTIPROC_ENV))


class RequestMetrics:
    """The service's own metrics, registered in a registry of the app's."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        # Counted by the request middleware (core/), which knows nothing of this module.
        self.http = HttpRequestMetrics(self.registry)
        self.rate_limit_fallback = Gauge(
            "rate_limit_fallback_active",
            "1 while rate limits are kept in-process because Redis is unavailable.",
            registry=self.registry,
            multiprocess_mode="max",
        )
        self.db_pool_checked_out = Gauge(
            "db_pool_connections_checked_out",
            "Database connections lent out by this process's pool right now.",
            registry=self.registry,
            multiprocess_mode="livesum",
        )
        self.db_pool_open = Gauge(
            "db_pool_connections_open",
            "Database connections this process's pool holds (lent out or idle).",
            registry=self.registry,
            multiprocess_mode="livesum",
        )
        self.ingest_points = Counter(
            "ingest_points_total",
            "Points received by ingest, by outcome.",
            ("outcome",),
            registry=self.registry,
        )

    def observe_pool(self, pool: object) -> None:
        """Record the pool's connections now (QueuePool; other pools are skipped)."""
        checked_out = getattr(pool, "checkedout", None)
        checked_in = getattr(pool, "checkedin", None)
        if callable(checked_out) and callable(checked_in):
            lent, idle = int(checked_out()), int(checked_in())
            self.db_pool_checked_out.set(lent)
            self.db_pool_open.set(lent + idle)

    def count_ingest(self, answer: dict[str, object]) -> None:
        """Count the points of one ingest answer by outcome."""
        if answer.get("duplicate_payload"):
            return
        for outcome in ("inserted", "updated", "unchanged", "rejected"):
            value = answer.get(outcome)
            if isinstance(value, int) and value:
                self.ingest_points.labels(outcome).inc(value)

    def exposition(self) -> tuple[bytes, str]:
        """The Prometheus text of every worker (or of this process alone)."""
        if is_multiprocess():
            registry = CollectorRegistry()
            prometheus_multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            return generate_latest(registry), CONTENT_TYPE_LATEST
        return generate_latest(self.registry) + generate_latest(DRIFT_REGISTRY), CONTENT_TYPE_LATEST


def metrics_of(request: Request) -> RequestMetrics:
    """The request metrics of the app serving ``request`` (made with the app)."""
    metrics = getattr(request.app.state, "metrics", None)
    if not isinstance(metrics, RequestMetrics):
        raise RuntimeError("the app has no request metrics")
    return metrics
