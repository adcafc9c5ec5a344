"""Day-or-coarser answers from ``metric_rollups``, with the same numbers as from the rows.

A local day whose every possible row lies inside the asked range (rows of local day D
have start_at in [D-1, D+2) UTC) is read from its rollups; the days at the ends of a
range given as instants are cut by it, so their rows are read as before and both are
merged per bucket. A range of bare dates (the days themselves) reads rollups alone.
With ``tz=`` every day is regrouped by the zone, not by the stored offsets the
daily rollups follow: those answers read the hourly rollups (``zone_reads.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from health_export.core.db import driver_connection
from health_export.health_data.metrics.repository import (
    Binds,
    Edges,
    Record,
    SeriesQuery,
    daily_totals_sql,
    merged_sql,
    per_offset_sql,
)
from health_export.rollups.models import ALL_SOURCES

ONE_DAY = timedelta(days=1)
# Per aggregate: the rollup columns standing for (count, sum, min, max) of its value.
_COLUMNS = {
    "min": ("n_low", "NULL::float8", "low", "low"),
    "max": ("n_high", "NULL::float8", "high", "high"),
}
_DEFAULT_COLUMNS = ("n", "total", "low", "high")


def aggregate_columns(agg: str) -> tuple[str, str, str, str]:
    """The rollup columns standing for (count, sum, min, max) of ``agg``'s value."""
    return _COLUMNS.get(agg, _DEFAULT_COLUMNS)


def _utc_midnight(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


def rollup_edges(
    lower: datetime,
    upper: datetime,
    first_midnight: datetime | None,
    end_midnight: datetime | None,
) -> Edges | None:
    """The local days [first, end) read from rollups, and the windows of rows still read
    around them; None when no whole day fits (then everything is read from rows)."""
    ceil_lower = lower.astimezone(UTC).date()
    if _utc_midnight(ceil_lower) < lower:
        ceil_lower += ONE_DAY
    first = ceil_lower + ONE_DAY
    end = upper.astimezone(UTC).date() - ONE_DAY
    if first_midnight is not None:
        first = max(first, first_midnight.date())
    if end_midnight is not None:
        end = min(end, end_midnight.date())
    if first >= end:
        return None
    # Rows of a local day before ``first`` start before first+1 (UTC); after ``end``, at
    # end-1 or later. A bare-date end excludes them already (local_day_where).
    windows: list[tuple[datetime, datetime]] = []
    if first_midnight is None:
        windows.append((lower, _utc_midnight(first + ONE_DAY)))
    if end_midnight is None:
        windows.append((_utc_midnight(end - ONE_DAY), upper))
    return Edges(first, end, tuple(windows))


def _rollup_part(query: SeriesQuery, binds: Binds, edges: Edges, bucket: str) -> str:
    n, total, low, high = aggregate_columns(query.agg)
    if query.dedupe:
        # Empty period rows (first_at NULL) only say a day's periods were counted.
        source = f"r.source_id = {binds(ALL_SOURCES)} AND r.first_at IS NOT NULL"
    elif query.source_id is not None:
        source = f"r.source_id = {binds(query.source_id)}"
    else:
        source = f"r.source_id <> {binds(ALL_SOURCES)}"
    return f"""
    SELECT date_trunc({bucket}, r.day::timestamp) AS bucket, r.first_off AS off,
           r.first_at, r.{n} AS n, {total} AS total, r.{low} AS low, r.{high} AS high
    FROM metric_rollups r
    WHERE r.user_id = $1 AND r.metric_id = $2 AND {source}
      AND r.day >= {binds(edges.first)} AND r.day < {binds(edges.end)}"""  # noqa: S608


async def series(session: AsyncSession, query: SeriesQuery) -> list[Record] | None:
    """The day/week/month series from rollups (and edge rows); None when the rows must
    answer (``tz=``: ``zone_reads.py``; a range shorter than a whole day)."""
    if not query.daily or query.zone is not None:
        return None
    edges = rollup_edges(query.lower, query.upper, query.first_midnight, query.end_midnight)
    if edges is None:
        return None
    # $3/$4 (the instants) only when rows are read too: unused, PostgreSQL cannot type them.
    bounds = (query.lower, query.upper) if edges.windows else ()
    binds = Binds(query.user_id, query.metric_id, *bounds)
    parts = [_rollup_part(query, binds, edges, binds(query.bucket))]
    if edges.windows:
        parts.append(per_offset_sql(query, binds, edges))
    sql = merged_sql(" UNION ALL ".join(parts), daily=True)
    apg = await driver_connection(session)
    return list(await apg.fetch(sql, *binds.values))


async def source_counts_above_one(
    session: AsyncSession, user_id: int, ids: Sequence[int]
) -> list[int]:
    """The metrics among ``ids`` that have more than one source (``metric_sources``)."""
    apg = await driver_connection(session)
    rows = await apg.fetch(
        "SELECT metric_id FROM metric_sources WHERE user_id = $1 AND metric_id = ANY($2::int[]) "
        "GROUP BY metric_id HAVING count(*) > 1",
        user_id,
        list(ids),
    )
    return [row["metric_id"] for row in rows]


async def daily_totals(
    session: AsyncSession,
    user_id: int,
    ids: Sequence[int],
    bounds: tuple[datetime, datetime],
    midnights: tuple[datetime | None, datetime | None],
) -> list[Any] | None:
    """/activity/daily's totals per local day and metric from rollups (and edge rows);
    None when no whole day fits the range."""
    edges = rollup_edges(*bounds, *midnights)
    if edges is None:
        return None
    binds = Binds(user_id, list(ids), *(bounds if edges.windows else ()))
    # A metric with several sources reads its period rows; with one, its source's rows
    # (a period is then its one sample).
    several = await source_counts_above_one(session, user_id, ids)
    rollups = f"""
    SELECT day, metric_id, qty_total AS total FROM metric_rollups
    WHERE user_id = $1 AND metric_id = ANY($2) AND first_at IS NOT NULL
      AND (source_id = {binds(ALL_SOURCES)}) = (metric_id = ANY({binds(several)}::int[]))
      AND day >= {binds(edges.first)} AND day < {binds(edges.end)}"""  # noqa: S608
    parts = [rollups]
    if edges.windows:
        parts.append(daily_totals_sql(binds, None, midnights, edges))
    sql = " UNION ALL ".join(f"({part})" for part in parts) + " ORDER BY 1, 2"
    apg = await driver_connection(session)
    return list(await apg.fetch(sql, *binds.values))
