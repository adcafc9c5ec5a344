"""Recompute a user's rollups from the rows, counting the keys whose stored rollup differed.

A difference means the rollups were not exact (a bug, a row changed by hand, a metric
whose kind changed in the catalogue): the rebuild reports it and replaces them.
Sums are compared to 1e-9 relative: adding the same values in another order may
change the last bits of a double.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from health_export.core.db import driver_connection
from health_export.ingest.write.writer import lock_user
from health_export.rollups.maintain import (
    ONE_DAY,
    DaySpan,
    lock_rollups,
    metrics_kept_per_period,
    span_arrays,
)
from health_export.rollups.summary_sql import (
    DAILY_SQL,
    HOURLY_COLUMNS,
    HOURLY_SQL,
    ROLLUP_COLUMNS,
)


@dataclass(frozen=True, slots=True)
class Rebuilt:
    """One user's rebuild: rollup rows now stored (daily, hourly), keys that differed before."""

    user: str
    rows: int
    differing_keys: int
    hourly_rows: int = 0


_METRIC_SPANS = """
SELECT mt.id, min(s.start_at) AS first_at, max(s.start_at) AS last_at
FROM metric_samples s JOIN metric_types mt ON mt.id = s.metric_id
WHERE s.user_id = $1 GROUP BY mt.id
"""
_FLOAT_EQUAL = (
    "((e.{c} IS NULL AND r.{c} IS NULL) OR abs(e.{c} - r.{c}) "
    "<= 1e-9 * greatest(abs(e.{c}), abs(r.{c}), 1))"
)
_DIFFERING = """
SELECT count(*) FROM rebuilt_{table} e
FULL JOIN (SELECT * FROM {table} WHERE user_id = $1) r USING ({key})
WHERE e.n IS NULL OR r.n IS NULL
   OR ({exact}) IS DISTINCT FROM ({exact_r})
   OR NOT {total} OR NOT {qty_total}
"""
# Per table: its key and the columns compared exactly.
_TABLES = {
    "metric_rollups": (
        "user_id, metric_id, day, source_id",
        ("first_at", "first_off", "n", "n_low", "low", "n_high", "high"),
    ),
    "metric_hourly_rollups": (
        "user_id, metric_id, hour, source_id",
        ("n", "n_low", "low", "n_high", "high"),
    ),
}


def _differing_sql(table: str) -> str:
    key, exact = _TABLES[table]
    return _DIFFERING.format(
        table=table,
        key=key,
        exact=", ".join(f"e.{c}" for c in exact),
        exact_r=", ".join(f"r.{c}" for c in exact),
        total=_FLOAT_EQUAL.format(c="total"),
        qty_total=_FLOAT_EQUAL.format(c="qty_total"),
    )


async def user_ids(engine: AsyncEngine, name: str | None) -> list[tuple[int, str]]:
    """(id, name) of the user called ``name``, or of every user; [] for an unknown name."""
    sql = "SELECT id, name FROM users"
    sql += " WHERE name = :name ORDER BY id" if name is not None else " ORDER BY id"
    async with engine.connect() as conn:
        rows = (await conn.execute(text(sql), {"name": name})).all()
    return [(int(row[0]), str(row[1])) for row in rows]


async def rebuild_user(engine: AsyncEngine, user_id: int, name: str) -> Rebuilt:
    """Recompute one user's rollups in one transaction, under the user's ingest lock."""
    async with engine.begin() as conn:
        await lock_user(conn, user_id)
        apg = await driver_connection(conn)
        await lock_rollups(apg, user_id)
        await apg.execute("SET LOCAL work_mem = '256MB'")
        spans = await _spans(apg, user_id)
        per_period = await metrics_kept_per_period(apg, user_id, [s.metric_id for s in spans])
        arguments = (user_id, *span_arrays(spans), sorted(per_period))
        differing, written = 0, {}
        for table, sql, columns in (
            ("metric_rollups", DAILY_SQL, ROLLUP_COLUMNS),
            ("metric_hourly_rollups", HOURLY_SQL, HOURLY_COLUMNS),
        ):
            written[table], found = await _rebuild_table(apg, table, sql, columns, arguments)
            differing += found
    return Rebuilt(name, written["metric_rollups"], differing, written["metric_hourly_rollups"])


async def _rebuild_table(
    apg: Any, table: str, sql: str, columns: str, arguments: tuple[Any, ...]
) -> tuple[int, int]:
    """Replace one rollup table's rows of the user; (rows written, keys that differed)."""
    user_id = arguments[0]
    await apg.execute(
        f"CREATE TEMP TABLE rebuilt_{table} ON COMMIT DROP AS SELECT * FROM ({sql}) summary",  # noqa: S608
        *arguments,
    )
    differing = int(await apg.fetchval(_differing_sql(table), user_id))
    await apg.execute(f"DELETE FROM {table} WHERE user_id = $1", user_id)  # noqa: S608
    status: str = await apg.execute(
        f"INSERT INTO {table} ({columns}) SELECT {columns} FROM rebuilt_{table}"  # noqa: S608
    )
    return int(status.rsplit(" ", 1)[1]), differing


async def _spans(apg: Any, user_id: int) -> list[DaySpan]:
    """Each metric's local days, from a day before its first row to a day after its last."""
    rows = await apg.fetch(_METRIC_SPANS, user_id)
    return [
        DaySpan(
            row["id"], _utc_date(row["first_at"]) - ONE_DAY, _utc_date(row["last_at"]) + ONE_DAY
        )
        for row in rows
    ]


def _utc_date(moment: Any) -> date:
    day: date = moment.astimezone(UTC).date()
    return day


async def rebuild(engine: AsyncEngine, name: str | None) -> list[Rebuilt]:
    """Rebuild the rollups of the user ``name`` (or of everyone), one user at a time."""
    return [
        await rebuild_user(engine, user_id, user) for user_id, user in await user_ids(engine, name)
    ]
