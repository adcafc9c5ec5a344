"""GET /api/v1/metrics/{name}/series: local-day buckets, DST, tz=, defaults, bounds."""

from __future__ import annotations

import pytest

from tests.fixtures.auth import TestKey
from tests.fixtures.payloads import PHONE, WATCH
from tests.health_data.conftest import Get, Ingest, metric


def _steps(*points: tuple[str, float, str]) -> dict[str, object]:
    return metric(
        "step_count",
        "count",
        [{"date": date, "qty": qty, "source": source} for date, qty, source in points],
    )


async def test_day_buckets_are_the_senders_local_days(
    owner: TestKey, ingest: Ingest, get: Get
) -> None:
    # 23:30 at UTC-5 is already the next day in UTC: it still belongs to March 1st.
    await ingest(
        owner,
        _steps(
            ("2024-03-01 08:00:00 -0500", 1000, WATCH),
            ("2024-03-01 23:30:00 -0500", 500, WATCH),
            ("2024-03-02 00:30:00 -0500", 70, WATCH),
        ),
    )
    body = (await get(owner, "/metrics/step_count/series", bucket="day")).json()
    assert body["agg"] == "sum"
    assert body["points"] == [
        {"start": "2024-03-01T00:00:00-05:00", "value": 1500.0, "count": 2},
        {"start": "2024-03-02T00:00:00-05:00", "value": 70.0, "count": 1},
    ]


async def test_days_across_a_dst_change_follow_the_stored_offsets(
    owner: TestKey, ingest: Ingest, get: Get
) -> None:
    # US clocks sprang forward on 2024-03-10 at 02:00 (-05:00 -> -04:00).
    await ingest(
        owner,
        _steps(
            ("2024-03-09 23:50:00 -0500", 10, WATCH),
            ("2024-03-10 00:10:00 -0500", 20, WATCH),
            ("2024-03-10 23:50:00 -0400", 30, WATCH),
            ("2024-03-11 00:10:00 -0400", 40, WATCH),
        ),
    )
    stored = (await get(owner, "/metrics/step_count/series", bucket="day")).json()["points"]
    assert stored == [
        {"start": "2024-03-09T00:00:00-05:00", "value": 10.0, "count": 1},
        {"start": "2024-03-10T00:00:00-05:00", "value": 50.0, "count": 2},
        {"start": "2024-03-11T00:00:00-04:00", "value": 40.0, "count": 1},
    ]
    zoned = await get(owner, "/metrics/step_count/series", bucket="day", tz="America/New_York")
    assert zoned.json()["points"] == stored
    assert zoned.json()["tz"] == "America/New_York"
    # Seen from Europe the same instants fall on other days.
    paris = await get(owner, "/metrics/step_count/series", bucket="day", tz="Europe/Paris")
    assert [(p["start"], p["value"]) for p in paris.json()["points"]] == [
        ("2024-03-10T00:00:00+01:00", 30.0),
        ("2024-03-11T00:00:00+01:00", 70.0),
    ]


async def test_sources_reporting_the_same_period_are_not_added_twice(
    owner: TestKey, ingest: Ingest, get: Get
) -> None:
    await ingest(
        owner,
        _steps(
            ("2024-03-14 10:00:00 -0400", 120, WATCH),
            ("2024-03-14 10:00:00 -0400", 100, PHONE),
            ("2024-03-14 11:00:00 -0400", 40, PHONE),
        ),
    )
    body = (await get(owner, "/metrics/step_count/series", bucket="day")).json()
    assert body["points"] == [{"start": "2024-03-14T00:00:00-04:00", "value": 160.0, "count": 2}]
    watch = await get(owner, "/metrics/step_count/series", bucket="day", source=WATCH)
    assert watch.json()["points"][0]["value"] == 120.0


async def test_discrete_metrics_default_to_avg_and_hour_buckets_keep_offsets(
    owner: TestKey, ingest: Ingest, get: Get
) -> None:
    points = [
        {"date": "2024-03-14 10:00:00 -0400", "Min": 60, "Avg": 70, "Max": 80},
        {"date": "2024-03-14 10:30:00 -0400", "Min": 50, "Avg": 90, "Max": 120},
        {"date": "2024-03-14 11:00:00 -0400", "Min": 55, "Avg": 65, "Max": 75},
    ]
    await ingest(owner, metric("heart_rate", "count/min", points))
    params = {"bucket": "hour", "start": "2024-03-14", "end": "2024-03-15"}
    body = (await get(owner, "/metrics/heart_rate/series", **params)).json()
    assert body["agg"] == "avg"
    assert body["points"] == [
        {"start": "2024-03-14T10:00:00-04:00", "value": 80.0, "count": 2},
        {"start": "2024-03-14T11:00:00-04:00", "value": 65.0, "count": 1},
    ]
    highest = await get(owner, "/metrics/heart_rate/series", agg="max", **params)
    assert [p["value"] for p in highest.json()["points"]] == [120.0, 75.0]
    lowest = await get(owner, "/metrics/heart_rate/series", agg="min", **params)
    assert [p["value"] for p in lowest.json()["points"]] == [50.0, 55.0]


async def test_series_converts_units(owner: TestKey, ingest: Ingest, get: Get) -> None:
    points = [{"date": "2024-03-14 10:00:00 -0400", "qty": 1.609344}]
    await ingest(owner, metric("walking_running_distance", "km", points))
    body = (await get(owner, "/metrics/walking_running_distance/series", unit="mi")).json()
    assert body["unit"] == "mi"
    assert body["points"][0]["value"] == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("params", "status", "path"),
    [
        ({"bucket": "minute", "start": "2024-01-01", "end": "2025-01-01"}, 400, "query.bucket"),
        ({"bucket": "minute"}, 400, "query.start"),
        ({"bucket": "fortnight"}, 422, "query.bucket"),
        ({"agg": "median"}, 422, "query.agg"),
        ({"tz": "Mars/Olympus"}, 400, "query.tz"),
        ({"start": "2024-02-01", "end": "2024-01-01"}, 400, "query.end"),
    ],
)
async def test_bad_series_parameters_are_refused_with_a_hint(
    owner: TestKey, get: Get, params: dict[str, str], status: int, path: str
) -> None:
    response = await get(owner, "/metrics/step_count/series", **params)
    assert response.status_code == status
    assert response.json()["errors"][0]["path"] == path


async def test_minute_buckets_over_a_year_suggest_a_coarser_bucket(
    owner: TestKey, get: Get
) -> None:
    params = {"bucket": "minute", "start": "2024-01-01", "end": "2025-01-01"}
    response = await get(owner, "/metrics/step_count/series", **params)
    assert "bucket=hour" in response.json()["detail"]
