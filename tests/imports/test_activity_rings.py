"""ActivitySummary (the rings): stored per user and day, re-imported without a rewrite,
read by GET /api/v1/activity/rings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.fixtures.apple_export import ExportBuilder, write_zip
from tests.fixtures.auth import create_user_with_key
from tests.imports.conftest import count_rows, fetch, run_import

RINGS = "/api/v1/activity/rings"


def rings_export() -> ExportBuilder:
    """Three good days in three shapes (kcal, kJ, the pre-iOS 14 spelling), and a bad one."""
    export = ExportBuilder()
    export.activity_summary("2024-07-01", 512.5, appleMoveTimeGoal="30")
    export.activity_summary(
        "2024-07-02", 2092.0, activeEnergyBurnedGoal="2092", activeEnergyBurnedUnit="kJ"
    )
    export.activity_summary(
        "2019-03-01",
        300,
        activeEnergyBurnedUnit="kcal",
        appleMoveTime=None,
        appleMoveMinutes="12",
        appleMoveMinutesGoal="20",
        appleStandHoursGoal=None,
    )
    export.activity_summary("2024-07-03", 1.0, activeEnergyBurnedUnit="furlong")
    export.activity_summary("07/04/2024", 1.0)
    return export


async def test_rings_are_stored_per_day_in_kcal_and_minutes(app: FastAPI, tmp_path: Path) -> None:
    user = await create_user_with_key(app)
    archive = write_zip(tmp_path / "export.zip", rings_export().xml())

    summary = await run_import(app, user.user_id, archive)

    assert summary.activity_summaries == 5
    assert summary.rejected == {
        "ActivitySummary: unknown energy unit 'furlong'": 1,
        "ActivitySummary: dateComponents is not a date (yyyy-MM-dd)": 1,
    }
    assert summary.by_table["activity_summaries"] == {"inserted": 3, "updated": 0, "unchanged": 0}
    rows = await fetch(
        app,
        "SELECT day::text, active_energy_kcal, active_energy_goal_kcal, move_time_min,"
        " move_time_goal_min, exercise_time_min, stand_hours, stand_hours_goal, attrs"
        " FROM activity_summaries WHERE user_id = :u ORDER BY day",
        u=user.user_id,
    )
    old, kcal, kilojoules = rows
    assert old["day"] == "2019-03-01"
    assert (old["move_time_min"], old["move_time_goal_min"], old["stand_hours_goal"]) == (
        12.0,
        20.0,
        None,
    )
    assert old["attrs"] is None  # already kcal
    assert kcal["active_energy_kcal"] == 512.5
    assert kcal["attrs"] == {"source_unit": "Cal"}
    assert (kcal["exercise_time_min"], kcal["stand_hours"], kcal["move_time_goal_min"]) == (
        31.0,
        11.0,
        30.0,
    )
    assert kilojoules["active_energy_kcal"] == pytest.approx(500.0, rel=1e-3)
    assert kilojoules["active_energy_goal_kcal"] == pytest.approx(500.0, rel=1e-3)
    assert kilojoules["attrs"] == {"source_unit": "kJ"}


async def test_reimport_rewrites_no_ring(app: FastAPI, tmp_path: Path) -> None:
    user = await create_user_with_key(app)
    archive = write_zip(tmp_path / "export.zip", rings_export().xml())
    await run_import(app, user.user_id, archive)

    again = await run_import(app, user.user_id, archive)

    assert again.by_table["activity_summaries"] == {"inserted": 0, "updated": 0, "unchanged": 3}
    assert await count_rows(app, "activity_summaries", user.user_id) == 3
    revisions = await fetch(
        app,
        "SELECT max(revision) AS top FROM activity_summaries WHERE user_id = :u",
        u=user.user_id,
    )
    assert revisions == [{"top": 0}]


async def test_rings_route_answers_the_days_of_the_range(
    app: FastAPI, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    user = await create_user_with_key(app)
    other = await create_user_with_key(app)
    archive = write_zip(tmp_path / "export.zip", rings_export().xml())
    await run_import(app, user.user_id, archive)
    await run_import(app, other.user_id, archive)

    whole = await client.get(RINGS, headers=user.headers)
    july = await client.get(
        RINGS, params={"start": "2024-07-01", "end": "2024-07-02"}, headers=user.headers
    )

    assert whole.status_code == 200, whole.text
    assert [day["date"] for day in whole.json()["days"]] == [
        "2019-03-01",
        "2024-07-01",
        "2024-07-02",
    ]
    body: dict[str, Any] = july.json()
    assert body == {
        "days": [
            {
                "date": "2024-07-01",
                "active_energy": {"value": 512.5, "goal": 500.0, "unit": "kcal"},
                "move_time": {"value": 0.0, "goal": 30.0, "unit": "min"},
                "exercise_time": {"value": 31.0, "goal": 30.0, "unit": "min"},
                "stand_hours": {"value": 11.0, "goal": 12.0, "unit": "h"},
            }
        ]
    }


async def test_rings_route_needs_read_and_names_a_bad_parameter(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    ingest_only = await create_user_with_key(app, scopes=["ingest"])
    reader = await create_user_with_key(app)

    refused = await client.get(RINGS, headers=ingest_only.headers)
    bad = await client.get(RINGS, params={"start": "yesterday"}, headers=reader.headers)

    assert refused.status_code == 403
    assert bad.status_code == 400
    assert bad.headers["content-type"] == "application/problem+json"
    assert "start" in bad.json()["detail"]
