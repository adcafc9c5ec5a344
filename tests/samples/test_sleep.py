"""GET /api/v1/sleep: aggregated sessions and segments come back as the same nights."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.fixtures import payloads
from tests.fixtures.auth import TestKey
from tests.fixtures.captures import SLEEP_STAGES, Origin
from tests.fixtures.exports import sent_at
from tests.samples.conftest import Get, Ingest


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
