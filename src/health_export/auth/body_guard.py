"""Request bodies outside the ingest: bounded, and read only for authenticated callers.

FastAPI reads a JSON body before it runs a route's dependencies, so without this an
anonymous client could make the server read (and hold) any body just to answer 401.
This pure-ASGI middleware answers 413 from `Content-Length` alone, counts chunked
bodies as they arrive, and authenticates `/api/` writes before the first body byte is
read (the route's own dependency then reuses that result).
"""

from __future__ import annotations

from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from health_export.auth.authenticate import authenticate
from health_export.core.errors import AppError, problem_response

# The ingest route streams its body under MAX_PAYLOAD_BYTES, the archive upload under
# IMPORT_MAX_BYTES; both authenticate before reading a byte of it.
UNGUARDED_PATHS = frozenset(
    {
        "/api/v1/ingest",
        "/api/v1/ingest/",
        "/api/v1/imports/apple-health",
        "/api/v1/imports/apple-health/",
    }
)
# Public routes with a body: bounded, but there is nobody to authenticate yet.
PUBLIC_PATHS = frozenset({"/api/v1/auth/login"})


class BodyTooLarge(StarletteHTTPException):
    """A chunked body passed the limit while it arrived (an HTTPException, see BodyReadTimeout)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, _too_large(limit), headers={"Connection": "close"})


def _too_large(limit: int) -> str:
    return f"this route takes bodies of at most {limit} bytes (MAX_REQUEST_BODY_BYTES)"


def _announced_length(scope: Scope) -> tuple[int | None, bool]:
    """The Content-Length (None when absent or unreadable) and whether a body follows."""
    length: int | None = None
    chunked = False
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                length = int(value)
            except ValueError:
                length = None
        elif name == b"transfer-encoding":
            chunked = True
    return length, chunked or bool(length)


class RequestBodyGuard:
    """Bound every non-ingest body and authenticate `/api/` writes before reading one."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """ASGI entry point."""
        path = scope.get("path", "")
        if scope["type"] != "http" or path in UNGUARDED_PATHS:
            await self.app(scope, receive, send)
            return
        length, has_body = _announced_length(scope)
        if not has_body:
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        if length is not None and length > self.max_body_bytes:
            detail = _too_large(self.max_body_bytes)
            response = problem_response(request, 413, detail, headers={"Connection": "close"})
            await response(scope, receive, send)
            return
        if path.startswith("/api/") and path not in PUBLIC_PATHS:
            try:
                await authenticate(request)
            except AppError as exc:
                headers = {**exc.headers, "Connection": "close"}  # the body stays unread
                response = problem_response(
                    request, exc.status, exc.detail, title=exc.title, headers=headers
                )
                await response(scope, receive, send)
                return
        await self.app(scope, self._counted(receive), send)

    def _counted(self, receive: Receive) -> Receive:
        received = 0

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise BodyTooLarge(self.max_body_bytes)
            return message

        return counted_receive
