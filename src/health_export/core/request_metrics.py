"""Request counts and latencies, labelled by the full template of the route that answered."""

from __future__ import annotations

from typing import Any

from fastapi.routing import iter_route_contexts
from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import Scope

LATENCY_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
# One label for every path no route matched: labels stay bounded whatever clients ask for.
UNMATCHED_ROUTE = "<unmatched>"


class HttpRequestMetrics:
    """`http_requests_total` and `http_request_duration_seconds` in ``registry``."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "http_requests_total",
            "HTTP requests by method, route and status.",
            ("method", "route", "status"),
            registry=registry,
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "HTTP request latency by method, route and status.",
            ("method", "route", "status"),
            buckets=LATENCY_BUCKETS_S,
            registry=registry,
        )

    def observe(self, method: str, route: str, status: int, duration_s: float) -> None:
        """Count one finished request."""
        labels = (method, route, str(status))
        self.requests.labels(*labels).inc()
        self.latency.labels(*labels).observe(duration_s)


class RouteLabels:
    """The full route template (`/api/v1/metrics/{name}/series`) of a routed request.

    A route declared in a router included into another one knows only its own part of
    the path (`/sleep`), and plain routes (`/docs`) put no route in the scope at all; the
    full templates are those the app's routing (and its OpenAPI document) computes, read
    once from the app and looked up by the route or endpoint the request was routed to.
    """

    def __init__(self) -> None:
        self._templates: dict[int, str] = {}
        self._built_for: int | None = None
        self._unknown: set[int] = set()  # handlers no rebuild found: never rebuild for them

    def label(self, scope: Scope) -> str:
        """The template that answered ``scope``, or :data:`UNMATCHED_ROUTE`."""
        handlers = [scope.get("route"), scope.get("endpoint")]
        keys = [id(handler) for handler in handlers if handler is not None]
        if not keys:
            return UNMATCHED_ROUTE
        app = scope.get("app")
        if self._built_for != id(app):
            self._unknown.clear()
            self._rebuild(app)
        template = self._template_of(keys)
        if template is None and not self._unknown.issuperset(keys):
            # Routes can be added after the first request (tests do): rebuild on a miss.
            self._rebuild(app)
            template = self._template_of(keys)
            if template is None:
                self._unknown.update(keys)
        if template is not None:
            return template
        own_path = getattr(scope.get("route"), "path", None)
        return own_path if isinstance(own_path, str) else UNMATCHED_ROUTE

    def _template_of(self, keys: list[int]) -> str | None:
        for key in keys:
            template = self._templates.get(key)
            if template is not None:
                return template
        return None

    def _rebuild(self, app: Any) -> None:
        self._templates = _full_templates(app)
        self._built_for = id(app)


def _full_templates(app: Any) -> dict[int, str]:
    """Route and endpoint identities → their full path templates (first declared wins)."""
    templates: dict[int, str] = {}
    routes = getattr(app, "routes", None)
    if routes is None:
        return templates
    for context in iter_route_contexts(routes):
        template = context.path_format
        if template is None:
            continue
        handler = getattr(context.original_route, "endpoint", None) or getattr(
            context.original_route, "app", None
        )
        templates.setdefault(id(context.original_route), template)
        if handler is not None:
            templates.setdefault(id(handler), template)
    return templates
