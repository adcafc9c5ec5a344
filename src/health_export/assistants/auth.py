"""The ASGI guard in front of `/mcp`: the REST API's keys, scope, limits and errors."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from health_export.auth.dependencies import authorize, rate_limit_headers_of
from health_export.auth.principal import Principal
from health_export.auth.principal import Scope as KeyScope
from health_export.core.errors import AppError, problem_response

# A stateless server has nothing to push, so it opens no event stream on GET; the
# protocol's answer for that is 405 (a GET stream would otherwise stay open idle).
NO_EVENT_STREAM = "this server answers each POST with JSON and opens no event stream"


def principal_of(request: Request) -> Principal:
    """The caller the guard authenticated for this request."""
    principal: Principal = request.state.principal
    return principal


class McpGuard:
    """Authenticate like the REST API (401, 429, 403 as problem+json), then hand over."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """ASGI entry point."""
        request = Request(scope, receive)
        try:
            await authorize(request, Response(), KeyScope.READ)
        except AppError as exc:
            refusal = problem_response(
                request, exc.status, exc.detail, title=exc.title, headers=exc.headers
            )
            await refusal(scope, receive, send)
            return
        limits = rate_limit_headers_of(request)
        if scope["method"] != "POST":
            headers = {**limits, "Allow": "POST"}
            refusal = problem_response(request, 405, NO_EVENT_STREAM, headers=headers)
            await refusal(scope, receive, send)
            return
        await self.app(scope, receive, _with_headers(send, limits))


def _with_headers(send: Send, headers: dict[str, str]) -> Send:
    encoded = [
        (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()
    ]

    async def send_with_headers(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", []), *encoded]
        await send(message)

    return send_with_headers
