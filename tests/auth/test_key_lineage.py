"""A key never has more scopes or a longer life than its maker; sessions' keys die with them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from health_export.auth import service
from health_export.auth.models import User
from health_export.auth.principal import Scope
from health_export.core.state import state_of
from tests.auth.clients import PASSWORD
from tests.fixtures.auth import TestKey, create_user_with_key

PROBE = "/api/v1/auth/rate-limit"


async def _expiring_key(app: Any, owner: TestKey, days: int) -> TestKey:
    async with state_of(app).sessionmaker() as session, session.begin():
        user = await session.get(User, owner.user_id)
        assert user is not None
        request = service.KeyRequest(
            name="expiring",
            scopes=frozenset({Scope.KEYS, Scope.INGEST, Scope.READ}),
            expires_in_days=days,
        )
        new = await service.create_key(session, user, request, actor=None)
    return TestKey(owner.user_id, owner.user_name, new.value, new.row.id)


async def _login(http: httpx.AsyncClient, user: TestKey) -> dict[str, Any]:
    response = await http.post(
        "/api/v1/auth/login", json={"name": user.user_name, "password": PASSWORD}
    )
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def _bearer(body: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {body['key']}"}


async def test_a_key_cannot_outlive_the_key_that_makes_it(
    app: Any, auth_client: httpx.AsyncClient
) -> None:
    maker = await _expiring_key(app, await create_user_with_key(app), days=10)
    longer = await auth_client.post(
        "/api/v1/auth/keys", headers=maker.headers, json={"name": "x", "expires_in_days": 30}
    )
    assert longer.status_code == 403
    assert "cannot outlive" in longer.json()["detail"]
    inherited = await auth_client.post(
        "/api/v1/auth/keys", headers=maker.headers, json={"name": "y", "scopes": ["ingest"]}
    )
    assert inherited.status_code == 201
    expires_at = datetime.fromisoformat(inherited.json()["expires_at"])
    assert timedelta(days=9) < expires_at - datetime.now(UTC) <= timedelta(days=10)


async def test_keys_made_by_a_session_die_with_it(app: Any, auth_client: httpx.AsyncClient) -> None:
    user = await create_user_with_key(app, password=PASSWORD)
    session_end = datetime.fromisoformat((await _login(auth_client, user))["expires_at"])
    made = await auth_client.post("/api/v1/auth/keys", json={"name": "dash", "scopes": ["read"]})
    assert made.status_code == 201
    assert made.json()["session_key_id"] is not None
    assert datetime.fromisoformat(made.json()["expires_at"]) <= session_end
    assert (await auth_client.get(PROBE, headers=_bearer(made.json()))).status_code == 200
    assert (await auth_client.post("/api/v1/auth/logout")).status_code == 204
    assert (await auth_client.get(PROBE, headers=_bearer(made.json()))).status_code == 401
    listed = await auth_client.get("/api/v1/auth/keys", headers=user.headers)
    assert listed.status_code == 403  # the phone's ingest+read key cannot list keys


async def test_an_admin_session_cannot_mint_a_permanent_admin_key(
    app: Any, auth_client: httpx.AsyncClient
) -> None:
    admin = await create_user_with_key(app, password=PASSWORD, is_admin=True)
    await _login(auth_client, admin)
    made = await auth_client.post(
        "/api/v1/admin/keys",
        json={"name": "forever", "user": admin.user_name, "scopes": ["admin"]},
    )
    assert made.status_code == 201
    assert made.json()["expires_at"] is not None
    await auth_client.post("/api/v1/auth/logout")
    assert (await auth_client.get(PROBE, headers=_bearer(made.json()))).status_code == 401


async def test_a_session_re_entering_the_password_makes_a_key_that_outlives_it(
    app: Any, auth_client: httpx.AsyncClient
) -> None:
    user = await create_user_with_key(app, password=PASSWORD)
    await _login(auth_client, user)
    body = {"name": "phone", "scopes": ["ingest"], "expires_in_days": 30}
    without = await auth_client.post("/api/v1/auth/keys", json=body)
    assert without.status_code == 403
    assert "password" in without.json()["detail"]
    wrong = await auth_client.post("/api/v1/auth/keys", json={**body, "password": "not it at all"})
    assert wrong.status_code == 403
    made = await auth_client.post("/api/v1/auth/keys", json={**body, "password": PASSWORD})
    assert made.status_code == 201
    assert made.json()["session_key_id"] is None
    assert made.json()["scopes"] == ["ingest"]
    await auth_client.post("/api/v1/auth/logout")
    assert (await auth_client.get(PROBE, headers=_bearer(made.json()))).status_code == 200
