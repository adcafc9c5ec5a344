"""Start and stop the ingest side of the app: runtime, partitions ahead, worker."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta
from typing import Any

from health_export.core.logging import get_logger
from health_export.imports.jobs import start_import_worker
from health_export.ingest.parser_process import ParserProcess
from health_export.ingest.service import IngestRuntime
from health_export.ingest.upsert import drop_abandoned_batch_tables
from health_export.ingest.worker import run_worker
from health_export.partitions import (
    drop_partitions_before,
    ensure_partitions_exist,
    month_of,
    next_month,
)
from health_export.samples.models import PARTITIONED_TABLES
from health_export.sync.alert_worker import run_alerts

MONTHS_AHEAD = 2
HOUSEKEEPING_INTERVAL_S = 3600
# No ingest lasts this long (100 MB take seconds), so an older batch table is abandoned.
ABANDONED_BATCH_AGE_S = 3600
log = get_logger("health_export.ingest")


async def create_partitions_ahead(state: Any) -> None:
    """This month's and the next months' partitions, so live data never waits for DDL."""
    month = month_of(datetime.now(UTC))
    months = [month]
    for _ in range(MONTHS_AHEAD):
        months.append(next_month(months[-1]))
    try:
        for table in PARTITIONED_TABLES:
            await ensure_partitions_exist(state.engine, table, months)
    except Exception as exc:  # the database may be down at start-up; ingest makes them too
        log.warning("partitions_ahead_skipped", exc_type=type(exc).__name__)


async def drop_expired_raw_bodies(state: Any) -> int:
    """Drop raw-body months older than RAW_RETENTION_DAYS (never one with pending work)."""
    days = state.settings.raw_retention_days
    if days <= 0:
        return 0
    cutoff = datetime.now(UTC) - timedelta(days=days)
    async with state.engine.begin() as conn:
        dropped = await drop_partitions_before(
            conn, "raw_ingestions", cutoff, keep_if="status = 'received'"
        )
    if dropped:
        log.info("raw_bodies_expired", partitions=dropped)
    return dropped


async def drop_abandoned_batches(state: Any) -> int:
    """Drop batch tables that a crashed ingest left (see ingest/writer.py)."""
    dropped = await drop_abandoned_batch_tables(state.engine, ABANDONED_BATCH_AGE_S)
    if dropped:
        log.info("abandoned_batch_tables_dropped", tables=dropped)
    return dropped


async def _run_housekeeping(state: Any) -> None:
    while not state.shutting_down:
        try:
            await drop_expired_raw_bodies(state)
            await drop_abandoned_batches(state)
            await create_partitions_ahead(state)
        except Exception as exc:  # the database may be down; next round
            log.warning("housekeeping_failed", exc_type=type(exc).__name__)
        await asyncio.sleep(HOUSEKEEPING_INTERVAL_S)


async def start_ingest(state: Any) -> None:
    """Attach the runtime and start the background worker."""
    parser = None
    if state.settings.ingest_parser_process:
        parser = ParserProcess(state.settings)
        parser.start()
    state.ingest_runtime = IngestRuntime(
        engine=state.engine,
        sync_budget_s=state.settings.ingest_sync_budget_seconds,
        parser=parser,
    )
    state.ingest_worker = asyncio.create_task(run_worker(state), name="ingest-worker")
    state.housekeeping = asyncio.create_task(_run_housekeeping(state), name="housekeeping")
    state.alerts = asyncio.create_task(run_alerts(state), name="sync-alerts")
    state.import_worker = start_import_worker(state)


async def stop_ingest(state: Any, grace_s: float) -> None:
    """Stop the worker; give background ingests the grace period to finish.

    Whatever is still running after that is cancelled: its raw body is stored and the
    worker of the next start (or of another replica) finishes it.
    """
    for task in (state.ingest_worker, state.housekeeping, state.alerts, state.import_worker):
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    pending = set(state.ingest_runtime.background)
    if pending:
        _, unfinished = await asyncio.wait(pending, timeout=grace_s)
        for task in unfinished:
            task.cancel()
    if state.ingest_runtime.parser is not None:
        state.ingest_runtime.parser.stop()
