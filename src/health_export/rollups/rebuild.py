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
    ROLLUP_COLUMNS,
    SUMMARY_SQL,
    DaySpan,
    lock_rollups,
    metrics_kept_per_period,
    span_arrays,
)


@dataclass(frozen=True, slots=True)
class Rebuilt:
    """One user's rebuild: rollup rows now stored, and keys that differed before."""

    user: str
    rows: int
    differing_keys: int


_METRIC_SPANS = """
SELECT mt.id, min(s.start_at) AS first_at, max(s.start_at) AS last_at
FROM metric_samples s JOIN metric_types mt ON mt.id = s.metric_id
WHERE s.user_id = $1 GROUP BY mt.id
"""
_FLOAT_EQUAL = (
    "((e.{c} IS NULL AND r.{c} IS NULL) OR abs(e.{c} - r.{c}) "
    "<= 1e-9 * greatest(abs(e.{c}), abs(r.{c}), 1))"
)
_DIFFERING = f"""
SELECT count(*) FROM rebuilt_rollups e
FULL JOIN (SELECT * FROM metric_rollups WHERE user_id = $1) r
  USING (user_id, metric_id, day, source_id)
WHERE e.n IS NULL OR r.n IS NULL
   OR (e.first_at, e.first_off, e.n, e.n_low, e.low, e.n_high, e.high)
      IS DISTINCT FROM (r.first_at, r.first_off, r.n, r.n_low, r.low, r.n_high, r.high)
   OR NOT {_FLOAT_EQUAL.format(c="total")} OR NOT {_FLOAT_EQUAL.format(c="qty_total")}
"""  # noqa: S608 - fixed column names


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
        await apg.execute(
            "CREATE TEMP TABLE rebuilt_rollups ON COMMIT DROP AS "  # noqa: S608 - fixed SQL
            f"SELECT * FROM ({SUMMARY_SQL}) summary",
            user_id,
            *span_arrays(spans),
            sorted(per_period),
        )
        differing = int(await apg.fetchval(_DIFFERING, user_id))
        await apg.execute("DELETE FROM metric_rollups WHERE user_id = $1", user_id)
        status: str = await apg.execute(
            f"INSERT INTO metric_rollups ({ROLLUP_COLUMNS}) "  # noqa: S608 - fixed SQL
            f"SELECT {ROLLUP_COLUMNS} FROM rebuilt_rollups"
        )
    return Rebuilt(name, int(status.rsplit(" ", 1)[1]), differing)


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
