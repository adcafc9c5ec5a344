"""The ingest side's periodic chores: partitions ahead, abandoned batch tables, raw retention.

Each is a periodic background job (`background/jobs.py`): one worker runs it per period.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from health_export.background.context import WorkerContext
from health_export.core.logging import get_logger
from health_export.ingest.write.batches import drop_abandoned_batch_tables
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
        await ensure_partitions_exist(context.engine, table, months)


async def drop_expired_raw_bodies(context: WorkerContext) -> int:
    """Drop raw-body months older than RAW_RETENTION_DAYS (never one with pending work)."""
    days = context.settings.raw_retention_days
    if days <= 0:
        return 0
    cutoff = datetime.now(UTC) - timedelta(days=days)
    async with context.engine.begin() as conn:
        dropped = await drop_partitions_before(
            conn, "raw_ingestions", cutoff, keep_if="status = 'received'"
        )
    if dropped:
        log.info("raw_bodies_expired", partitions=dropped)
    return dropped


async def drop_abandoned_batches(context: WorkerContext) -> int:
    """Drop batch tables that a crashed ingest left (see ingest/write/writer.py)."""
    dropped = await drop_abandoned_batch_tables(context.engine, ABANDONED_BATCH_AGE_S)
    if dropped:
        log.info("abandoned_batch_tables_dropped", tables=dropped)
    return dropped
