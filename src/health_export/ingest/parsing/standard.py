"""Our own documented format, ``health-export/v1``, for clients other than HAE.

One list per record type, explicit units, ISO 8601 timestamps that must carry their
UTC offset. ``standard_schema.py`` documents the format (OpenAPI); parsing walks the
raw document with the same per-record checks as the HAE parser, so one bad sample
rejects only itself. ``tests/ingest/parsing/test_standard.py`` holds the two together:
every documented field is one the parser reads.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

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
SectionParser = Callable[[NormalisedPayload, list[Any], str], None]

# The ``format`` a standard document declares (its models: ``standard_schema.py``).
STANDARD_FORMAT = "health-export/v1"


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
