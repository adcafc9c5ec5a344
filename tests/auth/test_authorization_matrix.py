"""Every route × every kind of caller → exactly the expected status, and no cross-user data."""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from health_export.auth.keys import KeyFormat, generate
from health_export.auth.principal import Scope
from tests.fixtures.auth import (
    TestKey,
    add_key,
    create_user_with_key,
    disable_user,
    expire_key,
    revoke_key,
    unique_ip,
    unique_name,
)

FAILURES = ("none", "malformed", "unknown", "revoked", "expired", "disabled")
VALID = ("ingest_a", "read_a", "keys_a", "key_b", "admin")
PUBLIC_PATHS = {"/health", "/ready", "/metrics", "/api/v1/auth/login"}


@dataclass
class World:
    """Callers of one test: user A (three keys), user B, an admin, and broken keys."""

    a_ingest: TestKey
    a_read: TestKey
    a_keys: TestKey
    b: TestKey
    admin: TestKey
    failing: dict[str, dict[str, str]]

    def headers(self, caller: str) -> dict[str, str]:
        if caller in self.failing:
            return self.failing[caller]
        key = {
            "ingest_a": self.a_ingest,
            "read_a": self.a_read,
            "keys_a": self.a_keys,
            "key_b": self.b,
            "admin": self.admin,
        }[caller]
        return key.headers


async def _broken(app: Any, make: Callable[[Any, TestKey], Awaitable[None]]) -> dict[str, str]:
    key = await create_user_with_key(app)
    await make(app, key)
    return key.headers


@pytest.fixture
async def world(app: Any) -> World:
    """Fresh users and keys for one test."""
    a_ingest = await create_user_with_key(app, scopes=[Scope.INGEST])
    a_read = await add_key(app, a_ingest, scopes=[Scope.READ])
    a_keys = await add_key(app, a_ingest, scopes=[Scope.KEYS, Scope.INGEST])
    failing = {
        "none": {},
        "malformed": {"Authorization": "Bearer hea_" + "x" * 36},
        "unknown": {"Authorization": f"Bearer {generate(KeyFormat.TOKEN)}"},
        "revoked": await _broken(app, revoke_key),
        "expired": await _broken(app, expire_key),
        "disabled": await _broken(app, disable_user),
    }
    return World(
        a_ingest=a_ingest,
        a_read=a_read,
        a_keys=a_keys,
        b=await create_user_with_key(app),
        admin=await create_user_with_key(
            app, scopes=[Scope.ADMIN, Scope.INGEST, Scope.READ], is_admin=True
        ),
        failing=failing,
    )


async def call(
    app: Any, method: str, path: str, headers: dict[str, str], body: Any = None
) -> httpx.Response:
    """One request from an address of its own (the failed-auth throttle is per IP)."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=(unique_ip(), 1))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        return await http.request(method, path, headers=headers, json=body)


@dataclass(frozen=True)
class Case:
    """A route and, for each valid caller, the status it must get."""

    method: str
    path: str
    expected: dict[str, int]
    body: Callable[[World], Any] = lambda world: None
    target: Callable[[Any, World], Awaitable[str]] | None = None


async def _a_key(app: Any, world: World) -> str:
    return str((await add_key(app, world.a_ingest)).key_id)


async def _fresh_user(app: Any, world: World) -> str:
    return str((await create_user_with_key(app)).user_id)


ADMIN_ONLY = {"ingest_a": 403, "read_a": 403, "keys_a": 403, "key_b": 403}
# Key management needs the `keys` scope: a phone's ingest+read key (key_b) cannot list,
# mint or revoke its user's keys.
KEYS_ONLY = {"ingest_a": 403, "read_a": 403, "key_b": 403}
EVERYONE = {"ingest_a": 200, "read_a": 200, "keys_a": 200, "key_b": 200, "admin": 200}
CASES = [
    Case("GET", "/api/v1/auth/keys", {**KEYS_ONLY, "keys_a": 200, "admin": 200}),
    Case(
        "POST",
        "/api/v1/auth/keys",
        {**KEYS_ONLY, "keys_a": 201, "admin": 201},
        body=lambda w: {"name": "m", "scopes": ["ingest"]},
    ),
    Case(
        "DELETE",
        "/api/v1/auth/keys/{id}",
        {**KEYS_ONLY, "keys_a": 204, "admin": 204},
        target=_a_key,
    ),
    Case("GET", "/api/v1/auth/rate-limit", EVERYONE),
    Case("POST", "/api/v1/auth/logout", {caller: 204 for caller in EVERYONE}),
    Case("GET", "/api/v1/admin/users", {**ADMIN_ONLY, "admin": 200}),
    Case(
        "POST",
        "/api/v1/admin/users",
        {**ADMIN_ONLY, "admin": 201},
        body=lambda w: {"name": unique_name()},
    ),
    Case(
        "POST", "/api/v1/admin/users/{id}/disable", {**ADMIN_ONLY, "admin": 200}, target=_fresh_user
    ),
    Case("GET", "/api/v1/admin/keys", {**ADMIN_ONLY, "admin": 200}),
    Case(
        "POST",
        "/api/v1/admin/keys",
        {**ADMIN_ONLY, "admin": 201},
        body=lambda w: {"name": "m", "user": w.a_ingest.user_name, "scopes": ["read"]},
    ),
    Case("DELETE", "/api/v1/admin/keys/{id}", {**ADMIN_ONLY, "admin": 204}, target=_a_key),
    Case("GET", "/api/v1/admin/audit", {**ADMIN_ONLY, "admin": 200}),
    Case("GET", "/api/v1/admin/logging", {**ADMIN_ONLY, "admin": 200}),
    Case(
        "PUT",
        "/api/v1/admin/logging",
        {**ADMIN_ONLY, "admin": 200},
        body=lambda w: {"levels": {"health_export.matrix_test": "INFO"}},
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.method} {c.path}")
async def test_route_answers_each_caller_as_expected(app: Any, world: World, case: Case) -> None:
    seen: dict[str, int] = {}
    for caller in (*FAILURES, *VALID):
        path = case.path
        if case.target is not None:
            path = path.replace("{id}", await case.target(app, world))
        response = await call(app, case.method, path, world.headers(caller), case.body(world))
        seen[caller] = response.status_code
    assert seen == {**dict.fromkeys(FAILURES, 401), **case.expected}


def _api_operations(app: Any) -> list[tuple[str, str]]:
    paths: dict[str, dict[str, Any]] = app.openapi()["paths"]
    return [(method.upper(), path) for path, operations in paths.items() for method in operations]


async def test_every_auth_and_admin_route_is_in_the_matrix(app: Any) -> None:
    routes = {
        (method, re.sub(r"\{[a-z_]+\}", "{id}", path))
        for method, path in _api_operations(app)
        if path.startswith(("/api/v1/auth", "/api/v1/admin"))
    }
    assert routes - {("POST", "/api/v1/auth/login")} == {(c.method, c.path) for c in CASES}


async def test_every_protected_route_refuses_every_failure_with_one_body(
    app: Any, world: World
) -> None:
    bodies = set()
    operations = [(m, p) for m, p in _api_operations(app) if p not in PUBLIC_PATHS]
    assert len(operations) >= len(CASES)
    for method, template in operations:
        path = re.sub(r"\{[a-z_]+\}", str(uuid.uuid4()), template)
        for caller in FAILURES:
            response = await call(app, method, path, world.headers(caller), {})
            assert response.status_code == 401, (method, path, caller)
            assert response.headers["www-authenticate"] == 'Bearer realm="health-export"'
            body = response.json()
            body.pop("request_id")
            bodies.add(tuple(sorted(body.items())))
    assert len(bodies) == 1


async def test_key_of_b_never_sees_data_of_a(app: Any, world: World) -> None:
    b_keys = await add_key(app, world.b, scopes=[Scope.KEYS])
    response = await call(app, "GET", "/api/v1/auth/keys", b_keys.headers)
    assert response.status_code == 200
    assert str(world.a_ingest.key_id) not in response.text
    assert str(world.a_read.key_id) not in response.text
    assert all(key["user_id"] == world.b.user_id for key in response.json())
