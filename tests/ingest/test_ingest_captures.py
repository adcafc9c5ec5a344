"""Whole exports of the app (each built twin, then the real capture) ingested over HTTP."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI

from health_export.ingest import parse_stage, service
from health_export.ingest.write import feeder
from health_export.ingest.write.batches import BATCH_TABLE_PREFIX
from tests.fixtures import payloads
from tests.fixtures.captures import DAY_GROUPED_METRICS, SLEEP_STAGES, V1_WORKOUTS, Origin
from tests.ingest.conftest import Phone, count_rows, fetch, make_phone

Post = Callable[..., Awaitable[httpx.Response]]


async def test_day_grouped_metrics_export_is_stored_completely(
    app: FastAPI, phone: Phone, post: Post, origin: Origin
) -> None:
    doc = DAY_GROUPED_METRICS.doc(origin)
    metrics = doc["data"]["metrics"]
    sleep_nights = sum(len(m["data"]) for m in metrics if m["name"] == "sleep_analysis")
    points = sum(len(m["data"]) for m in metrics if m["name"] != "sleep_analysis")
    response = await post(phone, DAY_GROUPED_METRICS.body(origin))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["received"] == points + sleep_nights
    assert body["inserted"] == points + sleep_nights
    assert body["rejected"] == 0
    assert body["by_type"]["metric_samples"]["inserted"] == points
    assert body["by_type"]["sleep_sessions"]["inserted"] == sleep_nights
    assert await count_rows(app, "metric_samples", phone.user_id) == points
    assert await count_rows(app, "sleep_sessions", phone.user_id) == sleep_nights


async def test_identical_bytes_return_the_earlier_result(
    phone: Phone, post: Post, origin: Origin
) -> None:
    body = SLEEP_STAGES.body(origin)
    first = (await post(phone, body)).json()
    again = await post(phone, body)
    assert again.status_code == 200
    repeated = again.json()
    assert repeated["duplicate_payload"] is True
    assert repeated["ingestion_id"] == first["ingestion_id"]
    # Nothing was written this time: every record the first answer stored is unchanged.
    assert (repeated["inserted"], repeated["updated"]) == (0, 0)
    assert repeated["unchanged"] == first["inserted"] + first["updated"] + first["unchanged"]


async def test_same_content_in_another_key_order_changes_nothing(
    app: FastAPI, phone: Phone, post: Post, origin: Origin
) -> None:
    doc = DAY_GROUPED_METRICS.doc(origin)
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


async def test_sleep_stage_export_keeps_in_bed_segments_beside_stages(
    app: FastAPI, phone: Phone, post: Post, origin: Origin
) -> None:
    doc = SLEEP_STAGES.doc(origin)
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


async def test_v1_workout_export_stores_workouts_and_heart_rate_series(
    app: FastAPI, phone: Phone, post: Post, origin: Origin
) -> None:
    doc = V1_WORKOUTS.doc(origin)
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


STORED_TABLES = (
    "metric_samples",
    "sleep_sessions",
    "sleep_stages",
    "workouts",
    "workout_series",
    "workout_routes",
)


async def _answer_and_counts(
    app: FastAPI, post: Post, body: bytes
) -> tuple[dict[str, Any], dict[str, int]]:
    phone = await make_phone(app)
    response = await post(phone, body)
    assert response.status_code == 200, response.text
    answer = response.json()
    counts = {table: await count_rows(app, table, phone.user_id) for table in STORED_TABLES}
    again = (await post(phone, payloads.reordered(orjson.loads(body), random.Random(3)))).json()
    assert again["inserted"] == again["updated"] == 0
    assert again["unchanged"] == answer["inserted"]
    return answer, counts


async def test_every_export_in_one_large_body_is_stored_alike_in_batches_or_whole(
    app: FastAPI, post: Post, monkeypatch: pytest.MonkeyPatch, origin: Origin
) -> None:
    combined = DAY_GROUPED_METRICS.doc(origin)
    combined["data"]["metrics"] += SLEEP_STAGES.doc(origin)["data"]["metrics"]
    # The v1 workouts have no route: generated workouts (route and series) join them.
    combined["data"]["workouts"] = (
        V1_WORKOUTS.doc(origin)["data"]["workouts"]
        + payloads.hae_workouts(count=3)["data"]["workouts"]
    )
    body = orjson.dumps(combined)
    # Streamed (parsed while the raw body is stored), in batches of a few hundred rows,
    # the parse waiting whenever a table has 300 rows pending: every table is staged
    # and written many times over.
    monkeypatch.setattr(service, "STREAM_FROM_BYTES", len(body) // 2)
    monkeypatch.setattr(feeder, "DRAIN_MIN_ROWS", 200)
    monkeypatch.setattr(feeder, "BATCH_ROWS", 300)
    monkeypatch.setattr(parse_stage, "PENDING_ROWS_MAX", 300)
    monkeypatch.setattr(feeder, "DRAIN_POLL_S", 0.001)
    batched, batched_counts = await _answer_and_counts(app, post, body)
    monkeypatch.setattr(service, "STREAM_FROM_BYTES", len(body) + 1)
    whole, whole_counts = await _answer_and_counts(app, post, body)
    assert batched_counts == whole_counts
    assert all(batched_counts[table] > 0 for table in STORED_TABLES), batched_counts
    for key in ("received", "inserted", "updated", "unchanged", "rejected", "by_type"):
        assert batched[key] == whole[key], key
    leftovers = await fetch(
        app, "SELECT relname FROM pg_class WHERE starts_with(relname, :p)", p=BATCH_TABLE_PREFIX
    )
    assert leftovers == []
