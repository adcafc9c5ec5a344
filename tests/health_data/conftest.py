"""Read-API test helpers: ingest payloads through HTTP, then read them back."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI

from tests.fixtures.auth import TestKey, create_user_with_key

Ingest = Callable[[TestKey, dict[str, Any]], Awaitable[dict[str, Any]]]
Get = Callable[..., Awaitable[httpx.Response]]


@pytest.fixture
async def owner(app: FastAPI) -> TestKey:
    """A fresh user with an ingest+read key."""
    return await create_user_with_key(app)


@pytest.fixture
def ingest(client: httpx.AsyncClient) -> Ingest:
    """POST a payload to /api/v1/ingest as ``key``; the (checked) ingest answer."""

    async def send(key: TestKey, payload: dict[str, Any]) -> dict[str, Any]:
        headers = {"Content-Type": "application/json", **key.headers}
        body = orjson.dumps(payload)
        response = await client.post("/api/v1/ingest", content=body, headers=headers)
        assert response.status_code in (200, 202), response.text
        answer: dict[str, Any] = response.json()
        if response.status_code == 202:  # over the sync budget: wait for the worker
            answer = await _processed(client, key, answer["status_url"])
        assert answer["rejected"] == 0, answer["errors"]
        return answer

    return send


async def _processed(client: httpx.AsyncClient, key: TestKey, url: str) -> dict[str, Any]:
    for _ in range(600):
        status = (await client.get(url, headers=key.headers)).json()
        if status["status"] != "received":
            assert status["status"] == "processed", status
            result: dict[str, Any] = status["result"]
            return result
        await asyncio.sleep(0.2)
    raise AssertionError(f"ingestion {url} still not processed")


@pytest.fixture
def get(client: httpx.AsyncClient) -> Get:
    """GET a read-API path as ``key`` with query ``params``."""

    async def send(
        key: TestKey, path: str, headers: dict[str, str] | None = None, **params: Any
    ) -> httpx.Response:
        return await client.get(
            f"/api/v1{path}", params=params, headers={**key.headers, **(headers or {})}
        )

    return send


def metric(name: str, units: str, points: list[dict[str, Any]]) -> dict[str, Any]:
    """A HAE payload with one metric."""
    return {"data": {"metrics": [{"name": name, "units": units, "data": points}]}}
