"""Scenario 5: SIGTERM with ingests in flight: /ready 503 at once, no acked loss, exit in grace."""

from __future__ import annotations

import asyncio
import signal
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.fixtures.payloads import hae_metrics
from tests.reliability.conftest import ServerFleet, recording_client, sql

pytestmark = pytest.mark.faults

GRACE_S = 8
BASE = datetime(2024, 7, 1, tzinfo=UTC)


def payload(index: int, count: int) -> dict[str, Any]:
    return hae_metrics(
        ("step_count", "heart_rate"), count=count, start=BASE + timedelta(days=30 * index)
    )


async def test_sigterm_drains_finishes_in_flight_and_exits_within_grace(
    fleet: ServerFleet, key_factory: Any, reliability_db: str
) -> None:
    server = fleet.start(shutdown_grace_seconds=GRACE_S)
    key = await key_factory()
    large, small = payload(0, 20_000), [payload(i, 50) for i in range(1, 6)]
    acked: list[int] = []
    async with recording_client(server.url) as http:

        async def send(index: int, body: dict[str, Any]) -> int:
            try:
                answer = await http.post("/api/v1/ingest", json=body, headers=key.headers)
            except httpx.TransportError:
                return -1
            if answer.status_code < 300:
                acked.append(index)
            return answer.status_code

        in_flight = [asyncio.create_task(send(0, large))]
        in_flight += [asyncio.create_task(send(i, b)) for i, b in enumerate(small, 1)]
        await asyncio.sleep(0.3)  # the large one is being read or processed
        async with httpx.AsyncClient(base_url=server.url) as probe:
            await probe.get("/health")  # a keep-alive connection opened before SIGTERM
            signalled = time.monotonic()
            server.signal(signal.SIGTERM)
            ready = await probe.get("/ready")
            assert ready.status_code == 503
            assert time.monotonic() - signalled < 0.5
            refused = await probe.post("/api/v1/ingest", json=payload(9, 5), headers=key.headers)
            assert refused.status_code == 503
            assert "retry-after" in refused.headers
        statuses = await asyncio.gather(*in_flight)
        exit_code = await asyncio.to_thread(server.wait, GRACE_S + 5)
        took = time.monotonic() - signalled
    assert took < GRACE_S + 1, f"exited after {took:.1f}s"
    assert exit_code in (0, -signal.SIGTERM)
    assert 500 not in statuses, statuses
    # Whatever was stored but not finished is finished by the next start's worker.
    fleet.start()
    deadline = time.monotonic() + 40
    pending = 1
    while pending and time.monotonic() < deadline:
        rows = await sql(
            reliability_db,
            "SELECT count(*) AS n FROM raw_ingestions WHERE user_id = $1 AND status = 'received'",
            key.user_id,
        )
        pending = rows[0]["n"]
        await asyncio.sleep(1)
    assert pending == 0
    for index in acked:
        count = 20_000 if index == 0 else 50
        start = BASE + timedelta(days=30 * index)
        rows = await sql(
            reliability_db,
            "SELECT count(*) AS n FROM metric_samples WHERE user_id = $1 "
            "AND start_at >= $2 AND start_at < $3",
            key.user_id,
            start,
            start + timedelta(days=30),
        )
        raw = await sql(
            reliability_db,
            "SELECT status, error, attempts FROM raw_ingestions WHERE user_id = $1",
            key.user_id,
        )
        assert rows[0]["n"] == 2 * count, (index, statuses, [tuple(r) for r in raw])
