"""GET /api/v1/sleep: aggregated sessions and segments come back as the same nights."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import orjson
import pytest

from tests.fixtures import payloads, sleep_nights
from tests.fixtures.auth import TestKey
from tests.fixtures.captures import SLEEP_STAGES, Origin, capture_bytes
from tests.fixtures.exports import sent_at
from tests.fixtures.payloads import envelope
from tests.health_data.conftest import Get, Ingest


async def test_aggregated_nights_come_back_with_stages_and_efficiency(
    owner: TestKey, ingest: Ingest, get: Get
) -> None:
    await ingest(owner, payloads.hae_sleep_aggregated(nights=2))
    nights = (await get(owner, "/sleep")).json()["nights"]
    assert [night["date"] for night in nights] == ["2024-03-15", "2024-03-16"]
    first = nights[0]
    assert first["origin"] == "aggregated"
    assert (first["core_h"], first["deep_h"], first["rem_h"]) == (4.5, 1.0, 2.0)
    assert (first["total_sleep_h"], first["in_bed_h"]) == (7.5, 8.0)
    assert first["efficiency"] == pytest.approx(7.5 / 8.0)
    assert first["sleep_start"] == "2024-03-14T23:05:00-04:00"
    assert first["sources"] == [payloads.WATCH]


async def test_segments_are_grouped_into_nights_like_sessions(
    owner: TestKey, ingest: Ingest, get: Get
) -> None:
    await ingest(owner, payloads.hae_sleep_stages(nights=1))
    (night,) = (await get(owner, "/sleep")).json()["nights"]
    assert night["origin"] == "segments"
    assert night["date"] == "2024-03-15"
    assert (night["core_h"], night["deep_h"], night["rem_h"]) == (4.5, 2.25, 1.5)
    assert night["awake_h"] == 0.25
    assert night["total_sleep_h"] == 8.25
    assert night["in_bed_h"] == 8.0
    assert night["in_bed_start"] == "2024-03-14T23:00:00-04:00"
    assert night["sleep_start"] == "2024-03-14T23:00:00-04:00"
    assert len(night["segments"]) == 13
    assert sorted(night["sources"]) == sorted([payloads.PHONE, payloads.WATCH])


async def test_unaggregated_export_gives_one_night_per_date(
    owner: TestKey, ingest: Ingest, get: Get, origin: Origin
) -> None:
    doc = SLEEP_STAGES.doc(origin)
    await ingest(owner, doc)
    nights = (await get(owner, "/sleep")).json()["nights"]
    # A segment belongs to the night of the local date six hours after it starts.
    segments = doc["data"]["metrics"][0]["data"]
    starts = [sent_at(segment["startDate"]) for segment in segments]
    expected = sorted({(start + timedelta(hours=6)).date().isoformat() for start in starts})
    assert [night["date"] for night in nights] == expected
    for night in nights:
        parts = sum(night[name] for name in ("core_h", "deep_h", "rem_h", "asleep_h"))
        assert night["total_sleep_h"] == pytest.approx(parts)


async def test_sleep_range_selects_nights_by_when_they_ended(
    owner: TestKey, ingest: Ingest, get: Get
) -> None:
    await ingest(owner, payloads.hae_sleep_aggregated(nights=3))
    body = (await get(owner, "/sleep", start="2024-03-16", end="2024-03-17")).json()
    assert [night["date"] for night in body["nights"]] == ["2024-03-16"]


async def test_every_aggregated_night_is_named_by_its_wake_up_date(
    owner: TestKey, ingest: Ingest, get: Get
) -> None:
    await ingest(owner, sleep_nights.aggregated_nights(sleep_nights.four_march_nights()))
    body = (await get(owner, "/sleep", start="2024-03-01", end="2024-04-01")).json()
    nights = body["nights"]
    assert [night["date"] for night in nights] == [
        "2024-03-14",
        "2024-03-15",
        "2024-03-16",
        "2024-03-17",
    ]
    assert [night["sleep_end"] for night in nights] == [
        "2024-03-14T06:12:00-04:00",
        "2024-03-15T06:59:58-04:00",
        "2024-03-16T07:01:00-04:00",
        "2024-03-17T08:05:00-04:00",
    ]
    expected = [night.asleep_h for night in sleep_nights.four_march_nights()]
    assert [night["total_sleep_h"] for night in nights] == pytest.approx(expected)


async def test_bare_date_nights_are_named_by_their_wake_up_date(
    owner: TestKey, ingest: Ingest, get: Get
) -> None:
    local = sleep_nights.local
    nights = [
        sleep_nights.Night(local(13, 23, 0), local(14, 7, 0), date_style="date_only"),
        sleep_nights.Night(local(15, 0, 40), local(15, 6, 30), date_style="date_only"),
    ]
    await ingest(owner, sleep_nights.aggregated_nights(nights))
    body = (await get(owner, "/sleep")).json()
    assert [night["date"] for night in body["nights"]] == ["2024-03-14", "2024-03-15"]


async def test_a_nap_and_the_night_of_one_day_add_up(
    owner: TestKey, ingest: Ingest, get: Get
) -> None:
    local = sleep_nights.local
    night = sleep_nights.Night(local(13, 23, 0), local(14, 6, 0), date_style="end")
    nap = sleep_nights.Night(local(14, 14, 0), local(14, 15, 30), date_style="end", awake_h=0.0)
    await ingest(owner, sleep_nights.aggregated_nights([night, nap]))
    (shown,) = (await get(owner, "/sleep")).json()["nights"]
    assert shown["date"] == "2024-03-14"
    assert shown["total_sleep_h"] == pytest.approx(night.asleep_h + nap.asleep_h)
    assert shown["sleep_start"] == "2024-03-13T23:00:00-04:00"
    assert shown["sleep_end"] == "2024-03-14T15:30:00-04:00"


async def test_a_night_resent_with_another_date_is_shown_once(
    owner: TestKey, ingest: Ingest, get: Get
) -> None:
    local = sleep_nights.local
    first = sleep_nights.Night(local(13, 23, 0), local(14, 6, 0), date_style="end")
    again = sleep_nights.Night(local(13, 23, 0), local(14, 6, 0), date_style="start")
    await ingest(owner, sleep_nights.aggregated_nights([first]))
    await ingest(owner, sleep_nights.aggregated_nights([again]))
    (shown,) = (await get(owner, "/sleep")).json()["nights"]
    assert shown["date"] == "2024-03-14"
    assert shown["total_sleep_h"] == pytest.approx(first.asleep_h)


async def test_real_aggregated_capture_keeps_every_night(
    owner: TestKey, ingest: Ingest, get: Get
) -> None:
    doc: dict[str, Any] = orjson.loads(capture_bytes("hae", "metrics-day-grouping-2023-2025.json"))
    (sleep,) = [m for m in doc["data"]["metrics"] if m["name"] == "sleep_analysis"]
    wake_dates = sorted({item["sleepEnd"][:10] for item in sleep["data"]})
    await ingest(owner, envelope(metrics=[sleep]))
    nights = (await get(owner, "/sleep")).json()["nights"]
    assert len(wake_dates) == 287
    assert [night["date"] for night in nights] == wake_dates
