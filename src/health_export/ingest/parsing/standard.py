"""Our own documented format, ``health-export/v1``, for clients other than HAE.

One list per record type, explicit units, ISO 8601 timestamps that must carry their
UTC offset. The pydantic models below document the format (OpenAPI); parsing walks
the raw document with the same per-record checks as the HAE parser, so one bad sample
rejects only itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from health_export.ingest.parsing.dates import parse_date_with_offset
from health_export.ingest.parsing.errors import PayloadShapeError
from health_export.ingest.parsing.fields import FieldRejected, ItemReader, for_each_object
from health_export.ingest.parsing.other_types import (
    RowBuilder,
    add_records,
    cycle_tracking_row,
    medication_row,
    state_of_mind_row,
    symptom_row,
)
from health_export.ingest.parsing.points import PointKeys, parse_metric_points
from health_export.ingest.parsing.sleep import sleep_session_row, sleep_stage_row
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

STANDARD_FORMAT = "health-export/v1"
STANDARD_POINT_KEYS = PointKeys(
    "start",
    "qty",
    "min",
    "avg",
    "max",
    "systolic",
    "diastolic",
    "source",
    end="end",
    attrs="attrs",
)
STANDARD_ROUTE_KEYS = RouteKeys(
    lat=("lat",),
    lon=("lon",),
    time=("time",),
    altitude=("altitude_m",),
    speed=("speed",),
    course=("course",),
    horizontal_accuracy=("horizontal_accuracy",),
    vertical_accuracy=("vertical_accuracy",),
    course_accuracy=("course_accuracy",),
    speed_accuracy=("speed_accuracy",),
)
# Field names of the shared (HAE-named) record builders -> our keys.
_SLEEP_SESSION_KEYS = {
    "date": "start",
    "sleepStart": "sleep_start",
    "sleepEnd": "sleep_end",
    "inBedStart": "in_bed_start",
    "inBedEnd": "in_bed_end",
    "asleep": "asleep_h",
    "core": "core_h",
    "deep": "deep_h",
    "rem": "rem_h",
    "awake": "awake_h",
    "inBed": "in_bed_h",
    "totalSleep": "total_sleep_h",
}
_SLEEP_STAGE_KEYS = {"startDate": "start", "endDate": "end", "value": "stage", "qty": "duration_h"}
_SYMPTOM_KEYS = {"userEntered": "user_entered"}
_CYCLE_KEYS = {"isCycleStart": "is_cycle_start"}
_STATE_OF_MIND_KEYS = {"valenceClassification": "valence_classification"}
_MEDICATION_KEYS = {
    "displayText": "display_text",
    "scheduledDate": "scheduled_at",
    "isArchived": "is_archived",
    "scheduledDosage": "scheduled_dosage",
}
_SUMMARY_COLUMNS = {
    "distance": "distance_km",
    "active_energy": "active_energy_kcal",
    "total_energy": "total_energy_kcal",
    "avg_heart_rate": "avg_heart_rate",
    "max_heart_rate": "max_heart_rate",
}
_WORKOUT_FIELDS = (
    "id",
    "name",
    "start",
    "end",
    "duration_s",
    "location",
    "is_indoor",
    "summaries",
    "series",
    "route",
    "metadata",
)
_TS = "2024-03-14T15:04:00-04:00"
_TS_END = "2024-03-14T15:34:00-04:00"

SectionParser = Callable[[NormalisedPayload, list[Any], str], None]


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


def parse_standard(doc: object, into: NormalisedPayload | None = None) -> NormalisedPayload:
    """Normalise a ``health-export/v1`` document (into ``into`` when given); raise
    :class:`PayloadShapeError` if unusable."""
    if not isinstance(doc, dict) or doc.get("format") != STANDARD_FORMAT:
        raise PayloadShapeError(f"not a {STANDARD_FORMAT} document")
    payload = NormalisedPayload() if into is None else into
    for key, section in doc.items():
        parser = _SECTIONS.get(key)
        if key == "format":
            continue
        if parser is None:
            payload.ignored.append(key)
        elif isinstance(section, list):
            parser(payload, section, key)
        elif section is not None:
            payload.reject(key, "section is not a list")
    return payload


def _reader(aliases: Mapping[str, str] | None) -> Callable[[dict[str, Any]], ItemReader]:
    def make(item: dict[str, Any]) -> ItemReader:
        return ItemReader(item, parse_date_with_offset, aliases, attrs_key="attrs")

    return make


def _parse_metrics(payload: NormalisedPayload, metrics: list[Any], path: str) -> None:
    for index, item in enumerate(metrics):
        item_path = f"{path}[{index}]"
        try:
            name, unit, samples = _series_header(item)
        except FieldRejected as rejection:
            payload.reject(rejection.path_in(item_path), rejection.reason)
            continue
        parse_metric_points(
            payload.rows["metric_samples"],
            payload.reject,
            name,
            unit,
            samples,
            f"{item_path}.samples",
            STANDARD_POINT_KEYS,
            parse_date_with_offset,
        )


def _series_header(item: object) -> tuple[str, str, list[Any]]:
    """``{name, unit, samples}`` of a metric or workout series."""
    if not isinstance(item, dict):
        raise FieldRejected("", "series is not an object")
    name, unit, samples = item.get("name"), item.get("unit"), item.get("samples")
    if not isinstance(name, str) or not name:
        raise FieldRejected("name", "series has no name")
    if not isinstance(unit, str):
        raise FieldRejected("unit", "unit is missing")
    if not isinstance(samples, list):
        raise FieldRejected("samples", "samples is not a list")
    return name, unit, samples


def _sleep_sessions(payload: NormalisedPayload, items: list[Any], path: str) -> None:
    add_records(
        payload,
        items,
        path,
        "sleep_sessions",
        lambda reader: sleep_session_row(reader, 1.0, "hr"),
        _reader(_SLEEP_SESSION_KEYS),
    )


def _sleep_stages(payload: NormalisedPayload, items: list[Any], path: str) -> None:
    add_records(
        payload,
        items,
        path,
        "sleep_stages",
        lambda reader: sleep_stage_row(reader, 1.0),
        _reader(_SLEEP_STAGE_KEYS),
    )


def _workouts(payload: NormalisedPayload, items: list[Any], path: str) -> None:
    for_each_object(
        payload.reject,
        items,
        path,
        "workout",
        lambda item, item_path: _workout(payload, item, item_path),
    )


def _workout(payload: NormalisedPayload, item: dict[str, Any], path: str) -> None:
    reader = ItemReader(item, parse_date_with_offset)
    name = reader.text("name", required=True) or ""
    app_id = reader.text("id")
    start_at, offset_min = reader.date("start")
    end_at, _ = reader.date("end")
    check_window(start_at, end_at, "end")
    duration_s = duration_or_window(reader.number("duration_s", low=0.0), start_at, end_at)
    summaries = item.get("summaries") or {}
    if not isinstance(summaries, dict):
        raise FieldRejected("summaries", "summaries is not an object")
    typed = {
        column: typed_value(column, value.get("qty"), value.get("unit"))
        for key, column in _SUMMARY_COLUMNS.items()
        if isinstance(value := summaries.get(key), dict)
    }
    extras = {key: value for key, value in item.items() if key not in _WORKOUT_FIELDS}
    workout = workout_id(app_id, name, start_at)
    payload.add(
        "workouts",
        workout_row(
            workout,
            app_id,
            name,
            (start_at, end_at, offset_min),
            duration_s,
            (reader.text("location"), reader.boolean("is_indoor")),
            typed,
            {**summaries, **extras},
            reader.raw("metadata"),
        ),
    )
    _workout_series(payload, workout, item.get("series"), f"{path}.series")
    route = item.get("route")
    if isinstance(route, list):
        add_route(
            payload,
            workout,
            (start_at, end_at),
            route,
            f"{path}.route",
            STANDARD_ROUTE_KEYS,
            parse_date_with_offset,
        )


def _workout_series(payload: NormalisedPayload, workout: Any, series: object, path: str) -> None:
    if not isinstance(series, list):
        return
    for index, item in enumerate(series):
        try:
            name, unit, samples = _series_header(item)
        except FieldRejected as rejection:
            payload.reject(rejection.path_in(f"{path}[{index}]"), rejection.reason)
            continue
        add_series(
            payload,
            workout,
            name,
            name,
            unit,
            samples,
            f"{path}[{index}].samples",
            STANDARD_POINT_KEYS,
            parse_date_with_offset,
        )


def _records(table: str, build: RowBuilder, aliases: Mapping[str, str]) -> SectionParser:
    def parse(payload: NormalisedPayload, items: list[Any], path: str) -> None:
        add_records(payload, items, path, table, build, _reader(aliases))

    return parse


_SECTIONS: dict[str, SectionParser] = {
    "metrics": _parse_metrics,
    "sleep_sessions": _sleep_sessions,
    "sleep_stages": _sleep_stages,
    "workouts": _workouts,
    "symptoms": _records("symptoms", symptom_row, _SYMPTOM_KEYS),
    "cycle_tracking": _records("cycle_tracking", cycle_tracking_row, _CYCLE_KEYS),
    "state_of_mind": _records("state_of_mind", state_of_mind_row, _STATE_OF_MIND_KEYS),
    "medications": _records("medications", medication_row, _MEDICATION_KEYS),
}
