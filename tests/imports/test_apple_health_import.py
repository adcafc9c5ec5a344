"""Apple Health export.zip imports, against real PostgreSQL: what is stored, and how."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from tests.fixtures.apple_export import (
    PHONE,
    PHONE_DEVICE,
    WATCH,
    ExportBuilder,
    ecg_csv,
    gpx,
    route_points,
    write_zip,
)
from tests.fixtures.auth import create_user_with_key
from tests.imports.conftest import count_rows, fetch, run_import

R = ExportBuilder.record_xml
WALK_START = "2024-07-02 08:00:00 +0200"
WALK_END = "2024-07-02 08:30:00 +0200"


def full_export() -> ExportBuilder:
    """One of every type family, unit family and quirk the importer handles."""
    export = ExportBuilder(locale="en_FR")
    # Heart rate in winter: the row says +0200 (export time), Paris is +0100 then.
    export.record("HeartRate", "72", "2024-01-10 08:00:00 +0200", unit="count/min")
    export.record(
        "HeartRate",
        "64",
        "2024-01-10 09:00:00 +0200",
        unit="count/min",
        metadata={"HKTimeZone": "America/New_York", "HKMetadataKeyHeartRateMotionContext": "1"},
    )
    steps = dict(end="2024-07-01 10:05:00 +0200", unit="count", source=PHONE, device=PHONE_DEVICE)
    export.record("StepCount", "100", "2024-07-01 10:00:00 +0200", **steps)  # type: ignore[arg-type]
    export.record("StepCount", "100", "2024-07-01 10:00:00 +0200", **steps)  # type: ignore[arg-type]
    export.record("ActiveEnergyBurned", "10", "2024-07-01 10:00:00 +0200", unit="Cal")
    export.record("BasalEnergyBurned", "41.84", "2024-07-01 10:00:00 +0200", unit="kJ")
    export.record("DistanceWalkingRunning", "1", "2024-07-01 10:00:00 +0200", unit="mi")
    export.record("BodyMass", "154.32358", "2024-07-01 07:00:00 +0200", unit="lb", source=PHONE)
    export.record("BodyTemperature", "98.6", "2024-07-01 07:01:00 +0200", unit="degF")
    glucose = "mmol<180.1558800000541>/L"
    export.record("BloodGlucose", "5.5", "2024-07-01 07:02:00 +0200", unit=glucose)
    export.record("OxygenSaturation", "0.97", "2024-07-01 07:03:00 +0200", unit="%")
    export.record("VO2Max", "45", "2024-07-01 07:04:00 +0200", unit="mL/min·kg")
    export.record("EnvironmentalSoundReduction", "10", "2024-07-01 07:05:00 +0200", unit="dBASPL")
    export.record("HKDataTypeSleepDurationGoal", "8", "2024-07-01 07:06:00 +0200", unit="hr")
    export.record("HeartRate", "abc", "2024-07-01 07:07:00 +0200", unit="count/min")
    # Blood pressure: a correlation (members also top level), and a lone pair.
    bp_at = "2024-07-01 07:30:00 +0200"
    export.correlation(
        "BloodPressure",
        bp_at,
        [
            R("BloodPressureSystolic", "120", bp_at, unit="mmHg", source=PHONE),
            R("BloodPressureDiastolic", "80", bp_at, unit="mmHg", source=PHONE),
        ],
    )
    lone_at = "2024-07-03 07:30:00 +0200"
    export.record("BloodPressureSystolic", "130", lone_at, unit="mmHg", source=PHONE)
    export.record("BloodPressureDiastolic", "85", lone_at, unit="mmHg", source=PHONE)
    meal_at = "2024-07-01 12:30:00 +0200"
    export.correlation(
        "Food",
        meal_at,
        [
            R("DietaryEnergyConsumed", "250", meal_at, unit="kcal", source="MyFitnessPal"),
            R("DietaryProtein", "12", meal_at, unit="g", source="MyFitnessPal"),
        ],
        source="MyFitnessPal",
    )
    # Sleep: the phone's InBed beside the Watch's stages.
    export.category(
        "SleepAnalysis",
        "HKCategoryValueSleepAnalysisInBed",
        "2024-07-01 23:00:00 +0200",
        "2024-07-02 07:00:00 +0200",
        source=PHONE,
    )
    for value, start, end in (
        ("AsleepCore", "2024-07-01 23:10:00 +0200", "2024-07-02 01:00:00 +0200"),
        ("AsleepREM", "2024-07-02 01:00:00 +0200", "2024-07-02 01:30:00 +0200"),
        ("Awake", "2024-07-02 01:30:00 +0200", "2024-07-02 01:35:00 +0200"),
    ):
        export.category(
            "SleepAnalysis",
            "HKCategoryValueSleepAnalysis" + value,
            start,
            end,
            metadata={"HKTimeZone": "Europe/Paris"},
        )
    hour = ("2024-07-01 10:00:00 +0200", "2024-07-01 11:00:00 +0200")
    export.category("AppleStandHour", "HKCategoryValueAppleStandHourStood", *hour)
    export.category(
        "AppleStandHour",
        "HKCategoryValueAppleStandHourIdle",
        *("2024-07-01 11:00:00 +0200", "2024-07-01 12:00:00 +0200"),
    )
    export.category(
        "MindfulSession",
        "HKCategoryValueNotApplicable",
        "2024-07-01 18:00:00 +0200",
        "2024-07-01 18:10:00 +0200",
    )
    export.category(
        "HighHeartRateEvent",
        "HKCategoryValueNotApplicable",
        "2024-07-01 19:00:00 +0200",
        "2024-07-01 19:10:00 +0200",
        metadata={"HKHeartRateEventThreshold": "120 count/min"},
    )
    export.category(
        "Headache",
        "HKCategoryValueSeverityMild",
        "2024-07-01 14:00:00 +0200",
        "2024-07-01 16:00:00 +0200",
        source=PHONE,
        metadata={"HKWasUserEntered": "1"},
    )
    export.category(
        "MenstrualFlow",
        "HKCategoryValueMenstrualFlowLight",
        "2024-07-01 00:00:00 +0200",
        "2024-07-01 23:59:00 +0200",
        source=PHONE,
        metadata={"HKMenstrualCycleStart": "1"},
    )
    export.category(
        "AudioExposureEvent",
        "HKCategoryValueEnvironmentalAudioExposureEventMomentaryLimit",
        "2024-07-01 20:00:00 +0200",
        "2024-07-01 20:03:00 +0200",
    )
    # Workouts: statistics + GPX route, attributes only, a third-party one with neither,
    # and an iOS 12 one with inline locations.
    export.workout(
        "Walking",
        WALK_START,
        WALK_END,
        duration_min=29.5,
        metadata={
            "HKIndoorWorkout": "0",
            "HKElevationAscended": "418 cm",
            "HKWeatherTemperature": "56 degF",
            "HKWeatherHumidity": "9400 %",
            "HKAverageMETs": "4.52156 kcal/hr·kg",
            "HKTimeZone": "Europe/Paris",
        },
        statistics=[
            {"type": "HKQuantityTypeIdentifierDistanceWalkingRunning", "sum": "1.5", "unit": "mi"},
            {"type": "HKQuantityTypeIdentifierActiveEnergyBurned", "sum": "120", "unit": "Cal"},
            {
                "type": "HKQuantityTypeIdentifierHeartRate",
                "average": "109.5",
                "minimum": "100",
                "maximum": "117",
                "unit": "count/min",
            },
        ],
        attributes={"totalDistance": "9", "totalDistanceUnit": "km"},
        events=[{"type": "HKWorkoutEventTypeSegment", "date": WALK_START, "duration": "8.05"}],
        route_file="route_2024-07-02_8.30am.gpx",
    )
    export.workout(
        "Running",
        "2024-07-03 18:00:00 +0200",
        "2024-07-03 18:40:00 +0200",
        duration_min=40,
        attributes={
            "totalDistance": "5",
            "totalDistanceUnit": "km",
            "totalEnergyBurned": "300",
            "totalEnergyBurnedUnit": "kcal",
        },
    )
    export.workout(
        "Cycling",
        "2024-07-04 18:00:00 +0200",
        "2024-07-04 19:00:00 +0200",
        duration_min=60,
        source="Strava",
    )
    old_start = "2019-06-11 14:00:00 -0700"
    export.workout(
        "TraditionalStrengthTraining",
        old_start,
        "2019-06-11 15:00:00 -0700",
        duration_min=60,
        locations=[
            {
                "date": f"2019-06-11 14:00:0{i} -0700",
                "latitude": "37.7",
                "longitude": "-122.4",
                "altitude": "10",
                "horizontalAccuracy": "5",
                "verticalAccuracy": "3",
                "course": "-1",
                "speed": "0.5",
            }
            for i in range(3)
        ],
    )
    export.activity_summary("2024-07-01", 512.5)
    return export


def write_full_archive(tmp_path: Path, name: str = "export.zip") -> Path:
    """The full export as a zip with its route and an ECG recorded with decimal commas."""
    walk_start = datetime.fromisoformat("2024-07-02T06:00:00+00:00")
    extra = {
        "apple_health_export/workout-routes/route_2024-07-02_8.30am.gpx": gpx(
            route_points(walk_start, 5)
        ),
        "apple_health_export/electrocardiograms/ecg_2024-07-01.csv": ecg_csv(
            "2024-07-01 18:15:35 +0200", [-265.868, 12.5, 300.25], decimal_comma=True
        ),
    }
    return write_zip(tmp_path / name, full_export().xml(), extra=extra)


async def _metric(app: FastAPI, user_id: int, metric: str) -> list[dict[str, Any]]:
    return await fetch(
        app,
        "SELECT s.name AS source, m.start_at, m.end_at, m.utc_offset_min, m.unit, m.qty, m.min,"
        " m.avg, m.max, m.systolic, m.diastolic, m.attrs FROM metric_samples m"
        " JOIN metric_types t ON t.id = m.metric_id JOIN sources s ON s.id = m.source_id"
        " WHERE m.user_id = :u AND t.name = :metric ORDER BY m.start_at",
        u=user_id,
        metric=metric,
    )


async def test_every_type_family_lands_in_the_feed_tables(app: FastAPI, tmp_path: Path) -> None:
    user = await create_user_with_key(app)
    summary = await run_import(app, user.user_id, write_full_archive(tmp_path))

    assert summary.rejected == {"HeartRate: value is not a number": 1}
    assert summary.skipped["sleep duration goal (a setting)"] == 1
    assert summary.activity_summaries == 1
    assert (summary.workouts, summary.routes, summary.ecg) == (4, 2, 1)
    heart = await _metric(app, user.user_id, "heart_rate")
    assert [(row["avg"], row["min"], row["max"], row["qty"]) for row in heart] == [
        (72.0, 72.0, 72.0, None),
        (64.0, 64.0, 64.0, None),
    ]
    # Local offsets from the zone at that instant, never from the row's "+0200".
    assert [row["utc_offset_min"] for row in heart] == [60, -300]
    assert heart[0]["start_at"] == datetime(2024, 1, 10, 6, 0, tzinfo=UTC)
    assert heart[0]["source"] == WATCH
    assert heart[0]["attrs"]["device"] == {
        "name": "Apple Watch",
        "manufacturer": "Apple",
        "model": "Watch",
        "hardware": "Watch6,2",
        "software": "9.1",
    }
    assert heart[1]["attrs"]["metadata"]["HKMetadataKeyHeartRateMotionContext"] == "1"


async def test_units_are_converted_to_the_catalogue_units(app: FastAPI, tmp_path: Path) -> None:
    user = await create_user_with_key(app)
    await run_import(app, user.user_id, write_full_archive(tmp_path))

    expected = {
        "active_energy": ("kcal", 10.0),
        "basal_energy_burned": ("kcal", 10.0),
        "walking_running_distance": ("km", 1.609344),
        "weight_body_mass": ("kg", 70.0),
        "body_temperature": ("degC", 37.0),
        "blood_glucose": ("mg/dL", 5.5 * 18.01558800000541),
        "blood_oxygen_saturation": ("%", 97.0),
        "vo2_max": ("ml/(kg·min)", 45.0),
        "environmental_sound_reduction": ("dBASPL", 10.0),
        "step_count": ("count", 100.0),
    }
    for metric, (unit, value) in expected.items():
        rows = await _metric(app, user.user_id, metric)
        assert len(rows) == 1, metric  # the step count's exact duplicate is stored once
        assert rows[0]["unit"] == unit, metric
        assert rows[0]["qty"] == pytest.approx(value, rel=1e-6), metric
    glucose = (await _metric(app, user.user_id, "blood_glucose"))[0]
    assert glucose["attrs"]["source_unit"] == "mmol<180.1558800000541>/L"
    steps = (await _metric(app, user.user_id, "step_count"))[0]
    assert "source_unit" not in steps["attrs"]
    assert steps["source"] == PHONE
    assert steps["end_at"] == datetime(2024, 7, 1, 8, 5, tzinfo=UTC)


async def test_blood_pressure_and_food_correlations_count_once(
    app: FastAPI, tmp_path: Path
) -> None:
    user = await create_user_with_key(app)
    await run_import(app, user.user_id, write_full_archive(tmp_path))

    pressure = await _metric(app, user.user_id, "blood_pressure")
    assert [(row["systolic"], row["diastolic"]) for row in pressure] == [(120, 80), (130, 85)]
    for half in ("blood_pressure_systolic", "blood_pressure_diastolic"):
        assert await _metric(app, user.user_id, half) == []
    energy = await _metric(app, user.user_id, "dietary_energy")
    protein = await _metric(app, user.user_id, "protein")
    assert [row["qty"] for row in energy] == [250.0]
    assert [row["qty"] for row in protein] == [12.0]


async def test_categories_reach_sleep_symptoms_cycles_and_notifications(
    app: FastAPI, tmp_path: Path
) -> None:
    user = await create_user_with_key(app)
    await run_import(app, user.user_id, write_full_archive(tmp_path))

    stages = await fetch(
        app,
        "SELECT s.name AS source, st.stage, st.qty_h FROM sleep_stages st"
        " JOIN sources s ON s.id = st.source_id WHERE st.user_id = :u ORDER BY st.start_at",
        u=user.user_id,
    )
    assert [(row["source"], row["stage"]) for row in stages] == [
        (PHONE, "InBed"),
        (WATCH, "Core"),
        (WATCH, "REM"),
        (WATCH, "Awake"),
    ]
    assert stages[0]["qty_h"] == pytest.approx(8.0)
    stand = await _metric(app, user.user_id, "apple_stand_hour")
    assert [row["qty"] for row in stand] == [1.0, 0.0]
    mindful = await _metric(app, user.user_id, "mindful_minutes")
    assert [(row["unit"], row["qty"]) for row in mindful] == [("min", 10.0)]
    fallback = await _metric(app, user.user_id, "audio_exposure_event")
    assert fallback[0]["attrs"]["value"] == "EnvironmentalAudioExposureEventMomentaryLimit"
    symptoms = await fetch(
        app, "SELECT name, severity, user_entered FROM symptoms WHERE user_id = :u", u=user.user_id
    )
    assert symptoms == [{"name": "Headache", "severity": "Mild", "user_entered": True}]
    cycles = await fetch(
        app,
        "SELECT name, value, is_cycle_start FROM cycle_tracking WHERE user_id = :u",
        u=user.user_id,
    )
    assert cycles == [{"name": "Menstrual Flow", "value": "Light", "is_cycle_start": True}]
    notes = await fetch(
        app,
        "SELECT kind, threshold FROM heart_rate_notifications WHERE user_id = :u",
        u=user.user_id,
    )
    assert notes == [{"kind": "high_heart_rate_notification", "threshold": 120.0}]


async def test_workouts_take_statistics_first_and_routes_from_gpx(
    app: FastAPI, tmp_path: Path
) -> None:
    user = await create_user_with_key(app)
    await run_import(app, user.user_id, write_full_archive(tmp_path))

    workouts = {
        row["name"]: row
        for row in await fetch(
            app,
            "SELECT workout_id, name, duration_s, location, is_indoor, distance_km,"
            " active_energy_kcal, avg_heart_rate, max_heart_rate, summaries, metadata"
            " FROM workouts WHERE user_id = :u",
            u=user.user_id,
        )
    }
    assert set(workouts) == {"Walking", "Running", "Cycling", "Traditional Strength Training"}
    walk = workouts["Walking"]
    # WorkoutStatistics win over the (stale) totalDistance attribute.
    assert walk["distance_km"] == pytest.approx(1.5 * 1.609344)
    assert walk["active_energy_kcal"] == 120.0
    assert (walk["avg_heart_rate"], walk["max_heart_rate"]) == (109.5, 117.0)
    assert (walk["location"], walk["is_indoor"], walk["duration_s"]) == ("Outdoor", False, 1770.0)
    assert walk["summaries"]["humidity"] == {"qty": 94.0, "units": "%"}
    assert walk["summaries"]["elevationUp"] == {"qty": 418.0, "units": "cm"}
    assert walk["summaries"]["intensity"]["qty"] == pytest.approx(4.52156)
    assert walk["metadata"]["events"][0]["type"] == "HKWorkoutEventTypeSegment"
    run = workouts["Running"]
    assert (run["distance_km"], run["active_energy_kcal"]) == (5.0, 300.0)
    ride = workouts["Cycling"]
    assert (ride["distance_km"], ride["active_energy_kcal"], ride["summaries"]) == (
        None,
        None,
        None,
    )
    routes = await fetch(
        app,
        "SELECT w.name, cardinality(r.times) AS points, r.speed[1] AS speed FROM workout_routes r"
        " JOIN workouts w USING (user_id, workout_id) WHERE r.user_id = :u ORDER BY w.name",
        u=user.user_id,
    )
    assert [(row["name"], row["points"]) for row in routes] == [
        ("Traditional Strength Training", 3),
        ("Walking", 5),
    ]
    assert routes[1]["speed"] == 1.25


async def test_ecg_csv_with_decimal_commas_is_stored_in_microvolts(
    app: FastAPI, tmp_path: Path
) -> None:
    user = await create_user_with_key(app)
    await run_import(app, user.user_id, write_full_archive(tmp_path))

    ecg = await fetch(
        app,
        "SELECT start_at, classification, sampling_frequency_hz, number_of_measurements,"
        " voltages_uv, attrs FROM ecg_recordings WHERE user_id = :u",
        u=user.user_id,
    )
    assert len(ecg) == 1
    assert ecg[0]["start_at"] == datetime(2024, 7, 1, 16, 15, 35, tzinfo=UTC)
    assert ecg[0]["classification"] == "Sinus Rhythm"
    assert ecg[0]["sampling_frequency_hz"] == 512.0
    assert ecg[0]["voltages_uv"] == [-265.868, 12.5, 300.25]
    assert {"Name", "Date of Birth"}.isdisjoint(ecg[0]["attrs"])


async def test_reimport_rewrites_no_row(app: FastAPI, tmp_path: Path) -> None:
    user = await create_user_with_key(app)
    archive = write_full_archive(tmp_path)
    first = await run_import(app, user.user_id, archive)
    stored = await count_rows(app, "metric_samples", user.user_id)

    again = await run_import(app, user.user_id, archive)

    assert first.inserted > 0
    assert (again.inserted, again.updated) == (0, 0)
    assert again.unchanged == first.inserted + first.unchanged
    assert await count_rows(app, "metric_samples", user.user_id) == stored
    assert await count_rows(app, "workouts", user.user_id) == 4
