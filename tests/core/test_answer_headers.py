"""What every answer carries: no sniffing, no framing, no referrer, and no caching of secrets."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI

from tests.fixtures import payloads
from tests.fixtures.auth import TestKey, unique_name

POLICY = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "content-security-policy": "frame-ancestors 'none'",
}


def assert_policy_headers(response: httpx.Response) -> None:
    """The browser-facing policy headers, each with its value."""
    for name, value in POLICY.items():
        assert response.headers.get(name) == value, (response.request.url.path, name)


async def test_every_kind_of_answer_carries_the_policy_headers(
    client: httpx.AsyncClient, ingest_key: TestKey
) -> None:
    answers = [
        await client.get("/health"),
        await client.get("/docs"),
        await client.get("/openapi.json"),
        await client.get("/nope"),
        await client.get("/api/v1/metrics"),
        await client.get("/api/v1/metrics", headers=ingest_key.headers),
        await client.post("/health"),
    ]
    assert [a.status_code for a in answers] == [200, 200, 200, 404, 401, 200, 405]
    for answer in answers:
        assert_policy_headers(answer)


async def test_an_unexpected_500_carries_the_policy_headers(app_factory: Any) -> None:
    app: FastAPI = app_factory()

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("boom")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        response = await http.get("/boom")
    assert response.status_code == 500
    assert_policy_headers(response)
    assert response.headers["cache-control"] == "no-store"


async def test_key_admin_audit_and_session_answers_are_never_stored(
    auth_client: httpx.AsyncClient, admin_key: TestKey
) -> None:
    headers = admin_key.headers
    password = "correct horse battery staple"
    name = unique_name()
    created = await auth_client.post(
        "/api/v1/admin/users", headers=headers, json={"name": name, "password": password}
    )
    assert created.status_code == 201, created.text
    answers = [
        await auth_client.get("/api/v1/auth/keys", headers=headers),
        await auth_client.get("/api/v1/auth/rate-limit", headers=headers),
        await auth_client.get("/api/v1/admin/users", headers=headers),
        await auth_client.get("/api/v1/admin/keys", headers=headers),
        await auth_client.get("/api/v1/admin/audit", headers=headers),
        await auth_client.get("/api/v1/admin/logging", headers=headers),
        await auth_client.post("/api/v1/auth/login", json={"name": name, "password": password}),
        await auth_client.post("/api/v1/auth/login", json={"name": name, "password": "wrong"}),
    ]
    assert [a.status_code for a in answers] == [200, 200, 200, 200, 200, 200, 200, 401]
    for answer in answers:
        assert answer.headers["cache-control"] == "no-store", answer.request.url.path


async def test_ingest_answer_and_ingestion_status_are_never_stored(
    client: httpx.AsyncClient, ingest_key: TestKey
) -> None:
    body = orjson.dumps(payloads.hae_metrics(("step_count",), count=5))
    headers = {"Content-Type": "application/json", **ingest_key.headers}
    answer = await client.post("/api/v1/ingest", content=body, headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    status_url = f"/api/v1/ingestions/{answer.json()['ingestion_id']}"
    status = await client.get(status_url, headers=headers)
    assert status.status_code == 200
    assert status.headers["cache-control"] == "no-store"


async def test_health_data_answers_keep_their_private_revalidation(
    client: httpx.AsyncClient, ingest_key: TestKey
) -> None:
    # Read answers choose `private, no-cache` + ETag themselves (a dashboard revalidates
    # with 304s); the default never overrides a Cache-Control an answer set.
    response = await client.get("/api/v1/metrics", headers=ingest_key.headers)
    assert response.headers["cache-control"] == "private, no-cache"
    assert response.headers["etag"]


@pytest.mark.parametrize("path", ["/api/v1/metrics", "/api/v1/sleep", "/api/v1/activity/daily"])
async def test_read_routes_answer_alike_with_a_trailing_slash(
    client: httpx.AsyncClient, ingest_key: TestKey, path: str
) -> None:
    await client.post(
        "/api/v1/ingest",
        content=orjson.dumps(payloads.hae_metrics(("step_count",), count=5)),
        headers={"Content-Type": "application/json", **ingest_key.headers},
    )
    params = {"start": "2024-01-01", "end": "2025-01-01"}
    plain = await client.get(path, params=params, headers=ingest_key.headers)
    slashed = await client.get(path + "/", params=params, headers=ingest_key.headers)
    assert plain.status_code == 200, plain.text
    assert slashed.status_code == 200, slashed.text
    assert slashed.json() == plain.json()


async def test_every_get_route_accepts_a_trailing_slash_without_redirect(
    app: FastAPI, client: httpx.AsyncClient, admin_key: TestKey
) -> None:
    paths: dict[str, dict[str, Any]] = app.openapi()["paths"]
    for template, operations in paths.items():
        if "get" not in operations:
            continue
        path = template.replace("{name}", "step_count")
        for parameter in ("{key_id}", "{ingestion_id}", "{workout_id}", "{recording_id}"):
            path = path.replace(parameter, "00000000-0000-4000-8000-000000000000")
        plain = await client.get(path, headers=admin_key.headers)
        slashed = await client.get(path + "/", headers=admin_key.headers)
        assert slashed.status_code == plain.status_code, (template, slashed.text)
        assert slashed.status_code < 300 or slashed.status_code >= 400, template


async def test_unknown_paths_with_a_trailing_slash_are_still_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/nope/")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
