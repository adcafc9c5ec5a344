"""An ingestion's outcome, marked on its row and remembered for its automation."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from health_export.ingest import dedupe, repository
from health_export.sync.recorder import record_processed, record_unusable


async def finish_processed(
    conn: AsyncConnection, row: dict[str, Any], result: dict[str, Any], seen: dict[str, int]
) -> None:
    """Processed: the answer stored, and the request counted for its automation."""
    await repository.mark_finished(conn, row["id"], status="processed", result=result, error=None)
    await dedupe.become_latest(conn, row["user_id"], row["id"], row["received_at"])
    await record_processed(conn, row, result, seen)


async def finish_rejected(conn: AsyncConnection, row: dict[str, Any], error: str | None) -> None:
    """Nothing in the body was usable (no envelope, not JSON)."""
    await repository.mark_finished(conn, row["id"], status="rejected", result=None, error=error)
    await record_unusable(conn, row["id"], "rejected", error, row["received_at"])


async def finish_failed(conn: AsyncConnection, ingestion_id: uuid.UUID, error: str) -> None:
    """Given up after repeated processing failures (kept for `health-export replay`)."""
    await repository.mark_finished(conn, ingestion_id, status="failed", result=None, error=error)
    await record_unusable(conn, ingestion_id, "failed", error)
