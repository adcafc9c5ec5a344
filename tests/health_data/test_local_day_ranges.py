"""Date-only start/end of day-or-coarser answers mean whole local days.

A date names the sender's local day (each sample's stored offset, or ``tz=``), so a
day's total is the same whether it is asked alone, within a week or within a month.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from tests.fixtures import sleep_nights
from tests.fixtures.auth import TestKey
from tests.fixtures.payloads import WATCH
from tests.health_data.conftest import Get, Ingest, metric

# Steps at −04:00 around 2024-03-14; 20:30 and 23:30 local are already 03-15 in UTC.
STEPS = (
    ("2024-03-13 23:30:00 -0400", 100.0),
    ("2024-03-14 00:30:00 -0400", 200.0),
    ("2024-03-14 12:00:00 -0400", 300.0),
    ("2024-03-14 20:30:00 -0400", 400.0),
    ("2024-03-14 23:30:00 -0400", 500.0),
    ("2024-03-15 00:30:00 -0400", 600.0),
)
MARCH_14_TOTAL = 1400.0
RANGES = {
    "alone": ("2024-03-14", "2024-03-15"),
    "week": ("2024-03-11", "2024-03-18"),
    "month": ("2024-03-01", "2024-04-01"),
}


def _steps_payload() -> dict[str, Any]:
    points = [{"date": date, "qty": qty, "source": WATCH} for date, qty in STEPS]
    return metric("step_count", "count", points)


def _day(days: list[dict[str, Any]], wanted: str) -> dict[str, Any]:
    (found,) = [day for day in days if day["date"] == wanted]
    return found


@pytest.mark.parametrize("asked", sorted(RANGES))
async def test_daily_activity_day_total_is_the_same_in_any_range(
    owner: TestKey, ingest: Ingest, get: Get, asked: str
) -> None:
    await ingest(owner, _steps_payload())
    start, end = RANGES[asked]
    days = (await get(owner, "/activity/daily", start=start, end=end)).json()["days"]
    assert _day(days, "2024-03-14")["steps"] == MARCH_14_TOTAL
    if asked == "alone":
        assert [day["date"] for day in days] == ["2024-03-14"]


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [("2024-03-13", "2024-03-14", 100.0), ("2024-03-15", "2024-03-16", 600.0)],
)
async def test_samples_near_midnight_count_to_their_local_days(
    owner: TestKey, ingest: Ingest, get: Get, start: str, end: str, expected: float
) -> None:
    # 23:30 on 03-13 and 00:30 on 03-15 (−04:00) belong to those days, not to 03-14.
    await ingest(owner, _steps_payload())
    days = (await get(owner, "/activity/daily", start=start, end=end)).json()["days"]
    assert [(day["date"], day["steps"]) for day in days] == [(start, expected)]


@pytest.mark.parametrize("asked", sorted(RANGES))
async def test_day_series_total_is_the_same_in_any_range(
    owner: TestKey, ingest: Ingest, get: Get, asked: str
) -> None:
    await ingest(owner, _steps_payload())
    start, end = RANGES[asked]
    body = (
        await get(owner, "/metrics/step_count/series", bucket="day", start=start, end=end)
    ).json()
    by_day = {point["start"]: point["value"] for point in body["points"]}
    assert by_day["2024-03-14T00:00:00-04:00"] == MARCH_14_TOTAL
    if asked == "alone":
        assert list(by_day) == ["2024-03-14T00:00:00-04:00"]


async def test_week_series_holds_whole_local_days(owner: TestKey, ingest: Ingest, get: Get) -> None:
    await ingest(owner, _steps_payload())
    body = (
        await get(
            owner, "/metrics/step_count/series", bucket="week", start="2024-03-14", end="2024-03-15"
        )
    ).json()
    assert [(point["start"], point["value"]) for point in body["points"]] == [
        ("2024-03-11T00:00:00-04:00", MARCH_14_TOTAL)
    ]


async def test_tz_dates_are_days_of_that_zone(owner: TestKey, ingest: Ingest, get: Get) -> None:
    # In Paris (+01:00) 20:30 −04:00 is already 01:30 on 03-15.
    await ingest(owner, _steps_payload())
    params = {"start": "2024-03-14", "end": "2024-03-15", "tz": "Europe/Paris"}
    days = (await get(owner, "/activity/daily", **params)).json()["days"]
    assert [(day["date"], day["steps"]) for day in days] == [("2024-03-14", 600.0)]
    series = (await get(owner, "/metrics/step_count/series", bucket="day", **params)).json()
    assert [(p["start"], p["value"]) for p in series["points"]] == [
        ("2024-03-14T00:00:00+01:00", 600.0)
    ]


async def test_sleep_dates_are_local_wake_up_days(owner: TestKey, ingest: Ingest, get: Get) -> None:
    # At +10:00 a 07:00 wake-up on 03-15 is still 03-14 in UTC.
    sydney = timezone(timedelta(hours=10))
    nights = [
        sleep_nights.Night(
            datetime(2024, 3, day - 1, 23, 0, tzinfo=sydney),
            datetime(2024, 3, day, 7, 0, tzinfo=sydney),
        )
        for day in (14, 15, 16)
    ]
    await ingest(owner, sleep_nights.aggregated_nights(nights))
    body = (await get(owner, "/sleep", start="2024-03-15", end="2024-03-16")).json()
    assert [night["date"] for night in body["nights"]] == ["2024-03-15"]
