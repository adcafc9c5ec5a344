"""Our ``health-export/v1`` format and format detection."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from health_export.ingest.parsing.detect import parse_payload
from health_export.ingest.parsing.errors import PayloadShapeError
from health_export.ingest.parsing.standard import StandardPayload, parse_standard
from health_export.ingest.records import NormalisedPayload
from health_export.schema.layout import ROW_COLUMNS
from tests.fixtures.payloads import envelope, hae_metrics, standard_payload

TS = "2024-03-14T15:04:00-04:00"


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
