"""/ready follows the real services going down and coming back, without a restart."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from tests.faults import services

pytestmark = pytest.mark.faults


@pytest.fixture
def postgres_restored() -> Iterator[None]:
    """Whatever happens in the test, PostgreSQL is running afterwards."""
    yield
    services.start_postgres()


@pytest.fixture
def redis_restored() -> Iterator[None]:
    """Whatever happens in the test, Redis is running afterwards."""
    yield
    services.start_redis()


async def test_ready_turns_503_with_database_down_and_back_to_200(
    client: httpx.AsyncClient, postgres_restored: None
) -> None:
    assert (await client.get("/ready")).status_code == 200
    services.stop_postgres()
    started = time.monotonic()
    down = await client.get("/ready")
    assert down.status_code == 503
    assert down.json()["reason"] == "database unreachable"
    assert time.monotonic() - started < 5
    assert (await client.get("/health")).status_code == 200
    services.start_postgres()
    deadline = time.monotonic() + 10
    status = 0
    while time.monotonic() < deadline and status != 200:
        status = (await client.get("/ready")).status_code
    assert status == 200


async def test_ready_is_degraded_not_down_when_redis_stops(
    client: httpx.AsyncClient, redis_restored: None
) -> None:
    services.stop_redis()
    response = await client.get("/ready")
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["redis"] == "unavailable"
    services.start_redis()
    deadline = time.monotonic() + 10
    body = response.json()
    while time.monotonic() < deadline and body["status"] != "ready":
        body = (await client.get("/ready")).json()
    assert body["status"] == "ready"
