"""Rules of the metric reads: which metric, which unit, which buckets, which values count."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from health_export.catalog.metrics import METRICS, canonical_unit, kind_of
from health_export.catalog.units import IDENTITY, Conversion, conversion
from health_export.core.errors import NotFound
from health_export.health_data.clock import at_offset, local_wall_clock
from health_export.health_data.local_days import instant_bounds, local_midnights
from health_export.health_data.metrics import repository
from health_export.health_data.metrics.schemas import Agg, Bucket
from health_export.health_data.params import (
    TimeRange,
    bad_parameter,
    decode_cursor,
    encode_cursor,
    quoted,
)
from health_export.health_data.params import cursor_instant as instant_of
from health_export.rollups import reads as rollup_reads
from health_export.rollups import zone_reads

SLEEP_METRIC = "sleep_analysis"  # stored in sleep_sessions/sleep_stages, read at /sleep
DAILY_BUCKETS = frozenset({"day", "week", "month"})
# The longest range each fine bucket may cover (about 45k buckets at most).
MAX_SPAN: dict[str, timedelta] = {"minute": timedelta(days=31), "hour": timedelta(days=5 * 366)}
# Per (agg): the stored column holding the value (heart rate keeps Min/Avg/Max per point).
_VALUE_SQL = {
    "min": "COALESCE(min, qty, avg, systolic)",
    "max": "COALESCE(max, qty, avg, systolic)",
}
_DEFAULT_VALUE_SQL = "COALESCE(qty, avg, systolic)"
_VALUE_FIELDS = ("qty", "min", "avg", "max", "systolic", "diastolic")


async def metric_id_of(session: AsyncSession, user_id: int, name: str) -> int | None:
    """The metric's id; 404 (naming the list endpoint) for a name the user cannot have."""
    ids = await repository.metric_ids(session, [name])
    metric_id = ids.get(name)
    if metric_id is not None and (
        name in METRICS or await repository.has_samples(session, user_id, metric_id)
    ):
        return metric_id
    if name in METRICS:
        return None  # a known metric nobody has stored yet: simply no data
    raise NotFound(f"no metric {quoted(name)}; GET /api/v1/metrics lists the metrics you have")


async def source_filter(session: AsyncSession, source: str | None) -> int | None:
    """The source id to filter on; -1 (matches nothing) for a name never stored."""
    if source is None or source == "":
        return None
    found = await repository.source_id(session, source)
    return found if found is not None else -1


def unit_change(metric: str, unit: str | None) -> tuple[str | None, Conversion]:
    """The unit to answer in and how to get there from the stored one (``?unit=``)."""
    stored = canonical_unit(metric)
    if unit is None or unit == "" or unit == stored:
        return stored, IDENTITY
    change = conversion(stored, unit) if stored is not None else None
    if change is None:
        reason = f"cannot convert {metric} ({stored or 'as sent'}) to {quoted(unit)}"
        raise bad_parameter("unit", reason)
    return unit, change


async def list_metrics(session: AsyncSession, user_id: int) -> dict[str, Any]:
    """Every metric the user has, sleep included, with the route that reads each."""
    rows = await repository.list_metrics(session, user_id)
    metrics = [
        _metric_summary(row, row["name"], f"/api/v1/metrics/{quote(row['name'], safe='')}")
        for row in rows
    ]
    sleep = await repository.sleep_summary(session, user_id)
    if sleep is not None:
        metrics.append(_metric_summary(sleep, SLEEP_METRIC, "/api/v1/sleep"))
        metrics.sort(key=lambda entry: entry["name"])
    return {"metrics": metrics}


def _metric_summary(row: Any, name: str, read_at: str) -> dict[str, Any]:
    return {
        "name": name,
        "unit": canonical_unit(name) or row.get("unit"),
        "kind": kind_of(name),
        "count": row["count"],
        "first": at_offset(row["first_at"], row["first_off"] or 0),
        "last": at_offset(row["last_at"], row["last_off"] or 0),
        "sources": row["sources"],
        "read_at": read_at,
    }


def sample_out(row: Any, change: Conversion, unit: str | None) -> dict[str, Any]:
    """One stored sample row as the API answers it (at its offset, in ``unit``)."""
    off = row["utc_offset_min"]
    values = {
        name: None if row[name] is None else change.apply(row[name]) for name in _VALUE_FIELDS
    }
    attrs = row["attrs"]
    return {
        "start": at_offset(row["start_at"], off),
        "end": at_offset(row["end_at"], off),
        "source": row["source"],
        "unit": unit or row["unit"],
        **values,
        "attrs": orjson.Fragment(attrs) if attrs is not None else None,
    }


async def raw_rows(
    session: AsyncSession,
    user_id: int,
    metric_id: int | None,
    span: TimeRange,
    source: str | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[Any], str | None]:
    """One page of stored rows and the cursor of the next page (None at the end)."""
    position = decode_cursor(cursor, (str, int))
    after = (instant_of(position[0]), position[1]) if position else None
    if metric_id is None:
        return [], None
    source_id = await source_filter(session, source)
    bounds = (span.lower, span.upper)
    rows = await repository.sample_page(
        session, user_id, metric_id, bounds, after, source_id, limit + 1
    )
    if len(rows) <= limit:
        return rows, None
    last = rows[limit - 1]
    return rows[:limit], encode_cursor(last["start_at"].isoformat(), last["source_id"])


async def sample_page(
    session: AsyncSession,
    user_id: int,
    name: str,
    span: TimeRange,
    *,
    source: str | None,
    limit: int,
    cursor: str | None,
    unit: str | None,
) -> dict[str, Any]:
    """Raw samples of one metric, keyset-paginated."""
    metric_id = await metric_id_of(session, user_id, name)
    answer_unit, change = unit_change(name, unit)
    rows, next_cursor = await raw_rows(session, user_id, metric_id, span, source, limit, cursor)
    samples = [sample_out(row, change, answer_unit) for row in rows]
    return {"metric": name, "unit": answer_unit, "samples": samples, "next_cursor": next_cursor}


def check_series_span(bucket: str, span: TimeRange) -> None:
    """Fine buckets need a bounded range: a year of minutes is refused with a hint."""
    limit = MAX_SPAN.get(bucket)
    if limit is None:
        return
    if span.start is None:
        raise bad_parameter("start", f"{bucket} buckets need a start (and at most {limit.days} d)")
    now = datetime.now(UTC)
    if span.end is None and span.start > now:
        # Without an end the range runs on for ever: from a future start, no cap holds.
        raise bad_parameter("end", f"start is in the future: give an end (at most {limit.days} d)")
    length = (span.end or now) - span.start
    if length > limit:
        coarser = "hour" if bucket == "minute" else "day"
        raise bad_parameter(
            "bucket",
            f"{bucket} buckets cover at most {limit.days} days; "
            f"narrow start/end or use bucket={coarser}",
        )


def default_agg(name: str) -> Agg:
    """``sum`` for cumulative metrics (steps, energy, distance), ``avg`` otherwise."""
    return "sum" if kind_of(name) == "sum" else "avg"


def _aggregate(row: Any, agg: str, change: Conversion) -> float | None:
    if agg == "count":
        return float(row["n"])
    if agg == "sum":
        total = row["total"]
        return None if total is None else total * change.factor + row["n"] * change.offset
    if agg == "avg":
        return None if not row["n"] else change.apply(row["total"] / row["n"])
    value = row["low"] if agg == "min" else row["high"]
    return None if value is None else change.apply(value)


async def _needs_period_dedupe(
    session: AsyncSession, user_id: int, metric_id: int, name: str, source: str | None
) -> bool:
    """Sum metrics from several sources keep one value per period; one source needs no
    dedupe, and skipping it halves a year-long daily series (measured: 400 → ~200 ms)."""
    if kind_of(name) != "sum" or source is not None:
        return False
    return await repository.source_count(session, user_id, metric_id) > 1


async def series(
    session: AsyncSession,
    user_id: int,
    name: str,
    span: TimeRange,
    *,
    bucket: Bucket,
    agg: Agg | None,
    zone: ZoneInfo | None,
    source: str | None,
    unit: str | None,
    rollups: bool = True,
) -> dict[str, Any]:
    """Time-bucketed aggregates of one metric in local time (stored offsets or ``tz``).

    ``rollups``: day and coarser buckets read the daily rollups, or with ``tz=`` the
    hourly ones (the same numbers; off reads every row, as ``ROLLUPS_READ=off`` does).
    """
    check_series_span(bucket, span)
    chosen: Agg = agg or default_agg(name)
    metric_id = await metric_id_of(session, user_id, name)
    answer_unit, change = unit_change(name, unit)
    zone_name = zone.key if zone is not None else None
    answer = {"metric": name, "unit": answer_unit, "bucket": bucket, "agg": chosen, "tz": zone_name}
    if metric_id is None:
        return {**answer, "points": []}
    # Day and coarser buckets read bare dates as whole local days (local_days.py).
    lower, upper = instant_bounds(span) if bucket in DAILY_BUCKETS else (span.lower, span.upper)
    first_midnight, end_midnight = (
        local_midnights(span) if bucket in DAILY_BUCKETS else (None, None)
    )
    query = repository.SeriesQuery(
        user_id=user_id,
        metric_id=metric_id,
        lower=lower,
        upper=upper,
        first_midnight=first_midnight,
        end_midnight=end_midnight,
        bucket=bucket,
        value_sql=_VALUE_SQL.get(chosen, _DEFAULT_VALUE_SQL),
        dedupe=await _needs_period_dedupe(session, user_id, metric_id, name, source),
        daily=bucket in DAILY_BUCKETS,
        zone=zone_name,
        source_id=await source_filter(session, source),
        agg=chosen,
    )
    rows = None
    if rollups and zone is not None:
        rows = await zone_reads.series(session, query, zone) if query.daily else None
    elif rollups:
        rows = await rollup_reads.series(session, query)
    if rows is None:
        rows = await repository.series(session, query)
    # Sub-day buckets keep their own offset (a repeated fall-back hour stays two buckets).
    day_zone = zone if query.daily else None
    points = [
        {
            "start": local_wall_clock(row["bucket"], row["off"], day_zone),
            "value": _aggregate(row, chosen, change),
            "count": row["n"],
        }
        for row in rows
    ]
    return {**answer, "points": points}
