"""ETag revalidation, private caching and gzip on the read endpoints."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from tests.fixtures import payloads
from tests.fixtures.auth import TestKey
from tests.health_data.conftest import Get, Ingest


async def test_unchanged_data_revalidates_with_304(
    owner: TestKey, ingest: Ingest, get: Get
) -> None:
    await ingest(owner, payloads.hae_metrics(("heart_rate",), count=20))
    first = await get(owner, "/metrics/heart_rate")
    assert first.headers["cache-control"] == "private, no-cache"
    etag = first.headers["etag"]
    again = await get(owner, "/metrics/heart_rate", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag


async def test_new_data_changes_the_etag(owner: TestKey, ingest: Ingest, get: Get) -> None:
    await ingest(owner, payloads.hae_metrics(("heart_rate",), count=20))
    etag = (await get(owner, "/metrics")).headers["etag"]
    await ingest(owner, payloads.hae_metrics(("step_count",), count=20))
    after = await get(owner, "/metrics", headers={"If-None-Match": etag})
    assert after.status_code == 200
    assert after.headers["etag"] != etag


async def test_large_answers_are_gzipped_for_clients_that_accept_it(
    app: FastAPI, owner: TestKey, ingest: Ingest
) -> None:
    await ingest(owner, payloads.hae_metrics(("heart_rate",), count=200))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        plain = await http.get(
            "/api/v1/metrics/heart_rate", headers={**owner.headers, "Accept-Encoding": "identity"}
        )
        packed = await http.get(
            "/api/v1/metrics/heart_rate", headers={**owner.headers, "Accept-Encoding": "gzip"}
        )
    assert "content-encoding" not in plain.headers
    assert packed.headers["content-encoding"] == "gzip"
    assert packed.json() == plain.json()
    assert int(packed.headers["content-length"]) < len(plain.content) / 3
