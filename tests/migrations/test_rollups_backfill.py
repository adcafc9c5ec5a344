"""The rollups migration backfills the rows already stored: upgraded servers answer at once."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, date, datetime, timedelta

import asyncpg
from alembic import command
from sqlalchemy.ext.asyncio import create_async_engine

from health_export.core.db import connections_of
from health_export.migrations_head import alembic_config
from health_export.rollups.rebuild import rebuild_user
from health_export.schema.partitions import ensure_partitions_exist
from tests.fixtures.databases import drop_database, fresh_database

BEFORE_ROLLUPS = "0013_job_runs_read_fences"
START = datetime(2024, 3, 9, 22, 0, tzinfo=UTC)


async def _store_rows_before_rollups(url: str) -> int:
    """A user with steps from two sources (same instants) and heart rate, as stored by a
    release without rollups; the user's id."""
    engine = create_async_engine(url)
    await ensure_partitions_exist(connections_of(engine), "metric_samples", {date(2024, 3, 1)})
    await engine.dispose()
    apg = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        user = await apg.fetchval("INSERT INTO users (name) VALUES ('backfill') RETURNING id")
        steps, heart = [
            await apg.fetchval("INSERT INTO metric_types (name) VALUES ($1) RETURNING id", name)
            for name in ("step_count", "heart_rate")
        ]
        watch, phone = [
            await apg.fetchval("INSERT INTO sources (name) VALUES ($1) RETURNING id", name)
            for name in ("Watch", "iPhone")
        ]
        rows: list[tuple[object, ...]] = []
        for hour in range(30):
            at = START + timedelta(hours=hour)
            rows.append((user, steps, watch, at, -300, "count", 100.0, None, None, None))
            rows.append((user, steps, phone, at, -240, "count", 40.0 + hour, None, None, None))
            rows.append((user, heart, watch, at, -300, "count/min", None, 50.0, 60.0, 90.0))
        columns = ["user_id", "metric_id", "source_id", "start_at", "utc_offset_min", "unit"]
        columns += ["qty", "min", "avg", "max"]
        await apg.copy_records_to_table("metric_samples", records=rows, columns=columns)
        # What that release's writer recorded beside the rows.
        await apg.execute(
            "INSERT INTO metric_sources SELECT DISTINCT user_id, metric_id, source_id "
            "FROM metric_samples"
        )
        return int(user)
    finally:
        await apg.close()


async def _rollups(url: str, user_id: int) -> tuple[int, int, float]:
    """(rollup rows, keys the rebuild found different, steps of local day 2024-03-10)."""
    apg = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        count = await apg.fetchval(
            "SELECT count(*) FROM metric_rollups WHERE user_id = $1", user_id
        )
        day_total = await apg.fetchval(
            "SELECT qty_total FROM metric_rollups WHERE user_id = $1 AND source_id = 0 "
            "AND day = '2024-03-10'",
            user_id,
        )
    finally:
        await apg.close()
    engine = create_async_engine(url)
    try:
        rebuilt = await rebuild_user(engine, user_id, "backfill")
    finally:
        await engine.dispose()
    return int(count), rebuilt.differing_keys, float(day_total)


def test_upgrade_backfills_rollups_equal_to_a_rebuild() -> None:
    name = f"health_export_rollups_backfill_{os.getpid()}"
    url = asyncio.run(fresh_database(name))
    try:
        config = alembic_config(url)
        command.upgrade(config, BEFORE_ROLLUPS)
        user_id = asyncio.run(_store_rows_before_rollups(url))
        command.upgrade(config, "head")
        count, differing, day_total = asyncio.run(_rollups(url, user_id))
        # Per (metric, local day): steps of each source, steps per period, heart rate.
        assert count > 0
        assert differing == 0
        # Local 2024-03-10 by the larger offset (-04:00): hours from 04:00 UTC on, the
        # larger of 100 and the iPhone's count each hour (40-69: 100 every hour).
        hours_of_the_day = [
            h
            for h in range(30)
            if START + timedelta(hours=h) >= datetime(2024, 3, 10, 4, tzinfo=UTC)
        ]
        assert day_total == 100.0 * len(hours_of_the_day)
    finally:
        asyncio.run(drop_database(name))
