"""The sync view on real captures from phones (what each rule detects; docs/sync.md).

The same behaviours are covered with built data in test_sync_api.py.
"""

from __future__ import annotations

from typing import Any

import httpx

from tests.fixtures.auth import KeyFactory
from tests.fixtures.captures import capture_bytes
from tests.fixtures.sync import (
    automation_headers,
    automation_named,
    metric_named,
    post,
    rules_of,
    sync_view,
)


async def _view_of(client: httpx.AsyncClient, make_key: KeyFactory, capture: str) -> dict[str, Any]:
    key = await make_key()
    body = capture_bytes("hae", capture)
    answer = await post(client, key, body, automation_headers("Capture", period="Default"))
    assert answer.status_code == 200
    assert answer.json()["rejected"] == 0
    return await sync_view(client, key)


def _gaps(view: dict[str, Any], metric: str) -> list[tuple[str, str, str]]:
    return [(g["start"], g["end"], g["kind"]) for g in metric_named(view, metric)["gaps"]]


async def test_day_grouped_metrics_capture(client: httpx.AsyncClient, make_key: KeyFactory) -> None:
    view = await _view_of(client, make_key, "metrics-day-grouping-2023-2025.json")
    automation = automation_named(view, "Capture")
    assert automation["data_types"] == ["metric_samples", "sleep_sessions"]
    assert rules_of(automation) == {"aggregated_sleep_hides_stages"}
    # Two days without any nutrition entry, one without water, weigh-ins missed.
    for nutrient in ("carbohydrates", "protein", "dietary_energy", "sodium", "fiber"):
        assert _gaps(view, nutrient) == [("2025-03-28", "2025-03-29", "none")]
    assert _gaps(view, "dietary_water") == [("2025-03-29", "2025-03-29", "none")]
    assert _gaps(view, "weight_body_mass") == [
        ("2025-02-20", "2025-02-20", "none"),
        ("2025-03-29", "2025-03-30", "none"),
    ]
    # Measured every day: no gap. Measured now and then: not looked at.
    for daily in ("heart_rate", "resting_heart_rate", "heart_rate_variability"):
        assert _gaps(view, daily) == []
    for sparse in ("vo2_max", "respiratory_rate", "time_in_daylight", "sleep_analysis"):
        assert metric_named(view, sparse)["is_daily"] is False
    assert metric_named(view, "heart_rate")["last_day"] == "2025-04-26"
    assert view["drift"] == []


async def test_unaggregated_sleep_capture(client: httpx.AsyncClient, make_key: KeyFactory) -> None:
    view = await _view_of(client, make_key, "sleep-stages-unaggregated-2025.json")
    assert rules_of(automation_named(view, "Capture")) == set()
    sleep = metric_named(view, "sleep_analysis")
    assert (sleep["last_day"], sleep["usual_per_day"]) == ("2025-05-17", 26.0)
    # One night holds a single segment where the others hold about 26.
    assert _gaps(view, "sleep_analysis") == [("2025-05-05", "2025-05-05", "few")]


async def test_workouts_v1_capture(client: httpx.AsyncClient, make_key: KeyFactory) -> None:
    view = await _view_of(client, make_key, "workouts-v1-app-8.1.2.json")
    automation = automation_named(view, "Capture")
    assert rules_of(automation) == {"workouts_export_version_1"}
    assert automation["data_types"] == ["workout_series", "workouts"]
