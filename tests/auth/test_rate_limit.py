"""Rate limits: headers, 429, exactness across two app instances, per-IP failure throttle."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from health_export.auth.keys import KeyFormat, generate
from tests.fixtures.auth import TestKey, create_user_with_key, unique_ip


@asynccontextmanager
async def running(app: Any, ip: str = "10.200.0.1") -> AsyncIterator[httpx.AsyncClient]:
    """``app`` with its lifespan running and a client of it."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=(ip, 1))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            yield http


def _prefix() -> str:
    return f"test:{uuid.uuid4().hex}:"


async def test_responses_carry_both_header_generations(
    auth_client: httpx.AsyncClient, ingest_key: TestKey
) -> None:
    response = await auth_client.get("/api/v1/auth/rate-limit", headers=ingest_key.headers)
    assert response.status_code == 200
    assert response.headers["ratelimit-policy"] == '"ingest";q=1000;w=3600'
    assert response.headers["ratelimit"].startswith('"ingest";r=999;t=')
    assert response.headers["x-ratelimit-limit"] == "1000"
    assert response.headers["x-ratelimit-remaining"] == "999"
    assert 3590 <= int(response.headers["x-ratelimit-reset"]) <= 3600
    body = response.json()
    assert body["limit"] == 1000
    assert body["remaining"] == 999
    assert body["backend"] == "redis"


async def test_over_the_limit_is_429_with_retry_after(app_factory: Any) -> None:
    app = app_factory(
        rate_limit_requests=3, rate_limit_window_seconds=60, rate_limit_key_prefix=_prefix()
    )
    async with running(app) as http:
        key = await create_user_with_key(app)
        statuses = [
            (await http.get("/api/v1/auth/rate-limit", headers=key.headers)) for _ in range(4)
        ]
    assert [r.status_code for r in statuses] == [200, 200, 200, 429]
    assert statuses[2].headers["x-ratelimit-remaining"] == "0"
    assert 1 <= int(statuses[3].headers["retry-after"]) <= 60
    assert statuses[3].headers["content-type"] == "application/problem+json"


async def test_limit_is_exact_across_two_app_instances_sharing_redis(app_factory: Any) -> None:
    settings = {
        "rate_limit_requests": 10,
        "rate_limit_window_seconds": 60,
        "rate_limit_key_prefix": _prefix(),
        # 25 requests at once wait for pool connections: on a busy machine, longer than
        # the suite's 3 s (a 503 would be a request never counted).
        "database_pool_timeout_seconds": 30.0,
    }
    first, second = app_factory(**settings), app_factory(**settings)
    async with running(first) as one, running(second) as two:
        key = await create_user_with_key(first)
        requests = [
            (one if i % 2 else two).get("/api/v1/auth/rate-limit", headers=key.headers)
            for i in range(25)
        ]
        statuses = [r.status_code for r in await asyncio.gather(*requests)]
    assert statuses.count(200) == 10
    assert statuses.count(429) == 15


async def test_old_100_per_hour_setting_still_works(app_factory: Any) -> None:
    app = app_factory(
        rate_limit_requests=100, rate_limit_window_seconds=3600, rate_limit_key_prefix=_prefix()
    )
    async with running(app) as http:
        key = await create_user_with_key(app)
        response = await http.get("/api/v1/auth/rate-limit", headers=key.headers)
    assert response.headers["ratelimit-policy"] == '"ingest";q=100;w=3600'


async def test_failed_auth_is_throttled_per_ip_without_affecting_others(app: Any) -> None:
    attacker, bystander = unique_ip(), unique_ip()
    bad = {"Authorization": f"Bearer {generate(KeyFormat.TOKEN)}"}
    valid = await create_user_with_key(app)

    async def status(ip: str, headers: dict[str, str]) -> int:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=(ip, 1))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            response = await http.get("/api/v1/auth/rate-limit", headers=headers)
            if response.status_code == 429:
                assert int(response.headers["retry-after"]) >= 1
            return response.status_code

    attempts = [await status(attacker, bad) for _ in range(22)]
    assert attempts == [401] * 20 + [429] * 2
    assert await status(bystander, bad) == 401
    assert await status(bystander, valid.headers) == 200
    # A valid key is never throttled for its address's failures (shared NAT, see docs/auth.md).
    assert await status(attacker, valid.headers) == 200


async def test_without_redis_limits_are_kept_in_process_and_reported(app_factory: Any) -> None:
    app = app_factory(
        redis_url="redis://127.0.0.1:1/0", rate_limit_requests=2, rate_limit_window_seconds=60
    )
    async with running(app) as http:
        key = await create_user_with_key(app)
        statuses = [
            (await http.get("/api/v1/auth/rate-limit", headers=key.headers)).status_code
            for _ in range(3)
        ]
        ready = (await http.get("/ready")).json()
        metrics = (await http.get("/metrics")).text
    assert statuses == [200, 200, 429]  # never fails open
    assert ready["status"] == "degraded"
    assert "rate_limit_fallback_active 1.0" in metrics
