"""A key sent in the wrong header shape is told the right shape; wrong keys learn nothing."""

from __future__ import annotations

import httpx
import pytest

from health_export.auth.keys import KeyFormat, generate
from tests.fixtures.auth import TestKey

BEARER_HINT = "the Authorization header must be 'Bearer <key>'"


@pytest.mark.parametrize(
    "authorization",
    ["{key}", "Token {key}", "Basic {key}", "Bearer", "Bearer    ", "bearer:{key}"],
)
async def test_a_key_without_the_bearer_scheme_is_told_the_expected_header(
    auth_client: httpx.AsyncClient, ingest_key: TestKey, authorization: str
) -> None:
    headers = {"Authorization": authorization.format(key=ingest_key.key)}
    response = await auth_client.get("/api/v1/auth/keys", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="health-export"'
    assert response.json()["detail"].startswith(BEARER_HINT)
    assert "X-API-Key: <key>" in response.json()["detail"]
    assert ingest_key.key not in response.text


async def test_the_same_key_with_the_bearer_scheme_works(
    auth_client: httpx.AsyncClient, ingest_key: TestKey
) -> None:
    response = await auth_client.get(
        "/api/v1/auth/rate-limit", headers={"Authorization": f"bearer {ingest_key.key}"}
    )
    assert response.status_code == 200


async def test_wrong_keys_in_either_header_get_one_generic_answer(
    auth_client: httpx.AsyncClient,
) -> None:
    unknown = generate(KeyFormat.TOKEN)
    bodies = set()
    for headers in (
        {},
        {"Authorization": f"Bearer {unknown}"},
        {"Authorization": "Bearer hea_" + "x" * 36},
        {"X-API-Key": unknown},
        {"X-API-Key": "not-a-key"},
    ):
        response = await auth_client.get("/api/v1/auth/keys", headers=headers)
        assert response.status_code == 401
        body = response.json()
        body.pop("request_id")
        bodies.add(tuple(sorted(body.items())))
    (body,) = bodies
    assert dict(body)["detail"] == (
        "a valid API key is required, as 'Authorization: Bearer <key>' or 'X-API-Key: <key>'"
    )
