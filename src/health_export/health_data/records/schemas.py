"""Response models of the record reads: sleep, workouts and their routes."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel

from health_export.health_data.metrics.schemas import example

_T = "2024-03-14T07:00:00-04:00"
_WATCH = "Eli’s Apple\u00a0Watch"


class SleepSegment(BaseModel):
    """One stage segment of a night."""

    stage: str
    start: AwareDatetime
    end: AwareDatetime
    hours: float | None


class SleepNight(BaseModel):
    """One night (named by the local date one wakes up), however it was recorded."""

    date: date
    sources: list[str]
    origin: Literal["aggregated", "segments"]
    sleep_start: AwareDatetime | None
    sleep_end: AwareDatetime | None
    in_bed_start: AwareDatetime | None
    in_bed_end: AwareDatetime | None
    core_h: float | None
    deep_h: float | None
    rem_h: float | None
    asleep_h: float | None
    awake_h: float | None
    total_sleep_h: float | None
    in_bed_h: float | None
    efficiency: float | None
    segments: list[SleepSegment]


class SleepNights(BaseModel):
    """Nights whose sleep ended in the range."""

    model_config = example(
        {
            "nights": [
                {
                    "date": "2024-03-15",
                    "sources": [_WATCH],
                    "origin": "aggregated",
                    "sleep_start": "2024-03-14T23:05:00-04:00",
                    "sleep_end": "2024-03-15T06:35:00-04:00",
                    "in_bed_start": "2024-03-14T22:45:00-04:00",
                    "in_bed_end": "2024-03-15T06:40:00-04:00",
                    "core_h": 4.5,
                    "deep_h": 1.0,
                    "rem_h": 2.0,
                    "asleep_h": 0.0,
                    "awake_h": 0.25,
                    "total_sleep_h": 7.5,
                    "in_bed_h": 8.0,
                    "efficiency": 0.9375,
                    "segments": [],
                }
            ]
        }
    )
    nights: list[SleepNight]


class Workout(BaseModel):
    """One workout's summary."""

    id: str
    start: AwareDatetime
    end: AwareDatetime | None
    app_id: str | None
    name: str
    duration_s: float | None
    location: str | None
    is_indoor: bool | None
    distance_km: float | None
    active_energy_kcal: float | None
    total_energy_kcal: float | None
    avg_heart_rate: float | None
    max_heart_rate: float | None
    has_route: bool


_WORKOUT = {
    "id": "6f1c1c52-2b1e-4a47-9a53-6c1b1a0d2f10",
    "start": _T,
    "end": "2024-03-14T07:30:00-04:00",
    "app_id": None,
    "name": "Outdoor Run",
    "duration_s": 1800.0,
    "location": "Outdoor",
    "is_indoor": False,
    "distance_km": 5.2,
    "active_energy_kcal": 300.0,
    "total_energy_kcal": 329.8,
    "avg_heart_rate": 142.5,
    "max_heart_rate": 171.0,
    "has_route": True,
}


class WorkoutList(BaseModel):
    """Workouts in time order."""

    model_config = example({"workouts": [_WORKOUT], "truncated": False})
    workouts: list[Workout]
    truncated: bool


class WorkoutSeriesPoint(BaseModel):
    """One point of a workout time series."""

    start: AwareDatetime
    unit: str | None
    qty: float | None
    min: float | None
    avg: float | None
    max: float | None
    source: str


class WorkoutDetail(Workout):
    """A workout with its summaries, metadata and time series (by the app's series name)."""

    model_config = example(
        {
            **_WORKOUT,
            "summaries": {"elevationUp": {"qty": 20.0, "units": "m"}},
            "metadata": {"HKWeatherHumidity": "56 %"},
            "series": {
                "heartRateData": [
                    {
                        "start": _T,
                        "unit": "count/min",
                        "qty": None,
                        "min": 95.0,
                        "avg": 98.0,
                        "max": 101.0,
                        "source": _WATCH,
                    }
                ]
            },
        }
    )
    summaries: dict[str, Any] | None
    metadata: dict[str, Any] | None
    series: dict[str, list[WorkoutSeriesPoint]]


class RouteGeometry(BaseModel):
    """A GeoJSON LineString: [lon, lat] or [lon, lat, altitude_m] positions."""

    type: Literal["LineString"]
    coordinates: list[list[float]]


class RouteProperties(BaseModel):
    """The workout a route belongs to, and per-point lists in coordinate order.

    A list is null when the app sent none of it; an entry is null for a point that
    lacks it (export version 1 routes carry no speed or course).
    """

    workout_id: str
    name: str
    start: AwareDatetime
    times: list[AwareDatetime]
    altitude_m: list[float | None] | None
    speed: list[float | None] | None
    course: list[float | None] | None
    horizontal_accuracy: list[float | None] | None
    vertical_accuracy: list[float | None] | None
    speed_accuracy: list[float | None] | None
    course_accuracy: list[float | None] | None


class RouteFeature(BaseModel):
    """A workout route as a GeoJSON Feature; per-point lists line up with the coordinates."""

    model_config = example(
        {
            "type": "Feature",
            "geometry": {"type": "LineString", "coordinates": [[-73.6, 45.5, 35.0]]},
            "properties": {
                "workout_id": _WORKOUT["id"],
                "name": "Outdoor Run",
                "start": _T,
                "times": [_T],
                "altitude_m": [35.0],
                "speed": [2.7],
                "course": [90.0],
                "horizontal_accuracy": [3.0],
                "vertical_accuracy": [2.0],
                "speed_accuracy": [0.5],
                "course_accuracy": [5.0],
            },
        }
    )
    type: Literal["Feature"]
    geometry: RouteGeometry
    properties: RouteProperties
