"""POST /api/v1/imports/apple-health: stored before the 202, imported by the worker, with
the CLI's counts; refusals as problem+json; another user's import is a 404."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import text

from health_export.core.state import state_of
from health_export.imports.jobs import run_import_jobs_once
from health_export.imports.repository import store_day_counts
from tests.fixtures.apple_export import ExportBuilder, write_zip
from tests.fixtures.auth import create_user_with_key
from tests.imports.conftest import count_rows, fetch
from tests.imports.test_apple_health_import import write_full_archive
from tests.imports.uploads import UPLOAD, ZIP, chunks_of, files_left, upload, wait_finished


def _problem(answer: httpx.Response, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = answer.json()
    return body


async def test_upload_is_stored_then_imported_by_the_worker(
    app: FastAPI, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    user = await create_user_with_key(app, scopes=["ingest"])
    archive = write_full_archive(tmp_path)

    accepted = await upload(client, user, archive)

    assert accepted.status_code == 202, accepted.text
    body = accepted.json()
    assert set(body) == {"id", "status_url"}
    assert body["status_url"] == f"/api/v1/imports/{body['id']}"
    assert accepted.headers["location"] == body["status_url"]
    stored = await fetch(
        app, "SELECT file_bytes FROM imports WHERE id = :id", id=uuid.UUID(body["id"])
    )
    assert stored[0]["file_bytes"] == archive.stat().st_size
    await run_import_jobs_once(state_of(app).engine, state_of(app).settings)
    done = await wait_finished(client, user, body["status_url"])
    assert done["status"] == "done", done
    result = done["result"]
    assert result["rejected"] == {"HeartRate: value is not a number": 1}
    assert (result["workouts"], result["routes"], result["ecg"]) == (4, 2, 1)
    assert result["activity_summaries"] == 1
    assert result["inserted"] == sum(c["inserted"] for c in result["by_table"].values())
    assert result["by_table"]["metric_samples"]["inserted"] == await count_rows(
        app, "metric_samples", user.user_id
    )
    assert done["progress"]["records"] == result["records"]
    assert done["tz"] == "Europe/Paris"
    assert done["error"] is None
    assert files_left(state_of(app).settings.import_dir, f"{body['id']}*") == []  # done with


async def test_imports_are_listed_for_their_owner_only(
    app: FastAPI, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    owner = await create_user_with_key(app)
    stranger = await create_user_with_key(app)
    archive = write_zip(tmp_path / "export.zip", ExportBuilder().xml())
    first = (await upload(client, owner, archive)).json()
    second = (await upload(client, owner, archive, tz="America/New_York")).json()

    mine = await client.get("/api/v1/imports", headers=owner.headers)
    theirs = await client.get("/api/v1/imports", headers=stranger.headers)
    peek = await client.get(first["status_url"], headers=stranger.headers)
    missing = await client.get(f"/api/v1/imports/{uuid.uuid4()}", headers=owner.headers)

    assert [item["id"] for item in mine.json()["imports"]] == [second["id"], first["id"]]
    assert theirs.json() == {"imports": []}
    assert _problem(peek, 404)["detail"] == "no such import of yours"
    assert _problem(missing, 404)["detail"] == "no such import of yours"
    await wait_finished(client, owner, first["status_url"])
    await wait_finished(client, owner, second["status_url"])


async def test_refusals_are_problems_and_store_nothing(
    app: FastAPI, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    user = await create_user_with_key(app)
    reader = await create_user_with_key(app, scopes=["read"])
    data = write_zip(tmp_path / "export.zip", ExportBuilder().xml()).read_bytes()
    headers = {**user.headers, **ZIP}
    tz = {"tz": "Europe/Paris"}

    wrong_type = await client.post(
        UPLOAD, params=tz, content=data, headers={**user.headers, "Content-Type": "text/csv"}
    )
    no_tz = await client.post(UPLOAD, content=data, headers=headers)
    bad_tz = await client.post(UPLOAD, params={"tz": "Mars/Base"}, content=data, headers=headers)
    not_zip = await client.post(UPLOAD, params=tz, content=b"<HealthData/>", headers=headers)
    empty = await client.post(UPLOAD, params=tz, content=b"", headers=headers)
    no_scope = await client.post(UPLOAD, params=tz, content=data, headers={**reader.headers, **ZIP})
    anonymous = await client.post(UPLOAD, params=tz, content=data, headers=ZIP)

    assert "application/zip" in _problem(wrong_type, 415)["detail"]
    assert "tz" in _problem(no_tz, 400)["detail"]
    assert "IANA" in _problem(bad_tz, 400)["detail"]
    assert "not a zip archive" in _problem(not_zip, 400)["detail"]
    assert "empty" in _problem(empty, 400)["detail"]
    _problem(no_scope, 403)
    _problem(anonymous, 401)
    assert await count_rows(app, "imports", user.user_id) == 0
    assert files_left(state_of(app).settings.import_dir, "*.part") == []


async def test_archives_past_the_cap_are_refused_with_413(app_factory: Any, tmp_path: Path) -> None:
    small = app_factory(import_max_bytes=1024 * 1024, import_dir=str(tmp_path / "uploads"))
    big = b"PK\x03\x04" + b"\0" * (1024 * 1024 + 10)
    async with small.router.lifespan_context(small):
        user = await create_user_with_key(small)
        transport = httpx.ASGITransport(app=small, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            headers = {**user.headers, **ZIP}
            declared = await http.post(UPLOAD, params={"tz": "UTC"}, content=big, headers=headers)
            chunked = await http.post(
                UPLOAD, params={"tz": "UTC"}, content=chunks_of(big), headers=headers
            )
        assert "IMPORT_MAX_BYTES" in _problem(declared, 413)["detail"]
        assert "IMPORT_MAX_BYTES" in _problem(chunked, 413)["detail"]
        assert await count_rows(small, "imports", user.user_id) == 0
    assert files_left(tmp_path / "uploads") == []


async def test_corrupt_archive_fails_with_400_and_stores_nothing(
    app: FastAPI, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    user = await create_user_with_key(app)
    whole = write_full_archive(tmp_path).read_bytes()
    truncated = tmp_path / "truncated.zip"
    truncated.write_bytes(whole[: len(whole) // 2])

    accepted = await upload(client, user, truncated)
    assert accepted.status_code == 202, accepted.text
    failed = await wait_finished(client, user, accepted.json()["status_url"])

    assert failed["status"] == "failed"
    assert failed["result"] is None
    error = failed["error"]
    assert (error["status"], error["title"]) == (400, "Bad Request")
    assert "not a complete zip archive" in error["detail"]
    assert await count_rows(app, "metric_samples", user.user_id) == 0


async def test_a_dead_workers_import_is_run_again(
    app: FastAPI, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    user = await create_user_with_key(app)
    export = ExportBuilder()
    export.record("StepCount", "12", "2024-03-01 10:00:00 +0100", unit="count")
    accepted = (await upload(client, user, write_zip(tmp_path / "e.zip", export.xml()))).json()
    import_id = uuid.UUID(accepted["id"])
    # As a worker killed mid-import leaves it: running, its heartbeat stopped long ago.
    async with state_of(app).engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE imports SET status = 'running', attempts = 1, "
                "heartbeat_at = now() - interval '1 hour' WHERE id = :id"
            ),
            {"id": import_id},
        )

    await run_import_jobs_once(state_of(app).engine, state_of(app).settings)
    done = await wait_finished(client, user, accepted["status_url"])

    assert done["status"] == "done"
    assert done["attempts"] == 2
    assert await count_rows(app, "metric_samples", user.user_id) == 1


async def test_a_run_given_up_for_dead_and_its_rerun_may_finish_together(
    app: FastAPI, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    user = await create_user_with_key(app)
    accepted = (
        await upload(client, user, write_zip(tmp_path / "e.zip", ExportBuilder().xml()))
    ).json()
    await wait_finished(client, user, accepted["status_url"])
    import_id = uuid.UUID(accepted["id"])
    counts: Counter[tuple[str, int]] = Counter(
        {("step_count", 19_783): 12, ("heart_rate", 19_783): 3}
    )

    async def finish_once() -> None:
        async with state_of(app).engine.begin() as conn:
            await store_day_counts(conn, import_id, counts)
            await asyncio.sleep(0.05)  # both transactions are open at once

    await asyncio.gather(finish_once(), finish_once())

    stored = await fetch(
        app,
        "SELECT metric, day::text, samples FROM import_day_counts WHERE import_id = :id"
        " ORDER BY metric",
        id=import_id,
    )
    assert stored == [
        {"metric": "heart_rate", "day": "2024-03-01", "samples": 3},
        {"metric": "step_count", "day": "2024-03-01", "samples": 12},
    ]
