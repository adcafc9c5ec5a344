"""SQL of the record reads: sleep, workouts (with PostGIS bbox), and the other record types."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from health_export.core.db import driver_connection
from health_export.health_data.metrics.repository import Binds, Record
from health_export.health_data.params import BoundingBox

Bounds = tuple[datetime, datetime]

_SLEEP_SESSIONS = """
SELECT s.start_at, s.utc_offset_min, src.name AS source, s.sleep_start, s.sleep_end,
       s.in_bed_start, s.in_bed_end, s.asleep_h, s.core_h, s.deep_h, s.rem_h, s.awake_h,
       s.in_bed_h, s.total_sleep_h, s.efficiency
FROM sleep_sessions s JOIN sources src ON src.id = s.source_id
WHERE s.user_id = $1 AND s.start_at >= $2 AND s.start_at < $3 ORDER BY s.start_at
"""
_SLEEP_STAGES = """
SELECT s.start_at, s.end_at, s.utc_offset_min, src.name AS source, s.stage, s.qty_h
FROM sleep_stages s JOIN sources src ON src.id = s.source_id
WHERE s.user_id = $1 AND s.start_at >= $2 AND s.start_at < $3 ORDER BY s.start_at, s.stage
"""


async def sleep_sessions(session: AsyncSession, user_id: int, bounds: Bounds) -> list[Record]:
    """Aggregated nights starting in ``bounds``."""
    apg = await driver_connection(session)
    return list(await apg.fetch(_SLEEP_SESSIONS, user_id, *bounds))


async def sleep_stages(session: AsyncSession, user_id: int, bounds: Bounds) -> list[Record]:
    """Sleep segments starting in ``bounds``, in time order."""
    apg = await driver_connection(session)
    return list(await apg.fetch(_SLEEP_STAGES, user_id, *bounds))


_WORKOUT_COLUMNS = """
SELECT w.workout_id, w.app_id, w.name, w.start_at, w.end_at, w.utc_offset_min, w.duration_s,
       w.location, w.is_indoor, w.distance_km, w.active_energy_kcal, w.total_energy_kcal,
       w.avg_heart_rate, w.max_heart_rate, (r.workout_id IS NOT NULL) AS has_route
"""
_WORKOUT_FROM = """
FROM workouts w
LEFT JOIN workout_routes r ON r.user_id = w.user_id AND r.workout_id = w.workout_id
WHERE w.user_id = $1
"""


async def workouts(
    session: AsyncSession,
    user_id: int,
    bounds: Bounds,
    name: str | None,
    bbox: BoundingBox | None,
    limit: int,
) -> list[Record]:
    """Workouts starting in ``bounds``, of type ``name``, whose route meets ``bbox``."""
    binds = Binds(user_id, *bounds)
    sql = _WORKOUT_COLUMNS + _WORKOUT_FROM + " AND w.start_at >= $2 AND w.start_at < $3"
    if name:
        sql += f" AND lower(w.name) = lower({binds(name)})"
    if bbox is not None:
        corners = ", ".join(
            binds(value) + "::float8"
            for value in (bbox.min_lon, bbox.min_lat, bbox.max_lon, bbox.max_lat)
        )
        # geography && envelope: answered by the GiST index on workout_routes.geom.
        sql += f" AND ST_Intersects(r.geom, ST_MakeEnvelope({corners}, 4326)::geography)"
    sql += f" ORDER BY w.start_at, w.workout_id LIMIT {binds(limit)}"
    apg = await driver_connection(session)
    return list(await apg.fetch(sql, *binds.values))


async def workout(session: AsyncSession, user_id: int, workout_id: uuid.UUID) -> Record | None:
    """One workout with its summaries and metadata (jsonb as text)."""
    sql = (
        _WORKOUT_COLUMNS
        + ", w.summaries::text AS summaries, w.metadata::text AS metadata"
        + _WORKOUT_FROM
        + " AND w.workout_id = $2"
    )
    apg = await driver_connection(session)
    return await apg.fetchrow(sql, user_id, workout_id)


_WORKOUT_SERIES = """
SELECT s.series, s.start_at, s.utc_offset_min, s.unit, s.qty, s.min, s.avg, s.max,
       src.name AS source
FROM workout_series s JOIN sources src ON src.id = s.source_id
WHERE s.user_id = $1 AND s.workout_id = $2 AND s.start_at >= $3 AND s.start_at < $4
ORDER BY s.series, s.start_at
"""


async def workout_series(
    session: AsyncSession, user_id: int, workout_id: uuid.UUID, bounds: Bounds
) -> list[Record]:
    """Every time series point of a workout (``bounds`` lets partitions be pruned)."""
    apg = await driver_connection(session)
    return list(await apg.fetch(_WORKOUT_SERIES, user_id, workout_id, *bounds))


_ROUTE = """
SELECT ST_AsGeoJSON(r.geom)::text AS geometry, r.times, r.altitude_m, r.speed, r.course,
       r.horizontal_accuracy, r.vertical_accuracy, r.speed_accuracy, r.course_accuracy,
       w.name, w.start_at, w.utc_offset_min
FROM workout_routes r JOIN workouts w ON w.user_id = r.user_id AND w.workout_id = r.workout_id
WHERE r.user_id = $1 AND r.workout_id = $2
"""


async def workout_route(
    session: AsyncSession, user_id: int, workout_id: uuid.UUID
) -> Record | None:
    """A workout's route: GeoJSON geometry and the per-point attributes."""
    apg = await driver_connection(session)
    return await apg.fetchrow(_ROUTE, user_id, workout_id)


async def workout_exists(session: AsyncSession, user_id: int, workout_id: uuid.UUID) -> bool:
    """Whether the user has this workout."""
    apg = await driver_connection(session)
    found: bool = await apg.fetchval(
        "SELECT EXISTS (SELECT 1 FROM workouts WHERE user_id = $1 AND workout_id = $2)",
        user_id,
        workout_id,
    )
    return found


async def records(
    session: AsyncSession, sql: str, user_id: int, bounds: Bounds, limit: int
) -> list[Record]:
    """Rows of a record-type query (see ``records.py``) in ``bounds``."""
    apg = await driver_connection(session)
    return list(await apg.fetch(sql, user_id, *bounds, limit))


async def ecg(
    session: AsyncSession, user_id: int, start_at: datetime, source_id: int
) -> Record | None:
    """One ECG recording with its voltage samples."""
    sql = (
        "SELECT e.*, e.attrs::text AS attrs_text, src.name AS source FROM ecg_recordings e "
        "JOIN sources src ON src.id = e.source_id "
        "WHERE e.user_id = $1 AND e.start_at = $2 AND e.source_id = $3"
    )
    apg = await driver_connection(session)
    return await apg.fetchrow(sql, user_id, start_at, source_id)


def record_sql(table: str, columns: tuple[str, ...], json_columns: frozenset[str]) -> str:
    """SELECT of one record type in time order (jsonb as text; names declared in code)."""
    selected = [
        f"t.{name}::text AS {name}" if name in json_columns else f"t.{name}" for name in columns
    ]
    joins = ""
    if "source_id" in columns:
        selected.append("src.name AS source")
        joins = " JOIN sources src ON src.id = t.source_id"
    listing = ", ".join(["t.start_at", "t.end_at", "t.utc_offset_min", *selected])
    return (
        f"SELECT {listing} FROM {table} t{joins} "  # noqa: S608 - names declared in code
        "WHERE t.user_id = $1 AND t.start_at >= $2 AND t.start_at < $3 "
        "ORDER BY t.start_at LIMIT $4"
    )
