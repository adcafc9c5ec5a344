"""The ``health-export/v1`` format as documented in OpenAPI (pydantic models).

These models describe the format; they never parse it (``standard.py`` walks the raw
document, so one bad sample rejects only itself). A test holds them to the parser: a
document that sets every documented field is parsed with nothing rejected and nothing
left over as an unknown key.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from health_export.ingest.parsing.standard import STANDARD_FORMAT

_TS = "2024-03-14T15:04:00-04:00"
_TS_END = "2024-03-14T15:34:00-04:00"


class _Item(BaseModel):
    """Unknown keys are allowed and kept in ``attrs``."""

    model_config = ConfigDict(extra="allow")


class Sample(_Item):
    """One metric sample; give ``qty``, ``min``/``avg``/``max`` or ``systolic``/``diastolic``."""

    start: AwareDatetime
    end: AwareDatetime | None = None
    qty: float | None = None
    min: float | None = None
    avg: float | None = None
    max: float | None = None
    systolic: float | None = None
    diastolic: float | None = None
    source: str = ""
    attrs: dict[str, Any] | None = None


class MetricSeries(_Item):
    """Samples of one metric in one unit (HAE metric names: ``step_count``, ...)."""

    name: str
    unit: str
    samples: list[Sample]


class SleepSession(_Item):
    """One aggregated night; durations in hours."""

    start: AwareDatetime
    source: str = ""
    sleep_start: AwareDatetime | None = None
    sleep_end: AwareDatetime | None = None
    in_bed_start: AwareDatetime | None = None
    in_bed_end: AwareDatetime | None = None
    asleep_h: float | None = None
    core_h: float | None = None
    deep_h: float | None = None
    rem_h: float | None = None
    awake_h: float | None = None
    in_bed_h: float | None = None
    total_sleep_h: float | None = None
    attrs: dict[str, Any] | None = None


class SleepStage(_Item):
    """One sleep segment (``Core``, ``Deep``, ``REM``, ``Awake``, ``Asleep``, ``InBed``)."""

    start: AwareDatetime
    end: AwareDatetime
    stage: str
    duration_h: float | None = None
    source: str = ""
    attrs: dict[str, Any] | None = None


class Quantity(BaseModel):
    """A value with its unit."""

    qty: float
    unit: str


class RoutePoint(_Item):
    """One GPS fix; accuracies in metres."""

    time: AwareDatetime
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    altitude_m: float | None = None
    speed: float | None = None
    course: float | None = None
    horizontal_accuracy: float | None = None
    vertical_accuracy: float | None = None
    course_accuracy: float | None = None
    speed_accuracy: float | None = None


class WorkoutSeries(_Item):
    """A time series recorded during a workout (e.g. ``heart_rate``)."""

    name: str
    unit: str
    samples: list[Sample]


class Workout(_Item):
    """A workout; ``summaries`` keys ``distance``, ``active_energy``, ``total_energy``,
    ``avg_heart_rate``, ``max_heart_rate`` also fill typed columns."""

    id: str | None = None
    name: str
    start: AwareDatetime
    end: AwareDatetime
    duration_s: float | None = None
    location: str | None = None
    is_indoor: bool | None = None
    summaries: dict[str, Quantity] = {}
    series: list[WorkoutSeries] = []
    route: list[RoutePoint] = []
    metadata: dict[str, Any] | None = None


class Symptom(_Item):
    """A symptom log."""

    start: AwareDatetime
    end: AwareDatetime | None = None
    name: str
    severity: str | None = None
    user_entered: bool | None = None
    source: str = ""
    attrs: dict[str, Any] | None = None


class CycleTrackingEntry(_Item):
    """A cycle tracking entry."""

    start: AwareDatetime
    end: AwareDatetime | None = None
    name: str
    value: str | None = None
    is_cycle_start: bool | None = None
    attrs: dict[str, Any] | None = None


class StateOfMindEntry(_Item):
    """A mood (``daily_mood``) or emotion (``momentary_emotion``) log."""

    id: str | None = None
    start: AwareDatetime
    end: AwareDatetime | None = None
    kind: str
    labels: list[str] = []
    associations: list[str] = []
    valence: float | None = Field(default=None, ge=-1, le=1)
    valence_classification: str | None = None
    metadata: dict[str, Any] | None = None


class Medication(_Item):
    """A logged medication dose."""

    display_text: str
    nickname: str | None = None
    start: AwareDatetime
    end: AwareDatetime | None = None
    scheduled_at: AwareDatetime | None = None
    form: str | None = None
    status: str | None = None
    is_archived: bool | None = None
    dosage: float | None = None
    scheduled_dosage: float | None = None
    units: str | None = None
    codings: list[dict[str, Any]] | None = None
    attrs: dict[str, Any] | None = None


class StandardPayload(BaseModel):
    """A ``health-export/v1`` upload; every list is optional."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "format": STANDARD_FORMAT,
                    "metrics": [
                        {
                            "name": "step_count",
                            "unit": "count",
                            "samples": [
                                {"start": _TS, "end": _TS_END, "qty": 812, "source": "Phone"}
                            ],
                        },
                        {
                            "name": "heart_rate",
                            "unit": "count/min",
                            "samples": [{"start": _TS, "min": 61, "avg": 72.5, "max": 90}],
                        },
                    ],
                    "sleep_stages": [{"start": _TS, "end": _TS_END, "stage": "Core"}],
                    "workouts": [
                        {
                            "name": "Running",
                            "start": _TS,
                            "end": _TS_END,
                            "summaries": {"distance": {"qty": 5.1, "unit": "km"}},
                            "route": [{"time": _TS, "lat": 45.5, "lon": -73.6}],
                        }
                    ],
                    "symptoms": [{"start": _TS, "name": "Headache", "severity": "Mild"}],
                }
            ]
        }
    )

    format: Literal["health-export/v1"]
    metrics: list[MetricSeries] = []
    sleep_sessions: list[SleepSession] = []
    sleep_stages: list[SleepStage] = []
    workouts: list[Workout] = []
    symptoms: list[Symptom] = []
    cycle_tracking: list[CycleTrackingEntry] = []
    state_of_mind: list[StateOfMindEntry] = []
    medications: list[Medication] = []
