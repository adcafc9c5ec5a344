"""Cross-site request refusal for cookie-authenticated writes (CSRF defence in depth).

The session cookie is SameSite=Strict already; this also refuses what a browser marks
as cross-site (`Sec-Fetch-Site`) or sends from a foreign `Origin`, for browsers or
set-ups where SameSite does not hold (an old browser, a sibling sub-domain).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import Request

from health_export.core.errors import Forbidden

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_DEFAULT_PORTS = {"http": 80, "https": 443}
_SAME_SITE_VALUES = frozenset({"same-origin", "none"})  # "none": typed by the user


def _origin_tuple(url: str) -> tuple[str, str, int] | None:
    try:
        parts = urlsplit(url)
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme, 0)
    except ValueError:
        return None
    if not parts.scheme or not parts.hostname:
        return None
    return parts.scheme, parts.hostname.lower(), port


def own_origin(request: Request) -> tuple[str, str, int] | None:
    """This server's origin as the browser sees it (scheme from a trusted proxy, Host)."""
    return _origin_tuple(f"{request.url.scheme}://{request.url.netloc}")


def check_same_origin(request: Request) -> None:
    """403 for a write that a browser sent from another site (cookie credentials only)."""
    if request.method in SAFE_METHODS:
        return
    site = request.headers.get("sec-fetch-site")
    if site is not None and site.lower() not in _SAME_SITE_VALUES:
        raise Forbidden("a cross-site request cannot use the session cookie")
    origin = request.headers.get("origin")
    if origin is not None and _origin_tuple(origin) != own_origin(request):
        raise Forbidden("a request from another origin cannot use the session cookie")
