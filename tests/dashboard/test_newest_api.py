"""GET /api/v1/metrics/{name}/newest: the newest stored samples, newest first."""

from __future__ import annotations

from datetime import timedelta

import httpx

from tests.dashboard.test_read_api import get, store
from tests.fixtures import payloads
from tests.fixtures.auth import TestKey
from tests.fixtures.dashboard_data import MONTH_START, ZONE


async def test_newest_samples_are_the_last_of_the_raw_pages(
    client: httpx.AsyncClient, ingest_key: TestKey
) -> None:
    hourly = timedelta(hours=1)
    await store(client, ingest_key, payloads.hae_metrics(("step_count",), 72, MONTH_START, hourly))
    every = await get(client, ingest_key, "/api/v1/metrics/step_count", limit="1000")
    newest = await get(client, ingest_key, "/api/v1/metrics/step_count/newest", limit="5")
    assert newest["samples"] == every["samples"][::-1][:5]
    assert newest["truncated"] is True
    assert newest["unit"] == "count"

    # A bare date is midnight in tz= (New York is at -05:00 before 10 March).
    day = {"start": "2024-03-02", "end": "2024-03-03", "tz": ZONE}
    in_day = await get(client, ingest_key, "/api/v1/metrics/step_count/newest", **day)
    instants = {"start": "2024-03-02T00:00:00-05:00", "end": "2024-03-03T00:00:00-05:00"}
    raw = await get(client, ingest_key, "/api/v1/metrics/step_count", **instants)
    assert in_day["samples"] == raw["samples"][::-1]
    assert len(in_day["samples"]) == 24
    assert in_day["truncated"] is False


async def test_newest_of_an_unknown_metric_says_where_to_look(
    client: httpx.AsyncClient, ingest_key: TestKey
) -> None:
    response = await client.get("/api/v1/metrics/no_such_metric/newest", headers=ingest_key.headers)
    assert response.status_code == 404
    assert "GET /api/v1/metrics" in response.json()["detail"]
    empty = await get(client, ingest_key, "/api/v1/metrics/body_fat_percentage/newest")
    assert empty == {
        "metric": "body_fat_percentage",
        "unit": "%",
        "samples": [],
        "truncated": False,
    }
    bad = await client.get(
        "/api/v1/metrics/step_count/newest", params={"limit": "0"}, headers=ingest_key.headers
    )
    assert bad.status_code == 422
