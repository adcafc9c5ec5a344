"""HAE workouts, export versions 1 and 2 (docs/hae-format.md §5).

The versions share key names with different shapes (``activeEnergy`` and ``stepCount``
are ``{qty, units}`` summaries in v1 but time series in v2), so each key is dispatched
on its value's shape rather than on a version guess.
"""

from __future__ import annotations

import uuid
from typing import Any

from health_export.ingest.parsing.dates import parse_date
from health_export.ingest.parsing.fields import ItemReader, for_each_object
from health_export.ingest.parsing.points import PointKeys
from health_export.ingest.parsing.workouts import (
    RouteKeys,
    add_route,
    add_series,
    check_window,
    duration_or_window,
    typed_value,
    workout_id,
    workout_row,
)
from health_export.ingest.records import NormalisedPayload

_COLUMN_FIELDS = ("id", "name", "start", "end", "duration", "location", "isIndoor", "metadata")
# Summary keys ({qty, units}) that also fill a typed column.
_TYPED_SUMMARIES = {
    "distance": "distance_km",
    "activeEnergyBurned": "active_energy_kcal",
    "activeEnergy": "active_energy_kcal",  # v1: a summary object
    "totalEnergy": "total_energy_kcal",
    "avgHeartRate": "avg_heart_rate",
    "maxHeartRate": "max_heart_rate",
}
# Time series keys -> the catalogue metric whose unit and range apply to their points.
_SERIES_METRICS = {
    "heartRateData": "heart_rate",
    "heartRateRecovery": "heart_rate",
    "activeEnergy": "active_energy",
    "basalEnergy": "basal_energy_burned",
    "stepCount": "step_count",
    "walkingAndRunningDistance": "walking_running_distance",
    "cyclingCadence": "cycling_cadence",
    "cyclingDistance": "cycling_distance",
    "cyclingPower": "cycling_power",
    "cyclingSpeed": "cycling_speed",
    "swimDistance": "swimming_distance",
    "swimStroke": "swimming_stroke_count",
}
SERIES_POINT_KEYS = PointKeys(
    "date", "qty", "Min", "Avg", "Max", "systolic", "diastolic", "source", unit="units"
)
HAE_ROUTE_KEYS = RouteKeys(
    lat=("latitude", "lat"),
    lon=("longitude", "lon"),
    time=("timestamp",),
    altitude=("altitude",),
    speed=("speed",),
    course=("course",),
    horizontal_accuracy=("horizontalAccuracy",),
    vertical_accuracy=("verticalAccuracy",),
    course_accuracy=("courseAccuracy",),
    speed_accuracy=("speedAccuracy",),
)


def parse_hae_workouts(payload: NormalisedPayload, workouts: list[Any], path: str) -> None:
    """Add every usable workout with its series and route; reject the others."""
    for_each_object(
        payload.reject,
        workouts,
        path,
        "workout",
        lambda item, item_path: _parse_workout(payload, item, item_path),
    )


def _parse_workout(payload: NormalisedPayload, item: dict[str, Any], path: str) -> None:
    reader = ItemReader(item)
    name = reader.text("name", required=True) or ""
    app_id = reader.text("id")
    start_at, offset_min = reader.date("start")
    end_at, _ = reader.date("end")
    check_window(start_at, end_at, "end")
    duration_s = duration_or_window(reader.number("duration", low=0.0), start_at, end_at)
    location = reader.text("location")
    is_indoor = reader.boolean("isIndoor")
    metadata = reader.raw("metadata")
    workout = workout_id(app_id, name, start_at)
    # v2 workouts carry the app's id (docs/hae-format.md §5); read by the sync advice.
    payload.note("workouts:v2" if app_id else "workouts:v1")
    if item.get("route"):
        payload.note("workouts:route")
    summaries, typed = _summaries(item)
    payload.add(
        "workouts",
        workout_row(
            workout,
            app_id,
            name,
            (start_at, end_at, offset_min),
            duration_s,
            (location, is_indoor),
            typed,
            summaries,
            _as_object(metadata),
        ),
    )
    _add_arrays(payload, workout, item, path, (start_at, end_at))


def _summaries(item: dict[str, Any]) -> tuple[dict[str, Any], dict[str, float]]:
    """Every non-array key without a column, as sent, and the typed columns from them."""
    summaries: dict[str, Any] = {}
    typed: dict[str, float] = {}
    for key, value in item.items():
        if key in _COLUMN_FIELDS or isinstance(value, list):
            continue
        summaries[key] = value
        column = _TYPED_SUMMARIES.get(key)
        if column is not None and isinstance(value, dict):
            converted = typed_value(column, value.get("qty"), value.get("units"))
            if converted is not None:
                typed.setdefault(column, converted)
    heart_rate = item.get("heartRate")  # v2: {min, avg, max} of {qty, units}
    if isinstance(heart_rate, dict):
        for part, column in (("avg", "avg_heart_rate"), ("max", "max_heart_rate")):
            value = heart_rate.get(part)
            if isinstance(value, dict) and column not in typed:
                converted = typed_value(column, value.get("qty"), value.get("units"))
                if converted is not None:
                    typed[column] = converted
    return summaries, typed


def _add_arrays(
    payload: NormalisedPayload,
    workout: uuid.UUID,
    item: dict[str, Any],
    path: str,
    window: tuple[Any, Any],
) -> None:
    """Every array is a time series, except ``route``."""
    for key, value in item.items():
        if not isinstance(value, list):
            continue
        if key == "route":
            add_route(payload, workout, window, value, f"{path}.route", HAE_ROUTE_KEYS, parse_date)
            continue
        metric = _SERIES_METRICS.get(key, key)
        add_series(
            payload, workout, key, metric, "", value, f"{path}.{key}", SERIES_POINT_KEYS, parse_date
        )


def _as_object(value: object) -> dict[str, Any] | None:
    """``metadata`` is an object; anything else is wrapped so it is not lost."""
    if value is None or isinstance(value, dict):
        return value
    return {"value": value}
