"""Every rollup-backed answer equals the answer computed from the rows.

The app under test reads day/week/month series and /activity/daily from the rollups;
a second app on the same database (``ROLLUPS_READ=off``) computes them from the rows,
the code path that answered before rollups existed. The history (tests/fixtures/
rollup_corpus.py) has two overlapping sources, both DST nights, offsets changing
mid-range, a cumulative metric with one source and discrete metrics; it is checked
after the first ingest, after re-sends with changed values and after an erase.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.fixtures import rollup_corpus
from tests.fixtures.auth import TestKey
from tests.fixtures.payloads import PHONE, WATCH
from tests.health_data.conftest import Ingest
from tests.ingest.conftest import fetch

METRICS = ("step_count", "heart_rate", "active_energy", "blood_pressure")
AGGS = ("sum", "avg", "min", "max", "count")
BUCKETS = ("day", "week", "month")
# Bare dates (whole local days), instants cutting days at both ends, open ends, mixes.
RANGES: tuple[dict[str, str], ...] = (
    {"start": "2024-02-27", "end": "2024-03-20"},
    {"start": "2024-03-01T10:30:00-05:00", "end": "2024-03-18T07:00:00+01:00"},
    {},
    {"start": "2024-03-09", "end": "2024-11-05T13:15:00Z"},
    {"start": "2024-10-30T23:59:00-04:00", "end": "2024-11-03"},
)
ACTIVITY_RANGES: tuple[dict[str, str], ...] = (
    *RANGES,
    {"start": "2024-03-14", "end": "2024-03-19"},
    {"start": "2024-03-10", "end": "2024-03-11"},
    {"end": "2024-03-12"},
)


# tz= answers read hourly rollups for zones of whole hours; Kolkata (+05:30) reads rows.
ZONES = ("America/New_York", "Europe/Paris", "UTC", "Asia/Kolkata")


def _series_queries(ranges: tuple[dict[str, str], ...]) -> list[dict[str, str]]:
    """Day buckets: every metric, aggregate and range; weeks and months: every metric at
    its default aggregate and at max, over whole days and over cut ones; one source."""
    queries = [
        {"metric": metric, "bucket": "day", "agg": agg, **span}
        for metric in METRICS
        for agg in AGGS
        for span in ranges
    ]
    queries += [
        {"metric": metric, "bucket": bucket, **agg, **span}
        for metric in METRICS
        for bucket in BUCKETS[1:]
        for agg in ({}, {"agg": "max"})
        for span in RANGES[:2]
    ]
    queries += [
        {"metric": metric, "bucket": "day", "source": WATCH, **RANGES[1]}
        for metric in ("step_count", "heart_rate")
    ]
    return queries


async def _answers(
    client: httpx.AsyncClient, rows_client: httpx.AsyncClient, key: TestKey, path: str,
    params: dict[str, str],
) -> tuple[Any, Any]:  # fmt: skip
    from_rollups = await client.get(f"/api/v1{path}", params=params, headers=key.headers)
    from_rows = await rows_client.get(f"/api/v1{path}", params=params, headers=key.headers)
    assert from_rollups.status_code == 200, from_rollups.text
    assert from_rows.status_code == 200, from_rows.text
    return from_rollups.json(), from_rows.json()


async def assert_every_answer_equal(
    client: httpx.AsyncClient,
    rows_client: httpx.AsyncClient,
    key: TestKey,
    ranges: tuple[dict[str, str], ...] = RANGES,
    tz: str | None = None,
) -> int:
    """Compare every metric x bucket x aggregate x range (and a source filter), in the
    stored offsets or in ``tz``; how many answers had points (so that an empty database
    cannot pass)."""
    zone = {"tz": tz} if tz is not None else {}
    with_points = 0
    for params in _series_queries(ranges):
        metric = params.pop("metric")
        params |= zone
        ours, theirs = await _answers(client, rows_client, key, f"/metrics/{metric}/series", params)
        assert ours == theirs, (metric, params)
        with_points += bool(ours["points"])
    for span in ACTIVITY_RANGES:
        ours, theirs = await _answers(client, rows_client, key, "/activity/daily", {**span, **zone})
        assert ours == theirs, span
        with_points += bool(ours["days"])
    return with_points


async def _rollup_rows(app: FastAPI, key: TestKey) -> int:
    rows = await fetch(
        app, "SELECT count(*) AS n FROM metric_rollups WHERE user_id = :u", u=key.user_id
    )
    return int(rows[0]["n"])


async def test_rollup_answers_equal_row_answers_after_the_first_ingest(
    app: FastAPI,
    client: httpx.AsyncClient,
    rows_client: httpx.AsyncClient,
    owner: TestKey,
    ingest: Ingest,
) -> None:
    await ingest(owner, rollup_corpus.history())
    assert await _rollup_rows(app, owner) > 0
    assert await assert_every_answer_equal(client, rows_client, owner) > 130


async def test_rollup_answers_equal_row_answers_after_resends_with_changed_values(
    app: FastAPI,
    client: httpx.AsyncClient,
    rows_client: httpx.AsyncClient,
    owner: TestKey,
    ingest: Ingest,
) -> None:
    await ingest(owner, rollup_corpus.history())
    # The whole history again with every value changed (staged batches, upserts), then
    # a few days changed once more in a small body (array parameters).
    resent = await ingest(owner, rollup_corpus.history(bump=0.5))
    assert resent["updated"] > 0
    small = await ingest(owner, rollup_corpus.changed_days(date(2024, 3, 9), 3, bump=2.25))
    assert small["updated"] > 0
    # The ranges that hold the changed days (the writer's work; the readers were
    # compared in full after the first ingest).
    answered = await assert_every_answer_equal(client, rows_client, owner, RANGES[:2])
    assert answered > 60


async def test_rollup_answers_equal_row_answers_after_erasing_a_range(
    app: FastAPI,
    client: httpx.AsyncClient,
    rows_client: httpx.AsyncClient,
    owner: TestKey,
    ingest: Ingest,
) -> None:
    await ingest(owner, rollup_corpus.history())
    before = await _rollup_rows(app, owner)
    erased = await client.delete(
        "/api/v1/data",
        params={
            "confirm": "true",
            "types": "metrics",
            "start": "2024-03-05T13:20:00-05:00",
            "end": "2024-03-16T02:00:00+01:00",
        },
        headers=owner.headers,
    )
    assert erased.status_code == 200, erased.text
    assert erased.json()["deleted"]["metric_samples"] > 0
    assert await _rollup_rows(app, owner) < before
    answered = await assert_every_answer_equal(client, rows_client, owner, RANGES[:2])
    assert answered > 60


async def test_rollup_answers_equal_row_answers_when_a_second_source_arrives_later(
    app: FastAPI,
    client: httpx.AsyncClient,
    rows_client: httpx.AsyncClient,
    owner: TestKey,
    ingest: Ingest,
) -> None:
    # Weeks of Watch steps alone (no per-period rollups kept), then the iPhone's for a
    # few days: every day of the Watch-only weeks must now answer per period too.
    await ingest(owner, rollup_corpus.steps_of(WATCH, date(2024, 2, 20), 40))
    await ingest(owner, rollup_corpus.steps_of(PHONE, date(2024, 3, 9), 3))
    periods = await fetch(
        app,
        "SELECT count(*) AS n FROM metric_rollups WHERE user_id = :u AND source_id = 0",
        u=owner.user_id,
    )
    # Not only the days around the iPhone's (about 5): all 29 days of the Watch.
    assert periods[0]["n"] >= 25
    for span in (*RANGES, *ACTIVITY_RANGES[-3:]):
        for path in ("/metrics/step_count/series", "/activity/daily"):
            ours, theirs = await _answers(client, rows_client, owner, path, dict(span))
            assert ours == theirs, (path, span)


@pytest.mark.parametrize("tz", ZONES)
async def test_answers_in_a_zone_equal_row_answers_after_ingest_resend_and_erase(
    client: httpx.AsyncClient,
    rows_client: httpx.AsyncClient,
    owner: TestKey,
    ingest: Ingest,
    tz: str,
) -> None:
    await ingest(owner, rollup_corpus.history())
    assert await assert_every_answer_equal(client, rows_client, owner, tz=tz) > 130
    await ingest(owner, rollup_corpus.history(bump=0.5))
    await ingest(owner, rollup_corpus.changed_days(date(2024, 3, 9), 3, bump=2.25))
    assert await assert_every_answer_equal(client, rows_client, owner, RANGES[:2], tz=tz) > 60
    erased = await client.delete(
        "/api/v1/data",
        params={
            "confirm": "true",
            "types": "metrics",
            "start": "2024-03-05T13:20:00-05:00",
            "end": "2024-03-16T02:00:00+01:00",
        },
        headers=owner.headers,
    )
    assert erased.status_code == 200, erased.text
    assert await assert_every_answer_equal(client, rows_client, owner, RANGES[:2], tz=tz) > 60


async def test_answers_in_a_zone_equal_row_answers_when_a_second_source_arrives_later(
    client: httpx.AsyncClient,
    rows_client: httpx.AsyncClient,
    owner: TestKey,
    ingest: Ingest,
) -> None:
    await ingest(owner, rollup_corpus.steps_of(WATCH, date(2024, 2, 20), 40))
    await ingest(owner, rollup_corpus.steps_of(PHONE, date(2024, 3, 9), 3))
    for span in (*RANGES, *ACTIVITY_RANGES[-3:]):
        for path in ("/metrics/step_count/series", "/activity/daily"):
            params = {**span, "tz": "Europe/Paris"}
            ours, theirs = await _answers(client, rows_client, owner, path, params)
            assert ours == theirs, (path, span)
            assert ours["tz"] == "Europe/Paris"
