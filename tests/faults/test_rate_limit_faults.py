"""Redis stopped mid-run: limits go in-process at once, and back to Redis when it returns."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.auth.clients import PASSWORD
from tests.auth.test_rate_limit import running
from tests.faults import services
from tests.fixtures.auth import create_user_with_key

pytestmark = pytest.mark.faults


@pytest.fixture
def redis_restored() -> Iterator[None]:
    """Whatever happens in the test, Redis is running afterwards."""
    yield
    services.start_redis()


@pytest.mark.usefixtures("app")  # configures logging before captured_logs
async def test_limits_survive_redis_stopping_and_return_to_it(
    app_factory: Any, redis_restored: None, captured_logs: Any
) -> None:
    app = app_factory(
        rate_limit_requests=5,
        rate_limit_window_seconds=60,
        rate_limit_key_prefix=f"fault:{uuid.uuid4().hex}:",
    )
    async with running(app) as http:
        key = await create_user_with_key(app)
        assert (await http.get("/api/v1/auth/rate-limit", headers=key.headers)).status_code == 200
        services.stop_redis()
        started = time.monotonic()
        during = [
            (await http.get("/api/v1/auth/rate-limit", headers=key.headers)).status_code
            for _ in range(6)
        ]
        assert time.monotonic() - started < 2
        assert during == [200] * 5 + [429]  # in-process, never open
        assert (await http.get("/ready")).json()["status"] == "degraded"
        assert "rate_limit_fallback_active 1.0" in (await http.get("/metrics")).text
        services.start_redis()
        backend = "memory"
        deadline = time.monotonic() + 10
        other = await create_user_with_key(app)
        while backend != "redis" and time.monotonic() < deadline:
            await asyncio.sleep(0.3)
            backend = (await http.get("/api/v1/auth/rate-limit", headers=other.headers)).json()[
                "backend"
            ]
        assert backend == "redis"
        assert "rate_limit_fallback_active 0.0" in (await http.get("/metrics")).text
    assert captured_logs.getvalue().count('"rate_limit_fallback"') == 1


async def test_password_guesses_counted_before_redis_stopped_still_count_after(
    app_factory: Any, redis_restored: None
) -> None:
    """Redis lost mid-burst: the in-process window starts from what it let through."""
    app = app_factory(
        login_limit_per_address_per_minute=5,
        rate_limit_key_prefix=f"fault:{uuid.uuid4().hex}:",
    )
    async with running(app) as http:
        user = await create_user_with_key(app, password=PASSWORD)

        async def guess(n: int) -> int:
            answer = await http.post(
                "/api/v1/auth/login", json={"name": user.user_name, "password": f"wrong {n}"}
            )
            return answer.status_code

        before = [await guess(n) for n in range(3)]  # counted in Redis
        services.stop_redis()
        after = [await guess(n) for n in range(3, 8)]
    assert before == [401] * 3
    assert after == [401, 401, 429, 429, 429]  # five checked in all, not three plus five
