"""Scenario 4: Redis killed and paused under load: no ingest fails, limits hold, it resumes."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.fixtures.payloads import hae_metrics
from tests.reliability.conftest import ServerFleet, recording_client
from tests.reliability.services import DedicatedServices

pytestmark = pytest.mark.faults

BASE = datetime(2024, 9, 1, tzinfo=UTC)


def payload(index: int) -> dict[str, Any]:
    return hae_metrics(("step_count",), count=5, start=BASE + timedelta(hours=index), seed=index)


async def test_ingest_never_fails_because_of_redis(
    fleet: ServerFleet, dedicated: DedicatedServices, key_factory: Any
) -> None:
    server = fleet.start()
    keys = [await key_factory() for _ in range(4)]
    statuses: list[int] = []
    async with recording_client(server.url) as http:
        stop = asyncio.Event()

        async def load(worker: int) -> None:
            index = worker * 10_000
            while not stop.is_set():
                answer = await http.post(
                    "/api/v1/ingest", json=payload(index), headers=keys[worker].headers
                )
                statuses.append(answer.status_code)
                index += 1

        async def faults() -> None:
            await asyncio.sleep(0.5)
            await asyncio.to_thread(dedicated.redis.kill)
            await asyncio.sleep(1.5)
            ready = (await http.get("/ready")).json()
            assert ready["status"] == "degraded", ready
            await asyncio.to_thread(dedicated.redis.start)
            await asyncio.sleep(1.5)
            dedicated.redis.client_pause(1500)
            await asyncio.sleep(2)
            sleeper = dedicated.redis.debug_sleep(1.5)
            await asyncio.sleep(2)
            sleeper.wait(timeout=10)
            dedicated.redis.pause()
            await asyncio.sleep(1.5)
            dedicated.redis.resume()
            await asyncio.sleep(1.5)
            stop.set()

        await asyncio.gather(faults(), *(load(w) for w in range(4)))
        assert statuses
        assert set(statuses) == {200}, sorted(set(statuses))
        # The shared limiter is back on Redis within a few seconds.
        deadline = time.monotonic() + 10
        backend = "memory"
        while backend != "redis" and time.monotonic() < deadline:
            await asyncio.sleep(0.3)
            answer = await http.get("/api/v1/auth/rate-limit", headers=keys[0].headers)
            backend = answer.json()["backend"]
        assert backend == "redis"
        assert (await http.get("/ready")).json()["status"] == "ready"


async def test_limits_hold_per_process_while_redis_is_down(
    fleet: ServerFleet, dedicated: DedicatedServices, key_factory: Any
) -> None:
    server = fleet.start(rate_limit_requests=5, rate_limit_window_seconds=60)
    key = await key_factory()
    async with recording_client(server.url) as http:
        await asyncio.to_thread(dedicated.redis.kill)
        statuses = [
            (await http.get("/api/v1/auth/rate-limit", headers=key.headers)).status_code
            for _ in range(6)
        ]
        assert statuses == [200] * 5 + [429]
        ready = await http.get("/ready")
        assert ready.status_code == 200
        assert ready.json()["status"] == "degraded"
        health = await http.get("/health")
        assert health.status_code == 200
    await asyncio.to_thread(dedicated.redis.start)
    async with httpx.AsyncClient(base_url=server.url) as http:
        deadline = time.monotonic() + 10
        status = ""
        while status != "ready" and time.monotonic() < deadline:
            await asyncio.sleep(0.3)
            status = (await http.get("/ready")).json()["status"]
        assert status == "ready"
