"""The Health Auto Export envelope ``{"data": {...}}`` (docs/hae-format.md §2, §4).

Sections are dispatched by key; metrics are parsed here, the other types in their
own modules. Unknown keys are recorded in ``ignored``, never fatal.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from health_export.ingest.parsing.dates import parse_date
from health_export.ingest.parsing.decode import LazyPoints, first_point, not_an_object_reason
from health_export.ingest.parsing.errors import PayloadShapeError
from health_export.ingest.parsing.fields import FieldRejected, ItemReader, is_number
from health_export.ingest.parsing.hae_workouts import parse_hae_workouts
from health_export.ingest.parsing.other_types import (
    RowBuilder,
    add_records,
    cycle_tracking_row,
    ecg_row,
    heart_rate_notification_row,
    medication_row,
    state_of_mind_row,
    symptom_row,
)
from health_export.ingest.parsing.points import HAE_POINT_KEYS, parse_metric_points
from health_export.ingest.parsing.sleep import hours_factor, sleep_session_row, sleep_stage_row
from health_export.ingest.records import NormalisedPayload

SectionParser = Callable[[NormalisedPayload, list[Any], str], None]
_METRIC_FIELDS = ("name", "units", "data")
_SEXUAL_ACTIVITY_FIXED_KEYS = ("date", "source")


def parse_hae(doc: object, into: NormalisedPayload | None = None) -> NormalisedPayload:
    """Normalise an HAE payload (into ``into`` when given, which a writer may be draining);
    raise :class:`PayloadShapeError` if the envelope is unusable."""
    if not isinstance(doc, dict):
        raise PayloadShapeError("body is not a JSON object")
    data = doc.get("data")
    if not isinstance(data, dict):
        raise PayloadShapeError(
            "'data' object is missing" if data is None else "'data' is not an object"
        )
    payload = NormalisedPayload() if into is None else into
    payload.ignored.extend(key for key in doc if key != "data")
    for key, section in data.items():
        _parse_section(payload, key, section)
    return payload


def _parse_section(payload: NormalisedPayload, key: str, section: object) -> None:
    path = f"data.{key}"
    parser = _SECTIONS.get(key)
    if parser is None:
        payload.ignored.append(path)
    elif isinstance(section, list):
        parser(payload, section, path)
    elif section is not None:
        payload.reject(path, "section is not a list")


def parse_hae_metrics(payload: NormalisedPayload, metrics: list[Any], path: str) -> None:
    """Every metric list: name, units and its points."""
    for index, item in enumerate(metrics):
        item_path = f"{path}[{index}]"
        try:
            name, units, points = _metric_header(item)
        except FieldRejected as rejection:
            payload.reject(rejection.path_in(item_path), rejection.reason)
            continue
        payload.ignored.extend(f"{item_path}.{key}" for key in item if key not in _METRIC_FIELDS)
        _note_metric(payload, name, points)
        _parse_metric(payload, name, units, points, f"{item_path}.data")
        if isinstance(points, LazyPoints):
            # Parsed: a large body's raw points (~56 bytes each) need not wait for the rest.
            points.clear()


def _note_metric(payload: NormalisedPayload, name: str, points: list[Any]) -> None:
    # Per metric, not per point: its size and the keys of its first point, which is
    # enough to see a field the app starts sending (the schema drift sentinel).
    payload.note(f"metric:{name}", len(points))
    first = first_point(points)
    if isinstance(first, dict):
        for key in first:
            payload.seen[f"field:{name}:{key}"] = 1


def _metric_header(item: object) -> tuple[str, str, list[Any]]:
    if not isinstance(item, dict):
        raise FieldRejected("", "metric is not an object")
    name = item.get("name")
    if not isinstance(name, str) or not name:
        raise FieldRejected("name", "metric has no name")
    units = item.get("units")
    if units is not None and not isinstance(units, str):
        raise FieldRejected("units", "units is not text")
    points = item.get("data")
    if points is not None and not isinstance(points, list):
        raise FieldRejected("data", "data is not a list")
    return name, units or "", points or []


def _parse_metric(
    payload: NormalisedPayload, name: str, units: str, points: list[Any], path: str
) -> None:
    if name == "sleep_analysis":
        _parse_sleep(payload, units, points, path)
        return
    if name == "sexual_activity":
        points = [_with_activity_total(point) for point in points]
    parse_metric_points(
        payload.rows["metric_samples"],
        payload.reject,
        name,
        units,
        points,
        path,
        HAE_POINT_KEYS,
        parse_date,
    )


def _parse_sleep(payload: NormalisedPayload, units: str, points: list[Any], path: str) -> None:
    """Unaggregated segments carry ``startDate``; aggregated nights do not."""
    factor = hours_factor(units)
    for index, point in enumerate(points):
        point_path = f"{path}[{index}]"
        if not isinstance(point, dict):
            payload.reject(point_path, not_an_object_reason(point))
            continue
        try:
            if "startDate" in point:
                payload.add("sleep_stages", sleep_stage_row(ItemReader(point), factor))
            else:
                payload.add("sleep_sessions", sleep_session_row(ItemReader(point), factor, units))
        except FieldRejected as rejection:
            payload.reject(rejection.path_in(point_path), rejection.reason)


def _with_activity_total(point: object) -> object:
    """Sexual activity counts per protection kind: qty is their sum, counts go to attrs."""
    if not isinstance(point, dict) or "qty" in point:
        return point
    counts = [value for key, value in point.items() if key not in _SEXUAL_ACTIVITY_FIXED_KEYS]
    if not counts or not all(is_number(value) for value in counts):
        return point  # rejected by the point loop: no usable value
    # A negative count is passed on as the qty so the range check names it.
    total = sum(counts) if min(counts) >= 0 else min(counts)
    return {**point, "qty": total}


def _records(table: str, build: RowBuilder) -> SectionParser:
    def parse(payload: NormalisedPayload, items: list[Any], path: str) -> None:
        add_records(payload, items, path, table, build)

    return parse


_SECTIONS: dict[str, SectionParser] = {
    "metrics": parse_hae_metrics,
    "workouts": parse_hae_workouts,
    "symptoms": _records("symptoms", symptom_row),
    "cycleTracking": _records("cycle_tracking", cycle_tracking_row),
    "ecg": _records("ecg_recordings", ecg_row),
    "heartRateNotifications": _records("heart_rate_notifications", heart_rate_notification_row),
    "stateOfMind": _records("state_of_mind", state_of_mind_row),
    "medications": _records("medications", medication_row),
}
