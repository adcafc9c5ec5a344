"""API servers and `health-export worker` processes sharing one PostgreSQL and nothing else.

An API server with the embedded worker off runs no background job; two worker
processes finish every stored-but-unprocessed ingestion exactly once, run each
housekeeping job once per period between them, and stop cleanly on SIGTERM.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from health_export.background.jobs import JOBS, PeriodicJob
from health_export.core.config import load_settings
from health_export.core.db import create_engine
from health_export.ingest.write.batches import BATCH_TABLE_PREFIX
from health_export.migrations_head import alembic_config
from tests.fixtures import payloads
from tests.fixtures.auth import TestKey, app_like, create_user_with_key
from tests.fixtures.databases import fresh_database
from tests.fixtures.stored_ingestions import store_unprocessed
from tests.reliability import services
from tests.reliability.server import ServerProcess, server_env
from tests.reliability.worker_process import WorkerProcess

pytestmark = pytest.mark.faults

START = datetime(2024, 5, 1, tzinfo=UTC)
POINTS = 120
GRACE_S = 10
# Starting a process, waiting for work: generous, the machine may be busy (load > 5).
PROCESS_START_S = 120
WAIT_S = 120
PERIODIC_JOBS = sorted(job.name for job in JOBS if isinstance(job, PeriodicJob))


@pytest.fixture(scope="module")
def workers_db(dedicated: services.DedicatedServices) -> str:
    """A database of this module alone: no other server's jobs have claimed anything."""
    name = f"workers_{os.getpid()}"
    url = asyncio.run(fresh_database(name, dedicated.postgres.server_url))
    command.upgrade(alembic_config(url), "head")
    return url


@pytest.fixture
async def engine(workers_db: str) -> AsyncIterator[AsyncEngine]:
    """The test's own connections to the workers' database."""
    made = create_engine(load_settings(database_url=workers_db, redis_url=None, _env_file=None))
    yield made
    await made.dispose()


@pytest.fixture
def processes(workers_db: str, work_dir: Path) -> Iterator[SimpleNamespace]:
    """Start API servers and workers on the workers' database; all stopped at the end."""
    env = server_env(workers_db, None, worker_poll_seconds=0.2, shutdown_grace_seconds=GRACE_S)
    started: list[ServerProcess | WorkerProcess] = []

    def named(kind: str) -> tuple[dict[str, str], Path, Path]:
        name = f"{kind}-{uuid.uuid4().hex[:6]}"
        return env, work_dir / f"{name}.log", work_dir / name

    def api_server() -> ServerProcess:
        server = ServerProcess({**env, "EMBEDDED_WORKER": "false"}, *named("api")[1:])
        server.start(timeout_s=PROCESS_START_S)
        started.append(server)
        return server

    def workers(count: int) -> list[WorkerProcess]:
        launched = [WorkerProcess(*named("worker")) for _ in range(count)]
        for process in launched:  # at the same time, to race for the same work
            process.launch()
            started.append(process)
        for process in launched:
            process.wait_started(timeout_s=PROCESS_START_S)
        return launched

    yield SimpleNamespace(api_server=api_server, workers=workers)
    for process in started:
        process.stop()


async def test_two_workers_share_the_work_and_an_api_without_embedded_worker_does_none(
    processes: SimpleNamespace, engine: AsyncEngine
) -> None:
    key = await _user(engine)
    stored = [await _stored(engine, key, day) for day in range(12)]
    abandoned = await _abandoned_batch_table(engine)
    api = processes.api_server()
    async with httpx.AsyncClient(base_url=api.url, timeout=30) as http:
        fresh = payloads.hae_metrics(["step_count"], count=5, start=START - timedelta(days=1))
        answer = await http.post("/api/v1/ingest", json=fresh, headers=key.headers)
    assert answer.status_code == 200, answer.text
    await asyncio.sleep(2)  # ten poll intervals of a worker, had the server one
    assert await _statuses(engine, stored) == {"received": 12}
    assert await _table_exists(engine, abandoned)
    assert await _scalar(engine, "SELECT count(*) FROM job_runs") == 0

    workers = processes.workers(2)
    await _wait_processed(engine, stored)
    assert await _attempts(engine, stored) == [1] * 12
    assert await _metric_points(engine, key) == 12 * POINTS + 5
    done = "pending_ingestion_processed"
    processed = [event["ingestion_id"] for w in workers for event in w.events(done)]
    assert sorted(processed) == sorted(str(i) for i in stored)

    await _wait_until_claimed(engine, PERIODIC_JOBS)
    await asyncio.sleep(1)  # the second worker has tried to claim each job several times
    for job in PERIODIC_JOBS:
        runs = [e for w in workers for e in w.events("job_started") if e["job"] == job]
        assert len(runs) == 1, (job, runs)
    assert not await _table_exists(engine, abandoned)
    sweeps = [e for w in workers for e in w.events("abandoned_batch_tables_dropped")]
    assert [e["tables"] for e in sweeps] == [1]

    # SIGTERM while more work arrives: the worker stops cleanly, the other one goes on.
    later = [await _stored(engine, key, day) for day in range(12, 18)]
    stopping, survivor = workers
    signalled = time.monotonic()
    stopping.terminate()
    assert await asyncio.to_thread(stopping.wait, GRACE_S + 5) == 0
    assert time.monotonic() - signalled < GRACE_S
    assert [e["cut_off"] for e in stopping.events("background_jobs_stopped")] == [0]
    assert stopping.events("worker_stopped")
    await _wait_processed(engine, later)
    assert await _attempts(engine, later) == [1] * 6
    assert await _metric_points(engine, key) == 18 * POINTS + 5
    survivor.terminate()
    assert await asyncio.to_thread(survivor.wait, GRACE_S + 5) == 0
    assert "Traceback" not in stopping.logs() + survivor.logs()


async def _user(engine: AsyncEngine) -> TestKey:
    holder = app_like(engine)
    return await create_user_with_key(holder)


async def _stored(engine: AsyncEngine, key: TestKey, day: int) -> uuid.UUID:
    doc = payloads.hae_metrics(["step_count"], count=POINTS, start=START + timedelta(days=day))
    return await store_unprocessed(engine, key.user_id, key.key_id, doc)


async def _abandoned_batch_table(engine: AsyncEngine) -> str:
    """A batch table as a process that crashed two hours ago left it."""
    name = f"{BATCH_TABLE_PREFIX}{int(time.time()) - 7200}_{uuid.uuid4().hex[:12]}"
    async with engine.begin() as conn:
        await conn.execute(text(f'CREATE UNLOGGED TABLE "{name}" (x int)'))
    return name


async def _scalar(engine: AsyncEngine, sql: str, **params: object) -> object:
    async with engine.connect() as conn:
        return (await conn.execute(text(sql), params)).scalar()


async def _table_exists(engine: AsyncEngine, name: str) -> bool:
    return await _scalar(engine, "SELECT to_regclass(:n) IS NOT NULL", n=f'"{name}"') is True


async def _statuses(engine: AsyncEngine, ids: list[uuid.UUID]) -> dict[str, int]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT status, count(*) FROM raw_ingestions WHERE id = ANY(:i) GROUP BY 1"),
            {"i": ids},
        )
        return {row[0]: row[1] for row in rows}


async def _attempts(engine: AsyncEngine, ids: list[uuid.UUID]) -> list[int]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT attempts FROM raw_ingestions WHERE id = ANY(:i)"), {"i": ids}
        )
        return [row[0] for row in rows]


async def _metric_points(engine: AsyncEngine, key: TestKey) -> object:
    return await _scalar(
        engine, "SELECT count(*) FROM metric_samples WHERE user_id = :u", u=key.user_id
    )


async def _wait_processed(engine: AsyncEngine, ids: list[uuid.UUID]) -> None:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if await _statuses(engine, ids) == {"processed": len(ids)}:
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"not all processed: {await _statuses(engine, ids)}")


async def _wait_until_claimed(engine: AsyncEngine, names: list[str]) -> None:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        done = await _scalar(
            engine,
            "SELECT count(*) FROM job_runs WHERE name = ANY(:n) AND finished_at IS NOT NULL",
            n=names,
        )
        if done == len(names):
            return
        await asyncio.sleep(0.2)
    raise AssertionError("the periodic jobs did not all run")
