"""The overview's Activity rings: the feed's values against the archive's goals."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI

from health_export.core.state import state_of
from health_export.imports.apple_health.importer import import_apple_health
from tests.dashboard.test_read_api import SHOWN, get, store
from tests.fixtures import payloads
from tests.fixtures.apple_export import ExportBuilder, write_zip
from tests.fixtures.auth import TestKey
from tests.fixtures.dashboard_data import MONTH_START, ZONE

ACTIVITY = ("active_energy", "apple_exercise_time", "apple_stand_hour")


async def stored_activity(client: httpx.AsyncClient, key: TestKey) -> None:
    """Hourly energy, exercise and stand over March."""
    hourly = timedelta(hours=1)
    await store(client, key, payloads.hae_metrics(ACTIVITY, 31 * 24, MONTH_START, hourly, seed=3))


async def import_goals(app: FastAPI, key: TestKey, tmp_path: Path) -> None:
    """An archive whose last rings (5 March) set 600 kcal, 45 min and 10 h."""
    export = ExportBuilder()
    export.activity_summary("2024-03-01", 400.0, activeEnergyBurnedGoal="450")
    export.activity_summary(
        "2024-03-05",
        500.0,
        activeEnergyBurnedGoal="600",
        appleExerciseTimeGoal="45",
        appleStandHoursGoal="10",
    )
    archive = write_zip(tmp_path / "export.zip", export.xml())
    await import_apple_health(state_of(app).engine, key.user_id, archive, ZoneInfo(ZONE))


async def test_rings_take_the_archives_last_goals_and_the_feeds_values(
    app: FastAPI, client: httpx.AsyncClient, ingest_key: TestKey, tmp_path: Path
) -> None:
    await stored_activity(client, ingest_key)
    await import_goals(app, ingest_key, tmp_path)

    rings = (await get(client, ingest_key, "/api/v1/overview", **SHOWN))["rings"]

    days = (await get(client, ingest_key, "/api/v1/activity/daily", **SHOWN))["days"]
    last = days[-1]
    assert rings["date"] == last["date"] == "2024-03-20"
    # The overview sums the day within a longer range: the same values, summed apart.
    move = rings["move"]
    assert (move["goal"], move["goal_from"], move["unit"]) == (600.0, "archive", "kcal")
    assert move["value"] == pytest.approx(last["active_energy_kcal"], rel=1e-12)
    assert move["fraction"] == pytest.approx(last["active_energy_kcal"] / 600.0, rel=1e-12)
    assert rings["exercise"]["value"] == pytest.approx(last["exercise_min"], rel=1e-12)
    assert (rings["exercise"]["goal"], rings["exercise"]["goal_from"]) == (45.0, "archive")
    assert rings["stand"]["value"] == pytest.approx(last["stand_hours"], rel=1e-12)
    assert rings["stand"]["fraction"] == pytest.approx(last["stand_hours"] / 10.0, rel=1e-12)


async def test_without_an_archive_the_rings_use_apples_fixed_goals(
    client: httpx.AsyncClient, ingest_key: TestKey
) -> None:
    await stored_activity(client, ingest_key)

    rings = (await get(client, ingest_key, "/api/v1/overview", **SHOWN))["rings"]

    assert rings["move"]["goal"] is None
    assert rings["move"]["goal_from"] is None
    assert rings["move"]["fraction"] is None
    assert rings["move"]["value"] is not None
    assert (rings["exercise"]["goal"], rings["exercise"]["goal_from"]) == (30.0, "default")
    assert (rings["stand"]["goal"], rings["stand"]["goal_from"]) == (12.0, "default")


async def test_no_activity_no_rings(client: httpx.AsyncClient, ingest_key: TestKey) -> None:
    morning = MONTH_START + timedelta(hours=8)
    daily = payloads.hae_metrics(("resting_heart_rate",), 31, morning, timedelta(days=1))
    await store(client, ingest_key, daily)

    assert (await get(client, ingest_key, "/api/v1/overview", **SHOWN))["rings"] is None
