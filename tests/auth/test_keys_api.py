"""/api/v1/auth/keys: create (shown once), list, revoke; each user sees only their own."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

import httpx
from sqlalchemy import select

from health_export.auth.models import ApiKey, AuditEvent
from health_export.auth.state import auth_state_of
from health_export.core.state import state_of
from tests.fixtures.auth import TestKey, add_key, create_user_with_key

KEYS_SCOPES = ("ingest", "read", "keys")
PROBE = "/api/v1/auth/rate-limit"  # any valid key may call it


async def test_created_key_works_at_once_with_either_header(
    auth_client: httpx.AsyncClient, keys_key: TestKey
) -> None:
    created = await auth_client.post(
        "/api/v1/auth/keys", headers=keys_key.headers, json={"name": "phone"}
    )
    assert created.status_code == 201
    assert created.headers["cache-control"] == "no-store"
    body = created.json()
    assert body["key"].startswith("hea_")
    assert body["scopes"] == ["ingest", "read"]
    for headers in ({"Authorization": f"Bearer {body['key']}"}, {"X-API-Key": body["key"]}):
        assert (await auth_client.get(PROBE, headers=headers)).status_code == 200


async def test_uuid_format_key_is_a_uuid(auth_client: httpx.AsyncClient, keys_key: TestKey) -> None:
    created = await auth_client.post(
        "/api/v1/auth/keys", headers=keys_key.headers, json={"name": "u", "format": "uuid"}
    )
    key = created.json()["key"]
    assert len(key) == 36
    assert key[14] == "4"
    assert (await auth_client.get(PROBE, headers={"X-API-Key": key})).status_code == 200


async def test_list_never_contains_values_and_only_own_keys(
    app: Any, auth_client: httpx.AsyncClient
) -> None:
    alice = await create_user_with_key(app, scopes=KEYS_SCOPES)
    bob = await create_user_with_key(app, scopes=KEYS_SCOPES)
    listed = await auth_client.get("/api/v1/auth/keys", headers=alice.headers)
    assert listed.status_code == 200
    assert [k["id"] for k in listed.json()] == [str(alice.key_id)]
    assert alice.key not in listed.text
    assert "key" not in listed.json()[0]
    assert str(bob.key_id) not in listed.text


async def test_revoked_key_is_refused_on_the_next_request(
    app: Any, auth_client: httpx.AsyncClient, keys_key: TestKey
) -> None:
    other = await add_key(app, keys_key, scopes=KEYS_SCOPES)
    assert (await auth_client.get("/api/v1/auth/keys", headers=other.headers)).status_code == 200
    revoked = await auth_client.delete(
        f"/api/v1/auth/keys/{other.key_id}", headers=keys_key.headers
    )
    assert revoked.status_code == 204
    assert (await auth_client.get("/api/v1/auth/keys", headers=other.headers)).status_code == 401


async def test_revocation_by_another_process_bites_within_one_second(
    app_factory: Any, app: Any, keys_key: TestKey
) -> None:
    other_app = app_factory()
    async with other_app.router.lifespan_context(other_app):
        transport = httpx.ASGITransport(app=other_app, client=("10.99.0.1", 1))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as other:
            assert (
                await other.get("/api/v1/auth/keys", headers=keys_key.headers)
            ).status_code == 200
            transport_main = httpx.ASGITransport(app=app, client=("10.99.0.2", 1))
            async with httpx.AsyncClient(transport=transport_main, base_url="http://t") as main:
                await main.delete(f"/api/v1/auth/keys/{keys_key.key_id}", headers=keys_key.headers)
            await asyncio.sleep(1.05)
            assert (
                await other.get("/api/v1/auth/keys", headers=keys_key.headers)
            ).status_code == 401


async def test_key_of_another_user_cannot_be_revoked(
    app: Any, auth_client: httpx.AsyncClient
) -> None:
    alice = await create_user_with_key(app, scopes=KEYS_SCOPES)
    bob = await create_user_with_key(app, scopes=KEYS_SCOPES)
    response = await auth_client.delete(f"/api/v1/auth/keys/{alice.key_id}", headers=bob.headers)
    assert response.status_code == 404
    assert (await auth_client.get("/api/v1/auth/keys", headers=alice.headers)).status_code == 200


async def test_key_cannot_grant_a_scope_it_lacks(app: Any, auth_client: httpx.AsyncClient) -> None:
    ingest_only = await create_user_with_key(app, scopes=["ingest", "keys"])
    response = await auth_client.post(
        "/api/v1/auth/keys", headers=ingest_only.headers, json={"name": "x", "scopes": ["read"]}
    )
    assert response.status_code == 403


async def test_existing_key_can_be_registered_once(
    auth_client: httpx.AsyncClient, keys_key: TestKey
) -> None:
    value = secrets.token_urlsafe(32)
    body = {"name": "old phone", "value": value}
    first = await auth_client.post("/api/v1/auth/keys", headers=keys_key.headers, json=body)
    assert first.status_code == 201
    assert first.json()["key_format"] == "custom"
    again = await auth_client.post("/api/v1/auth/keys", headers=keys_key.headers, json=body)
    assert again.status_code == 409
    assert (await auth_client.get(PROBE, headers={"X-API-Key": value})).status_code == 200


async def test_weak_existing_key_is_refused(
    auth_client: httpx.AsyncClient, keys_key: TestKey
) -> None:
    response = await auth_client.post(
        "/api/v1/auth/keys",
        headers=keys_key.headers,
        json={"name": "weak", "value": "password1234567890ab"},
    )
    assert response.status_code == 422
    assert "password1234567890ab" not in response.text


async def test_last_used_is_recorded_off_the_request_path(
    app: Any, auth_client: httpx.AsyncClient, keys_key: TestKey
) -> None:
    for _ in range(3):
        await auth_client.get("/api/v1/auth/keys", headers=keys_key.headers)
    await auth_state_of(app).usage.flush()
    async with state_of(app).sessionmaker() as session:
        row = (
            await session.execute(select(ApiKey).where(ApiKey.id == keys_key.key_id))
        ).scalar_one()
    assert row.last_used_at is not None
    assert row.last_used_ip is not None
    assert row.last_used_ip.startswith("10.")


async def test_key_creation_and_revocation_are_audited(
    app: Any, auth_client: httpx.AsyncClient, keys_key: TestKey
) -> None:
    created = await auth_client.post(
        "/api/v1/auth/keys", headers=keys_key.headers, json={"name": "audited"}
    )
    key_id = created.json()["id"]
    await auth_client.delete(f"/api/v1/auth/keys/{key_id}", headers=keys_key.headers)
    async with state_of(app).sessionmaker() as session:
        events = (
            (
                await session.execute(
                    select(AuditEvent).where(AuditEvent.target_user_id == keys_key.user_id)
                )
            )
            .scalars()
            .all()
        )
    actions = [(e.action, e.details.get("key_id")) for e in events]
    assert ("key.created", key_id) in actions
    assert ("key.revoked", key_id) in actions
    revoked = next(e for e in events if e.action == "key.revoked")
    assert revoked.actor_user_id == keys_key.user_id
    assert revoked.request_id
