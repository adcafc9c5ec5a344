"""Workout pieces shared by the HAE and standard parsers: identity, typed summary
columns, time series and routes."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from health_export.catalog.units import conversion
from health_export.ingest.parsing.dates import utc_iso
from health_export.ingest.parsing.fields import (
    DateReader,
    FieldRejected,
    fmt,
    is_number,
    number_reason,
    read_date_field,
)
from health_export.ingest.parsing.points import PointKeys, Row, parse_metric_points
from health_export.ingest.records import NormalisedPayload

# Fixed forever: v1 workouts (no ``id``) are identified by uuid5 of name and start.
WORKOUT_NAMESPACE = uuid.UUID("6f1c1a52-3b8e-5d43-9a2e-4f0f6a7d2c11")
# Route points this far outside [start, end] belong to another workout (app bug).
ROUTE_TIME_SLACK = timedelta(minutes=10)
# Typed workout columns: column -> the unit it is stored in.
TYPED_COLUMN_UNITS = {
    "distance_km": "km",
    "active_energy_kcal": "kcal",
    "total_energy_kcal": "kcal",
    "avg_heart_rate": "count/min",
    "max_heart_rate": "count/min",
}


def workout_id(app_id: str | None, name: str, start_at: datetime) -> uuid.UUID:
    """The app's ``id`` when it is a UUID, else uuid5 of ``name|start in UTC ISO 8601``."""
    if app_id is not None:
        try:
            return uuid.UUID(app_id)
        except ValueError:
            pass
    return uuid.uuid5(WORKOUT_NAMESPACE, f"{name}|{utc_iso(start_at)}")


def typed_value(column: str, qty: object, unit: object) -> float | None:
    """A summary in a typed column's unit; None if unusable (the summary keeps it)."""
    if not is_number(qty) or not isinstance(unit, str) or qty < 0:  # type: ignore[operator]
        return None
    change = conversion(unit, TYPED_COLUMN_UNITS[column])
    return None if change is None else change.apply(float(qty))  # type: ignore[arg-type]


def add_series(
    payload: NormalisedPayload,
    workout: uuid.UUID,
    series: str,
    metric: str,
    unit: str,
    points: list[Any],
    path: str,
    keys: PointKeys,
    read_date: DateReader,
) -> None:
    """Check a workout time series like metric points, store it as ``workout_series``."""
    metric_rows: list[Row] = []
    parse_metric_points(metric_rows, payload.reject, metric, unit, points, path, keys, read_date)
    for row in metric_rows:
        (
            _,
            source,
            start_at,
            _,
            offset_min,
            stored_unit,
            qty,
            low,
            avg,
            high,
            systolic,
            diastolic,
            attrs,
        ) = row
        if systolic is not None or diastolic is not None:
            attrs = {**(attrs or {}), "systolic": systolic, "diastolic": diastolic}
        payload.add(
            "workout_series",
            (
                workout,
                series,
                start_at,
                offset_min,
                stored_unit,
                qty,
                low,
                avg,
                high,
                source,
                attrs,
            ),
        )


@dataclass(frozen=True, slots=True)
class RouteKeys:
    """Key names of route points; each field lists the spellings to try, in order."""

    lat: tuple[str, ...]
    lon: tuple[str, ...]
    time: tuple[str, ...]
    altitude: tuple[str, ...]
    speed: tuple[str, ...]
    course: tuple[str, ...]
    horizontal_accuracy: tuple[str, ...]
    vertical_accuracy: tuple[str, ...]
    course_accuracy: tuple[str, ...]
    speed_accuracy: tuple[str, ...]

    def attribute_keys(self) -> tuple[tuple[str, ...], ...]:
        """The per-point attributes in ``workout_routes`` column order."""
        return (
            self.altitude,
            self.speed,
            self.course,
            self.horizontal_accuracy,
            self.vertical_accuracy,
            self.course_accuracy,
            self.speed_accuracy,
        )

    def known(self) -> frozenset[str]:
        """Every key with a column."""
        groups = (self.lat, self.lon, self.time, *self.attribute_keys())
        return frozenset(key for group in groups for key in group)


@dataclass(slots=True)
class _Route:
    points: list[tuple[float, float]]
    times: list[datetime]
    attributes: tuple[list[float | None], ...]


def add_route(
    payload: NormalisedPayload,
    workout: uuid.UUID,
    window: tuple[datetime, datetime],
    points: Sequence[Any],
    path: str,
    keys: RouteKeys,
    read_date: DateReader,
) -> None:
    """Store the valid route points as one ``workout_routes`` row; reject the others."""
    route = _Route([], [], tuple([] for _ in keys.attribute_keys()))
    unknown: set[str] = set()
    known = keys.known()
    earliest, latest = window[0] - ROUTE_TIME_SLACK, window[1] + ROUTE_TIME_SLACK
    for index, point in enumerate(points):
        try:
            _add_route_point(route, point, keys, read_date, earliest, latest)
        except FieldRejected as rejection:
            payload.reject(rejection.path_in(f"{path}[{index}]"), rejection.reason)
            continue
        unknown.update(key for key in point if key not in known)
    payload.ignored.extend(f"{path}[].{key}" for key in sorted(unknown))
    if route.points:
        payload.add("workout_routes", (workout, route.points, route.times, *route.attributes))


def _add_route_point(
    route: _Route,
    point: object,
    keys: RouteKeys,
    read_date: DateReader,
    earliest: datetime,
    latest: datetime,
) -> None:
    if not isinstance(point, dict):
        raise FieldRejected("", "route point is not an object")
    lat = _coordinate(point, keys.lat, 90.0)
    lon = _coordinate(point, keys.lon, 180.0)
    time_key = _present_key(point, keys.time)
    moment, _ = read_date_field(point, time_key, read_date)
    if not earliest <= moment <= latest:
        raise FieldRejected(time_key, "more than 10 min outside the workout")
    attributes = [_optional_number(point, group) for group in keys.attribute_keys()]
    route.points.append((lon, lat))
    route.times.append(moment)
    for column, value in zip(route.attributes, attributes, strict=True):
        column.append(value)


def _present_key(point: dict[str, Any], spellings: tuple[str, ...]) -> str:
    for key in spellings:
        if key in point:
            return key
    return spellings[0]


def _coordinate(point: dict[str, Any], spellings: tuple[str, ...], limit: float) -> float:
    key = _present_key(point, spellings)
    value = point.get(key)
    if value is None:
        raise FieldRejected(key, "missing coordinate")
    if not is_number(value):
        raise FieldRejected(key, number_reason(value))
    if not -limit <= value <= limit:
        raise FieldRejected(key, f"{fmt(value)} outside -{fmt(limit)}..{fmt(limit)}")
    return float(value)


def _optional_number(point: dict[str, Any], spellings: tuple[str, ...]) -> float | None:
    key = _present_key(point, spellings)
    value = point.get(key)
    if value is None:
        return None
    if not is_number(value):
        raise FieldRejected(key, number_reason(value))
    return float(value)


def check_window(start_at: datetime, end_at: datetime, end_key: str) -> None:
    """A workout must not end before it starts."""
    if end_at < start_at:
        raise FieldRejected(end_key, "end before start")


def duration_or_window(duration_s: float | None, start_at: datetime, end_at: datetime) -> float:
    """The sent duration, else the wall-clock length of the workout."""
    return duration_s if duration_s is not None else (end_at - start_at).total_seconds()


# The typed summary columns of ``workouts``, in table order (filled from summaries).
TYPED_SUMMARY_COLUMNS = (
    "distance_km",
    "active_energy_kcal",
    "total_energy_kcal",
    "avg_heart_rate",
    "max_heart_rate",
)


def workout_row(
    workout: uuid.UUID,
    app_id: str | None,
    name: str,
    window: tuple[datetime, datetime | None, int],
    duration_s: float | None,
    place: tuple[str | None, bool | None],
    typed: Mapping[str, float | None],
    summaries: dict[str, Any] | None,
    metadata: Any,
) -> tuple[Any, ...]:
    """One ``workouts`` row; ``window`` is (start, end, UTC offset), ``place`` is
    (location, is indoor)."""
    start_at, end_at, offset_min = window
    location, is_indoor = place
    return (
        workout,
        app_id,
        name,
        start_at,
        end_at,
        offset_min,
        duration_s,
        location,
        is_indoor,
        *(typed.get(column) for column in TYPED_SUMMARY_COLUMNS),
        summaries or None,
        metadata,
    )
