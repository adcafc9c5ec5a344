"""Parsing HAE payloads: every shape of docs/hae-format.md, whole exports, rejections."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from health_export.ingest.parsing.errors import PayloadShapeError
from health_export.ingest.parsing.hae import parse_hae
from health_export.ingest.parsing.workouts import WORKOUT_NAMESPACE
from health_export.ingest.records import NormalisedPayload
from health_export.schema.layout import ROW_COLUMNS
from tests.fixtures.captures import DAY_GROUPED_METRICS, SLEEP_STAGES, V1_WORKOUTS, Origin
from tests.fixtures.exports import sent_at, sent_metric
from tests.fixtures.payloads import (
    PHONE,
    START,
    WATCH,
    envelope,
    hae_cycle_tracking,
    hae_ecg,
    hae_heart_rate_notifications,
    hae_medications,
    hae_metrics,
    hae_sleep_aggregated,
    hae_sleep_stages,
    hae_state_of_mind,
    hae_symptoms,
    hae_workouts,
)

DATE = "2024-03-14 15:04:00 -0400"


def rows(payload: NormalisedPayload, table: str) -> list[dict[str, Any]]:
    """A table's rows as dicts, for readable assertions."""
    return [dict(zip(ROW_COLUMNS[table], row, strict=True)) for row in payload.rows[table]]


def one_metric(name: str, units: str, *points: dict[str, Any]) -> NormalisedPayload:
    return parse_hae(envelope(metrics=[{"name": name, "units": units, "data": list(points)}]))


def errors(payload: NormalisedPayload) -> list[tuple[str, str]]:
    return [(error.path, error.reason) for error in payload.errors]


# Whole exports: each built twin, then the real capture --------------------------------


def test_day_grouped_metrics_export_is_parsed_completely(origin: Origin) -> None:
    doc = DAY_GROUPED_METRICS.doc(origin)
    metrics = doc["data"]["metrics"]
    sleep_points = sum(len(m["data"]) for m in metrics if m["name"] == "sleep_analysis")
    other_points = sum(len(m["data"]) for m in metrics if m["name"] != "sleep_analysis")
    payload = parse_hae(doc)
    assert payload.errors == []
    assert payload.ignored == []
    assert sleep_points > 250  # two years of days
    assert other_points > 10_000
    assert len(payload.rows["metric_samples"]) == other_points
    assert len(payload.rows["sleep_sessions"]) == sleep_points
    assert payload.received == sleep_points + other_points


def test_day_grouped_heart_rate_and_converted_units(origin: Origin) -> None:
    doc = DAY_GROUPED_METRICS.doc(origin)
    sent_heart = sent_metric(doc, "heart_rate")["data"][0]
    sent_weight = sent_metric(doc, "weight_body_mass")
    samples = rows(parse_hae(doc), "metric_samples")
    heart = next(s for s in samples if s["metric"] == "heart_rate")
    assert (heart["min"], heart["avg"], heart["max"]) == (
        sent_heart["Min"],
        sent_heart["Avg"],
        sent_heart["Max"],
    )
    assert heart["qty"] is None
    assert heart["source"] == sent_heart["source"]
    assert {s["source"] for s in samples if s["metric"] == "heart_rate"} == {
        WATCH,
        f"{WATCH}|{WATCH}",
    }
    weight = next(s for s in samples if s["metric"] == "weight_body_mass")
    assert sent_weight["units"] == "lb"
    assert weight["qty"] == pytest.approx(sent_weight["data"][0]["qty"] * 0.45359237)
    assert {s["unit"] for s in samples if s["metric"] == "weight_body_mass"} == {"kg"}
    assert {s["unit"] for s in samples if s["metric"] == "dietary_water"} == {"mL"}
    assert {s["unit"] for s in samples if s["metric"] == "apple_sleeping_wrist_temperature"} == {
        "degC"
    }


def test_day_grouped_sleep_nights_have_efficiency_and_total(origin: Origin) -> None:
    doc = DAY_GROUPED_METRICS.doc(origin)
    sent_nights = sent_metric(doc, "sleep_analysis")["data"]
    sent = sent_nights[0]
    nights = rows(parse_hae(doc), "sleep_sessions")
    night = nights[0]
    assert "totalSleep" not in sent  # app 6.6.2+: the total is ours to add up
    total = sent["asleep"] + sent["core"] + sent["deep"] + sent["rem"]
    assert night["total_sleep_h"] == pytest.approx(total)
    assert night["efficiency"] == pytest.approx(total / sent["inBed"])
    assert night["source"] == sent["source"]
    offset = sent_at(sent["date"]).utcoffset()
    assert offset is not None
    assert night["utc_offset_min"] == offset.total_seconds() / 60
    assert {f"{WATCH}|{PHONE}", f"{PHONE}|{WATCH}"} <= {n["source"] for n in nights}


def test_unaggregated_sleep_export_gives_every_stage(origin: Origin) -> None:
    doc = SLEEP_STAGES.doc(origin)
    segments = doc["data"]["metrics"][0]["data"]
    payload = parse_hae(doc)
    stages = rows(payload, "sleep_stages")
    assert payload.errors == []
    assert len(stages) == len(segments) > 700
    assert {stage["stage"] for stage in stages} == {
        "Core",
        "InBed",
        "REM",
        "Awake",
        "Deep",
        "Asleep",
    }


def test_v1_workouts_export(origin: Origin) -> None:
    doc = V1_WORKOUTS.doc(origin)
    sent_workouts = doc["data"]["workouts"]
    payload = parse_hae(doc)
    workouts = rows(payload, "workouts")
    series_points = sum(
        len(value)
        for item in sent_workouts
        for value in item.values()
        if isinstance(value, list) and value is not item.get("route")
    )
    route_points = sum(len(item.get("route", [])) for item in sent_workouts)
    assert payload.errors == []
    assert payload.ignored == []
    assert len(workouts) == len(sent_workouts) == 2
    assert len(payload.rows["workout_series"]) == series_points > 0
    assert sum(len(route[1]) for route in payload.rows["workout_routes"]) == route_points
    first, sent = workouts[0], sent_workouts[0]
    assert first["distance_km"] == pytest.approx(sent["distance"]["qty"] * 1.609344)
    assert first["summaries"]["activeEnergy"] == sent["activeEnergy"]
    assert first["summaries"]["humidity"] == sent["humidity"]
    assert first["active_energy_kcal"] == pytest.approx(sent["activeEnergy"]["qty"])
    # No id in v1: uuid5 of "name|start in UTC", fixed forever.
    started = sent_at(sent["start"]).astimezone(UTC).isoformat()
    assert first["workout_id"] == uuid.uuid5(WORKOUT_NAMESPACE, f"Walking|{started}")


# Metrics -----------------------------------------------------------------------------


def test_minute_grouped_metrics_of_ten_names_all_stored() -> None:
    payload = parse_hae(hae_metrics(count=50))
    assert payload.errors == []
    assert len(payload.rows["metric_samples"]) == 500


def test_twelve_hour_clock_payload_gives_same_rows_as_24_hour() -> None:
    twelve = parse_hae(hae_metrics(count=30, twelve_hour=True, start=START + timedelta(hours=11)))
    plain = parse_hae(hae_metrics(count=30, start=START + timedelta(hours=11)))
    assert twelve.errors == []
    assert twelve.rows == plain.rows


def test_shuffled_key_order_gives_same_rows() -> None:
    shuffled = parse_hae(hae_metrics(count=20, shuffle_keys=True, seed=3))
    plain = parse_hae(hae_metrics(count=20, seed=3))
    assert sorted(shuffled.rows["metric_samples"], key=repr) == sorted(
        plain.rows["metric_samples"], key=repr
    )


def test_heart_rate_min_avg_max_point() -> None:
    payload = one_metric(
        "heart_rate", "count/min", {"date": DATE, "Min": 50, "Avg": 60.5, "Max": 80, "source": "W"}
    )
    [sample] = rows(payload, "metric_samples")
    assert (sample["min"], sample["avg"], sample["max"], sample["qty"]) == (50, 60.5, 80, None)
    assert sample["start_at"] == datetime(2024, 3, 14, 15, 4, tzinfo=timezone(timedelta(hours=-4)))
    assert sample["utc_offset_min"] == -240


def test_heart_rate_outside_range_is_rejected_with_path_and_number() -> None:
    payload = one_metric(
        "heart_rate",
        "count/min",
        {"date": DATE, "Min": 50, "Avg": 60, "Max": 80},
        {"date": DATE, "Min": 50, "Avg": 500, "Max": 600},
    )
    assert len(payload.rows["metric_samples"]) == 1
    [(path, reason)] = errors(payload)
    assert path == "data.metrics[0].data[1].Avg"
    assert "500" in reason
    assert "15..300" in reason


def test_heart_rate_out_of_order_is_rejected() -> None:
    payload = one_metric("heart_rate", "count/min", {"date": DATE, "Min": 90, "Avg": 60, "Max": 80})
    assert errors(payload) == [("data.metrics[0].data[0]", "min/avg/max out of order: 90/60/80")]


def test_min_avg_max_on_another_metric_with_qty() -> None:
    payload = one_metric(
        "respiratory_rate", "count/min", {"date": DATE, "qty": 14, "Min": 12, "Avg": 14, "Max": 16}
    )
    [sample] = rows(payload, "metric_samples")
    assert (sample["qty"], sample["min"], sample["max"]) == (14, 12, 16)


def test_blood_pressure_point() -> None:
    payload = one_metric("blood_pressure", "mmHg", {"date": DATE, "systolic": 120, "diastolic": 80})
    [sample] = rows(payload, "metric_samples")
    assert (sample["systolic"], sample["diastolic"], sample["qty"]) == (120, 80, None)


def test_blood_pressure_systolic_not_above_diastolic_is_rejected() -> None:
    payload = one_metric("blood_pressure", "mmHg", {"date": DATE, "systolic": 80, "diastolic": 90})
    assert payload.rows["metric_samples"] == []
    assert errors(payload)[0][0] == "data.metrics[0].data[0]"


def test_blood_pressure_fields_have_their_own_ranges() -> None:
    payload = one_metric("blood_pressure", "mmHg", {"date": DATE, "systolic": 300, "diastolic": 80})
    [(path, reason)] = errors(payload)
    assert path == "data.metrics[0].data[0].systolic"
    assert "50..250" in reason


@pytest.mark.parametrize(
    ("name", "units", "extra"),
    [
        ("blood_glucose", "mg/dL", {"mealTime": "Before Meal"}),
        ("insulin_delivery", "IU", {"reason": "Bolus"}),
        ("handwashing", "s", {"value": "Complete"}),
        ("toothbrushing", "s", {"value": "Incomplete"}),
        ("step_count", "count", {"deviceModel": "Watch7,1"}),
    ],
)
def test_extra_point_keys_go_to_attrs(name: str, units: str, extra: dict[str, Any]) -> None:
    payload = one_metric(name, units, {"date": DATE, "qty": 100, **extra})
    [sample] = rows(payload, "metric_samples")
    assert sample["attrs"] == extra
    assert sample["qty"] == 100


def test_sexual_activity_qty_is_sum_of_counts() -> None:
    counts = {"Unspecified": 1, "Protection Used": 2, "Protection Not Used": 0}
    payload = one_metric("sexual_activity", "count", {"date": DATE, **counts})
    [sample] = rows(payload, "metric_samples")
    assert sample["qty"] == 3
    assert sample["attrs"] == counts


def test_unknown_metric_name_is_stored_generically_in_its_unit() -> None:
    payload = one_metric("future_metric", "zorks", {"date": DATE, "qty": -12.5})
    [sample] = rows(payload, "metric_samples")
    assert (sample["metric"], sample["unit"], sample["qty"]) == ("future_metric", "zorks", -12.5)


def test_known_metric_in_unknown_unit_is_stored_as_sent_without_range_check() -> None:
    payload = one_metric("heart_rate", "Hz-ish", {"date": DATE, "qty": 5000})
    [sample] = rows(payload, "metric_samples")
    assert (sample["unit"], sample["qty"]) == ("Hz-ish", 5000)


def test_units_are_converted_to_canonical() -> None:
    payload = one_metric("walking_running_distance", "mi", {"date": DATE, "qty": 2})
    [sample] = rows(payload, "metric_samples")
    assert (sample["unit"], sample["qty"]) == ("km", pytest.approx(3.218688))


@pytest.mark.parametrize(
    ("qty", "reason_part"),
    [
        ("12", "not a number"),
        (True, "not a number"),
        (None, "no value"),
        (float("nan"), "not finite"),
        (float("inf"), "not finite"),
        (-5, "outside"),
        (2e6, "outside"),
    ],
)
def test_invalid_step_count_values_are_rejected(qty: object, reason_part: str) -> None:
    payload = one_metric(
        "step_count", "count", {"date": DATE, "qty": 10}, {"date": DATE, "qty": qty}
    )
    assert len(payload.rows["metric_samples"]) == 1
    [(path, reason)] = errors(payload)
    assert path.startswith("data.metrics[0].data[1]")
    assert reason_part in reason


def test_missing_and_unparseable_dates_are_rejected_per_point() -> None:
    payload = one_metric(
        "step_count",
        "count",
        {"qty": 1},
        {"date": "not a date at all " * 100, "qty": 1},
        {"date": DATE, "qty": 1},
    )
    assert len(payload.rows["metric_samples"]) == 1
    assert [path for path, _ in errors(payload)] == [
        "data.metrics[0].data[0].date",
        "data.metrics[0].data[1].date",
    ]
    assert errors(payload)[0][1] == "missing date"
    assert all(len(reason) < 100 for _, reason in errors(payload))


def test_missing_source_is_empty_and_joined_sources_kept() -> None:
    payload = one_metric(
        "step_count", "count", {"date": DATE, "qty": 1}, {"date": DATE, "qty": 2, "source": "A|B|A"}
    )
    assert [s["source"] for s in rows(payload, "metric_samples")] == ["", "A|B|A"]


def test_malformed_metric_items_are_rejected_with_paths() -> None:
    payload = parse_hae(
        envelope(
            metrics=[
                "nope",
                {"units": "count", "data": []},
                {"name": "step_count", "units": "count", "data": {"not": "a list"}},
                {"name": "step_count", "units": "count", "data": [42]},
                {"name": "step_count", "units": "count", "data": [], "extra": 1},
            ]
        )
    )
    assert [path for path, _ in errors(payload)] == [
        "data.metrics[0]",
        "data.metrics[1].name",
        "data.metrics[2].data",
        "data.metrics[3].data[0]",
    ]
    assert payload.ignored == ["data.metrics[4].extra"]


# Sleep -------------------------------------------------------------------------------


@pytest.mark.parametrize("generation", ["legacy", "stages", "current"])
def test_aggregated_sleep_of_every_generation(generation: Any) -> None:
    payload = parse_hae(hae_sleep_aggregated(nights=2, generation=generation))
    assert payload.errors == []
    nights = rows(payload, "sleep_sessions")
    assert len(nights) == 2
    assert nights[0]["total_sleep_h"] == pytest.approx(7.5)
    assert nights[0]["efficiency"] == pytest.approx(7.5 / 8.0)
    assert nights[0]["source"] == "Eli\u2019s Apple\u00a0Watch"


def test_legacy_sleep_keeps_in_bed_source_in_attrs() -> None:
    payload = parse_hae(hae_sleep_aggregated(nights=1, generation="legacy"))
    assert rows(payload, "sleep_sessions")[0]["attrs"] == {"inBedSource": "Eli\u2019s iPhone"}


def test_date_only_sleep_night_takes_the_offset_of_its_times() -> None:
    payload = parse_hae(hae_sleep_aggregated(nights=1, date_only=True))
    night = rows(payload, "sleep_sessions")[0]
    assert night["utc_offset_min"] == -240
    assert night["start_at"] == datetime(2024, 3, 15, tzinfo=timezone(timedelta(hours=-4)))


def test_sleep_night_without_bed_times_and_zero_in_bed() -> None:
    night = {"date": DATE, "core": 4, "deep": 1, "rem": 2, "asleep": 0, "inBed": 0}
    payload = one_metric("sleep_analysis", "hr", night)
    [stored] = rows(payload, "sleep_sessions")
    assert (stored["total_sleep_h"], stored["efficiency"], stored["in_bed_start"]) == (
        7,
        None,
        None,
    )


@pytest.mark.parametrize(("field", "value"), [("deep", -1), ("core", 30), ("rem", "2")])
def test_sleep_components_negative_or_over_a_day_are_rejected(field: str, value: object) -> None:
    payload = one_metric("sleep_analysis", "hr", {"date": DATE, "core": 4, field: value})
    assert payload.rows["sleep_sessions"] == []
    assert errors(payload)[0][0] == f"data.metrics[0].data[0].{field}"


def test_sleep_stages_normalise_in_bed_spelling() -> None:
    payload = parse_hae(hae_sleep_stages(nights=1))
    stages = rows(payload, "sleep_stages")
    assert payload.errors == []
    assert len(stages) == 13
    assert stages[0]["stage"] == "InBed"
    assert stages[0]["qty_h"] == pytest.approx(8.0)


def test_sleep_stage_ending_before_start_is_rejected() -> None:
    stage = {"startDate": DATE, "endDate": "2024-03-14 14:00:00 -0400", "value": "Core", "qty": 1}
    payload = one_metric("sleep_analysis", "hr", stage)
    assert errors(payload) == [("data.metrics[0].data[0].endDate", "end before start")]


# Workouts ----------------------------------------------------------------------------


def test_v2_workout_with_series_route_and_summaries() -> None:
    doc = hae_workouts(count=1, version=2, route_points=10, series_points=5)
    payload = parse_hae(doc)
    assert payload.errors == []
    [workout] = rows(payload, "workouts")
    item = doc["data"]["workouts"][0]
    assert workout["workout_id"] == uuid.UUID(item["id"])
    assert workout["app_id"] == item["id"]
    assert workout["duration_s"] == 1800.0
    assert workout["total_energy_kcal"] == pytest.approx(1380 / 4.184)
    assert (workout["avg_heart_rate"], workout["max_heart_rate"]) == (142.5, 171.0)
    assert workout["summaries"]["heartRate"]["min"] == {"qty": 95, "units": "count/min"}
    assert workout["metadata"] == {"HKWeatherHumidity": "56 %"}
    series = rows(payload, "workout_series")
    by_name: dict[str, int] = {}
    for point in series:
        by_name[point["series"]] = by_name.get(point["series"], 0) + 1
    assert by_name == {
        "activeEnergy": 5,
        "stepCount": 5,
        "heartRateData": 5,
        "heartRateRecovery": 3,
    }
    heart = next(point for point in series if point["series"] == "heartRateData")
    assert (heart["min"], heart["avg"], heart["max"]) != (None, None, None)
    assert heart["qty"] is None
    [route] = rows(payload, "workout_routes")
    assert len(route["points"]) == len(route["times"]) == len(route["speed"]) == 10
    assert route["points"][0] == (-73.6, 45.5)
    assert route["course_accuracy"][0] == 5.0


def test_v1_workout_route_and_heart_rate_series() -> None:
    payload = parse_hae(hae_workouts(count=2, version=1, route_points=7, series_points=4))
    assert payload.errors == []
    assert len(payload.rows["workouts"]) == 2
    routes = rows(payload, "workout_routes")
    assert [len(route["points"]) for route in routes] == [7, 7]
    assert routes[0]["speed"] == [None] * 7
    heart = [s for s in rows(payload, "workout_series") if s["series"] == "heartRateData"]
    assert len(heart) == 8
    assert heart[0]["unit"] == "count/min"
    assert heart[0]["qty"] is not None


def test_bad_route_points_are_rejected_and_the_rest_kept() -> None:
    doc = hae_workouts(count=1, version=2, route_points=5)
    route = doc["data"]["workouts"][0]["route"]
    route[1]["latitude"] = 95.0
    route[2]["longitude"] = -181.0
    route[3]["timestamp"] = "2024-03-14 08:00:00 -0400"  # 53 min before the start
    payload = parse_hae(doc)
    [stored] = rows(payload, "workout_routes")
    assert len(stored["points"]) == 2
    assert [path for path, _ in errors(payload)] == [
        "data.workouts[0].route[1].latitude",
        "data.workouts[0].route[2].longitude",
        "data.workouts[0].route[3].timestamp",
    ]


def test_workout_without_route_heart_rate_or_speed_is_kept() -> None:
    item = {"name": "Yoga", "start": DATE, "end": "2024-03-14 16:00:00 -0400"}
    payload = parse_hae(envelope(workouts=[item]))
    [workout] = rows(payload, "workouts")
    assert workout["duration_s"] == 3360.0
    assert (workout["summaries"], payload.rows["workout_routes"]) == (None, [])


def test_workout_without_start_or_name_is_rejected() -> None:
    payload = parse_hae(envelope(workouts=[{"name": "Yoga"}, {"start": DATE, "end": DATE}, 3]))
    assert [path for path, _ in errors(payload)] == [
        "data.workouts[0].start",
        "data.workouts[1].name",
        "data.workouts[2]",
    ]


# Other data types --------------------------------------------------------------------


def test_symptoms_and_cycle_tracking() -> None:
    payload = parse_hae({"data": {**hae_symptoms(2)["data"], **hae_cycle_tracking(2)["data"]}})
    assert payload.errors == []
    symptoms = rows(payload, "symptoms")
    assert symptoms[0]["name"] == "Kopfschmerzen"
    assert symptoms[0]["user_entered"] is True
    cycle = rows(payload, "cycle_tracking")
    assert [entry["is_cycle_start"] for entry in cycle] == [True, None]
    assert cycle[0]["value"] == "Medium"


def test_ecg_voltages_in_microvolts_with_first_sample_time() -> None:
    payload = parse_hae(hae_ecg(count=1, samples=512))
    [recording] = rows(payload, "ecg_recordings")
    assert len(recording["voltages_uv"]) == recording["number_of_measurements"] == 512
    assert recording["voltages_uv"][1] == (1 - 100) * 3.5
    assert recording["first_sample_at"] == START.astimezone(UTC)
    assert recording["sampling_frequency_hz"] == 512


def test_ecg_in_millivolts_is_converted() -> None:
    payload = parse_hae(hae_ecg(count=1, samples=3, units="mV"))
    assert rows(payload, "ecg_recordings")[0]["voltages_uv"] == [-350000.0, -346500.0, -343000.0]


def test_ecg_with_a_non_numeric_sample_is_rejected_whole() -> None:
    doc = hae_ecg(count=1, samples=3)
    doc["data"]["ecg"][0]["voltageMeasurements"][2]["voltage"] = "x"
    payload = parse_hae(doc)
    assert errors(payload) == [
        ("data.ecg[0].voltageMeasurements[2].voltage", "voltage is not a number")
    ]


@pytest.mark.parametrize(
    ("shape", "kind"),
    [("captured", "high_heart_rate_notification"), ("docs", "heart_rate_notification")],
)
def test_heart_rate_notifications_of_both_shapes_kept_whole(shape: Any, kind: str) -> None:
    doc = hae_heart_rate_notifications(shape)
    payload = parse_hae(doc)
    [notification] = rows(payload, "heart_rate_notifications")
    assert notification["kind"] == kind
    assert notification["threshold"] == 120.0
    assert notification["raw"] == doc["data"]["heartRateNotifications"][0]


def test_state_of_mind_with_string_and_numeric_classification() -> None:
    payload = parse_hae(hae_state_of_mind(2))
    entries = rows(payload, "state_of_mind")
    assert [entry["valence_classification"] for entry in entries] == ["pleasant", "6"]
    assert entries[0]["start_at"] == START.astimezone(UTC)
    assert entries[0]["labels"] == ["Happy", "Calm"]


def test_state_of_mind_without_id_is_keyed_by_kind_and_start() -> None:
    item = {"start": "2026-05-05T02:35:56Z", "kind": "daily_mood", "valence": 0.1}
    [entry] = rows(parse_hae(envelope(stateOfMind=[item])), "state_of_mind")
    assert entry["entry_id"] == "daily_mood|2026-05-05T02:35:56+00:00"


def test_state_of_mind_valence_out_of_range_is_rejected() -> None:
    item = {"start": "2026-05-05T02:35:56Z", "kind": "daily_mood", "valence": 3}
    payload = parse_hae(envelope(stateOfMind=[item]))
    assert errors(payload)[0][0] == "data.stateOfMind[0].valence"


def test_medications() -> None:
    payload = parse_hae(hae_medications(2))
    assert payload.errors == []
    medication = rows(payload, "medications")[0]
    assert medication["display_text"] == "Ibuprofen 200 mg"
    assert medication["scheduled_at"] == medication["start_at"]
    assert medication["codings"][0]["code"] == "5640"


# Envelope ----------------------------------------------------------------------------


@pytest.mark.parametrize("doc", [[], "text", {"metrics": []}, {"data": []}, {"data": None}])
def test_unusable_envelope_raises_shape_error(doc: Any) -> None:
    with pytest.raises(PayloadShapeError):
        parse_hae(doc)


def test_empty_data_and_empty_sections_are_normal() -> None:
    empty = parse_hae({"data": {}})
    assert (empty.received, empty.errors, empty.ignored) == (0, [], [])
    sections = (
        "metrics",
        "workouts",
        "stateOfMind",
        "medications",
        "symptoms",
        "cycleTracking",
        "ecg",
        "heartRateNotifications",
    )
    payload = parse_hae({"data": dict.fromkeys(sections, [])})
    assert (payload.received, payload.ignored) == (0, [])


def test_unknown_keys_are_ignored_with_their_paths() -> None:
    payload = parse_hae({"data": {"someNewKey": [1], "metrics": []}, "version": 2})
    assert payload.ignored == ["version", "data.someNewKey"]


def test_section_that_is_not_a_list_is_rejected() -> None:
    payload = parse_hae({"data": {"workouts": {"name": "x"}}})
    assert errors(payload) == [("data.workouts", "section is not a list")]


def test_received_counts_rows_and_rejections() -> None:
    payload = one_metric("step_count", "count", {"date": DATE, "qty": 1}, {"date": DATE})
    assert payload.received == 2
    assert not math.isnan(payload.rows["metric_samples"][0][6])
