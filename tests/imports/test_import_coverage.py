"""GET /api/v1/imports/{id}/coverage: per metric and local day, the archive against the
app's feed; an archive never replaces the feed's rows, the feed takes over archive rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from tests.fixtures.apple_export import PHONE, WATCH, ExportBuilder, write_zip
from tests.fixtures.auth import TestKey, create_user_with_key
from tests.imports.conftest import fetch
from tests.imports.uploads import upload, wait_finished

NEW_YORK = "America/New_York"
# Three heart-rate samples on 2024-03-14 (New York, -04:00), as the archive writes them
# (the exporting phone's +01:00) and as the app sends them.
HEART = [("2024-03-14 20:04:00 +0100", "2024-03-14 15:04:00 -0400", 72)]
HEART += [("2024-03-14 20:05:00 +0100", "2024-03-14 15:05:00 -0400", 75)]
HEART += [("2024-03-14 20:06:00 +0100", "2024-03-14 15:06:00 -0400", 80)]
STEPS = [("2024-03-15 14:00:00 +0100", "2024-03-15 09:00:00 -0400", 40)]
STEPS += [("2024-03-15 14:05:00 +0100", "2024-03-15 09:05:00 -0400", 50)]


def _feed_body(heart: list[tuple[str, str, int]], steps: list[tuple[str, str, int]]) -> Any:
    heart_points = [
        {"date": local, "Min": bpm, "Avg": bpm, "Max": bpm, "source": WATCH}
        for _, local, bpm in heart
    ]
    step_points = [{"date": local, "qty": qty, "source": PHONE} for _, local, qty in steps]
    metrics = [
        {"name": "heart_rate", "units": "count/min", "data": heart_points},
        {"name": "step_count", "units": "count", "data": step_points},
    ]
    return {"data": {"metrics": [m for m in metrics if m["data"]]}}


def _archive(tmp_path: Path) -> Path:
    export = ExportBuilder()
    for archived, _, bpm in HEART:
        export.record("HeartRate", str(bpm), archived, unit="count/min", source=WATCH)
    for archived, _, qty in STEPS:
        export.record("StepCount", str(qty), archived, unit="count", source=PHONE)
    return write_zip(tmp_path / "export.zip", export.xml())


async def _imported(client: httpx.AsyncClient, user: TestKey, tmp_path: Path) -> str:
    accepted = (await upload(client, user, _archive(tmp_path), tz=NEW_YORK)).json()
    done = await wait_finished(client, user, accepted["status_url"])
    assert done["status"] == "done", done
    return str(done["coverage_url"])


async def _ingest(client: httpx.AsyncClient, user: TestKey, body: Any) -> None:
    answer = await client.post("/api/v1/ingest", json=body, headers=user.headers)
    assert answer.status_code == 200, answer.text


async def test_days_the_feed_missed_are_flagged(
    app: FastAPI, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    user = await create_user_with_key(app)
    # The app delivered two of the three heart-rate samples, and both step counts.
    await _ingest(client, user, _feed_body(HEART[:2], STEPS))

    coverage_url = await _imported(client, user, tmp_path)
    answer = await client.get(coverage_url, headers=user.headers)

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["days"] == [
        {
            "metric": "heart_rate",
            "date": "2024-03-14",
            "archive": 3,
            "feed": 2,
            "only_in_archive": 1,
            "feed_incomplete": True,
        },
        {
            "metric": "step_count",
            "date": "2024-03-15",
            "archive": 2,
            "feed": 2,
            "only_in_archive": 0,
            "feed_incomplete": False,
        },
    ]
    assert body["days_feed_incomplete"] == 1
    # The feed's rows were kept as the app sent them, not replaced by the archive's.
    origins = await fetch(
        app,
        "SELECT m.attrs ->> 'origin' AS origin, count(*) AS n FROM metric_samples m"
        " WHERE m.user_id = :u GROUP BY 1 ORDER BY 1",
        u=user.user_id,
    )
    assert origins == [{"origin": "archive", "n": 1}, {"origin": None, "n": 4}]


async def test_the_feed_sending_a_missed_sample_completes_the_day(
    app: FastAPI, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    user = await create_user_with_key(app)
    coverage_url = await _imported(client, user, tmp_path)  # nothing from the app yet

    await _ingest(client, user, _feed_body(HEART, []))
    heart = await client.get(coverage_url, params={"metric": "heart_rate"}, headers=user.headers)
    steps_day = await client.get(
        coverage_url, params={"start": "2024-03-15", "end": "2024-03-16"}, headers=user.headers
    )

    assert heart.json()["days"] == [
        {
            "metric": "heart_rate",
            "date": "2024-03-14",
            "archive": 3,
            "feed": 3,
            "only_in_archive": 0,
            "feed_incomplete": False,
        }
    ]
    assert [(d["metric"], d["feed"], d["only_in_archive"]) for d in steps_day.json()["days"]] == [
        ("step_count", 0, 2)
    ]


async def test_coverage_is_the_owners_with_read_and_needs_a_done_import(
    app: FastAPI, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    user = await create_user_with_key(app)
    stranger = await create_user_with_key(app)
    ingest_only = await create_user_with_key(app, scopes=["ingest"])
    coverage_url = await _imported(client, user, tmp_path)
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    failed = (await upload(client, user, broken)).json()
    await wait_finished(client, user, failed["status_url"])

    other = await client.get(coverage_url, headers=stranger.headers)
    no_read = await client.get(coverage_url, headers=ingest_only.headers)
    not_done = await client.get(f"{failed['status_url']}/coverage", headers=user.headers)

    assert other.status_code == 404
    assert no_read.status_code == 403
    assert not_done.status_code == 409
    assert not_done.headers["content-type"] == "application/problem+json"
    assert "the import is failed" in not_done.json()["detail"]
