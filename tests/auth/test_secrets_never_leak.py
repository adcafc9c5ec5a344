"""Keys never appear in the database, in logs, or in any answer after their creation."""

from __future__ import annotations

import io
import secrets
from typing import Any

import asyncpg
import httpx

from health_export.auth.state import auth_state_of
from tests.fixtures.auth import TestKey, unique_name


async def _dump_tables(database_url: str) -> str:
    conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        parts: list[str] = []
        for table in ("users", "api_keys", "audit_events"):
            rows = await conn.fetch(f"SELECT * FROM {table}")  # noqa: S608 - fixed names
            parts.extend(repr(dict(row)) for row in rows)
            parts.extend(bytes(row["digest"]).hex() for row in rows if "digest" in row)
        return "\n".join(parts)
    finally:
        await conn.close()


async def test_keys_are_absent_from_tables_logs_and_later_answers(
    app: Any,
    auth_client: httpx.AsyncClient,
    admin_key: TestKey,
    database_url: str,
    captured_logs: io.StringIO,
) -> None:
    made = await auth_client.post(
        "/api/v1/auth/keys", headers=admin_key.headers, json={"name": "leak-check"}
    )
    generated = made.json()["key"]
    registered = secrets.token_urlsafe(32)
    await auth_client.post(
        "/api/v1/admin/keys",
        headers=admin_key.headers,
        json={"name": "reg", "user": admin_key.user_name, "value": registered},
    )
    secrets_seen = [admin_key.key, generated, registered]
    later = [
        await auth_client.get("/api/v1/auth/keys", headers={"X-API-Key": generated}),
        await auth_client.get("/api/v1/admin/keys", headers=admin_key.headers),
        await auth_client.get("/api/v1/admin/audit", headers=admin_key.headers),
        await auth_client.get("/api/v1/admin/users", headers=admin_key.headers),
        await auth_client.get(
            "/api/v1/auth/keys", headers={"Authorization": f"Bearer {registered}x"}
        ),
        await auth_client.post(
            "/api/v1/admin/users",
            headers=admin_key.headers,
            json={"name": unique_name(), "password": registered},
        ),
    ]
    await auth_state_of(app).usage.flush()
    dump = await _dump_tables(database_url)
    logs = captured_logs.getvalue()
    assert logs  # the access log did write
    for value in secrets_seen:
        assert value not in dump
        assert value not in logs
        for response in later:
            assert value not in response.text
            assert all(value not in header for header in response.headers.values())
