"""``tz=`` day-or-coarser answers from ``metric_hourly_rollups``, regrouped by the zone.

Every UTC hour whose whole span lies inside the asked range is read from its hourly
rollup and put in the bucket of its local start in the zone; the rows of the partial
hours at the ends are read as before, and both are merged per bucket. That is exact
when each hour falls in one local day of the zone (``zones.py``); for a zone whose
offsets are not whole hours in the years of the data (Asia/Kolkata, Asia/Kathmandu,
Australia/Adelaide...), None is answered and the rows answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

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
from health_export.rollups.reads import aggregate_columns, source_counts_above_one
from health_export.rollups.zones import keeps_hours_in_days

ONE_HOUR = timedelta(hours=1)
# Per metric, the first and last hour held (two index endpoint lookups each).
_HOURS_HELD = """
SELECT min(h.first_hour) AS first_hour, max(h.last_hour) AS last_hour
FROM unnest($2::int[]) AS m(id) CROSS JOIN LATERAL (
    SELECT min(hour) AS first_hour, max(hour) AS last_hour FROM metric_hourly_rollups
    WHERE user_id = $1 AND metric_id = m.id) h
"""


def _floor_hour(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _ceil_hour(moment: datetime) -> datetime:
    floor = _floor_hour(moment)
    return floor if floor == moment else floor + ONE_HOUR


def hour_edges(lower: datetime, upper: datetime) -> tuple[datetime, datetime, Edges] | None:
    """The whole UTC hours [first, end) in [lower, upper) and the partial hours' windows
    (rows still read); None when no whole hour fits."""
    first, end = _ceil_hour(lower), _floor_hour(upper)
    if first >= end:
        return None
    windows = tuple((low, high) for low, high in ((lower, first), (end, upper)) if low < high)
    return first, end, Edges(None, None, windows)


async def _regroups_exactly(
    apg: Any, user_id: int, ids: Sequence[int], zone: ZoneInfo, bounds: tuple[datetime, datetime]
) -> bool:
    """Whether the zone keeps each hour of the range that holds data in one local day."""
    held = await apg.fetchrow(_HOURS_HELD, user_id, list(ids))
    if held is None or held["first_hour"] is None:
        return False  # nothing stored: the rows answer (at once)
    lower = max(bounds[0], held["first_hour"])
    upper = min(bounds[1], held["last_hour"] + ONE_HOUR)
    return lower < upper and keeps_hours_in_days(zone, lower, upper)


def _local_day_conditions(
    local: str, binds: Binds, midnights: tuple[datetime | None, datetime | None]
) -> str:
    conditions = ""
    if midnights[0] is not None:
        conditions += f" AND {local} >= {binds(midnights[0])}::timestamp"
    if midnights[1] is not None:
        conditions += f" AND {local} < {binds(midnights[1])}::timestamp"
    return conditions


def _hourly_part(
    query: SeriesQuery, binds: Binds, zone: str, hours: tuple[datetime, datetime]
) -> str:
    n, total, low, high = aggregate_columns(query.agg)
    if query.dedupe:
        source = f"r.source_id = {binds(ALL_SOURCES)}"
    elif query.source_id is not None:
        source = f"r.source_id = {binds(query.source_id)}"
    else:
        source = f"r.source_id <> {binds(ALL_SOURCES)}"
    local = f"(r.hour AT TIME ZONE {zone})"
    in_days = _local_day_conditions(local, binds, (query.first_midnight, query.end_midnight))
    # No offset: a bucket in a zone is named by the zone (merged_sql names_by_offset).
    return f"""
    SELECT date_trunc({binds(query.bucket)}, {local}) AS bucket, NULL::int AS off,
           r.hour AS first_at, r.{n} AS n, {total} AS total, r.{low} AS low, r.{high} AS high
    FROM metric_hourly_rollups r
    WHERE r.user_id = $1 AND r.metric_id = $2 AND {source}
      AND r.hour >= {binds(hours[0])} AND r.hour < {binds(hours[1])}{in_days}"""  # noqa: S608


async def series(session: AsyncSession, query: SeriesQuery, zone: ZoneInfo) -> list[Record] | None:
    """The day/week/month series in ``zone`` from hourly rollups (and the partial hours'
    rows); None when the rows must answer."""
    found = hour_edges(query.lower, query.upper)
    if found is None:
        return None
    first, end, edges = found
    apg = await driver_connection(session)
    bounds = (query.lower, query.upper)
    if not await _regroups_exactly(apg, query.user_id, [query.metric_id], zone, bounds):
        return None
    # $3/$4 (the instants) only when rows are read too: unused, PostgreSQL cannot type them.
    binds = Binds(query.user_id, query.metric_id, *(bounds if edges.windows else ()))
    parts = [_hourly_part(query, binds, binds(zone.key), (first, end))]
    if edges.windows:
        parts.append(per_offset_sql(query, binds, edges))
    sql = merged_sql(" UNION ALL ".join(parts), daily=True, names_by_offset=False)
    return list(await apg.fetch(sql, *binds.values))


async def daily_totals(
    session: AsyncSession,
    user_id: int,
    ids: Sequence[int],
    bounds: tuple[datetime, datetime],
    midnights: tuple[datetime | None, datetime | None],
    zone: ZoneInfo,
) -> list[Any] | None:
    """/activity/daily's totals per day of ``zone`` and metric from hourly rollups (and
    the partial hours' rows); None when the rows must answer."""
    found = hour_edges(*bounds)
    if found is None:
        return None
    first, end, edges = found
    apg = await driver_connection(session)
    if not ids or not await _regroups_exactly(apg, user_id, ids, zone, bounds):
        return None
    binds = Binds(user_id, list(ids), *(bounds if edges.windows else ()))
    several = await source_counts_above_one(session, user_id, ids)
    local = f"(hour AT TIME ZONE {binds(zone.key)})"
    in_days = _local_day_conditions(local, binds, midnights)
    rollups = f"""
    SELECT date_trunc('day', {local})::date AS day, metric_id, qty_total AS total
    FROM metric_hourly_rollups WHERE user_id = $1 AND metric_id = ANY($2)
      AND (source_id = {binds(ALL_SOURCES)}) = (metric_id = ANY({binds(several)}::int[]))
      AND hour >= {binds(first)} AND hour < {binds(end)}{in_days}"""  # noqa: S608
    parts = [rollups]
    if edges.windows:
        parts.append(daily_totals_sql(binds, zone.key, midnights, edges))
    union = " UNION ALL ".join(f"({part})" for part in parts)
    sql = f"SELECT day, metric_id, sum(total) AS total FROM ({union}) p GROUP BY 1, 2 ORDER BY 1, 2"  # noqa: S608
    return list(await apg.fetch(sql, *binds.values))
