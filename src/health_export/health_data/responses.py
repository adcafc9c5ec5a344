"""Responses of the read API: ETag revalidation, private caching, gzip for large bodies."""

from __future__ import annotations

import gzip
import hashlib
from typing import Any

import anyio
import orjson
from fastapi import Request
from starlette.responses import Response

from health_export.auth.dependencies import rate_limit_headers_of

# Bodies smaller than this are sent as they are: gzip would save too little to matter.
GZIP_MIN_BYTES = 1024
# Above this, compression goes to a worker thread so the event loop stays free.
GZIP_INLINE_MAX_BYTES = 256 * 1024
GZIP_LEVEL = 5
# Health data may be kept by the client only to revalidate it (ETag); never by shared caches.
REVALIDATE = "private, no-cache"
NO_STORE = "private, no-store"


def accepts_gzip(request: Request) -> bool:
    """Whether the client's Accept-Encoding allows gzip (and does not refuse it with q=0)."""
    for part in request.headers.get("accept-encoding", "").split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() in {"gzip", "*"}:
            return params.replace(" ", "").lower() not in {"q=0", "q=0.0", "q=0.00", "q=0.000"}
    return False


def entity_tag(body: bytes) -> str:
    """A weak validator of the body (weak: the gzip and plain forms share it)."""
    return f'W/"{hashlib.blake2b(body, digest_size=16).hexdigest()}"'


def is_fresh(request: Request, etag: str) -> bool:
    """Whether ``If-None-Match`` names ``etag`` (weak comparison, ``*`` matches)."""
    header = request.headers.get("if-none-match")
    if not header:
        return False
    wanted = etag.removeprefix("W/")
    tags = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return "*" in tags or wanted in tags


async def gzip_body(body: bytes) -> bytes:
    """gzip ``body``, in a thread when it is large."""
    if len(body) <= GZIP_INLINE_MAX_BYTES:
        return gzip.compress(body, GZIP_LEVEL, mtime=0)
    return await anyio.to_thread.run_sync(lambda: gzip.compress(body, GZIP_LEVEL, mtime=0))


async def encoded(request: Request, body: bytes, headers: dict[str, str]) -> bytes:
    """``body`` gzip-compressed when it is worth it and the client accepts it."""
    headers["Vary"] = "Accept-Encoding"
    if len(body) < GZIP_MIN_BYTES or not accepts_gzip(request):
        return body
    headers["Content-Encoding"] = "gzip"
    return await gzip_body(body)


async def health_response(
    request: Request, body: bytes, media_type: str = "application/json"
) -> Response:
    """A response holding health data: ETag, 304 on a match, private caching, gzip."""
    etag = entity_tag(body)
    headers = {**rate_limit_headers_of(request), "ETag": etag, "Cache-Control": REVALIDATE}
    if is_fresh(request, etag):
        return Response(status_code=304, headers=headers)
    content = await encoded(request, body, headers)
    return Response(content, media_type=media_type, headers=headers)


async def json_response(request: Request, content: Any) -> Response:
    """:func:`health_response` of ``content`` rendered by orjson."""
    return await health_response(request, orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS))


# The errors every read route documents in OpenAPI.
READ_ERRORS: dict[int | str, dict[str, str]] = {
    304: {"description": "Not modified (If-None-Match matched the ETag)"},
    400: {"description": "A bad parameter (problem+json naming it)"},
    403: {"description": "The key lacks scope read, or user_id without an admin key"},
}
