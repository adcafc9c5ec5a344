"""An ECG the app sent and the same recording from the archive are one row: same user and
start second (the archive's CSV names no source); the app's copy is kept."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
from fastapi import FastAPI

from tests.fixtures import payloads
from tests.fixtures.apple_export import ExportBuilder, ecg_csv, write_zip
from tests.fixtures.auth import TestKey, create_user_with_key
from tests.imports.conftest import fetch, run_import

RECORDED = payloads.START + timedelta(hours=9, minutes=15, seconds=35)
ECG_FILE = "apple_health_export/electrocardiograms/ecg_2024-03-14.csv"


def _archive(tmp_path: Path, name: str) -> Path:
    recorded = RECORDED.strftime("%Y-%m-%d %H:%M:%S %z")
    voltages = [float(v % 100) for v in range(512 * 3)]
    return write_zip(
        tmp_path / name, ExportBuilder().xml(), extra={ECG_FILE: ecg_csv(recorded, voltages)}
    )


async def _send_from_app(client: httpx.AsyncClient, key: TestKey) -> None:
    body = payloads.hae_ecg(start=RECORDED, samples=1024)
    # The app may date the start with a fraction of a second.
    body["data"]["ecg"][0]["start"] = RECORDED.strftime("%Y-%m-%d %H:%M:%S.250 %z")
    answer = await client.post("/api/v1/ingest", content=orjson.dumps(body), headers=key.headers)
    assert answer.status_code == 200, answer.text


async def _recordings(app: FastAPI, user_id: int) -> list[dict[str, Any]]:
    return await fetch(
        app,
        "SELECT e.start_at, src.name AS source, e.number_of_measurements, e.attrs "
        "FROM ecg_recordings e JOIN sources src ON src.id = e.source_id WHERE e.user_id = :u",
        u=user_id,
    )


async def test_archive_after_the_app_keeps_the_apps_recording(
    app: FastAPI, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    user = await create_user_with_key(app)
    await _send_from_app(client, user)

    summary = await run_import(app, user.user_id, _archive(tmp_path, "export.zip"))

    assert summary.ecg == 1
    assert summary.by_table["ecg_recordings"] == {"inserted": 0, "updated": 0, "unchanged": 1}
    rows = await _recordings(app, user.user_id)
    assert len(rows) == 1
    assert rows[0]["start_at"] == RECORDED
    assert (rows[0]["source"], rows[0]["number_of_measurements"]) == (payloads.WATCH, 1024)


async def test_app_after_the_archive_replaces_the_archives_copy(
    app: FastAPI, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    user = await create_user_with_key(app)
    await run_import(app, user.user_id, _archive(tmp_path, "export.zip"))
    archived = await _recordings(app, user.user_id)
    assert [(row["source"], row["attrs"]["origin"]) for row in archived] == [("", "archive")]

    await _send_from_app(client, user)
    again = await run_import(app, user.user_id, _archive(tmp_path, "again.zip"))

    rows = await _recordings(app, user.user_id)
    assert len(rows) == 1
    assert (rows[0]["source"], rows[0]["number_of_measurements"]) == (payloads.WATCH, 1024)
    assert "origin" not in (rows[0]["attrs"] or {})
    assert again.by_table["ecg_recordings"]["unchanged"] == 1
