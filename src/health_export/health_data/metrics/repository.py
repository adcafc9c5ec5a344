"""SQL of the metric reads: list, raw pages, time-bucketed series, daily activity.

Queries run on the asyncpg connection under the request's session (one round trip,
no ORM rows). jsonb columns are read as text and passed through untouched.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from health_export.core.db import driver_connection

Record = Any  # asyncpg.Record (asyncpg ships no type hints)


@dataclass(frozen=True, slots=True)
class SeriesQuery:
    """What one series read asks for, resolved to ids and SQL fragments by the service."""

    user_id: int
    metric_id: int
    lower: datetime
    upper: datetime
    bucket: str
    value_sql: str
    dedupe: bool
    daily: bool
    zone: str | None = None
    source_id: int | None = None
    agg: str = "avg"
    # Local wall-clock midnights bounding the rows when start/end were bare dates.
    first_midnight: datetime | None = None
    end_midnight: datetime | None = None


async def metric_ids(session: AsyncSession, names: Sequence[str]) -> dict[str, int]:
    """Interned ids of the metric ``names`` that exist."""
    apg = await driver_connection(session)
    rows = await apg.fetch("SELECT name, id FROM metric_types WHERE name = ANY($1)", list(names))
    return {row["name"]: row["id"] for row in rows}


async def source_id(session: AsyncSession, name: str) -> int | None:
    """The interned id of a source name, if it was ever stored."""
    apg = await driver_connection(session)
    value: int | None = await apg.fetchval("SELECT id FROM sources WHERE name = $1", name)
    return value


async def source_count(session: AsyncSession, user_id: int, metric_id: int) -> int:
    """How many sources the user's metric has (``metric_sources``, kept by the writer)."""
    result = await session.execute(
        text("SELECT count(*) FROM metric_sources WHERE user_id = :u AND metric_id = :m"),
        {"u": user_id, "m": metric_id},
    )
    return int(result.scalar_one())


async def has_samples(session: AsyncSession, user_id: int, metric_id: int) -> bool:
    """Whether the user has at least one sample of the metric."""
    apg = await driver_connection(session)
    found: bool = await apg.fetchval(
        "SELECT EXISTS (SELECT 1 FROM metric_samples WHERE user_id = $1 AND metric_id = $2)",
        user_id,
        metric_id,
    )
    return found


_LIST_METRICS = """
WITH per_source AS (
    SELECT metric_id, source_id, min(unit) AS unit, count(*) AS n,
           min(start_at) AS first_at, max(start_at) AS last_at
    FROM metric_samples WHERE user_id = $1 GROUP BY metric_id, source_id),
per_metric AS (
    SELECT p.metric_id, min(p.unit) AS unit, sum(p.n)::bigint AS count,
           min(p.first_at) AS first_at, max(p.last_at) AS last_at,
           array_agg(src.name ORDER BY src.name) AS sources
    FROM per_source p JOIN sources src ON src.id = p.source_id GROUP BY p.metric_id)
SELECT mt.name, m.unit, m.count, m.first_at, m.last_at, m.sources,
       (SELECT utc_offset_min FROM metric_samples s WHERE s.user_id = $1
          AND s.metric_id = m.metric_id AND s.start_at = m.first_at LIMIT 1) AS first_off,
       (SELECT utc_offset_min FROM metric_samples s WHERE s.user_id = $1
          AND s.metric_id = m.metric_id AND s.start_at = m.last_at LIMIT 1) AS last_off
FROM per_metric m JOIN metric_types mt ON mt.id = m.metric_id
ORDER BY mt.name
"""
# Sleep lives in its own tables: listed as one metric, counting nights and segments.
_LIST_SLEEP = """
WITH rows AS (
    SELECT start_at, utc_offset_min, source_id FROM sleep_sessions WHERE user_id = $1
    UNION ALL
    SELECT start_at, utc_offset_min, source_id FROM sleep_stages WHERE user_id = $1),
per_source AS (
    SELECT source_id, count(*) AS n, min(start_at) AS first_at, max(start_at) AS last_at
    FROM rows GROUP BY source_id),
total AS (
    SELECT sum(p.n)::bigint AS count, min(p.first_at) AS first_at, max(p.last_at) AS last_at,
           array_agg(src.name ORDER BY src.name) AS sources
    FROM per_source p JOIN sources src ON src.id = p.source_id HAVING count(*) > 0)
SELECT t.*,
       (SELECT utc_offset_min FROM rows r WHERE r.start_at = t.first_at LIMIT 1) AS first_off,
       (SELECT utc_offset_min FROM rows r WHERE r.start_at = t.last_at LIMIT 1) AS last_off
FROM total t
"""


async def list_metrics(session: AsyncSession, user_id: int) -> list[Record]:
    """One row per metric the user has: unit, count, first/last instant and offset, sources."""
    apg = await driver_connection(session)
    return list(await apg.fetch(_LIST_METRICS, user_id))


async def sleep_summary(session: AsyncSession, user_id: int) -> Record | None:
    """Count, first/last instant and offset, and sources of the user's sleep; None if none."""
    apg = await driver_connection(session)
    row: Record | None = await apg.fetchrow(_LIST_SLEEP, user_id)
    return row


_SAMPLE_COLUMNS = """
SELECT ms.start_at, ms.end_at, ms.utc_offset_min, ms.source_id, src.name AS source, ms.unit,
       ms.qty, ms.min, ms.avg, ms.max, ms.systolic, ms.diastolic, ms.attrs::text AS attrs
FROM metric_samples ms JOIN sources src ON src.id = ms.source_id
WHERE ms.user_id = $1 AND ms.metric_id = $2 AND ms.start_at >= $3 AND ms.start_at < $4
"""


async def sample_page(
    session: AsyncSession,
    user_id: int,
    metric_id: int,
    bounds: tuple[datetime, datetime],
    after: tuple[datetime, int] | None,
    source: int | None,
    limit: int,
) -> list[Record]:
    """Up to ``limit`` samples in (start_at, source_id) order after the keyset ``after``."""
    sql = _SAMPLE_COLUMNS
    args: list[Any] = [user_id, metric_id, *bounds]
    if after is not None:
        # A row comparison the primary key (user, metric, start_at, source) answers directly.
        sql += " AND (ms.start_at, ms.source_id) > ($5, $6)"
        args += list(after)
    if source is not None:
        args.append(source)
        sql += f" AND ms.source_id = ${len(args)}"
    args.append(limit)
    sql += f" ORDER BY ms.start_at, ms.source_id LIMIT ${len(args)}"
    apg = await driver_connection(session)
    return list(await apg.fetch(sql, *args))


class Binds:
    """Positional bind parameters of an asyncpg query, numbered as they are added."""

    def __init__(self, *values: Any) -> None:
        self.values: list[Any] = list(values)

    def __call__(self, value: Any) -> str:
        """Add ``value``; its placeholder (``$n``)."""
        self.values.append(value)
        return f"${len(self.values)}"


def local_expression(zone: str | None) -> tuple[str, str]:
    """SQL for (local wall-clock time, UTC offset in minutes) of a row ``s``.

    ``zone`` is the placeholder of an IANA zone name, or None for the stored offsets.
    """
    if zone is not None:
        local = f"(s.start_at AT TIME ZONE {zone})"
        offset = f"(extract(epoch FROM {local} - (s.start_at AT TIME ZONE 'UTC')) / 60)::int"
        return local, offset
    return "(s.start_at AT TIME ZONE 'UTC' + s.off * interval '1 minute')", "s.off"


def local_day_where(
    local: str, binds: Binds, first_midnight: datetime | None, end_midnight: datetime | None
) -> str:
    """A WHERE clause keeping rows whose local time is within the given local days."""
    conditions = ["TRUE"]
    if first_midnight is not None:
        conditions.append(f"{local} >= {binds(first_midnight)}::timestamp")
    if end_midnight is not None:
        conditions.append(f"{local} < {binds(end_midnight)}::timestamp")
    return "WHERE " + " AND ".join(conditions)


def _value_rows(value: str, where: str, is_period_deduplicated: bool) -> str:
    """Rows (start_at, off, v) of one metric; a sum metric keeps one value per period."""
    if is_period_deduplicated:
        # Several sources reporting the same period are not added up: the largest wins.
        columns = f"start_at, max(utc_offset_min) AS off, max({value}) AS v"
        return f"SELECT {columns} FROM metric_samples WHERE {where} GROUP BY start_at"  # noqa: S608
    columns = f"start_at, utc_offset_min AS off, {value} AS v"
    return f"SELECT {columns} FROM metric_samples WHERE {where}"  # noqa: S608 - fixed fragments


@dataclass(frozen=True, slots=True)
class Edges:
    """The rows a rollup-backed answer still reads: local days outside [first, end)
    (whose rollups cover them), within the start_at ``windows`` that can hold them.
    Without days (hourly rollups), every row of the windows."""

    first: date | None
    end: date | None
    windows: tuple[tuple[datetime, datetime], ...]


def _edge_where(binds: Binds, edges: Edges | None) -> str:
    if edges is None:
        return ""
    windows = " OR ".join(
        f"(start_at >= {binds(low)} AND start_at < {binds(high)})" for low, high in edges.windows
    )
    return f" AND ({windows})"


def _outside_days(local: str, binds: Binds, edges: Edges | None) -> str:
    if edges is None or edges.first is None or edges.end is None:
        return ""
    first, end = binds(_naive_midnight(edges.first)), binds(_naive_midnight(edges.end))
    return f" AND NOT ({local} >= {first}::timestamp AND {local} < {end}::timestamp)"


def _naive_midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day)


def per_offset_sql(query: SeriesQuery, binds: Binds, edges: Edges | None = None) -> str:
    """Per (local bucket, offset): first instant, count, sum, min, max of the rows.

    ``binds`` must hold (user, metric, lower, upper) as $1-$4.
    """
    where = "user_id = $1 AND metric_id = $2 AND start_at >= $3 AND start_at < $4"
    if query.source_id is not None:
        where += f" AND source_id = {binds(query.source_id)}"
    where += _edge_where(binds, edges)
    bucket = binds(query.bucket)
    local, offset = local_expression(binds(query.zone) if query.zone else None)
    rows = _value_rows(query.value_sql, where, query.dedupe)
    in_days = local_day_where(local, binds, query.first_midnight, query.end_midnight)
    in_days += _outside_days(local, binds, edges)
    return f"""
    SELECT date_trunc({bucket}, {local}) AS bucket, {offset} AS off, min(s.start_at) AS first_at,
           count(s.v) AS n, sum(s.v) AS total, min(s.v) AS low, max(s.v) AS high
    FROM ({rows}) s {in_days} GROUP BY 2, 1"""  # noqa: S608 - fixed fragments, bound values


def merged_sql(per_offset: str, *, daily: bool, names_by_offset: bool = True) -> str:
    """Per bucket (days+) or per (bucket, offset): the parts of ``per_offset`` added up.

    A bucket is named at the offset of its earliest row (the larger offset on a tie):
    the smallest [instant, -offset] pair, an aggregate without a sort per bucket (the
    ``array_agg(off ORDER BY ...)`` it replaced cost 5 µs a bucket, 6 of 9 ms for 1,103
    daily buckets, measured). ``names_by_offset`` False: buckets named by a zone, no
    offset picked.
    """
    merge_key = "bucket" if daily else "bucket, off"
    off = "NULL::int" if not names_by_offset else "off"
    if daily and names_by_offset:
        off = "(-(min(ARRAY[extract(epoch FROM first_at), -off]))[2])::int"
    order = "bucket" if daily else "bucket, min(first_at)"
    return f"""
WITH per_offset AS ({per_offset})
SELECT bucket, {off} AS off, sum(n)::bigint AS n,
       sum(total) AS total, min(low) AS low, max(high) AS high
FROM per_offset GROUP BY {merge_key} ORDER BY {order}
"""  # noqa: S608 - assembled from fixed fragments; values are bind parameters


async def set_long_read_settings(apg: Any, *, daily: bool) -> None:
    """Planner settings of a series over many rows."""
    # A year of minutes is ~525k rows: with the default 4 MB the planner sorted them on
    # disk (external merge, measured ~2x slower than hashing them in memory).
    await apg.execute("SET LOCAL work_mem = '64MB'")
    if daily:
        # Day and coarser buckets read long spans (a year: 525k rows); the monthly
        # partitions are too small for the planner to go parallel on its own, and two
        # workers took a year of heart rate from ~285 to ~180 ms (measured).
        await apg.execute(
            "SET LOCAL parallel_setup_cost = 0; SET LOCAL parallel_tuple_cost = 0; "
            "SET LOCAL min_parallel_table_scan_size = 0"
        )


async def series(
    session: AsyncSession,
    query: SeriesQuery,
) -> list[Record]:
    """Bucketed aggregates: per (local bucket, offset), then merged per bucket for days+."""
    binds = Binds(query.user_id, query.metric_id, query.lower, query.upper)
    sql = merged_sql(per_offset_sql(query, binds), daily=query.daily)
    apg = await driver_connection(session)
    await set_long_read_settings(apg, daily=query.daily)
    return list(await apg.fetch(sql, *binds.values))


_DAILY_ACTIVITY = """
WITH periods AS (
    SELECT metric_id, start_at, max(utc_offset_min) AS off, max(qty) AS qty
    FROM metric_samples
    WHERE user_id = $1 AND metric_id = ANY($2) AND start_at >= $3 AND start_at < $4{edges}
    GROUP BY metric_id, start_at)
SELECT date_trunc('day', {local})::date AS day, metric_id, sum(qty) AS total
FROM periods s {in_days} GROUP BY 1, 2
"""


async def daily_totals(
    session: AsyncSession,
    user_id: int,
    ids: Sequence[int],
    bounds: tuple[datetime, datetime],
    zone: str | None,
    midnights: tuple[datetime | None, datetime | None] = (None, None),
) -> list[Record]:
    """Per local day and metric: the sum over periods, one value per period (largest source).

    ``midnights`` are the local wall-clock bounds of the days asked by date.
    """
    binds = Binds(user_id, list(ids), *bounds)
    sql = daily_totals_sql(binds, zone, midnights) + " ORDER BY 1, 2"
    apg = await driver_connection(session)
    return list(await apg.fetch(sql, *binds.values))


def daily_totals_sql(
    binds: Binds,
    zone: str | None,
    midnights: tuple[datetime | None, datetime | None],
    edges: Edges | None = None,
) -> str:
    """The daily-activity query; ``binds`` holds (user, metric ids, lower, upper) as $1-$4."""
    edge_where = _edge_where(binds, edges)
    local, _ = local_expression(binds(zone) if zone else None)
    in_days = local_day_where(local, binds, *midnights) + _outside_days(local, binds, edges)
    return _DAILY_ACTIVITY.format(local=local, in_days=in_days, edges=edge_where)
