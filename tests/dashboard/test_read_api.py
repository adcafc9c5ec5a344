"""The dashboard's read endpoints agree with the API routes they summarise."""

from __future__ import annotations

import statistics
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import orjson
import pytest

from tests.fixtures import payloads
from tests.fixtures.auth import TestKey
from tests.fixtures.dashboard_data import MONTH_START, ZONE

# Ten days shown; the ten before them are the previous period.
SHOWN = {"start": "2024-03-11", "end": "2024-03-21", "tz": ZONE}


async def store(client: httpx.AsyncClient, key: TestKey, payload: dict[str, Any]) -> None:
    """Ingest ``payload``; every point stored."""
    headers = {"Content-Type": "application/json", **key.headers}
    response = await client.post("/api/v1/ingest", content=orjson.dumps(payload), headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["rejected"] == 0


async def get(client: httpx.AsyncClient, key: TestKey, path: str, **params: str) -> Any:
    """GET ``path``; its JSON."""
    response = await client.get(path, params=params, headers=key.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def stored_month(client: httpx.AsyncClient, key: TestKey) -> None:
    """Hourly steps and daily resting heart rate over March, and 20 nights of sleep."""
    hourly, daily = timedelta(hours=1), timedelta(days=1)
    start = MONTH_START
    await store(client, key, payloads.hae_metrics(("step_count",), 31 * 24, start, hourly))
    morning = start + timedelta(hours=8)
    await store(client, key, payloads.hae_metrics(("resting_heart_rate",), 31, morning, daily))
    await store(client, key, payloads.hae_sleep_aggregated(nights=20, start=start))


async def test_overview_cards_match_the_routes_they_summarise(
    client: httpx.AsyncClient, ingest_key: TestKey
) -> None:
    await stored_month(client, ingest_key)
    cards = {
        c["key"]: c for c in (await get(client, ingest_key, "/api/v1/overview", **SHOWN))["cards"]
    }

    activity = await get(client, ingest_key, "/api/v1/activity/daily", **SHOWN)
    steps = {d["date"]: d["steps"] for d in activity["days"]}
    # Float sums in PostgreSQL depend on the order rows are added in (two queries may
    # differ in the last bits): the same numbers, to 12 significant digits.
    assert {d["date"]: d["value"] for d in cards["steps"]["days"]} == pytest.approx(steps)
    assert len(steps) == 10
    assert cards["steps"]["latest"]["date"] == "2024-03-20"
    assert cards["steps"]["latest"]["value"] == pytest.approx(steps["2024-03-20"])
    assert cards["steps"]["mean"] == pytest.approx(statistics.fmean(steps.values()))

    before = {**SHOWN, "start": "2024-03-01", "end": "2024-03-11"}
    earlier = (await get(client, ingest_key, "/api/v1/activity/daily", **before))["days"]
    previous = statistics.fmean(d["steps"] for d in earlier)
    assert cards["steps"]["previous_mean"] == pytest.approx(previous)
    assert cards["steps"]["change"] == pytest.approx(cards["steps"]["mean"] - previous)
    assert abs(cards["steps"]["change_pct"] - cards["steps"]["change"] / previous * 100) < 1e-9
    both = [d["steps"] for d in earlier] + list(steps.values())
    low, _, high = statistics.quantiles(both, n=4, method="inclusive")
    assert cards["steps"]["typical"] == pytest.approx({"low": low, "high": high})

    series = await get(
        client, ingest_key, "/api/v1/metrics/resting_heart_rate/series", **SHOWN, bucket="day"
    )
    resting = {p["start"][:10]: p["value"] for p in series["points"]}
    assert {d["date"]: d["value"] for d in cards["resting_hr"]["days"]} == pytest.approx(resting)

    nights = (await get(client, ingest_key, "/api/v1/sleep", **SHOWN))["nights"]
    assert [d["value"] for d in cards["sleep"]["days"]] == [n["total_sleep_h"] for n in nights]
    assert cards["sleep"]["latest"]["date"] == nights[-1]["date"]

    assert cards["weight"]["latest"] is None
    assert cards["weight"]["days"] == []
    assert cards["weight"]["hae_name"] == "Weight & Body Mass"


async def test_overview_of_an_open_range_has_no_previous_period(
    client: httpx.AsyncClient, ingest_key: TestKey
) -> None:
    await stored_month(client, ingest_key)
    answer = await get(client, ingest_key, "/api/v1/overview", tz=ZONE)
    steps = next(card for card in answer["cards"] if card["key"] == "steps")
    assert len(steps["days"]) >= 31
    assert steps["previous_mean"] is None
    assert steps["change"] is None


async def test_heart_daily_matches_the_series_route(
    client: httpx.AsyncClient, ingest_key: TestKey
) -> None:
    hourly = timedelta(hours=1)
    await store(
        client, ingest_key, payloads.hae_metrics(("heart_rate",), 5 * 24, MONTH_START, hourly)
    )
    days = (
        await get(client, ingest_key, "/api/v1/heart/daily", **SHOWN | {"start": "2024-03-01"})
    )["days"]
    assert len(days) == 5
    for field, agg in (("hr_min", "min"), ("hr_avg", "avg"), ("hr_max", "max")):
        series = await get(
            client,
            ingest_key,
            "/api/v1/metrics/heart_rate/series",
            start="2024-03-01",
            end="2024-03-21",
            tz=ZONE,
            bucket="day",
            agg=agg,
        )
        assert {d["date"]: d[field] for d in days} == {
            p["start"][:10]: p["value"] for p in series["points"]
        }
    assert all(d["resting_hr"] is None and d["hrv_ms"] is None for d in days)


async def test_bad_parameters_are_named(client: httpx.AsyncClient, ingest_key: TestKey) -> None:
    for path in ("/api/v1/overview", "/api/v1/heart/daily"):
        response = await client.get(path, params={"tz": "Mars/Olympus"}, headers=ingest_key.headers)
        assert response.status_code == 400
        assert response.json()["errors"][0]["path"] == "query.tz"
        response = await client.get(
            path, params={"start": "2024-03-10", "end": "2024-03-01"}, headers=ingest_key.headers
        )
        assert response.status_code == 400
        assert response.json()["errors"][0]["path"] == "query.end"
        assert (await client.get(path)).status_code == 401


async def test_workouts_read_bare_dates_in_the_zone_asked(
    client: httpx.AsyncClient, ingest_key: TestKey
) -> None:
    # 23:30 on 9 March in New York is 04:30 UTC on the 10th.
    evening = datetime(2024, 3, 9, 16, 30, tzinfo=timezone(timedelta(hours=-5)))
    await store(client, ingest_key, payloads.hae_workouts(count=1, start=evening))
    day = {"start": "2024-03-10", "end": "2024-03-11"}
    in_utc = await get(client, ingest_key, "/api/v1/workouts", **day)
    in_new_york = await get(client, ingest_key, "/api/v1/workouts", **day, tz=ZONE)
    assert len(in_utc["workouts"]) == 1
    assert in_new_york["workouts"] == []
    earlier = {"start": "2024-03-09", "end": "2024-03-10", "tz": ZONE}
    assert len((await get(client, ingest_key, "/api/v1/workouts", **earlier))["workouts"]) == 1


async def test_heart_daily_has_blood_pressure_and_notifications_by_local_day(
    client: httpx.AsyncClient, ingest_key: TestKey
) -> None:
    # Two readings a day at 07:00 and 21:30 (-04:00); the last evening's is 01:30 UTC.
    for hour in (7, 21.5):
        start = MONTH_START + timedelta(hours=hour)
        daily = payloads.hae_metrics(("blood_pressure",), 20, start, timedelta(days=1), seed=7)
        await store(client, ingest_key, daily)
    alert = MONTH_START + timedelta(days=12, hours=15)
    await store(client, ingest_key, payloads.hae_heart_rate_notifications(start=alert))

    answer = await get(client, ingest_key, "/api/v1/heart/daily", **SHOWN)

    raw = await get(
        client, ingest_key, "/api/v1/metrics/blood_pressure", start="2024-03-10", limit="1000"
    )
    per_day: dict[str, list[dict[str, Any]]] = {}
    for sample in raw["samples"]:
        per_day.setdefault(sample["start"][:10], []).append(sample)
    expected = [
        {
            "date": day,
            "systolic": statistics.fmean(s["systolic"] for s in readings),
            "diastolic": statistics.fmean(s["diastolic"] for s in readings),
            "readings": len(readings),
        }
        for day, readings in sorted(per_day.items())
        if "2024-03-11" <= day < "2024-03-21"
    ]
    assert answer["blood_pressure"] == expected
    assert [d["readings"] for d in expected] == [2] * 10
    assert [(n["date"], n["kind"], n["threshold"]) for n in answer["notifications"]] == [
        ("2024-03-13", "high_heart_rate_notification", 120.0)
    ]
    assert answer["notifications"][0]["start"] == "2024-03-13T15:00:00-04:00"

    outside = await get(client, ingest_key, "/api/v1/heart/daily", start="2024-03-14", tz=ZONE)
    assert outside["notifications"] == []
    assert outside["blood_pressure"][0]["date"] == "2024-03-14"
