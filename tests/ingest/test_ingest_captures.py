"""The real captures from the app, ingested end to end over HTTP."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import orjson
from fastapi import FastAPI

from tests.conftest import SAMPLES_DIR
from tests.fixtures import payloads
from tests.ingest.conftest import Phone, count_rows, fetch

Post = Callable[..., Awaitable[httpx.Response]]


def _load(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = orjson.loads((SAMPLES_DIR / name).read_bytes())
    return loaded


async def test_day_grouped_metrics_capture_is_stored_completely(
    app: FastAPI, phone: Phone, post: Post
) -> None:
    doc = _load("metrics-day-grouping-2023-2025.json")
    metrics = doc["data"]["metrics"]
    sleep_nights = sum(len(m["data"]) for m in metrics if m["name"] == "sleep_analysis")
    points = sum(len(m["data"]) for m in metrics if m["name"] != "sleep_analysis")
    response = await post(phone, (SAMPLES_DIR / "metrics-day-grouping-2023-2025.json").read_bytes())
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["received"] == points + sleep_nights
    assert body["inserted"] == points + sleep_nights
    assert body["rejected"] == 0
    assert body["by_type"]["metric_samples"]["inserted"] == points
    assert body["by_type"]["sleep_sessions"]["inserted"] == sleep_nights
    assert await count_rows(app, "metric_samples", phone.user_id) == points
    assert await count_rows(app, "sleep_sessions", phone.user_id) == sleep_nights


async def test_identical_bytes_return_the_earlier_result(phone: Phone, post: Post) -> None:
    body = (SAMPLES_DIR / "sleep-stages-unaggregated-2025.json").read_bytes()
    first = (await post(phone, body)).json()
    again = await post(phone, body)
    assert again.status_code == 200
    repeated = again.json()
    assert repeated["duplicate_payload"] is True
    assert repeated["ingestion_id"] == first["ingestion_id"]
    assert repeated["inserted"] == first["inserted"]


async def test_same_content_in_another_key_order_changes_nothing(
    app: FastAPI, phone: Phone, post: Post
) -> None:
    doc = _load("metrics-day-grouping-2023-2025.json")
    first = (await post(phone, doc)).json()
    before = await fetch(
        app,
        "SELECT sum(xmin::text::bigint) AS v FROM metric_samples WHERE user_id = :u",
        u=phone.user_id,
    )
    response = await post(phone, payloads.reordered(doc, random.Random(7)))
    body = response.json()
    assert body["duplicate_payload"] is False
    assert body["inserted"] == 0
    assert body["updated"] == 0
    assert body["unchanged"] == first["inserted"]
    after = await fetch(
        app,
        "SELECT sum(xmin::text::bigint) AS v FROM metric_samples WHERE user_id = :u",
        u=phone.user_id,
    )
    assert after == before


async def test_sleep_stage_capture_keeps_in_bed_segments_beside_stages(
    app: FastAPI, phone: Phone, post: Post
) -> None:
    doc = _load("sleep-stages-unaggregated-2025.json")
    segments = doc["data"]["metrics"][0]["data"]
    response = await post(phone, doc)
    assert response.json()["by_type"]["sleep_stages"]["inserted"] == len(segments)
    stages = await fetch(
        app,
        "SELECT stage, count(*) AS n FROM sleep_stages WHERE user_id = :u GROUP BY stage",
        u=phone.user_id,
    )
    by_stage = {row["stage"]: row["n"] for row in stages}
    expected: dict[str, int] = {}
    for segment in segments:
        stage = "InBed" if segment["value"] in ("InBed", "In Bed") else segment["value"]
        expected[stage] = expected.get(stage, 0) + 1
    assert by_stage == expected


async def test_v1_workout_capture_stores_workouts_and_heart_rate_series(
    app: FastAPI, phone: Phone, post: Post
) -> None:
    doc = _load("workouts-v1-app-8.1.2.json")
    workouts = doc["data"]["workouts"]
    series_points = sum(
        len(w.get("heartRateData", [])) + len(w.get("heartRateRecovery", [])) for w in workouts
    )
    body = (await post(phone, doc)).json()
    assert body["by_type"]["workouts"]["inserted"] == len(workouts)
    assert body["by_type"]["workout_series"]["inserted"] == series_points
    stored = await fetch(
        app,
        "SELECT name, distance_km FROM workouts WHERE user_id = :u ORDER BY start_at",
        u=phone.user_id,
    )
    chronological = sorted(workouts, key=lambda w: str(w["start"]))
    assert [row["name"] for row in stored] == [w["name"] for w in chronological]
    for row, workout in zip(stored, chronological, strict=True):
        assert abs(row["distance_km"] - workout["distance"]["qty"] * 1.609344) < 1e-9
