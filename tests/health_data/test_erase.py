"""DELETE /api/v1/data: the owner's right to erase, confirmed, audited, raw bodies included."""

from __future__ import annotations

from datetime import timedelta

import httpx
from fastapi import FastAPI

from tests.fixtures import payloads
from tests.fixtures.auth import TestKey, create_user_with_key
from tests.health_data.conftest import Get, Ingest
from tests.ingest.conftest import count_rows, fetch


async def _delete(
    client: httpx.AsyncClient, key: TestKey, **params: str | int | float | bool | None
) -> httpx.Response:
    return await client.delete("/api/v1/data", params=params, headers=key.headers)


async def test_owner_erases_a_range_with_confirm_and_gets_counts(
    app: FastAPI, client: httpx.AsyncClient, owner: TestKey, ingest: Ingest, get: Get
) -> None:
    await ingest(owner, payloads.hae_metrics(("step_count",), count=60))
    response = await _delete(
        client,
        owner,
        confirm="true",
        types="metrics",
        start="2024-03-14T00:00:00-04:00",
        end="2024-03-14T00:30:00-04:00",
    )
    assert response.status_code == 200
    assert response.json()["deleted"] == {"metric_samples": 30}
    assert await count_rows(app, "metric_samples", owner.user_id) == 30
    events = await fetch(
        app,
        "SELECT action, details FROM audit_events WHERE target_user_id = :u "
        "AND action LIKE 'data.%'",
        u=owner.user_id,
    )
    assert [event["action"] for event in events] == ["data.erase"]
    assert events[0]["details"]["total"] == 30


async def test_erasing_everything_removes_raw_ingestions_too(
    app: FastAPI, client: httpx.AsyncClient, owner: TestKey, ingest: Ingest, get: Get
) -> None:
    await ingest(owner, payloads.hae_metrics(("heart_rate",), count=5))
    await ingest(owner, payloads.hae_workouts(count=1))
    response = await _delete(client, owner, confirm="true")
    deleted = response.json()["deleted"]
    assert deleted["raw_ingestions"] == 2
    assert deleted["metric_samples"] == 5
    assert deleted["workouts"] == 1
    for table in ("raw_ingestions", "metric_samples", "workouts", "workout_routes"):
        assert await count_rows(app, table, owner.user_id) == 0, table
    assert (await get(owner, "/export")).content == b""


async def test_erase_without_confirm_is_refused(
    app: FastAPI, client: httpx.AsyncClient, owner: TestKey, ingest: Ingest
) -> None:
    await ingest(owner, payloads.hae_metrics(("heart_rate",), count=5))
    response = await _delete(client, owner)
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "query.confirm"
    assert await count_rows(app, "metric_samples", owner.user_id) == 5


async def test_admin_erases_a_named_user_and_nobody_else(
    app: FastAPI, client: httpx.AsyncClient, owner: TestKey, ingest: Ingest
) -> None:
    other = await create_user_with_key(app)
    await ingest(owner, payloads.hae_metrics(("heart_rate",), count=5))
    await ingest(other, payloads.hae_metrics(("heart_rate",), count=5))
    admin = await create_user_with_key(app, scopes=["admin"], is_admin=True)
    response = await _delete(client, admin, user_id=owner.user_id, types="metrics")
    assert response.json()["deleted"] == {"metric_samples": 5}
    assert await count_rows(app, "metric_samples", owner.user_id) == 0
    assert await count_rows(app, "metric_samples", other.user_id) == 5
    stranger = await _delete(client, other, user_id=owner.user_id, confirm="true")
    assert stranger.status_code == 403


async def test_ingest_only_key_cannot_erase(app: FastAPI, client: httpx.AsyncClient) -> None:
    phone = await create_user_with_key(app, scopes=["ingest"])
    assert (await _delete(client, phone, confirm="true")).status_code == 403


async def _metric_sources(app: FastAPI, user_id: int) -> set[tuple[str, str]]:
    rows = await fetch(
        app,
        "SELECT mt.name AS metric, src.name AS source FROM metric_sources ms "
        "JOIN metric_types mt ON mt.id = ms.metric_id JOIN sources src ON src.id = ms.source_id "
        "WHERE ms.user_id = :u",
        u=user_id,
    )
    return {(row["metric"], row["source"]) for row in rows}


async def test_full_erase_leaves_no_metric_sources_naming_the_users_devices(
    app: FastAPI, client: httpx.AsyncClient, owner: TestKey, ingest: Ingest
) -> None:
    await ingest(owner, payloads.hae_metrics(("step_count", "heart_rate"), count=5))
    await ingest(owner, payloads.hae_metrics(("step_count",), count=5, source=payloads.PHONE))
    assert len(await _metric_sources(app, owner.user_id)) == 3
    response = await _delete(client, owner, confirm="true")
    assert response.status_code == 200
    assert await _metric_sources(app, owner.user_id) == set()


async def test_range_erase_forgets_only_the_sources_that_lost_their_last_point(
    app: FastAPI, client: httpx.AsyncClient, owner: TestKey, ingest: Ingest
) -> None:
    # The watch counted steps on the 14th, the phone on the 14th and the 15th.
    await ingest(owner, payloads.hae_metrics(("step_count",), count=5))
    phone_days = payloads.hae_metrics(
        ("step_count",), count=2, step=timedelta(days=1), source=payloads.PHONE
    )
    await ingest(owner, phone_days)
    response = await _delete(
        client,
        owner,
        confirm="true",
        types="metrics",
        start="2024-03-14T00:00:00-04:00",
        end="2024-03-15T00:00:00-04:00",
    )
    assert response.json()["deleted"] == {"metric_samples": 6}
    assert await _metric_sources(app, owner.user_id) == {("step_count", payloads.PHONE)}
