"""The ingest side's periodic chores: partitions ahead, abandoned batch tables, raw retention.

Each is a periodic background job (`background/jobs.py`): one worker runs it per period.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from health_export.background.context import WorkerContext
from health_export.core.db import connections_of
from health_export.core.logging import get_logger
from health_export.ingest.write.batches import BATCH_TABLE_PREFIX
from health_export.schema.layout import PARTITIONED_TABLES
from health_export.schema.partitions import (
    drop_partitions_before,
    ensure_partitions_exist,
    month_of,
    next_month,
)

MONTHS_AHEAD = 2
HOUSEKEEPING_INTERVAL_S = 3600.0
# No ingest lasts this long (100 MB take seconds), so an older batch table is abandoned.
ABANDONED_BATCH_AGE_S = 3600
log = get_logger("health_export.ingest")


async def create_partitions_ahead(context: WorkerContext) -> None:
    """This month's and the next months' partitions, so live data never waits for DDL."""
    month = month_of(datetime.now(UTC))
    months = [month]
    for _ in range(MONTHS_AHEAD):
        months.append(next_month(months[-1]))
    for table in PARTITIONED_TABLES:
        await ensure_partitions_exist(connections_of(context.engine), table, months)


async def drop_expired_raw_bodies(context: WorkerContext) -> int:
    """Drop raw-body months older than RAW_RETENTION_DAYS (never one with pending work)."""
    days = context.settings.raw_retention_days
    if days <= 0:
        return 0
    cutoff = datetime.now(UTC) - timedelta(days=days)
    dropped = await drop_partitions_before(
        connections_of(context.engine), "raw_ingestions", cutoff, keep_if="status = 'received'"
    )
    if dropped:
        log.info("raw_bodies_expired", partitions=dropped)
    return dropped


async def drop_abandoned_batches(context: WorkerContext) -> int:
    """Drop batch tables that a crashed ingest left (see ingest/write/batches.py)."""
    dropped = await drop_abandoned_batch_tables(context.engine, ABANDONED_BATCH_AGE_S)
    if dropped:
        log.info("abandoned_batch_tables_dropped", tables=dropped)
    return dropped


async def drop_abandoned_batch_tables(engine: AsyncEngine, older_than_s: float) -> int:
    """Drop unlogged batch tables a crashed process left behind; returns how many.

    A table still in use is younger than any ingest can last, and locked besides (the
    drop gives up at once on a lock).
    """
    cutoff = time.time() - older_than_s
    async with engine.connect() as conn:
        names = (
            await conn.execute(
                text(
                    "SELECT relname FROM pg_class WHERE relkind = 'r' AND relpersistence = 'u' "
                    "AND relnamespace = current_schema()::regnamespace "
                    "AND starts_with(relname, :prefix)"
                ),
                {"prefix": BATCH_TABLE_PREFIX},
            )
        ).scalars()
        abandoned = [name for name in names if _created_at(name) < cutoff]
    dropped = 0
    for name in abandoned:
        try:
            async with engine.begin() as conn:
                await conn.execute(text("SET LOCAL lock_timeout = '100ms'"))
                await conn.execute(text(f'DROP TABLE IF EXISTS "{name}"'))
            dropped += 1
        except DBAPIError:
            continue  # in use after all: not abandoned
    return dropped


def _created_at(name: str) -> float:
    created = name.removeprefix(BATCH_TABLE_PREFIX).split("_", 1)[0]
    return float(created) if created.isdigit() else float("inf")
