"""Scenarios 2 and 3: the database down, hung or slow; the pool exhausted."""

from __future__ import annotations

import asyncio
import re
import time
from datetime import timedelta
from typing import Any

import httpx
import pytest

from tests.fixtures.payloads import START, hae_metrics
from tests.reliability.conftest import ServerFleet, recording_client, sql
from tests.reliability.server import ServerProcess
from tests.reliability.services import DedicatedServices

pytestmark = pytest.mark.faults


def small_payload(index: int) -> dict[str, Any]:
    """Five step counts in a window of its own (no two indexes overlap)."""
    return hae_metrics(("step_count",), count=5, start=START + timedelta(hours=index), seed=index)


async def assert_503_fast(http: httpx.AsyncClient, headers: dict[str, str], index: int) -> None:
    started = time.monotonic()
    answer = await http.post("/api/v1/ingest", json=small_payload(index), headers=headers)
    elapsed = time.monotonic() - started
    assert answer.status_code == 503, answer.text
    assert int(answer.headers["retry-after"]) > 0
    assert answer.headers["content-type"] == "application/problem+json"
    assert elapsed < 5, f"503 after {elapsed:.1f}s"


async def first_2xx_after(http: httpx.AsyncClient, headers: dict[str, str], index: int) -> float:
    started = time.monotonic()
    while time.monotonic() - started < 20:
        answer = await http.post("/api/v1/ingest", json=small_payload(index), headers=headers)
        assert answer.status_code in (200, 202, 503), answer.text
        if answer.status_code < 300:
            return time.monotonic() - started
        await asyncio.sleep(0.2)
    return float("inf")


async def test_database_down_gives_fast_503_then_2xx_within_10s_of_return(
    server: ServerProcess, client: httpx.AsyncClient, key_factory: Any, dedicated: DedicatedServices
) -> None:
    key = await key_factory()
    ok = await client.post("/api/v1/ingest", json=small_payload(0), headers=key.headers)
    assert ok.status_code == 200
    await asyncio.to_thread(dedicated.postgres.stop, "immediate")
    for index in range(1, 6):
        await assert_503_fast(client, key.headers, index)
    assert (await client.get("/health")).status_code == 200
    started = time.monotonic()
    ready = await client.get("/ready")
    assert ready.status_code == 503
    assert ready.json()["database"] == "unavailable"
    assert time.monotonic() - started < 5
    await asyncio.to_thread(dedicated.postgres.start)
    assert await first_2xx_after(client, key.headers, 10) < 10
    assert (await client.get("/ready")).status_code == 200
    assert server.is_running()  # never restarted


async def test_hung_database_gives_503_within_5s_never_a_hang(
    server: ServerProcess, client: httpx.AsyncClient, key_factory: Any, dedicated: DedicatedServices
) -> None:
    key = await key_factory()
    assert (
        await client.post("/api/v1/ingest", json=small_payload(20), headers=key.headers)
    ).status_code == 200
    await asyncio.sleep(1.1)  # the key cache forgets the key: auth must ask the database
    dedicated.postgres.pause()
    try:
        for index in range(21, 24):
            await assert_503_fast(client, key.headers, index)
        assert (await client.get("/health")).status_code == 200
        started = time.monotonic()
        assert (await client.get("/ready")).status_code == 503
        assert time.monotonic() - started < 5
    finally:
        dedicated.postgres.resume()
    assert await first_2xx_after(client, key.headers, 30) < 10


def gauge(metrics_text: str, name: str) -> float:
    match = re.search(rf"^{name} (\S+)$", metrics_text, re.MULTILINE)
    assert match, f"{name} missing from /metrics"
    return float(match.group(1))


async def application_connections(database_url: str) -> int:
    rows = await sql(
        database_url,
        "SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = 'health-export' "
        "AND datname = current_database()",
    )
    return int(rows[0]["n"])


async def test_pool_exhaustion_is_bounded_answers_503_and_leaks_nothing(
    fleet: ServerFleet, key_factory: Any, reliability_db: str
) -> None:
    pool_size = 2
    server = fleet.start(
        database_pool_size=pool_size,
        database_max_overflow=0,
        database_pool_timeout_seconds=1,
        auth_failure_limit_per_minute=1_000_000,
    )
    keys = [await key_factory() for _ in range(8)]
    async with recording_client(server.url) as http:
        for index, key in enumerate(keys):  # warm: every key cached, pool opened
            answer = await http.post(
                "/api/v1/ingest", json=small_payload(100 + index), headers=key.headers
            )
            assert answer.status_code == 200
        before = gauge((await http.get("/metrics")).text, "db_pool_connections_checked_out")
        connections_before = await application_connections(reliability_db)
        # Slow the database down: raw bodies wait behind a lock held for 4 s.
        lock_holder = await _hold_table_lock(reliability_db, "raw_ingestions", 4.0)
        started = time.monotonic()

        async def one(index: int, key: Any) -> tuple[int, float, str | None]:
            t0 = time.monotonic()
            answer = await http.post(
                "/api/v1/ingest", json=small_payload(200 + index), headers=key.headers
            )
            return answer.status_code, time.monotonic() - t0, answer.headers.get("retry-after")

        results = await asyncio.gather(*(one(i, k) for i, k in enumerate(keys)))
        await lock_holder
        statuses = sorted(status for status, _, _ in results)
        overflow = [r for r in results if r[0] == 503]
        assert set(statuses) <= {200, 202, 503}, statuses
        assert len(overflow) >= len(keys) - pool_size, statuses
        assert all(retry and int(retry) > 0 for _, _, retry in overflow)
        # An overflow request waits for one pool timeout (1 s), not for the lock.
        assert max(took for _, took, _ in overflow) < 3.5, results
        assert time.monotonic() - started < 15
        await asyncio.sleep(0.5)
        after = gauge((await http.get("/metrics")).text, "db_pool_connections_checked_out")
        assert before == after == 0
        metrics_text = (await http.get("/metrics")).text
        assert gauge(metrics_text, "db_pool_connections_open") <= pool_size
        # Nothing left behind in PostgreSQL either (other servers share the database).
        assert await application_connections(reliability_db) <= connections_before + pool_size


async def _hold_table_lock(database_url: str, table: str, seconds: float) -> asyncio.Task[None]:
    import asyncpg

    conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
    transaction = conn.transaction()
    await transaction.start()
    await conn.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")

    async def release() -> None:
        await asyncio.sleep(seconds)
        await transaction.rollback()
        await conn.close()

    return asyncio.create_task(release())
