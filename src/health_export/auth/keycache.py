"""A one-second cache of key lookups: fast, and revocation still bites within a second."""

from __future__ import annotations

import time

from health_export.auth.repository import KeyOwner

KEY_CACHE_TTL_S = 1.0
KEY_CACHE_MAX = 10_000


class KeyCache:
    """Digest → key owner (or None for unknown digests), each for at most ``ttl_s``."""

    def __init__(self, ttl_s: float = KEY_CACHE_TTL_S, max_entries: int = KEY_CACHE_MAX) -> None:
        self._ttl_s = ttl_s
        self._max_entries = max_entries
        self._entries: dict[bytes, tuple[float, KeyOwner | None]] = {}

    def get(self, digest: bytes) -> tuple[bool, KeyOwner | None]:
        """(found, owner): found is False when the digest must be looked up."""
        entry = self._entries.get(digest)
        if entry is None or entry[0] <= time.monotonic():
            return False, None
        return True, entry[1]

    def put(self, digest: bytes, owner: KeyOwner | None) -> None:
        """Remember a lookup's result for ``ttl_s``."""
        now = time.monotonic()
        if len(self._entries) >= self._max_entries:
            self._entries = {k: v for k, v in self._entries.items() if v[0] > now}
            if len(self._entries) >= self._max_entries:
                self._entries.clear()
        self._entries[digest] = (now + self._ttl_s, owner)

    def clear(self) -> None:
        """Forget everything (after a revocation or a disabled user in this process)."""
        self._entries.clear()
