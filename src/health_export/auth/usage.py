"""Last-used bookkeeping of keys: at most one write per key a minute, off the request path."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from health_export.auth import repository
from health_export.core.logging import get_logger

log = get_logger("health_export.auth.usage")
WRITE_INTERVAL_S = 60.0


class KeyUsageRecorder:
    """Note each key's use in memory; a background task writes due ones in one batch."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        interval_s: float = WRITE_INTERVAL_S,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._interval_s = interval_s
        self._written_at: dict[uuid.UUID, float] = {}
        self._pending: dict[uuid.UUID, tuple[datetime, str | None]] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def note(self, key_id: uuid.UUID, ip: str | None) -> None:
        """Record one use; cheap (no I/O), called on every authenticated request."""
        now = time.monotonic()
        if now - self._written_at.get(key_id, -self._interval_s) < self._interval_s:
            return
        self._written_at[key_id] = now
        self._pending[key_id] = (datetime.now(UTC), ip)
        self._wake.set()

    def start(self) -> None:
        """Run the writer in the background."""
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        """Stop the writer and write what is still pending."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self.flush()

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            await self.flush()

    async def flush(self) -> None:
        """Write every pending use now, in one transaction."""
        pending, self._pending = self._pending, {}
        if not pending:
            return
        uses = [(key_id, at, ip) for key_id, (at, ip) in sorted(pending.items())]
        try:
            async with self._sessionmaker() as session, session.begin():
                await repository.record_key_use(session, uses)
        except Exception as exc:  # last-used is informational; never break requests for it
            log.warning("key_usage_write_failed", keys=len(uses), error=type(exc).__name__)
