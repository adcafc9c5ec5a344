"""Response models of the metric reads.

They document the answers in OpenAPI; the bodies are built as dicts and rendered by
orjson (pydantic serialisation would cost the hot routes; see docs/architecture.md), and
``tests/health_data/test_response_models.py`` holds every body to its model.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

Bucket = Literal["minute", "hour", "day", "week", "month"]
Agg = Literal["avg", "sum", "min", "max", "count"]


def example(value: dict[str, Any]) -> ConfigDict:
    """A model config carrying one OpenAPI example."""
    return ConfigDict(json_schema_extra={"examples": [value]})


_T = "2024-03-14T15:04:00-04:00"


class MetricSummary(BaseModel):
    """One metric the user has."""

    name: str
    unit: str
    kind: Literal["sum", "discrete"]
    count: int
    first: AwareDatetime
    last: AwareDatetime
    sources: list[str]
    read_at: str = Field(
        description="The route that reads it: /api/v1/metrics/{name}, or /api/v1/sleep for "
        "sleep_analysis (stored as nights and segments)"
    )


class MetricList(BaseModel):
    """Every metric the user has."""

    model_config = example(
        {
            "metrics": [
                {
                    "name": "step_count",
                    "unit": "count",
                    "kind": "sum",
                    "count": 525600,
                    "first": "2024-01-01T00:00:00-05:00",
                    "last": "2024-12-31T23:59:00-05:00",
                    "sources": ["Eli’s Apple\u00a0Watch", "Eli’s iPhone"],
                    "read_at": "/api/v1/metrics/step_count",
                }
            ]
        }
    )
    metrics: list[MetricSummary]


class Sample(BaseModel):
    """One stored sample; value fields that do not apply are null."""

    start: AwareDatetime
    end: AwareDatetime | None
    source: str
    unit: str
    qty: float | None
    min: float | None
    avg: float | None
    max: float | None
    systolic: float | None
    diastolic: float | None
    attrs: dict[str, Any] | None


class SamplePage(BaseModel):
    """One page of raw samples in time order; follow ``next_cursor`` until it is null."""

    model_config = example(
        {
            "metric": "heart_rate",
            "unit": "count/min",
            "samples": [
                {
                    "start": _T,
                    "end": None,
                    "source": "Eli’s Apple\u00a0Watch",
                    "unit": "count/min",
                    "qty": None,
                    "min": 61.0,
                    "avg": 64.5,
                    "max": 70.0,
                    "systolic": None,
                    "diastolic": None,
                    "attrs": None,
                }
            ],
            "next_cursor": "WyIyMDI0LTAzLTE0VDE5OjA0OjAwKzAwOjAwIiwzXQ",
        }
    )
    metric: str
    unit: str | None = Field(
        description="The catalogue's unit (or ?unit=); null for a metric the catalogue does not "
        "know, whose samples each carry the unit they were sent in"
    )
    samples: list[Sample]
    next_cursor: str | None


class SeriesPoint(BaseModel):
    """One bucket: its local start, the aggregate, and how many values went into it."""

    start: AwareDatetime
    value: float | None
    count: int


class Series(BaseModel):
    """Time-bucketed aggregates of one metric."""

    model_config = example(
        {
            "metric": "step_count",
            "unit": "count",
            "bucket": "day",
            "agg": "sum",
            "tz": None,
            "points": [{"start": "2024-03-14T00:00:00-04:00", "value": 9214.0, "count": 1440}],
        }
    )
    metric: str
    unit: str | None = Field(
        description="The catalogue's unit (or ?unit=); null for a metric the catalogue does not "
        "know (values are aggregated as sent)"
    )
    bucket: Bucket
    agg: Agg
    tz: str | None
    points: list[SeriesPoint]


class HeartRatePoint(BaseModel):
    """One heart-rate sample (count/min)."""

    start: AwareDatetime
    end: AwareDatetime | None
    source: str
    min: float | None
    avg: float | None
    max: float | None


class HeartRatePage(BaseModel):
    """A page of heart-rate samples."""

    model_config = example(
        {
            "unit": "count/min",
            "samples": [
                {
                    "start": _T,
                    "end": None,
                    "source": "Eli’s Apple\u00a0Watch",
                    "min": 61.0,
                    "avg": 64.5,
                    "max": 70.0,
                }
            ],
            "next_cursor": None,
        }
    )
    unit: str
    samples: list[HeartRatePoint]
    next_cursor: str | None


class BloodPressurePoint(BaseModel):
    """One blood-pressure reading (mmHg)."""

    start: AwareDatetime
    source: str
    systolic: float | None
    diastolic: float | None


class BloodPressurePage(BaseModel):
    """A page of blood-pressure readings."""

    model_config = example(
        {
            "unit": "mmHg",
            "samples": [{"start": _T, "source": "Omron", "systolic": 121.0, "diastolic": 79.0}],
            "next_cursor": None,
        }
    )
    unit: str
    samples: list[BloodPressurePoint]
    next_cursor: str | None


class ActivityDay(BaseModel):
    """One local day of activity totals (null: nothing recorded that day)."""

    date: date
    steps: float | None
    distance_km: float | None
    active_energy_kcal: float | None
    basal_energy_kcal: float | None
    exercise_min: float | None
    stand_hours: float | None
    flights_climbed: float | None


class ActivityDaily(BaseModel):
    """Daily activity totals, one entry per local day that has any."""

    model_config = example(
        {
            "tz": None,
            "days": [
                {
                    "date": "2024-03-14",
                    "steps": 9214.0,
                    "distance_km": 6.8,
                    "active_energy_kcal": 512.3,
                    "basal_energy_kcal": 1710.0,
                    "exercise_min": 34.0,
                    "stand_hours": 11.0,
                    "flights_climbed": 6.0,
                }
            ],
        }
    )
    tz: str | None
    days: list[ActivityDay]
