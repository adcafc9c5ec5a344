"""Typed views over metric samples: heart rate, blood pressure, daily activity."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from health_export.health_data.clock import at_offset
from health_export.health_data.local_days import instant_bounds, local_midnights
from health_export.health_data.metrics import repository
from health_export.health_data.metrics.service import metric_id_of, raw_rows
from health_export.health_data.params import TimeRange
from health_export.rollups import reads as rollup_reads
from health_export.rollups import zone_reads

# Daily activity: answer field -> stored metric (all cumulative, canonical units).
ACTIVITY_METRICS: dict[str, str] = {
    "steps": "step_count",
    "distance_km": "walking_running_distance",
    "active_energy_kcal": "active_energy",
    "basal_energy_kcal": "basal_energy_burned",
    "exercise_min": "apple_exercise_time",
    "stand_hours": "apple_stand_hour",
    "flights_climbed": "flights_climbed",
}


async def heart_rate(
    session: AsyncSession,
    user_id: int,
    span: TimeRange,
    *,
    source: str | None,
    limit: int,
    cursor: str | None,
) -> dict[str, Any]:
    """Heart-rate samples (Min/Avg/Max per point, count/min)."""
    metric_id = await metric_id_of(session, user_id, "heart_rate")
    rows, next_cursor = await raw_rows(session, user_id, metric_id, span, source, limit, cursor)
    samples = [
        {
            "start": at_offset(row["start_at"], row["utc_offset_min"]),
            "end": at_offset(row["end_at"], row["utc_offset_min"]),
            "source": row["source"],
            # A point with only ``qty`` is one reading: it is its own min, avg and max.
            "min": row["min"] if row["min"] is not None else row["qty"],
            "avg": row["avg"] if row["avg"] is not None else row["qty"],
            "max": row["max"] if row["max"] is not None else row["qty"],
        }
        for row in rows
    ]
    return {"unit": "count/min", "samples": samples, "next_cursor": next_cursor}


async def blood_pressure(
    session: AsyncSession,
    user_id: int,
    span: TimeRange,
    *,
    source: str | None,
    limit: int,
    cursor: str | None,
) -> dict[str, Any]:
    """Blood-pressure readings (mmHg)."""
    metric_id = await metric_id_of(session, user_id, "blood_pressure")
    rows, next_cursor = await raw_rows(session, user_id, metric_id, span, source, limit, cursor)
    samples = [
        {
            "start": at_offset(row["start_at"], row["utc_offset_min"]),
            "source": row["source"],
            "systolic": row["systolic"],
            "diastolic": row["diastolic"],
        }
        for row in rows
    ]
    return {"unit": "mmHg", "samples": samples, "next_cursor": next_cursor}


async def activity_daily(
    session: AsyncSession,
    user_id: int,
    span: TimeRange,
    zone: ZoneInfo | None,
    *,
    rollups: bool = True,
) -> dict[str, Any]:
    """Per local day: steps, distance, energy, exercise, stand hours, flights.

    Within one period (same metric, same start) sources are not added up: the largest
    value counts; different periods add up. ``rollups``: read the daily rollups where
    they hold the answer (with ``tz=``, the hourly ones); off reads every row.
    """
    ids = await repository.metric_ids(session, list(ACTIVITY_METRICS.values()))
    field_of = {ids[metric]: field for field, metric in ACTIVITY_METRICS.items() if metric in ids}
    zone_name = zone.key if zone is not None else None
    bounds, midnights = instant_bounds(span), local_midnights(span)
    rows = None
    if rollups and zone is not None:
        rows = await zone_reads.daily_totals(
            session, user_id, list(field_of), bounds, midnights, zone
        )
    elif rollups:
        rows = await rollup_reads.daily_totals(session, user_id, list(field_of), bounds, midnights)
    if rows is None:
        rows = await repository.daily_totals(
            session, user_id, list(field_of), bounds, zone_name, midnights
        )
    days: dict[date, dict[str, Any]] = defaultdict(dict)
    for row in rows:
        days[row["day"]][field_of[row["metric_id"]]] = row["total"]
    answer = [
        {"date": day, **{field: totals.get(field) for field in ACTIVITY_METRICS}}
        for day, totals in sorted(days.items())
    ]
    return {"tz": zone_name, "days": answer}
