"""Hostile read parameters: clear problem+json answers, never a 500 or an echo of megabytes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.fixtures.auth import TestKey
from tests.health_data.conftest import Get

HUGE = "x" * 60_000


@pytest.mark.parametrize(
    "recording_id",
    [
        "99999999999999999999999-1",  # beyond any datetime
        "¹²³-¹",  # Unicode digits str.isdigit() accepts but int() refuses
        "1710414240000000-99999999999",  # a source id beyond PostgreSQL's integer
        "-1-2",
        "1710414240000000-",
    ],
)
async def test_malformed_ecg_ids_are_404_problems(
    owner: TestKey, get: Get, recording_id: str
) -> None:
    response = await get(owner, f"/ecg/{recording_id}")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == "no such ECG recording"


async def test_minute_buckets_from_a_future_start_without_end_are_refused(
    owner: TestKey, get: Get
) -> None:
    future = (datetime.now(UTC) + timedelta(days=400)).date().isoformat()
    response = await get(owner, "/metrics/step_count/series", bucket="minute", start=future)
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "query.end"
    assert "end" in response.json()["detail"]


async def test_unknown_metric_404_does_not_echo_a_huge_name(owner: TestKey, get: Get) -> None:
    response = await get(owner, f"/metrics/{HUGE}")
    assert response.status_code == 404
    assert len(response.content) < 1_000
    assert "60000 characters" in response.json()["detail"]
    assert "/api/v1/metrics" in response.json()["detail"]


async def test_unknown_metric_404_names_a_short_name(owner: TestKey, get: Get) -> None:
    response = await get(owner, "/metrics/no_such_metric")
    assert "'no_such_metric'" in response.json()["detail"]


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/metrics/weight_body_mass", {"unit": HUGE}),
        ("/export", {"types": HUGE}),
        ("/metrics/step_count/series", {"tz": HUGE}),
    ],
)
async def test_bad_parameters_do_not_echo_huge_values(
    owner: TestKey, get: Get, path: str, params: dict[str, str]
) -> None:
    response = await get(owner, path, **params)
    assert response.status_code == 400
    assert len(response.content) < 1_500
