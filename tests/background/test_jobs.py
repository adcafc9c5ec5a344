"""Background jobs shared by several workers: one claim per period, one run per ingestion."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from health_export.background import claims
from health_export.background.context import WorkerContext
from health_export.background.jobs import JOBS, LoopJob, PeriodicJob
from health_export.background.runner import BackgroundRunner
from health_export.core.config import Settings
from health_export.core.db import create_engine
from tests.fixtures import payloads
from tests.fixtures.auth import TestKey
from tests.fixtures.stored_ingestions import store_unprocessed


@pytest.fixture
async def engines(settings: Settings) -> AsyncIterator[list[AsyncEngine]]:
    """Two engines, as two worker processes would have (patient: the machine may be busy)."""
    patient = settings.model_copy(
        update={"database_connect_timeout_seconds": 30.0, "database_pool_timeout_seconds": 30.0}
    )
    made = [create_engine(patient), create_engine(patient)]
    yield made
    for engine in made:
        await engine.dispose()


async def test_a_period_is_claimed_by_exactly_one_of_many_concurrent_workers(
    engines: list[AsyncEngine],
) -> None:
    name = f"test-claim-{uuid.uuid4().hex[:8]}"
    attempts = [claims.claim_period(engines[i % 2], name, 3600, f"w{i}") for i in range(8)]
    first_round = await asyncio.gather(*attempts)
    assert sum(first_round) == 1
    again = [claims.claim_period(engines[i % 2], name, 3600, f"w{i}") for i in range(4)]
    assert sum(await asyncio.gather(*again)) == 0
    assert await claims.seconds_until_due(engines[0], name, 3600) > 3500
    async with engines[0].begin() as conn:  # a period later
        await conn.execute(
            text("UPDATE job_runs SET started_at = started_at - interval '1 hour' WHERE name = :n"),
            {"n": name},
        )
    later = [claims.claim_period(engines[i % 2], name, 3600, f"w{i}") for i in range(8)]
    assert sum(await asyncio.gather(*later)) == 1


async def test_a_periodic_job_runs_once_per_period_across_two_workers(
    engines: list[AsyncEngine], settings: Settings
) -> None:
    runs: list[str] = []

    async def note_run(context: WorkerContext) -> None:
        runs.append(context.name)

    job = PeriodicJob(f"test-once-{uuid.uuid4().hex[:8]}", note_run, every_s=lambda _: 3600)
    fast = settings.model_copy(update={"worker_poll_seconds": 0.05})
    runners = [BackgroundRunner(engine, fast, (job,)) for engine in engines]
    for index, runner in enumerate(runners):
        runner.context.name = f"worker-{index}"
        runner.start()
    await asyncio.sleep(1.0)  # each worker has had many chances to claim it
    for runner in runners:
        await runner.stop(5)
    assert len(runs) == 1
    async with engines[0].connect() as conn:
        row = (
            await conn.execute(
                text("SELECT worker, finished_at, error FROM job_runs WHERE name = :n"),
                {"n": job.name},
            )
        ).one()
    assert row.worker == runs[0]
    assert row.finished_at is not None
    assert row.error is None


async def test_a_loop_job_runs_until_the_worker_stops_and_is_then_cancelled(
    engines: list[AsyncEngine], settings: Settings
) -> None:
    rounds: list[str] = []

    async def sleepy_loop(context: WorkerContext) -> None:
        while not context.shutting_down:
            rounds.append("round")
            await asyncio.sleep(3600)  # a loop that would not notice a stop for an hour

    runner = BackgroundRunner(engines[0], settings, (LoopJob("test-loop", sleepy_loop),))
    runner.start()
    for _ in range(100):
        if rounds:
            break
        await asyncio.sleep(0.01)
    started = time.monotonic()
    await runner.stop(grace_s=30)
    assert time.monotonic() - started < 2
    assert rounds == ["round"]


async def test_two_workers_process_each_stored_ingestion_exactly_once(
    engines: list[AsyncEngine], settings: Settings, ingest_key: TestKey
) -> None:
    start = datetime(2024, 2, 1, tzinfo=UTC)
    stored = [
        await store_unprocessed(
            engines[0],
            ingest_key.user_id,
            ingest_key.key_id,
            payloads.hae_metrics(["step_count"], count=30, start=start + timedelta(days=i)),
        )
        for i in range(10)
    ]
    fast = settings.model_copy(update={"worker_poll_seconds": 0.05})
    ingest_only = tuple(job for job in JOBS if job.name == "ingest_pending")
    runners = [BackgroundRunner(engine, fast, ingest_only) for engine in engines]
    for runner in runners:
        runner.start()
    try:
        await _wait_processed(engines[0], stored)
    finally:
        for runner in runners:
            await runner.stop(5)
    async with engines[0].connect() as conn:
        attempts = (
            await conn.execute(
                text("SELECT attempts FROM raw_ingestions WHERE id = ANY(:ids)"), {"ids": stored}
            )
        ).scalars()
        rows = (
            await conn.execute(
                text("SELECT count(*), max(revision) FROM metric_samples WHERE user_id = :u"),
                {"u": ingest_key.user_id},
            )
        ).one()
    assert list(attempts) == [1] * 10
    assert tuple(rows) == (300, 0)


async def _wait_processed(engine: AsyncEngine, ids: list[uuid.UUID]) -> None:
    deadline, left = time.monotonic() + 90, len(ids)
    while time.monotonic() < deadline:
        async with engine.connect() as conn:
            left = (
                await conn.execute(
                    text(
                        "SELECT count(*) FROM raw_ingestions "
                        "WHERE id = ANY(:ids) AND status <> 'processed'"
                    ),
                    {"ids": ids},
                )
            ).scalar_one()
        if left == 0:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{left} ingestion(s) still unprocessed")
