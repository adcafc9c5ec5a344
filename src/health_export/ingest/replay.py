"""Re-process stored raw bodies (after a parser fix); idempotent by construction."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from health_export.ingest import repository
from health_export.ingest.parse_stage import RejectedPayload
from health_export.ingest.processing import process


async def replay(
    engine: AsyncEngine,
    *,
    ingestion_id: uuid.UUID | None = None,
    since: datetime | None = None,
    report: Callable[[str], None] = print,
) -> tuple[int, int]:
    """Process the chosen ingestions again; returns (processed, rejected)."""
    async with engine.connect() as conn:
        ids = await repository.ids_to_replay(conn, ingestion_id=ingestion_id, since=since)
    processed = rejected = 0
    for each in ids:
        try:
            result = await process(engine, each, force=True)
        except RejectedPayload as exc:
            rejected += 1
            report(f"{each} rejected: {exc.reason}")
            continue
        processed += 1
        report(
            f"{each} processed: inserted {result['inserted']}, updated {result['updated']}, "
            f"unchanged {result['unchanged']}, rejected {result['rejected']}"
        )
    return processed, rejected
