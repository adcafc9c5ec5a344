"""Scenario 1: acknowledged means durable, through repeated database crashes."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.fixtures.payloads import hae_metrics
from tests.reliability.conftest import recording_client, sql
from tests.reliability.server import ServerProcess
from tests.reliability.services import DedicatedServices

pytestmark = pytest.mark.faults

POINTS_PER_METRIC = 30
METRICS = ("step_count", "active_energy", "heart_rate")
BASE = datetime(2024, 5, 1, tzinfo=UTC)


def payload(index: int) -> dict[str, Any]:
    """A payload whose points lie in a window of its own (one hour per index)."""
    start = BASE + timedelta(hours=index)
    return hae_metrics(METRICS, count=POINTS_PER_METRIC, start=start, seed=index)


@dataclass
class Outcomes:
    acked: set[int] = field(default_factory=set)
    failed: set[int] = field(default_factory=set)
    statuses: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


async def send(http: httpx.AsyncClient, headers: dict[str, str], index: int, out: Outcomes) -> None:
    try:
        answer = await http.post("/api/v1/ingest", json=payload(index), headers=headers)
    except httpx.TransportError as exc:  # a closed connection is an acceptable failure
        out.errors.append(type(exc).__name__)
        out.failed.add(index)
        return
    out.statuses.append(answer.status_code)
    if answer.status_code < 300:
        out.acked.add(index)
    else:
        assert answer.status_code == 503, answer.text
        assert int(answer.headers["retry-after"]) > 0
        out.failed.add(index)


async def rows_per_payload(database_url: str, user_id: int, count: int) -> dict[int, int]:
    rows = await sql(
        database_url,
        "SELECT floor(extract(epoch FROM start_at - $2::timestamptz) / 3600)::int AS idx, "
        "count(*) AS n FROM metric_samples WHERE user_id = $1 GROUP BY 1",
        user_id,
        BASE,
    )
    found = {int(r["idx"]): int(r["n"]) for r in rows}
    return {index: found.get(index, 0) for index in range(count)}


async def wait_for_pending(database_url: str, user_id: int, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        rows = await sql(
            database_url,
            "SELECT count(*) AS n FROM raw_ingestions WHERE user_id = $1 AND status = 'received'",
            user_id,
        )
        if rows[0]["n"] == 0:
            return
        await asyncio.sleep(1)
    raise AssertionError("ingestions still pending")


async def run_durability(
    server: ServerProcess,
    dedicated: DedicatedServices,
    database_url: str,
    key: Any,
    *,
    payloads: int,
    crashes: int,
) -> None:
    expected = len(METRICS) * POINTS_PER_METRIC
    out = Outcomes()

    async def chaos() -> None:
        for _ in range(crashes):
            await asyncio.sleep(1.0)
            await asyncio.to_thread(dedicated.postgres.stop, "immediate")
            await asyncio.sleep(1.0)
            await asyncio.to_thread(dedicated.postgres.start)

    try:
        await _send_through_chaos(server, database_url, key, payloads, chaos, out, expected)
    finally:
        # Whatever failed, later tests get their database back.
        await asyncio.to_thread(dedicated.postgres.start)


async def _send_through_chaos(
    server: ServerProcess,
    database_url: str,
    key: Any,
    payloads: int,
    chaos: Any,
    out: Outcomes,
    expected: int,
) -> None:
    async with recording_client(server.url, timeout=httpx.Timeout(30.0)) as http:
        chaos_task = asyncio.create_task(chaos())
        index = 0
        try:
            while index < payloads or not chaos_task.done():  # send through every crash
                batch = range(index, index + 4)
                await asyncio.gather(*(send(http, key.headers, i, out) for i in batch))
                index += len(batch)
            await chaos_task
        finally:
            chaos_task.cancel()
        payloads = index
        assert 500 not in out.statuses
        assert out.failed, "no fault was hit: the test proves nothing"
        await wait_for_pending(database_url, key.user_id)
        counts = await rows_per_payload(database_url, key.user_id, payloads)
        lost = [i for i in out.acked if counts[i] != expected]
        assert lost == [], f"acknowledged payloads incomplete: {lost}"
        partial = [i for i, n in counts.items() if n not in (0, expected)]
        assert partial == [], f"partially stored: {partial}"
        # Re-send every failed request until it is acknowledged.
        for index in sorted(out.failed):
            for _ in range(30):
                answer = await http.post("/api/v1/ingest", json=payload(index), headers=key.headers)
                if answer.status_code < 300:
                    break
                assert answer.status_code == 503
                await asyncio.sleep(0.5)
            else:
                raise AssertionError(f"payload {index} never acknowledged")
        await wait_for_pending(database_url, key.user_id)
    counts = await rows_per_payload(database_url, key.user_id, payloads)
    assert all(n == expected for n in counts.values()), counts  # 0 missing, 0 duplicates
    total = await sql(
        database_url, "SELECT count(*) AS n FROM metric_samples WHERE user_id = $1", key.user_id
    )
    assert total[0]["n"] == payloads * expected


async def test_acknowledged_ingests_survive_database_crashes(
    server: ServerProcess, dedicated: DedicatedServices, reliability_db: str, key_factory: Any
) -> None:
    key = await key_factory()
    await run_durability(server, dedicated, reliability_db, key, payloads=60, crashes=3)


@pytest.mark.reliability_long
async def test_acknowledged_ingests_survive_many_database_crashes(
    server: ServerProcess, dedicated: DedicatedServices, reliability_db: str, key_factory: Any
) -> None:
    key = await key_factory()
    await run_durability(server, dedicated, reliability_db, key, payloads=600, crashes=20)
