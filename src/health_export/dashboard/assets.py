"""Static assets of the dashboard, served under content-hashed names.

Each file under ``static/`` is read once at start-up and served at a URL carrying a
digest of its bytes (``/static/js/app.3f9a0c1b2d.js``), so a browser may keep it for a
year: a changed file gets a new URL, and the pages (never cached) name the new one.
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path, PurePosixPath

STATIC_DIR = Path(__file__).parent / "static"
STATIC_PREFIX = "/static/"
MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
DIGEST_CHARS = 10
# Below this, gzip saves too little to be worth a second copy.
GZIP_MIN_BYTES = 1024


@dataclass(frozen=True, slots=True)
class Asset:
    """One file: its bytes (plain and gzipped) and its media type."""

    content: bytes
    gzipped: bytes | None
    media_type: str


@dataclass(frozen=True, slots=True)
class AssetCatalog:
    """Every asset: by hashed URL (to serve it) and by file name (to link to it)."""

    by_url: dict[str, Asset]
    url_of: dict[str, str]

    def url(self, name: str) -> str:
        """The hashed URL of the file ``name`` (a path relative to ``static/``)."""
        return self.url_of[name]


def hashed_name(name: str, content: bytes) -> str:
    """``js/app.js`` → ``js/app.<digest>.js`` (the digest of ``content``)."""
    path = PurePosixPath(name)
    digest = hashlib.sha256(content).hexdigest()[:DIGEST_CHARS]
    return str(path.with_name(f"{path.stem}.{digest}{path.suffix}"))


def _asset(path: Path) -> Asset:
    content = path.read_bytes()
    packed = gzip.compress(content, 9, mtime=0) if len(content) >= GZIP_MIN_BYTES else None
    return Asset(content, packed, MEDIA_TYPES[path.suffix])


def load_catalog(root: Path = STATIC_DIR) -> AssetCatalog:
    """Read every servable file under ``root`` (licences and notes are not served)."""
    by_url: dict[str, Asset] = {}
    url_of: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.suffix not in MEDIA_TYPES:
            continue
        name = path.relative_to(root).as_posix()
        asset = _asset(path)
        url = STATIC_PREFIX + hashed_name(name, asset.content)
        by_url[url] = asset
        url_of[name] = url
    return AssetCatalog(by_url, url_of)


@lru_cache(maxsize=1)
def catalog() -> AssetCatalog:
    """The catalogue of the installed package's assets (read once)."""
    return load_catalog()
