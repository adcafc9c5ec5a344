"""The ingest URL as the phone must type it, and why a phone may not reach it."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from health_export.core.config import Settings

INGEST_PATH = "/api/v1/ingest"
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
ANY_HOSTS = {"0.0.0.0", "::", ""}  # noqa: S104 - recognising, not binding
# A documentation address (TEST-NET-1): connecting a UDP socket to it sends nothing and
# makes the kernel choose the interface, hence the address, other machines reach us at.
_PROBE = ("192.0.2.1", 9)


class BadUrl(ValueError):
    """A --url that is not an http(s) URL with a host."""


@dataclass(frozen=True, slots=True)
class IngestAddress:
    """The URL to put in the app, and what to know about it."""

    url: str
    notes: tuple[str, ...] = ()
    warning: str | None = None


def lan_address() -> str | None:
    """This machine's address on its local network (None when it has none)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(_PROBE)
            found: str = probe.getsockname()[0]
    except OSError:
        return None
    return None if found.startswith("127.") or found == "0.0.0.0" else found  # noqa: S104


def with_ingest_path(url: str) -> str:
    """``url`` ending in /api/v1/ingest (a bare server address gets the path added)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadUrl(f"--url must be an http:// or https:// URL with a host, not {url!r}")
    path = parts.path.rstrip("/")
    if not path.endswith(INGEST_PATH):
        path += INGEST_PATH
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def _unreachable(url: str) -> str | None:
    host = (urlsplit(url).hostname or "").lower()
    if host in LOOPBACK_HOSTS or host.startswith("127."):
        return (
            f"a phone cannot reach {host}: it is this machine's own loopback address. "
            "Start the server with HOST=0.0.0.0 (e.g. `HOST=0.0.0.0 make run`) and use "
            "this machine's network address, or pass --url (PUBLIC_URL) behind a reverse proxy."
        )
    return None


def ingest_address(settings: Settings, url: str | None = None) -> IngestAddress:
    """Where the app must send: --url, else PUBLIC_URL, else HOST:PORT (LAN address for
    0.0.0.0), with a warning when a phone cannot reach it."""
    if url or settings.public_url:
        chosen = with_ingest_path(url or settings.public_url or "")
        return IngestAddress(chosen, warning=_unreachable(chosen))
    host = settings.host
    notes: tuple[str, ...] = ()
    if host in ANY_HOSTS:
        found = lan_address()
        notes = (
            (f"{found} is this machine's address on the local network; the phone must be on it.",)
            if found
            else ("Replace <this-machine> with this machine's address as the phone sees it.",)
        )
        host = found or "<this-machine>"
    shown = f"[{host}]" if ":" in host else host
    chosen = f"http://{shown}:{settings.port}{INGEST_PATH}"
    return IngestAddress(chosen, notes, _unreachable(chosen))
