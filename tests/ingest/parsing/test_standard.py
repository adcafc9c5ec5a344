"""Our ``health-export/v1`` format and format detection."""

from __future__ import annotations

import uuid
from typing import Any, get_args, get_origin

import pytest
from pydantic import AwareDatetime, BaseModel

from health_export.ingest.parsing.detect import parse_payload
from health_export.ingest.parsing.errors import PayloadShapeError
from health_export.ingest.parsing.standard import parse_standard
from health_export.ingest.parsing.standard_schema import Sample, StandardPayload
from health_export.ingest.records import NormalisedPayload
from health_export.schema.layout import ROW_COLUMNS
from tests.fixtures.payloads import envelope, hae_metrics, standard_payload

TS = "2024-03-14T15:04:00-04:00"
TS_END = "2024-03-14T15:34:00-04:00"


def rows(payload: NormalisedPayload, table: str) -> list[dict[str, Any]]:
    return [dict(zip(ROW_COLUMNS[table], row, strict=True)) for row in payload.rows[table]]


def metrics_doc(*samples: dict[str, Any], name: str = "step_count", unit: str = "count") -> Any:
    return {
        "format": "health-export/v1",
        "metrics": [{"name": name, "unit": unit, "samples": list(samples)}],
    }


def test_full_standard_payload_fills_every_table_without_errors() -> None:
    payload = parse_standard(standard_payload(count=5))
    assert payload.errors == []
    assert payload.ignored == []
    filled = {table for table, batch in payload.rows.items() if batch}
    # ECG and notifications come from the HAE format, the rings from archives only.
    assert filled == set(ROW_COLUMNS) - {
        "ecg_recordings",
        "heart_rate_notifications",
        "activity_summaries",
    }
    assert len(payload.rows["metric_samples"]) == 15


def test_standard_metrics_use_the_same_conversion_as_hae() -> None:
    payload = parse_standard(standard_payload(count=1))
    distance = next(
        s for s in rows(payload, "metric_samples") if s["metric"] == "walking_running_distance"
    )
    assert (distance["unit"], distance["qty"]) == ("km", pytest.approx(1.609344))
    steps = next(s for s in rows(payload, "metric_samples") if s["metric"] == "step_count")
    assert steps["end_at"] is not None


def test_standard_workout_summaries_series_and_route() -> None:
    payload = parse_standard(standard_payload(count=3))
    [workout] = rows(payload, "workouts")
    assert workout["workout_id"] == uuid.UUID("3F2504E0-4F89-41D3-9A0C-0305E82C3301")
    assert workout["distance_km"] == pytest.approx(3 * 1.609344)
    assert workout["active_energy_kcal"] == 100.0
    [series] = rows(payload, "workout_series")
    assert (series["series"], series["qty"]) == ("heart_rate", 120.0)
    [route] = rows(payload, "workout_routes")
    assert route["altitude_m"] == [30.0]


def test_timestamp_without_offset_rejects_only_that_sample() -> None:
    doc = metrics_doc(
        {"start": TS, "qty": 1}, {"start": "2024-03-14T15:05:00", "qty": 2}, {"start": "2024-03-14"}
    )
    payload = parse_standard(doc)
    assert len(payload.rows["metric_samples"]) == 1
    assert [error.path for error in payload.errors] == [
        "metrics[0].samples[1].start",
        "metrics[0].samples[2].start",
    ]


def test_same_validation_as_hae_for_out_of_range_heart_rate() -> None:
    doc = metrics_doc(
        {"start": TS, "min": 50, "avg": 400, "max": 420}, name="heart_rate", unit="count/min"
    )
    payload = parse_standard(doc)
    [error] = payload.errors
    assert error.path == "metrics[0].samples[0].avg"
    assert "15..300" in error.reason


def test_sample_attrs_and_unknown_keys_are_kept() -> None:
    doc = metrics_doc({"start": TS, "qty": 5, "attrs": {"device": "ring"}, "note": "x"})
    [sample] = rows(parse_standard(doc), "metric_samples")
    assert sample["attrs"] == {"device": "ring", "note": "x"}


def test_end_before_start_is_rejected() -> None:
    doc = metrics_doc({"start": TS, "end": "2024-03-14T15:00:00-04:00", "qty": 5})
    [error] = parse_standard(doc).errors
    assert (error.path, error.reason) == ("metrics[0].samples[0].end", "end before start")


def test_sleep_stage_without_offset_is_rejected() -> None:
    doc = {
        "format": "health-export/v1",
        "sleep_stages": [{"start": "2024-03-14T23:00:00", "end": TS, "stage": "Deep"}],
    }
    [error] = parse_standard(doc).errors
    assert error.path == "sleep_stages[0].start"


def test_unknown_sections_are_ignored() -> None:
    payload = parse_standard({"format": "health-export/v1", "gadgets": []})
    assert payload.ignored == ["gadgets"]


def test_wrong_format_raises_shape_error() -> None:
    with pytest.raises(PayloadShapeError):
        parse_standard({"format": "health-export/v2"})


def test_models_accept_the_builder_payload_and_their_example() -> None:
    StandardPayload.model_validate(standard_payload(count=2))
    example = StandardPayload.model_json_schema()["examples"][0]
    StandardPayload.model_validate(example)
    assert parse_standard(example).errors == []


def test_detect_routes_standard_and_hae_bodies() -> None:
    assert len(parse_payload(standard_payload(count=1)).rows["metric_samples"]) == 3
    assert len(parse_payload(hae_metrics(count=2)).rows["metric_samples"]) == 20
    assert parse_payload(envelope()).received == 0


@pytest.mark.parametrize(
    "body", [[], None, "x", {}, {"format": "other"}, {"data": []}, {"metrics": []}]
)
def test_detect_rejects_bodies_of_neither_format(body: object) -> None:
    with pytest.raises(PayloadShapeError):
        parse_payload(body)


# Values for fields whose meaning the parser checks (a known stage, kind, metric, zone).
_CHOSEN: dict[tuple[str, str], Any] = {
    ("MetricSeries", "name"): "step_count",
    ("MetricSeries", "unit"): "count",
    ("WorkoutSeries", "name"): "heart_rate",
    ("WorkoutSeries", "unit"): "count/min",
    ("SleepStage", "stage"): "Core",
    ("StateOfMindEntry", "kind"): "daily_mood",
    ("StateOfMindEntry", "valence"): 0.5,
    ("Workout", "id"): "3F2504E0-4F89-41D3-9A0C-0305E82C3301",
    ("Workout", "summaries"): {"distance": {"qty": 5.0, "unit": "km"}},
    ("RoutePoint", "lat"): 45.5,
    ("RoutePoint", "lon"): -73.6,
}
_EXTRAS = {"k": "v"}


def _every_field(model: type[BaseModel]) -> dict[str, Any]:
    """A document item of ``model`` with every documented field set."""
    item: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        chosen = _CHOSEN.get((model.__name__, name))
        item[name] = chosen if chosen is not None else _value_of(name, field.annotation)
    return item


def _value_of(name: str, annotation: Any) -> Any:
    args = [arg for arg in get_args(annotation) if arg is not type(None)]
    origin = get_origin(annotation)
    if origin is list:
        inner = args[0]
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            return [_every_field(inner)]
        return [{"code": "x"}] if get_origin(inner) is dict else ["a"]
    if origin is dict:
        return dict(_EXTRAS)
    if args and origin is not None and len(args) == 1:  # X | None
        return _value_of(name, args[0])
    if annotation is AwareDatetime:
        return TS_END if name == "end" or name.endswith("_end") else TS
    return {bool: True, float: 1.0, str: "x"}[annotation]


def test_every_documented_field_is_one_the_parser_reads() -> None:
    """The OpenAPI models and the parser describe one format: a document setting every
    documented field is parsed with nothing rejected, and no documented field is left
    over among the unknown keys the parser keeps in attrs/metadata."""
    document: dict[str, Any] = {
        name: [_every_field(get_args(field.annotation)[0])]
        for name, field in StandardPayload.model_fields.items()
        if name != "format"
    }
    # A sample gives one kind of value: every field of Sample, over three metrics.
    sample = {"start": TS, "end": TS_END, "source": "x", "attrs": dict(_EXTRAS)}
    document["metrics"] = [
        {"name": "step_count", "unit": "count", "samples": [{**sample, "qty": 812.0}]},
        {
            "name": "heart_rate",
            "unit": "count/min",
            "samples": [{**sample, "min": 61.0, "avg": 72.5, "max": 90.0}],
        },
        {
            "name": "blood_pressure",
            "unit": "mmHg",
            "samples": [{**sample, "systolic": 120.0, "diastolic": 80.0}],
        },
    ]
    assert set(Sample.model_fields) == {"qty", "min", "avg", "max", "systolic", "diastolic"} | set(
        sample
    )
    document["workouts"][0]["series"][0]["samples"] = [{**sample, "qty": 120.0}]
    document["format"] = "health-export/v1"
    StandardPayload.model_validate(document)  # the document is what the models describe
    payload = parse_standard(document)
    assert payload.errors == []
    assert payload.ignored == []
    for table, columns in ROW_COLUMNS.items():
        for row in rows(payload, table):
            for extras in ("attrs", "metadata"):
                if extras in columns:
                    assert row[extras] in (None, _EXTRAS), (table, row[extras])
    filled = {table for table, batch in payload.rows.items() if batch}
    assert {"metric_samples", "sleep_sessions", "sleep_stages", "workouts"} <= filled
    assert {"workout_series", "workout_routes", "symptoms", "cycle_tracking"} <= filled
    assert {"state_of_mind", "medications"} <= filled
