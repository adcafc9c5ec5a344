"""Password attempts are counted before they are checked, per address and per account."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from health_export.auth.principal import Scope
from health_export.core import redis as redis_client
from tests.auth.clients import PASSWORD, client_of, own_prefix, running
from tests.fixtures.auth import create_user_with_key, unique_ip


async def _login(http: httpx.AsyncClient, name: str, password: str) -> int:
    response = await http.post("/api/v1/auth/login", json={"name": name, "password": password})
    return response.status_code


async def test_fifteen_concurrent_guesses_against_five_check_five_and_a_late_right_one_gets_429(
    app_factory: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Fourteen Argon2 checks at once can hold a busy machine's event loop past the Redis
    # client's 0.5 s timeout, and a timed-out count falls back to this process's own
    # counter (a limit of its own): this test is about the atomic count, not Redis latency.
    monkeypatch.setattr(redis_client, "REDIS_TIMEOUT_S", 5.0)
    app = app_factory(
        login_limit_per_address_per_minute=5,
        login_concurrency=16,
        rate_limit_key_prefix=own_prefix(),
    )
    async with running(app) as http:
        user = await create_user_with_key(app, password=PASSWORD)
        async with client_of(app, unique_ip()) as elsewhere:  # Redis connected, script loaded
            assert await _login(elsewhere, "someone-else", "not the password") == 401
        over_the_limit = asyncio.Event()

        async def wrong(n: int) -> int:
            status = await _login(http, user.user_name, f"wrong guess number {n}")
            if status == 429:
                over_the_limit.set()
            return status

        async def right() -> int:
            # Sent while the checked guesses are still in Argon2: it must not slip through.
            await asyncio.wait_for(over_the_limit.wait(), timeout=60)
            return await _login(http, user.user_name, PASSWORD)

        statuses = await asyncio.gather(*(wrong(n) for n in range(14)), right())
    assert statuses[-1] == 429
    assert sorted(statuses[:-1]) == [401] * 5 + [429] * 9  # at most five were checked


async def test_guesses_from_many_addresses_hit_the_per_account_limit(app_factory: Any) -> None:
    app = app_factory(
        login_limit_per_address_per_minute=100,
        login_limit_per_account_per_hour=4,
        rate_limit_key_prefix=own_prefix(),
    )
    async with app.router.lifespan_context(app):
        user = await create_user_with_key(app, password=PASSWORD)
        statuses = []
        for n in range(4):
            async with client_of(app, unique_ip()) as http:
                statuses.append(await _login(http, user.user_name, f"guess {n} of a botnet"))
        async with client_of(app, unique_ip()) as fresh_address:
            late_right = await fresh_address.post(
                "/api/v1/auth/login", json={"name": user.user_name, "password": PASSWORD}
            )
    assert statuses == [401] * 4
    assert late_right.status_code == 429
    assert late_right.headers["ratelimit-policy"] == '"login-account";q=4;w=3600'
    assert int(late_right.headers["retry-after"]) >= 1


async def test_a_login_flood_does_not_take_the_pool_from_readers(app_factory: Any) -> None:
    app = app_factory(
        database_pool_size=1,
        database_max_overflow=0,
        database_pool_timeout_seconds=5,
        # Only the logins and the reads share the one connection (no background jobs).
        embedded_worker=False,
        login_concurrency=2,
        login_limit_per_address_per_minute=1000,
        login_limit_per_account_per_hour=1000,
        rate_limit_key_prefix=own_prefix(),
    )
    async with running(app) as http:
        victim = await create_user_with_key(app, password=PASSWORD)
        reader = await create_user_with_key(app, scopes=[Scope.READ, Scope.KEYS])

        async def read(delay_s: float) -> int:
            await asyncio.sleep(delay_s)
            return (await http.get("/api/v1/auth/keys", headers=reader.headers)).status_code

        logins = [_login(http, victim.user_name, f"flood {n} wrong") for n in range(10)]
        reads = [read(0.05 * n) for n in range(5)]
        results = await asyncio.gather(*logins, *reads)
    assert results[10:] == [200] * 5
    # Past LOGIN_CONCURRENCY a login waits a moment, then is told to come back (503).
    assert set(results[:10]) <= {401, 503}
    assert 401 in results[:10]
