"""GET /api/v1/workouts, /workouts/{id}, /workouts/{id}/route (GeoJSON and GPX), bbox."""

from __future__ import annotations

from xml.etree import ElementTree

import pytest

from tests.fixtures import payloads
from tests.fixtures.auth import TestKey
from tests.fixtures.captures import V1_WORKOUTS, Origin
from tests.fixtures.exports import sent_at
from tests.health_data.conftest import Get, Ingest

GPX = "{http://www.topografix.com/GPX/1/1}"


async def _only_workout(owner: TestKey, get: Get) -> dict[str, object]:
    (workout,) = (await get(owner, "/workouts")).json()["workouts"]
    assert isinstance(workout, dict)
    return workout


async def test_v2_workout_comes_back_with_summaries_and_series(
    owner: TestKey, ingest: Ingest, get: Get
) -> None:
    await ingest(owner, payloads.hae_workouts(count=1, version=2, series_points=5))
    listed = await _only_workout(owner, get)
    assert listed["name"] == "Outdoor Run"
    assert listed["start"] == "2024-03-14T07:00:00-04:00"
    assert (listed["distance_km"], listed["active_energy_kcal"]) == (5.2, 300.0)
    assert listed["has_route"] is True
    detail = (await get(owner, f"/workouts/{listed['id']}")).json()
    assert detail["metadata"] == {"HKWeatherHumidity": "56 %"}
    assert len(detail["series"]["heartRateData"]) == 5
    assert len(detail["series"]["heartRateRecovery"]) == 3
    assert detail["series"]["activeEnergy"][0]["qty"] == 5.5


async def test_route_is_a_geojson_linestring_with_point_times_and_speeds(
    owner: TestKey, ingest: Ingest, get: Get
) -> None:
    await ingest(owner, payloads.hae_workouts(count=1, version=2, route_points=4))
    workout = await _only_workout(owner, get)
    response = await get(owner, f"/workouts/{workout['id']}/route")
    assert response.headers["content-type"] == "application/geo+json"
    feature = response.json()
    assert feature["type"] == "Feature"
    assert feature["geometry"]["type"] == "LineString"
    assert feature["geometry"]["coordinates"][1] == pytest.approx([-73.6001, 45.5001, 36.0])
    assert feature["properties"]["times"][:2] == [
        "2024-03-14T07:00:00-04:00",
        "2024-03-14T07:00:30-04:00",
    ]
    assert feature["properties"]["speed"] == [2.7] * 4


async def test_v1_export_lists_its_workouts(
    owner: TestKey, ingest: Ingest, get: Get, origin: Origin
) -> None:
    doc = V1_WORKOUTS.doc(origin)
    sent = doc["data"]["workouts"][0]
    await ingest(owner, doc)
    workouts = (await get(owner, "/workouts")).json()["workouts"]
    assert len(workouts) == len(doc["data"]["workouts"]) == 2
    walk = next(w for w in workouts if w["start"] == sent_at(sent["start"]).isoformat())
    assert walk["name"] == "Walking"
    assert walk["distance_km"] == pytest.approx(sent["distance"]["qty"] * 1.609344)
    detail = (await get(owner, f"/workouts/{walk['id']}")).json()
    assert len(detail["series"]["heartRateData"]) == len(sent["heartRateData"])
    assert len(detail["series"]["heartRateRecovery"]) == len(sent["heartRateRecovery"])


async def test_route_as_gpx_is_a_gpx_11_track(owner: TestKey, ingest: Ingest, get: Get) -> None:
    await ingest(owner, payloads.hae_workouts(count=1, version=1, route_points=6))
    workout = await _only_workout(owner, get)
    response = await get(owner, f"/workouts/{workout['id']}/route", format="gpx")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/gpx+xml")
    assert "attachment" in response.headers["content-disposition"]
    root = ElementTree.fromstring(response.content)  # noqa: S314 - our own output
    assert root.tag == f"{GPX}gpx"
    assert root.get("version") == "1.1"
    points = root.findall(f"{GPX}trk/{GPX}trkseg/{GPX}trkpt")
    assert len(points) == 6
    assert points[1].get("lat") == "45.5001"
    assert points[0].find(f"{GPX}time") is not None
    assert points[0].find(f"{GPX}time").text.endswith("Z")  # type: ignore[union-attr]


async def test_bbox_keeps_workouts_whose_route_crosses_it(
    owner: TestKey, ingest: Ingest, get: Get
) -> None:
    await ingest(owner, payloads.hae_workouts(count=2, version=2, route_points=10))
    inside = await get(owner, "/workouts", bbox="-73.7,45.4,-73.5,45.6")
    assert len(inside.json()["workouts"]) == 2
    elsewhere = await get(owner, "/workouts", bbox="2.2,48.8,2.4,48.9")
    assert elsewhere.json()["workouts"] == []


async def test_type_filter_and_range_select_workouts(
    owner: TestKey, ingest: Ingest, get: Get
) -> None:
    await ingest(owner, payloads.hae_workouts(count=3, version=2))
    assert len((await get(owner, "/workouts", type="outdoor run")).json()["workouts"]) == 3
    assert (await get(owner, "/workouts", type="Swim")).json()["workouts"] == []
    one_day = await get(owner, "/workouts", start="2024-03-15", end="2024-03-16")
    assert [w["start"] for w in one_day.json()["workouts"]] == ["2024-03-15T07:00:00-04:00"]


@pytest.mark.parametrize("bbox", ["1,2,3", "a,b,c,d", "10,0,5,1", "0,0,1,95", "-200,0,1,1"])
async def test_malformed_bbox_is_refused(owner: TestKey, get: Get, bbox: str) -> None:
    response = await get(owner, "/workouts", bbox=bbox)
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "query.bbox"


async def test_unknown_workout_is_404(owner: TestKey, get: Get) -> None:
    assert (await get(owner, "/workouts/not-a-uuid")).status_code == 404
    missing = "00000000-0000-0000-0000-000000000000"
    assert (await get(owner, f"/workouts/{missing}")).status_code == 404
    assert (await get(owner, f"/workouts/{missing}/route")).status_code == 404
