"""/api/v1/admin: users, keys of anyone, audit trail, run-time log levels; all audited."""

from __future__ import annotations

import logging
from typing import Any

import httpx

from tests.fixtures.auth import TestKey, create_user_with_key, unique_name


async def test_admin_creates_user_and_key_and_the_key_works(
    auth_client: httpx.AsyncClient, admin_key: TestKey
) -> None:
    name = unique_name()
    user = await auth_client.post(
        "/api/v1/admin/users", headers=admin_key.headers, json={"name": name}
    )
    assert user.status_code == 201
    assert user.json()["is_admin"] is False
    assert "password" not in user.text
    key = await auth_client.post(
        "/api/v1/admin/keys",
        headers=admin_key.headers,
        json={"name": "phone", "user": name, "scopes": ["ingest", "read", "keys"]},
    )
    assert key.status_code == 201
    assert key.json()["user_id"] == user.json()["id"]
    mine = await auth_client.get(
        "/api/v1/auth/keys", headers={"Authorization": f"Bearer {key.json()['key']}"}
    )
    assert [k["id"] for k in mine.json()] == [key.json()["id"]]


async def test_duplicate_user_name_is_409(
    auth_client: httpx.AsyncClient, admin_key: TestKey
) -> None:
    body = {"name": unique_name()}
    await auth_client.post("/api/v1/admin/users", headers=admin_key.headers, json=body)
    again = await auth_client.post("/api/v1/admin/users", headers=admin_key.headers, json=body)
    assert again.status_code == 409


async def test_disabling_a_user_stops_their_keys(
    app: Any, auth_client: httpx.AsyncClient, admin_key: TestKey
) -> None:
    victim = await create_user_with_key(app)
    probe = "/api/v1/auth/rate-limit"
    assert (await auth_client.get(probe, headers=victim.headers)).status_code == 200
    disabled = await auth_client.post(
        f"/api/v1/admin/users/{victim.user_id}/disable", headers=admin_key.headers
    )
    assert disabled.status_code == 200
    assert disabled.json()["disabled_at"]
    assert (await auth_client.get(probe, headers=victim.headers)).status_code == 401


async def test_admin_key_for_a_non_admin_user_is_refused(
    app: Any, auth_client: httpx.AsyncClient, admin_key: TestKey
) -> None:
    user = await create_user_with_key(app)
    response = await auth_client.post(
        "/api/v1/admin/keys",
        headers=admin_key.headers,
        json={"name": "x", "user": user.user_name, "scopes": ["admin"]},
    )
    assert response.status_code == 422


async def test_admin_reads_and_auth_failures_appear_in_the_audit_trail(
    app: Any, auth_client: httpx.AsyncClient, admin_key: TestKey
) -> None:
    victim = await create_user_with_key(app)
    await auth_client.get(
        "/api/v1/admin/keys", params={"user": victim.user_name}, headers=admin_key.headers
    )
    await auth_client.get(
        "/api/v1/auth/keys", headers={"X-API-Key": "hea_" + "0" * 36, "User-Agent": "probe/1"}
    )
    reads = await auth_client.get(
        "/api/v1/admin/audit",
        params={"action": "admin.keys.read", "user_id": victim.user_id},
        headers=admin_key.headers,
    )
    assert [e["actor_user_id"] for e in reads.json()] == [admin_key.user_id]
    failures = await auth_client.get(
        "/api/v1/admin/audit",
        params={"action": "auth.failed", "limit": 50},
        headers=admin_key.headers,
    )
    mine = [e for e in failures.json() if e["user_agent"] == "probe/1"]
    assert mine
    assert mine[0]["details"] == {"reason": "malformed"}
    assert mine[0]["ip"]
    assert mine[0]["request_id"]


async def test_log_level_changes_at_run_time_and_is_audited(
    auth_client: httpx.AsyncClient, admin_key: TestKey
) -> None:
    name = f"health_export.test_{unique_name('lvl').replace('-', '_')}"
    try:
        changed = await auth_client.put(
            "/api/v1/admin/logging", headers=admin_key.headers, json={"levels": {name: "DEBUG"}}
        )
        assert changed.status_code == 200
        assert changed.json()["loggers"][name] == "DEBUG"
        assert logging.getLogger(name).getEffectiveLevel() == logging.DEBUG
        read = await auth_client.get("/api/v1/admin/logging", headers=admin_key.headers)
        assert read.json()["loggers"][name] == "DEBUG"
        audit = await auth_client.get(
            "/api/v1/admin/audit",
            params={"action": "logging.level_changed", "limit": 20},
            headers=admin_key.headers,
        )
        entry = next(e for e in audit.json() if name in e["details"])
        assert entry["details"][name] == {"old": "INFO", "new": "DEBUG"}
    finally:
        logging.getLogger(name).setLevel(logging.NOTSET)


async def test_invalid_logger_name_is_422(
    auth_client: httpx.AsyncClient, admin_key: TestKey
) -> None:
    response = await auth_client.put(
        "/api/v1/admin/logging",
        headers=admin_key.headers,
        json={"levels": {"bad name\n": "DEBUG"}},
    )
    assert response.status_code == 422
