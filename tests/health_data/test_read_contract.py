"""What the read API promises: every metric listed, every stored route attribute, local times,
and export file names that say what they hold."""

from __future__ import annotations

from typing import Any

import orjson

from tests.fixtures import payloads
from tests.fixtures.auth import TestKey
from tests.health_data.conftest import Get, Ingest, metric


def _by_name(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["name"]: entry for entry in body["metrics"]}


async def test_metric_list_includes_sleep_and_points_to_sleep_route(
    owner: TestKey, ingest: Ingest, get: Get
) -> None:
    await ingest(owner, payloads.hae_sleep_aggregated(nights=2))
    await ingest(owner, payloads.hae_sleep_stages(nights=1))
    await ingest(
        owner, metric("step_count", "count", [{"date": "2024-03-14 10:00:00 -0400", "qty": 5}])
    )
    listed = _by_name((await get(owner, "/metrics")).json())
    sleep = listed["sleep_analysis"]
    assert sleep["read_at"] == "/api/v1/sleep"
    assert sleep["unit"] == "hr"
    assert sleep["count"] == 2 + 13
    assert sleep["sources"] == sorted([payloads.PHONE, payloads.WATCH])
    assert sleep["first"] == "2024-03-14T23:00:00-04:00"
    assert listed["step_count"]["read_at"] == "/api/v1/metrics/step_count"


async def test_metric_list_first_and_last_are_at_the_senders_offset(
    owner: TestKey, ingest: Ingest, get: Get
) -> None:
    points = [
        {"date": "2024-03-14 10:00:00 -0400", "qty": 5},
        {"date": "2024-06-01 09:30:00 +0200", "qty": 7},
    ]
    await ingest(owner, metric("step_count", "count", points))
    steps = _by_name((await get(owner, "/metrics")).json())["step_count"]
    assert steps["first"] == "2024-03-14T10:00:00-04:00"
    assert steps["last"] == "2024-06-01T09:30:00+02:00"


async def test_geojson_route_carries_speed_and_course_accuracies(
    owner: TestKey, ingest: Ingest, get: Get
) -> None:
    await ingest(owner, payloads.hae_workouts(count=1, version=2, route_points=3))
    (workout,) = (await get(owner, "/workouts")).json()["workouts"]
    properties = (await get(owner, f"/workouts/{workout['id']}/route")).json()["properties"]
    assert properties["speed_accuracy"] == [0.5, 0.5, 0.5]
    assert properties["course_accuracy"] == [5.0, 5.0, 5.0]


async def test_exported_route_times_are_at_the_senders_offset(
    owner: TestKey, ingest: Ingest, get: Get
) -> None:
    await ingest(owner, payloads.hae_workouts(count=1, version=2, route_points=2))
    response = await get(owner, "/export", types="workouts")
    lines = [orjson.loads(line) for line in response.content.splitlines()]
    route = next(line for line in lines if line["type"] == "workout_route")
    assert route["details"]["times"] == ["2024-03-14T07:00:00-04:00", "2024-03-14T07:00:30-04:00"]


async def test_exported_sleep_times_are_at_the_senders_offset(
    owner: TestKey, ingest: Ingest, get: Get
) -> None:
    await ingest(owner, payloads.hae_sleep_aggregated(nights=1))
    response = await get(owner, "/export", types="sleep")
    (night,) = [orjson.loads(line) for line in response.content.splitlines()]
    assert night["details"]["sleep_start"] == "2024-03-14T23:05:00-04:00"
    assert night["details"]["in_bed_end"] == "2024-03-15T06:40:00-04:00"


async def test_export_file_names_say_which_types_and_range(owner: TestKey, get: Get) -> None:
    async def name_of(**params: str) -> str:
        response = await get(owner, "/export", **params)
        disposition: str = response.headers["content-disposition"]
        return disposition.split('filename="')[1].rstrip('"')

    everything = await name_of()
    metrics = await name_of(types="metrics")
    sleep_march = await name_of(
        types="sleep,metrics", start="2024-03-01", end="2024-04-01", format="csv"
    )
    assert len({everything, metrics, sleep_march}) == 3
    assert "-all" in everything
    assert "-metrics" in metrics
    assert sleep_march.endswith("-sleep+metrics-20240301-20240401.csv")


async def test_exported_ecg_first_sample_time_is_at_the_senders_offset(
    owner: TestKey, ingest: Ingest, get: Get
) -> None:
    await ingest(owner, payloads.hae_ecg(samples=4))
    response = await get(owner, "/export", types="ecg")
    (recording,) = [orjson.loads(line) for line in response.content.splitlines()]
    assert recording["details"]["first_sample_at"] == "2024-03-14T00:00:00-04:00"
