"""Workouts: listing (with a PostGIS bbox filter), detail with series, routes."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from health_export.core.errors import NotFound
from health_export.health_data.clock import at_offset
from health_export.health_data.params import BoundingBox, TimeRange
from health_export.health_data.records import repository as repository
from health_export.health_data.records.record_types import workout_uuid

# Series such as heartRateRecovery run on after the workout ends.
SERIES_MARGIN = timedelta(days=1)
_SUMMARY_FIELDS = (
    "app_id",
    "name",
    "duration_s",
    "location",
    "is_indoor",
    "distance_km",
    "active_energy_kcal",
    "total_energy_kcal",
    "avg_heart_rate",
    "max_heart_rate",
    "has_route",
)


def _workout(row: Any) -> dict[str, Any]:
    off = row["utc_offset_min"]
    return {
        "id": str(row["workout_id"]),
        "start": at_offset(row["start_at"], off),
        "end": at_offset(row["end_at"], off),
        **{name: row[name] for name in _SUMMARY_FIELDS},
    }


async def list_workouts(
    session: AsyncSession,
    user_id: int,
    span: TimeRange,
    *,
    kind: str | None,
    bbox: BoundingBox | None,
    limit: int,
) -> dict[str, Any]:
    """Workouts in time order; ``truncated`` when more than ``limit`` matched."""
    bounds = (span.lower, span.upper)
    rows = await repository.workouts(session, user_id, bounds, kind, bbox, limit + 1)
    return {"workouts": [_workout(row) for row in rows[:limit]], "truncated": len(rows) > limit}


def _series_point(row: Any) -> dict[str, Any]:
    return {
        "start": at_offset(row["start_at"], row["utc_offset_min"]),
        "unit": row["unit"],
        "qty": row["qty"],
        "min": row["min"],
        "avg": row["avg"],
        "max": row["max"],
        "source": row["source"],
    }


def _json(text: str | None) -> Any:
    return orjson.Fragment(text) if text is not None else None


async def workout_detail(session: AsyncSession, user_id: int, workout_id: str) -> dict[str, Any]:
    """One workout with its summaries, metadata and every time series."""
    wid = workout_uuid(workout_id)
    row = await repository.workout(session, user_id, wid)
    if row is None:
        raise NotFound("no such workout")
    end = row["end_at"] or row["start_at"]
    bounds = (row["start_at"] - SERIES_MARGIN, end + SERIES_MARGIN)
    series: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for point in await repository.workout_series(session, user_id, wid, bounds):
        series[point["series"]].append(_series_point(point))
    return {
        **_workout(row),
        "summaries": _json(row["summaries"]),
        "metadata": _json(row["metadata"]),
        "series": dict(series),
    }


async def workout_route(session: AsyncSession, user_id: int, workout_id: str) -> Any:
    """The stored route row of a workout; 404 when the workout or its route is missing."""
    wid = workout_uuid(workout_id)
    route = await repository.workout_route(session, user_id, wid)
    if route is None:
        exists = await repository.workout_exists(session, user_id, wid)
        raise NotFound("this workout has no route" if exists else "no such workout")
    return route
