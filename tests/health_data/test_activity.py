"""GET /api/v1/activity/daily: local days, every activity metric, no double counting."""

from __future__ import annotations

import pytest

from tests.fixtures.auth import TestKey
from tests.fixtures.payloads import PHONE, WATCH
from tests.health_data.conftest import Get, Ingest


def _point(date: str, qty: float, source: str) -> dict[str, object]:
    return {"date": date, "qty": qty, "source": source}


async def test_daily_activity_takes_one_source_per_period_and_sums_periods(
    owner: TestKey, ingest: Ingest, get: Get
) -> None:
    ten, eleven = "2024-03-14 10:00:00 -0400", "2024-03-14 11:00:00 -0400"
    payload = {
        "data": {
            "metrics": [
                {
                    "name": "step_count",
                    "units": "count",
                    # Watch and iPhone both counted 10:00; only the iPhone was carried at 11:00.
                    "data": [
                        _point(ten, 1200, WATCH),
                        _point(ten, 1100, PHONE),
                        _point(eleven, 300, PHONE),
                    ],
                },
                {
                    "name": "walking_running_distance",
                    "units": "mi",
                    "data": [_point(ten, 1.0, WATCH), _point(ten, 0.5, PHONE)],
                },
                {"name": "active_energy", "units": "kJ", "data": [_point(ten, 418.4, WATCH)]},
                {"name": "basal_energy_burned", "units": "kcal", "data": [_point(ten, 70, WATCH)]},
                {"name": "apple_exercise_time", "units": "min", "data": [_point(ten, 12, WATCH)]},
                {
                    "name": "apple_stand_hour",
                    "units": "count",
                    "data": [_point(ten, 1, WATCH), _point(eleven, 1, WATCH)],
                },
                {"name": "flights_climbed", "units": "count", "data": [_point(ten, 3, PHONE)]},
            ]
        }
    }
    await ingest(owner, payload)
    body = (await get(owner, "/activity/daily", start="2024-03-01", end="2024-04-01")).json()
    assert len(body["days"]) == 1
    day = body["days"][0]
    assert day.pop("distance_km") == 1.609344
    assert day.pop("active_energy_kcal") == pytest.approx(100.0)
    assert day == {
        "date": "2024-03-14",
        "steps": 1500.0,
        "basal_energy_kcal": 70.0,
        "exercise_min": 12.0,
        "stand_hours": 2.0,
        "flights_climbed": 3.0,
    }


async def test_daily_activity_uses_the_local_day_and_tz(
    owner: TestKey, ingest: Ingest, get: Get
) -> None:
    late = {"date": "2024-03-14 23:30:00 -0500", "qty": 500, "source": WATCH}
    await ingest(
        owner, {"data": {"metrics": [{"name": "step_count", "units": "count", "data": [late]}]}}
    )
    local = (await get(owner, "/activity/daily")).json()["days"]
    assert [(d["date"], d["steps"]) for d in local] == [("2024-03-14", 500.0)]
    utc = (await get(owner, "/activity/daily", tz="UTC")).json()["days"]
    assert [(d["date"], d["steps"]) for d in utc] == [("2024-03-15", 500.0)]
