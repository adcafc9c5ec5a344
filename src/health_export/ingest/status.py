"""Reading an ingestion's state."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from health_export.ingest import repository


async def ingestion_status(engine: AsyncEngine, ingestion_id: uuid.UUID) -> dict[str, Any] | None:
    """The status document of one ingestion, with its owner's id."""
    async with engine.connect() as conn:
        row = await repository.fetch_status(conn, ingestion_id)
    if row is None:
        return None
    return {
        "ingestion_id": str(row["id"]),
        "user_id": row["user_id"],
        "status": row["status"],
        "received_at": row["received_at"],
        "processed_at": row["processed_at"],
        "attempts": row["attempts"],
        "result": row["result"],
        "error": row["error"],
    }
