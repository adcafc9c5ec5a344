"""Rows a write inserts are added to the rollups by the write; the result equals a recompute.

Each step below is one sync; after every one the stored rollups (daily and hourly)
are compared, key by key, with a summary of the rows (the rebuild's comparison). The
steps take every path of the writer: small syncs (array parameters) and large ones
(COPY, then a plain INSERT or the upsert), new days and hours, a sample earlier than a
day's first one at another offset, a day holding a changed value beside new ones, a
cumulative metric that gains a second source (then kept per period, recomputed), and
blood pressure (systolic values).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from fastapi import FastAPI

from health_export.core.state import state_of
from health_export.ingest.write.upsert import UNNEST_MAX_ROWS
from health_export.rollups.rebuild import rebuild_user
from tests.fixtures.auth import TestKey
from tests.fixtures.payloads import PHONE, WATCH, hae_metrics
from tests.health_data.conftest import Ingest

NEW_YORK = timezone(timedelta(hours=-4))
PARIS = timezone(timedelta(hours=2))
METRICS = ("heart_rate", "step_count", "active_energy", "blood_pressure")


async def _differing_keys(app: FastAPI, key: TestKey) -> tuple[int, int]:
    """(keys whose stored rollup differed from the rows, daily rollup rows)."""
    rebuilt = await rebuild_user(state_of(app).engine, key.user_id, key.user_name)
    return rebuilt.differing_keys, rebuilt.rows


def _sync(
    start: datetime, count: int, *, source: str = WATCH, seed: int = 0, names: tuple[str, ...]
) -> dict[str, object]:
    return hae_metrics(names, count=count, start=start, source=source, seed=seed)


@pytest.mark.parametrize("large", [False, True], ids=["array-parameters", "copy"])
async def test_rollups_after_each_write_equal_a_summary_of_the_rows(
    app: FastAPI, owner: TestKey, ingest: Ingest, large: bool
) -> None:
    # Above UNNEST_MAX_ROWS rows a body's metric samples are COPYed and inserted whole.
    count = UNNEST_MAX_ROWS // len(METRICS) + 50 if large else 20
    day = datetime(2024, 3, 14, 8, 0, tzinfo=NEW_YORK)
    steps = (
        # A first day, then later samples of the same day and hours.
        _sync(day, count, names=METRICS),
        _sync(day + timedelta(minutes=count), count, seed=1, names=METRICS),
        # Earlier than the day's first sample, at another offset (a trip to Paris).
        _sync(day.astimezone(PARIS) - timedelta(hours=3), count, seed=2, names=METRICS),
        # Changed values of stored samples beside new ones (updates are recomputed).
        _sync(day + timedelta(minutes=count // 2), count, seed=3, names=METRICS),
        # A second source of a cumulative metric: kept per period from now on.
        _sync(day, count, source=PHONE, seed=4, names=("step_count",)),
        _sync(day + timedelta(days=1), count, source=PHONE, seed=5, names=("step_count",)),
        # The next day, near midnight, both sources.
        _sync(day.replace(hour=23, minute=50) + timedelta(days=1), count, seed=6, names=METRICS),
    )
    for number, payload in enumerate(steps):
        answer = await ingest(owner, payload)
        assert answer["inserted"] + answer["updated"] > 0, answer
        differing, rows = await _differing_keys(app, owner)
        assert (number, differing) == (number, 0)
        assert rows > 0
