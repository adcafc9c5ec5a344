"""Password hashing: Argon2id, RFC 9106 low-memory profile, off the event loop."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.profiles import RFC_9106_LOW_MEMORY

from health_export.core.errors import ServiceUnavailable

_hasher = PasswordHasher.from_parameters(RFC_9106_LOW_MEMORY)
# A real hash to verify against when the user does not exist, so timing does not tell.
_DUMMY_HASH = _hasher.hash("not-a-password")


async def hash_password(password: str) -> str:
    """An Argon2id hash of ``password``, computed in a thread."""
    return await asyncio.to_thread(_hasher.hash, password)


def _verify(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


async def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; constant work even without a hash."""
    return await asyncio.to_thread(_verify, password_hash, password)


class PasswordGate:
    """Bounds the Argon2 checks one process runs at once (each is ~64 MiB of memory).

    Past the bound a caller waits briefly, then gets 503: a login flood must not take
    the server's memory and CPU from the phone and the dashboard.
    """

    def __init__(self, concurrency: int, wait_s: float = 1.0) -> None:
        self._slots = asyncio.Semaphore(concurrency)
        self._wait_s = wait_s

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """``verify_password`` within the bound; ServiceUnavailable when it is full."""
        try:
            async with asyncio.timeout(self._wait_s):
                await self._slots.acquire()
        except TimeoutError:
            raise ServiceUnavailable(
                "too many logins at once; retry shortly", retry_after_s=1
            ) from None
        try:
            return await verify_password(password_hash, password)
        finally:
            self._slots.release()
