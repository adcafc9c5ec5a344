"""GET /api/v1/export: everything, streamed as NDJSON or CSV, gzip when accepted."""

from __future__ import annotations

import csv
import gzip
import io

import httpx
import orjson
from fastapi import FastAPI

from tests.fixtures import payloads
from tests.fixtures.auth import TestKey, create_user_with_key
from tests.health_data.conftest import Get, Ingest


async def _ingest_a_bit_of_everything(owner: TestKey, ingest: Ingest) -> int:
    received = 0
    for payload in (
        payloads.hae_metrics(("heart_rate", "step_count"), count=30),
        payloads.hae_sleep_stages(nights=1),
        payloads.hae_workouts(count=1, version=2, series_points=4, route_points=5),
        payloads.hae_symptoms(count=2),
    ):
        received += (await ingest(owner, payload))["received"]
    return received


async def test_ndjson_export_holds_every_stored_record(
    owner: TestKey, ingest: Ingest, get: Get
) -> None:
    await _ingest_a_bit_of_everything(owner, ingest)
    response = await get(owner, "/export", format="ndjson")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-ndjson"
    assert response.headers["cache-control"] == "private, no-store"
    assert 'filename="health-export-' in response.headers["content-disposition"]
    lines = [orjson.loads(line) for line in response.content.splitlines()]
    by_type: dict[str, int] = {}
    for line in lines:
        by_type[line["type"]] = by_type.get(line["type"], 0) + 1
    # 30 heart-rate + 30 step points; 13 segments; 1 workout, 4+4+4+3 series, 1 route.
    assert by_type == {
        "metric": 60,
        "sleep_stage": 13,
        "workout": 1,
        "workout_series": 15,
        "workout_route": 1,
        "symptom": 2,
    }
    first_steps = next(line for line in lines if line.get("name") == "step_count")
    assert first_steps["start"] == "2024-03-14T00:00:00-04:00"
    assert first_steps["utc_offset_min"] == -240
    route = next(line for line in lines if line["type"] == "workout_route")
    assert route["details"]["geometry"]["type"] == "LineString"


async def test_csv_export_has_one_header_and_a_row_per_record(
    owner: TestKey, ingest: Ingest, get: Get
) -> None:
    await ingest(owner, payloads.hae_metrics(("heart_rate",), count=10))
    await ingest(owner, payloads.hae_symptoms(count=2))
    response = await get(owner, "/export", format="csv")
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 12
    assert rows[0]["type"] == "metric"
    assert rows[0]["name"] == "heart_rate"
    assert float(rows[0]["avg"]) > 0
    symptom = next(row for row in rows if row["type"] == "symptom")
    assert orjson.loads(symptom["details"])["severity"]


async def test_export_types_and_range_filter(owner: TestKey, ingest: Ingest, get: Get) -> None:
    await _ingest_a_bit_of_everything(owner, ingest)
    response = await get(
        owner,
        "/export",
        types="metrics",
        start="2024-03-14T00:10:00-04:00",
        end="2024-03-14T00:20:00-04:00",
    )
    lines = [orjson.loads(line) for line in response.content.splitlines()]
    assert len(lines) == 20
    assert {line["type"] for line in lines} == {"metric"}
    refused = await get(owner, "/export", types="metrics,everything")
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["path"] == "query.types"


async def test_export_is_gzipped_when_the_client_accepts_it(
    app: FastAPI, owner: TestKey, ingest: Ingest
) -> None:
    await ingest(owner, payloads.hae_metrics(("heart_rate",), count=50))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as raw:
        headers = {**owner.headers, "Accept-Encoding": "gzip"}
        async with raw.stream("GET", "/api/v1/export", headers=headers) as response:
            assert response.headers["content-encoding"] == "gzip"
            body = b"".join([chunk async for chunk in response.aiter_raw()])
    assert len(gzip.decompress(body).splitlines()) == 50


async def test_export_holds_only_the_callers_data(
    app: FastAPI, owner: TestKey, ingest: Ingest, get: Get
) -> None:
    await ingest(owner, payloads.hae_metrics(("heart_rate",), count=5))
    stranger = await create_user_with_key(app)
    assert (await get(stranger, "/export")).content == b""
