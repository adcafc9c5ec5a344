"""Headers every answer carries, so a browser neither sniffs, frames, leaks nor caches it."""

from __future__ import annotations

from collections.abc import Iterable

Header = tuple[bytes, bytes]

CACHE_CONTROL = b"cache-control"
# Nothing the API answers may be sniffed into HTML, framed (click-jacking the docs or a
# dashboard), or named in the Referer of a link followed from it.
ALWAYS: tuple[Header, ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", b"frame-ancestors 'none'"),
)
# Keys, sessions, admin and audit answers, ingest results and errors must never be
# stored by a browser or proxy. Read answers of health data set their own
# `private, no-cache` with an ETag (revalidation, see health_data/responses.py) and keep it.
DEFAULT_CACHE_CONTROL: Header = (CACHE_CONTROL, b"no-store")


def with_security_headers(headers: Iterable[Header]) -> list[Header]:
    """``headers`` plus each policy header the answer did not set itself."""
    result = list(headers)
    present = {name.lower() for name, _ in result}
    for name, value in (*ALWAYS, DEFAULT_CACHE_CONTROL):
        if name not in present:
            result.append((name, value))
    return result
