"""Pure-ASGI middleware: request id, one URL per route, access log, headers, last-resort 500."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any

import orjson
import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from health_export.core.errors import BodyReadTimeout
from health_export.core.logging import get_logger
from health_export.core.request_metrics import HttpRequestMetrics, RouteLabels
from health_export.core.security_headers import with_security_headers

REQUEST_ID_HEADER = b"x-request-id"
# A sane id: what proxies and clients commonly send, nothing that could forge a log line.
_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
access_log = get_logger("health_export.access")
error_log = get_logger("health_export.errors")


def _incoming_request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == REQUEST_ID_HEADER:
            candidate: str = value.decode("latin-1")
            if _SANE_REQUEST_ID.match(candidate):
                return candidate
            break
    return uuid.uuid4().hex


def _without_trailing_slash(scope: Scope) -> None:
    """Route `/api/v1/sleep/` as `/api/v1/sleep`, for every route alike.

    A URL typed into the app or a dashboard may end in a slash. No redirect: the app's
    client does not follow one for a POST, so the request is answered where it was sent.
    """
    path: str = scope["path"]
    if len(path) > 1 and path.endswith("/"):
        scope["path"] = path[:-1]
        raw_path = scope.get("raw_path")
        if isinstance(raw_path, bytes) and raw_path.endswith(b"/"):
            scope["raw_path"] = raw_path[:-1]


@dataclass(frozen=True, slots=True)
class BodyPace:
    """How a request body must keep arriving (uvicorn itself waits for it forever)."""

    idle_timeout_s: float = 10.0
    min_bytes_per_s: int = 100
    rate_grace_s: float = 3.0


class RequestContextMiddleware:
    """Give every request an id, log one access line for it, and never leak a traceback."""

    def __init__(
        self,
        app: ASGIApp,
        metrics: HttpRequestMetrics | None = None,
        body_pace: BodyPace | None = None,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.body_pace = body_pace or BodyPace()
        self.route_labels = RouteLabels()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """ASGI entry point."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        _without_trailing_slash(scope)
        request_id = _incoming_request_id(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        exchange = _Exchange(request_id, self.body_pace)
        try:
            await self.app(scope, exchange.wrap_receive(receive), exchange.wrap_send(send))
        except Exception as exc:  # the last line of defence: log it, answer 500
            error_log.error("unhandled_exception", exc_type=type(exc).__name__, exc_info=exc)
            if not exchange.started:
                await _send_internal_error(exchange.wrap_send(send), request_id)
        finally:
            self._finish(scope, exchange)
            structlog.contextvars.clear_contextvars()

    def _finish(self, scope: Scope, exchange: _Exchange) -> None:
        route = self.route_labels.label(scope)
        duration_s = time.perf_counter() - exchange.started_at
        status = exchange.status or 500
        principal = scope.get("state", {}).get("principal_id")
        access_log.info(
            "request",
            method=scope["method"],
            route=route,
            status=status,
            duration_ms=round(duration_s * 1000, 2),
            bytes_in=exchange.bytes_in,
            bytes_out=exchange.bytes_out,
            principal_id=principal,
        )
        if self.metrics is not None:
            self.metrics.observe(scope["method"], route, status, duration_s)


class _Exchange:
    """What one request sent and received, counted on the way through."""

    def __init__(self, request_id: str, pace: BodyPace) -> None:
        self.request_id = request_id
        self.pace = pace
        self.started_at = time.perf_counter()
        self.status: int | None = None
        self.started = False
        self.body_done = False
        self.bytes_in = 0
        self.bytes_out = 0

    def wrap_receive(self, receive: Receive) -> Receive:
        async def counted_receive() -> Message:
            if self.body_done:  # only http.disconnect can come now: wait as long as it takes
                return await receive()
            try:
                async with asyncio.timeout(self.pace.idle_timeout_s):
                    message = await receive()
            except TimeoutError:
                raise BodyReadTimeout("the request body stopped arriving") from None
            if message["type"] == "http.request":
                self.bytes_in += len(message.get("body", b""))
                self.body_done = not message.get("more_body", False)
                if not self.body_done:
                    self._check_rate()
            else:
                self.body_done = True
            return message

        return counted_receive

    def _check_rate(self) -> None:
        elapsed_s = time.perf_counter() - self.started_at
        if elapsed_s < self.pace.rate_grace_s:
            return
        if self.bytes_in < self.pace.min_bytes_per_s * elapsed_s:
            raise BodyReadTimeout("the request body arrives too slowly")

    def wrap_send(self, send: Send) -> Send:
        async def send_with_request_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.started = True
                self.status = message["status"]
                headers = [h for h in message.get("headers", []) if h[0] != REQUEST_ID_HEADER]
                headers.append((REQUEST_ID_HEADER, self.request_id.encode()))
                message["headers"] = with_security_headers(headers)
            elif message["type"] == "http.response.body":
                self.bytes_out += len(message.get("body", b""))
            await send(message)

        return send_with_request_id


async def _send_internal_error(send: Send, request_id: str) -> None:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": "Internal Server Error",
        "status": 500,
        "detail": "an unexpected error occurred; quote the request id",
        "request_id": request_id,
    }
    payload = orjson.dumps(body)
    await send(
        {
            "type": "http.response.start",
            "status": 500,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
