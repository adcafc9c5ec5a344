"""Durable first: 202 past the budget, the worker finishing stored bodies, replay, status."""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import uuid
from collections.abc import Awaitable, Callable

import httpx
import orjson
from fastapi import FastAPI
from sqlalchemy import text

from health_export.auth.principal import Principal, Scope
from health_export.core.state import state_of
from health_export.ingest.body import ReceivedBody
from health_export.ingest.raw_store import store_raw
from health_export.ingest.replay import replay
from health_export.ingest.repository import decompress_body
from health_export.ingest.worker import process_next_pending
from tests.fixtures import payloads
from tests.fixtures.auth import create_user_with_key
from tests.ingest.conftest import Phone, count_rows, fetch, make_phone

Post = Callable[..., Awaitable[httpx.Response]]
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def _principal(phone: Phone) -> Principal:
    return Principal(
        user_id=phone.user_id, user_name="x", is_admin=False, scopes=frozenset({Scope.INGEST})
    )


async def _store_without_processing(app: FastAPI, phone: Phone, doc: object) -> uuid.UUID:
    """What a crash right after the raw body was committed leaves behind."""
    data = orjson.dumps(doc)
    received = ReceivedBody(data, len(data), None)
    digest = hashlib.sha256(data).digest()
    return await store_raw(
        state_of(app).engine, _principal(phone), received, {}, digest, uuid.uuid4()
    )


async def test_worker_finishes_an_ingestion_left_by_a_crash(app: FastAPI, phone: Phone) -> None:
    ingestion_id = await _store_without_processing(
        app, phone, payloads.hae_metrics(["step_count"], count=7)
    )
    assert await count_rows(app, "metric_samples", phone.user_id) == 0
    for _ in range(20):
        if not await process_next_pending(state_of(app).engine, stale_after_s=0):
            break
    assert await count_rows(app, "metric_samples", phone.user_id) == 7
    rows = await fetch(
        app, "SELECT status, result FROM raw_ingestions WHERE id = :i", i=ingestion_id
    )
    assert rows[0]["status"] == "processed"
    assert rows[0]["result"]["inserted"] == 7


async def test_bodies_are_stored_zstd_and_older_gzip_bodies_still_process(
    app: FastAPI, phone: Phone
) -> None:
    doc = payloads.hae_metrics(["step_count"], count=5)
    ingestion_id = await _store_without_processing(app, phone, doc)
    rows = await fetch(app, "SELECT body FROM raw_ingestions WHERE id = :i", i=ingestion_id)
    assert rows[0]["body"][:4] == ZSTD_MAGIC
    assert decompress_body(rows[0]["body"]) == orjson.dumps(doc)
    # A body stored gzip, as releases before zstd stored them.
    async with state_of(app).engine.begin() as conn:
        await conn.execute(
            text("UPDATE raw_ingestions SET body = :b WHERE id = :i"),
            {"b": gzip.compress(orjson.dumps(doc)), "i": ingestion_id},
        )
    for _ in range(20):
        if not await process_next_pending(state_of(app).engine, stale_after_s=0):
            break
    assert await count_rows(app, "metric_samples", phone.user_id) == 5


async def test_worker_marks_an_unusable_stored_body_rejected(app: FastAPI, phone: Phone) -> None:
    ingestion_id = await _store_without_processing(app, phone, ["not", "an", "envelope"])
    # Other tests' leftovers may be pending too; the worker takes the oldest first.
    for _ in range(20):
        if not await process_next_pending(state_of(app).engine, stale_after_s=0):
            break
    rows = await fetch(
        app, "SELECT status, error FROM raw_ingestions WHERE id = :i", i=ingestion_id
    )
    assert rows[0]["status"] == "rejected"
    assert rows[0]["error"] == "body is not a JSON object"


async def test_past_the_budget_the_answer_is_202_and_processing_finishes(
    app_factory: Callable[..., FastAPI],
) -> None:
    app = app_factory(ingest_sync_budget_seconds=0.001)
    async with app.router.lifespan_context(app):
        phone = await make_phone(app)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            response = await http.post(
                "/api/v1/ingest",
                headers=phone.headers,
                content=orjson.dumps(
                    payloads.hae_metrics(["step_count", "heart_rate"], count=3000)
                ),
            )
            assert response.status_code == 202
            accepted = response.json()
            assert response.headers["location"] == accepted["status_url"]
            status: dict[str, object] = {"status": "received"}
            for _ in range(200):
                status = (await http.get(accepted["status_url"], headers=phone.headers)).json()
                if status["status"] == "processed":
                    break
                await asyncio.sleep(0.05)
    assert status["status"] == "processed"
    assert status["result"]["inserted"] == 6000  # type: ignore[index]


async def test_ingestion_status_is_visible_to_its_owner_only(
    app: FastAPI, client: httpx.AsyncClient, phone: Phone, post: Post
) -> None:
    body = (await post(phone, payloads.hae_metrics(["step_count"], count=2))).json()
    url = f"/api/v1/ingestions/{body['ingestion_id']}"
    mine = await client.get(url, headers=phone.headers)
    assert mine.status_code == 200
    assert mine.json()["result"]["inserted"] == 2
    stranger = await make_phone(app)
    theirs = await client.get(url, headers=stranger.headers)
    assert theirs.status_code == 404
    unknown = await client.get(f"/api/v1/ingestions/{uuid.uuid4()}", headers=phone.headers)
    assert unknown.status_code == 404


async def test_replay_is_idempotent(app: FastAPI, phone: Phone, post: Post) -> None:
    body = (await post(phone, payloads.hae_metrics(["step_count"], count=4))).json()
    reports: list[str] = []
    processed, rejected = await replay(
        state_of(app).engine, ingestion_id=uuid.UUID(body["ingestion_id"]), report=reports.append
    )
    assert (processed, rejected) == (1, 0)
    assert "inserted 0, updated 0, unchanged 4" in reports[0]
    assert await count_rows(app, "metric_samples", phone.user_id) == 4


async def test_admin_reads_of_another_users_ingestion_are_audited(
    app: FastAPI, client: httpx.AsyncClient, phone: Phone, post: Post
) -> None:
    body = (await post(phone, payloads.hae_metrics(["step_count"], count=1))).json()
    admin = await create_user_with_key(app, scopes=(Scope.ADMIN,), is_admin=True)
    response = await client.get(f"/api/v1/ingestions/{body['ingestion_id']}", headers=admin.headers)
    assert response.status_code == 200
    events = await fetch(
        app,
        "SELECT action, target_user_id FROM audit_events WHERE actor_user_id = :a",
        a=admin.user_id,
    )
    assert {"action": "admin.ingestion.read", "target_user_id": phone.user_id} in events
