"""DELETE /api/v1/data erases what imports stored beside the samples: the Activity rings,
and the user's archive imports (their rows, day counts and stored uploads)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import httpx
from fastapi import FastAPI

from health_export.core.state import state_of
from health_export.imports.jobs import run_import_jobs_once
from tests.fixtures.apple_export import PHONE, ExportBuilder, write_zip
from tests.fixtures.auth import create_user_with_key
from tests.imports.conftest import count_rows, fetch, run_import
from tests.imports.test_activity_rings import RINGS, rings_export
from tests.imports.test_apple_health_import import write_full_archive
from tests.imports.uploads import files_left, upload, wait_finished


async def _day_counts(app: FastAPI, import_ids: list[uuid.UUID]) -> int:
    rows = await fetch(
        app,
        "SELECT count(*) AS n FROM import_day_counts WHERE import_id = ANY(:ids)",
        ids=import_ids,
    )
    return int(rows[0]["n"])


async def test_erasing_everything_removes_rings_imports_and_stored_uploads(
    app: FastAPI, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    user = await create_user_with_key(app)
    archive = write_full_archive(tmp_path)
    done = (await upload(client, user, archive)).json()
    await run_import_jobs_once(state_of(app).engine, state_of(app).settings)
    assert (await wait_finished(client, user, done["status_url"]))["status"] == "done"
    queued = (await upload(client, user, archive)).json()  # not run yet: its file is kept
    ids = [uuid.UUID(done["id"]), uuid.UUID(queued["id"])]
    folder = state_of(app).settings.import_dir
    assert files_left(folder, f"{queued['id']}*") != []
    assert await count_rows(app, "activity_summaries", user.user_id) == 1
    assert await _day_counts(app, ids) > 0

    erased = await client.delete("/api/v1/data", params={"confirm": "true"}, headers=user.headers)

    assert erased.status_code == 200, erased.text
    deleted = erased.json()["deleted"]
    assert (deleted["activity_summaries"], deleted["imports"]) == (1, 2)
    for table in ("activity_summaries", "imports", "metric_samples", "ecg_recordings"):
        assert await count_rows(app, table, user.user_id) == 0, table
    assert await _day_counts(app, ids) == 0
    assert files_left(folder, f"{queued['id']}*") == []
    listed = await client.get("/api/v1/imports", headers=user.headers)
    assert listed.status_code == 200
    assert listed.json()["imports"] == []
    # The erased upload is never imported afterwards.
    await run_import_jobs_once(state_of(app).engine, state_of(app).settings)
    assert await count_rows(app, "metric_samples", user.user_id) == 0


async def test_erasing_a_range_of_rings_keeps_the_other_days(
    app: FastAPI, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    user = await create_user_with_key(app)
    await run_import(app, user.user_id, write_zip(tmp_path / "export.zip", rings_export().xml()))

    erased = await client.delete(
        "/api/v1/data",
        params={
            "confirm": "true",
            "types": "activity_summaries",
            "start": "2024-07-01T00:00:00+02:00",
            "end": "2024-07-01T23:00:00+02:00",
        },
        headers=user.headers,
    )

    assert erased.status_code == 200, erased.text
    assert erased.json()["deleted"] == {"activity_summaries": 1}
    days = await fetch(
        app,
        "SELECT day::text AS day FROM activity_summaries WHERE user_id = :u ORDER BY day",
        u=user.user_id,
    )
    assert [row["day"] for row in days] == ["2019-03-01", "2024-07-02"]
    rings = await client.get(
        RINGS, params={"start": "2024-07-01", "end": "2024-07-03"}, headers=user.headers
    )
    assert [day["date"] for day in rings.json()["days"]] == ["2024-07-02"]


def _minute_steps(count: int) -> ExportBuilder:
    export = ExportBuilder()
    first = datetime(2024, 3, 1)
    for minute in range(count):
        start = f"{first + timedelta(minutes=minute):%Y-%m-%d %H:%M:%S} +0100"
        export.record("StepCount", str(minute % 50 + 1), start, unit="count", source=PHONE)
    return export


async def test_erasing_during_an_import_stops_it_and_keeps_nothing_of_it(
    app: FastAPI, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    # Five parts of 20,000 rows: the erase comes once the first has committed.
    records = 100_000
    user = await create_user_with_key(app)
    archive = write_zip(tmp_path / "export.zip", _minute_steps(records).xml())
    assert (await upload(client, user, archive)).status_code == 202
    state = state_of(app)
    running = asyncio.create_task(run_import_jobs_once(state.engine, state.settings))
    while await count_rows(app, "metric_samples", user.user_id) == 0:
        assert not running.done()
        await asyncio.sleep(0.01)

    erased = await client.delete("/api/v1/data", params={"confirm": "true"}, headers=user.headers)

    assert erased.status_code == 200, erased.text
    deleted = erased.json()["deleted"]
    assert deleted["imports"] == 1
    assert 0 < deleted["metric_samples"] < records  # the import was still running
    assert await running == 1
    # No part was written after the erase: not its rows, not their rollups.
    assert await count_rows(app, "metric_samples", user.user_id) == 0
    assert await count_rows(app, "metric_rollups", user.user_id) == 0
    assert await count_rows(app, "imports", user.user_id) == 0
    assert files_left(state.settings.import_dir) == []
