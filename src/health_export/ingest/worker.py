"""Finish ingestions no request is working on: after a 202, a crash or a restart."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from health_export.core.logging import get_logger
from health_export.ingest import repository
from health_export.ingest.outcome import finish_failed
from health_export.ingest.parse_stage import RejectedPayload
from health_export.ingest.processing import process_locked

# A request holds its ingestion's row lock from a few ms after storing it, so a row
# this old and unlocked has nobody working on it.
STALE_AFTER_S = 10.0
MAX_ATTEMPTS = 5
log = get_logger("health_export.ingest.worker")


async def process_next_pending(engine: AsyncEngine, stale_after_s: float = STALE_AFTER_S) -> bool:
    """Claim and process one pending ingestion; False when there is none."""
    claimed = None
    try:
        async with engine.connect() as conn, conn.begin():
            claimed = await repository.claim_pending(conn, stale_after_s)
            if claimed is None:
                return False
            row = await repository.lock_for_processing(conn, claimed, skip_locked=False)
            assert row is not None  # noqa: S101 - locked by this transaction just now
            try:
                await process_locked(engine, conn, row, None)
            except RejectedPayload:
                pass  # marked 'rejected' in this transaction; nothing more to do
        log.info("pending_ingestion_processed", ingestion_id=str(claimed))
        return True
    except Exception as exc:
        if claimed is None:
            raise
        await _count_failure(engine, claimed, exc)
        return True


async def _count_failure(engine: AsyncEngine, ingestion_id: Any, exc: Exception) -> None:
    log.warning(
        "pending_ingestion_failed", ingestion_id=str(ingestion_id), exc_type=type(exc).__name__
    )
    async with engine.begin() as conn:
        attempts = await repository.count_attempt(conn, ingestion_id)
        if attempts >= MAX_ATTEMPTS:
            # Kept for `health-export replay` after a fix; never retried forever.
            await finish_failed(
                conn, ingestion_id, f"{type(exc).__name__} after {attempts} attempts"
            )
