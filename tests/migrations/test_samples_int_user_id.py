"""metric_samples.user_id narrowed to integer on a database holding rows (every partition)."""

from __future__ import annotations

import asyncio
import os

import asyncpg
from alembic import command

from health_export.migrations_head import alembic_config
from tests.fixtures.databases import drop_database, fresh_database
from tests.migrations.test_rollups_backfill import _store_rows_before_rollups

BEFORE = "0014_hourly_rollups"
NARROWED = "0015_samples_int_user_id"
_STATE = """
SELECT (SELECT count(*) FROM metric_samples) AS rows,
       (SELECT sum(COALESCE(qty, avg)) FROM metric_samples) AS total,
       (SELECT array_agg(DISTINCT format_type(a.atttypid, a.atttypmod))
          FROM pg_partition_tree('metric_samples') t JOIN pg_attribute a
            ON a.attrelid = t.relid AND a.attname = 'user_id') AS types
"""


async def _state(url: str) -> dict[str, object]:
    apg = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        return dict(await apg.fetchrow(_STATE))
    finally:
        await apg.close()


async def _upsert_conflicts(url: str, user_id: int) -> str:
    """The writer's conflict target still names the primary key after the change."""
    apg = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        status: str = await apg.execute(
            "INSERT INTO metric_samples (user_id, metric_id, source_id, start_at, "
            "utc_offset_min, unit, qty) SELECT user_id, metric_id, source_id, start_at, "
            "utc_offset_min, unit, qty FROM metric_samples WHERE user_id = $1 "
            "ON CONFLICT (user_id, metric_id, start_at, source_id) DO NOTHING",
            user_id,
        )
        return status
    finally:
        await apg.close()


def test_user_id_narrows_and_widens_back_keeping_every_row() -> None:
    name = f"health_export_int_user_{os.getpid()}"
    url = asyncio.run(fresh_database(name))
    try:
        config = alembic_config(url)
        command.upgrade(config, BEFORE)
        user_id = asyncio.run(_store_rows_before_rollups(url))
        before = asyncio.run(_state(url))
        assert before["rows"] == 90
        assert before["types"] == ["bigint"]
        command.upgrade(config, NARROWED)
        after = asyncio.run(_state(url))
        assert (after["rows"], after["total"]) == (before["rows"], before["total"])
        assert after["types"] == ["integer"]  # the parent and every partition
        assert asyncio.run(_upsert_conflicts(url, user_id)) == "INSERT 0 0"
        command.downgrade(config, BEFORE)
        widened = asyncio.run(_state(url))
        assert (widened["rows"], widened["total"]) == (before["rows"], before["total"])
        assert widened["types"] == ["bigint"]
    finally:
        asyncio.run(drop_database(name))
