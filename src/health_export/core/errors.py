"""One error hierarchy, rendered as RFC 9457 problem+json."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from health_export.core.jsonresponse import ORJSONResponse

PROBLEM_JSON = "application/problem+json"


class AppError(Exception):
    """An expected failure with an HTTP status; never a 500."""

    status: int = 400
    title: str = "Bad Request"
    type_: str = "about:blank"

    def __init__(
        self,
        detail: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        errors: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.headers = headers or {}
        self.errors = errors


class BadRequest(AppError):
    status, title = 400, "Bad Request"


class Unauthorized(AppError):
    status, title = 401, "Unauthorized"


class Forbidden(AppError):
    status, title = 403, "Forbidden"


class NotFound(AppError):
    status, title = 404, "Not Found"


class Conflict(AppError):
    status, title = 409, "Conflict"


class PayloadTooLarge(AppError):
    status, title = 413, "Payload Too Large"


class UnsupportedMediaType(AppError):
    status, title = 415, "Unsupported Media Type"


class Unprocessable(AppError):
    status, title = 422, "Unprocessable Content"


class TooManyRequests(AppError):
    status, title = 429, "Too Many Requests"


class ServiceUnavailable(AppError):
    status, title = 503, "Service Unavailable"

    def __init__(self, detail: str | None = None, *, retry_after_s: int = 5) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after_s)})


class BodyReadTimeout(StarletteHTTPException):
    """The client stopped sending its body, or sends it too slowly (408).

    An HTTPException, not an AppError: FastAPI turns any other exception raised while it
    reads a body into a 400, but re-raises HTTPExceptions untouched.
    """

    def __init__(self, detail: str) -> None:
        # The rest of the body is never read: the connection cannot be reused.
        super().__init__(408, detail, headers={"Connection": "close"})


_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    408: "Request Timeout",
    409: "Conflict",
    413: "Payload Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def request_id_of(request: Request) -> str | None:
    """The request id the middleware put in the ASGI scope."""
    value = request.scope.get("state", {}).get("request_id")
    return value if isinstance(value, str) else None


def problem_response(
    request: Request,
    status: int,
    detail: str | None = None,
    *,
    title: str | None = None,
    headers: dict[str, str] | None = None,
    errors: list[dict[str, Any]] | None = None,
) -> Response:
    """Render one problem+json document."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title or _TITLES.get(status, "Error"),
        "status": status,
    }
    if detail:
        body["detail"] = detail
    body["request_id"] = request_id_of(request)
    if errors is not None:
        body["errors"] = errors
    return ORJSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


async def _app_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppError)  # noqa: S101 - registered for AppError only
    return problem_response(
        request, exc.status, exc.detail, title=exc.title, headers=exc.headers, errors=exc.errors
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)  # noqa: S101
    detail = exc.detail if isinstance(exc.detail, str) else None
    headers = dict(exc.headers) if exc.headers else None
    return problem_response(request, exc.status_code, detail, headers=headers)


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    # Only where and why: the offending input (`input`, `ctx`) may hold health values or keys.
    return [
        {"path": ".".join(str(part) for part in err.get("loc", ())), "reason": err.get("msg", "")}
        for err in exc.errors()
    ]


async def _request_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)  # noqa: S101
    return problem_response(
        request, 422, "the request did not validate", errors=_validation_errors(exc)
    )


def install_error_handlers(app: FastAPI) -> None:
    """Make every error, expected or not, a problem+json answer."""
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _request_validation_error)
    # Unexpected exceptions are answered by RequestContextMiddleware, which knows the
    # request id and sits inside Starlette's own last-resort handler.
