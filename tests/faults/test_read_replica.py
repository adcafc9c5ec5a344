"""Reads on a real streaming replica (pg_basebackup -R), each user's own writes first.

The suite starts a primary cluster of its own and a replica streaming from it. With
WAL replay paused on the replica, a row written on the primary behind the writer's back
(no read fence advanced) shows whether a read was served by the replica (row absent) or
by the primary (row present).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import asyncpg
import httpx
import pytest
from alembic import command

from health_export.main import create_app
from health_export.migrations_head import alembic_config
from tests.conftest import make_settings
from tests.fixtures import payloads
from tests.fixtures.auth import TestKey, create_user_with_key
from tests.fixtures.databases import fresh_database
from tests.reliability.services import PostgresCluster, free_port, wait_until

pytestmark = pytest.mark.faults

DATABASE = "replicated"
POINTS = 20
# Hour buckets read the rows themselves (day buckets read the rollups the writer keeps,
# which rows written behind its back do not reach).
SERIES = "/api/v1/metrics/step_count/series?bucket=hour&start=2024-03-01&end=2024-04-30"


@dataclass
class Replicated:
    """A primary cluster and a replica streaming from it."""

    primary: PostgresCluster
    replica: PostgresCluster

    @property
    def primary_url(self) -> str:
        """The application database on the primary (asyncpg URL)."""
        return self.primary.url(DATABASE).replace("postgresql://", "postgresql+asyncpg://")

    @property
    def replica_url(self) -> str:
        """The same database on the replica."""
        return self.replica.url(DATABASE).replace("postgresql://", "postgresql+asyncpg://")


@pytest.fixture(scope="module")
def replicated() -> Iterator[Replicated]:
    """A migrated primary and a streaming replica of it, removed at the end."""
    root = Path(tempfile.mkdtemp(prefix="health-export-replica-"))
    os.chmod(root, 0o755)  # noqa: S103 - the postgres user must reach its data dirs
    primary = PostgresCluster(root / "primary", free_port())
    replica: PostgresCluster | None = None
    try:
        primary.create()
        primary.start()
        url = asyncio.run(fresh_database(DATABASE, primary.server_url))
        command.upgrade(alembic_config(url), "head")
        replica = primary.clone_as_standby(root / "replica", free_port())
        replica.start()
        pair = Replicated(primary, replica)
        wait_until(lambda: asyncio.run(_is_streaming(pair)), timeout_s=60, what="streaming")
        yield pair
    finally:
        if replica is not None:
            replica.destroy()
        primary.destroy()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
async def app(replicated: Replicated) -> AsyncIterator[Any]:
    """The app reading from the replica, writing to the primary."""
    settings = make_settings(
        replicated.primary_url, redis_url=None, database_read_url=replicated.replica_url
    )
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process client of that app."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def test_reads_come_from_the_replica_except_a_users_own_unreplicated_writes(
    replicated: Replicated, app: Any, client: httpx.AsyncClient
) -> None:
    writer, other = await _user(app), await _user(app)
    for key in (writer, other):
        assert (await _ingest(client, key, day=0)).status_code == 200
        assert await _samples_seen(client, key) == POINTS  # read-your-writes at once
    await _wait_replayed(replicated)
    await _sql(replicated.replica, "SELECT pg_wal_replay_pause()")
    try:
        # Rows only the primary has: a read that returns them was served by the primary.
        for key in (writer, other):
            await _copy_a_sample_behind_the_writers_back(replicated, key)
        assert await _samples_seen(client, writer) == POINTS
        assert await _samples_seen(client, other) == POINTS
        assert await _export_lines(client, other) == POINTS

        # The writer ingests while the replica replays nothing: the write lands on the
        # primary, and the writer's next reads (the dashboard right after a sync) come
        # from the primary, with the new rows; everybody else stays on the replica.
        assert (await _ingest(client, writer, day=1)).status_code == 200
        assert await _samples_seen(client, writer) == 2 * POINTS + 1
        assert await _export_lines(client, writer) == 2 * POINTS + 1
        assert await _samples_seen(client, other) == POINTS
    finally:
        await _sql(replicated.replica, "SELECT pg_wal_replay_resume()")
    await _wait_replayed(replicated)
    assert await _samples_seen(client, writer) == 2 * POINTS + 1
    assert await _samples_seen(client, other) == POINTS + 1
    readers = await _sql(
        replicated.replica,
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'health-export-read'",
    )
    assert readers[0][0] >= 1
    assert (await _sql(replicated.replica, "SELECT pg_is_in_recovery()"))[0][0] is True


async def test_an_erase_is_seen_at_once_by_its_user_while_the_replica_lags(
    replicated: Replicated, app: Any, client: httpx.AsyncClient
) -> None:
    key = await _user(app)
    assert (await _ingest(client, key, day=3)).status_code == 200
    await _wait_replayed(replicated)
    await _sql(replicated.replica, "SELECT pg_wal_replay_pause()")
    try:
        erased = await client.delete("/api/v1/data?confirm=true", headers=key.headers)
        assert erased.status_code == 200, erased.text
        assert erased.json()["deleted"]["metric_samples"] == POINTS
        assert await _samples_seen(client, key) == 0
        assert await _export_lines(client, key) == 0
    finally:
        await _sql(replicated.replica, "SELECT pg_wal_replay_resume()")
    await _wait_replayed(replicated)


async def test_reads_go_to_the_primary_while_the_replica_is_down(
    replicated: Replicated, app: Any, client: httpx.AsyncClient
) -> None:
    key = await _user(app)
    assert (await _ingest(client, key, day=2)).status_code == 200
    replicated.replica.stop("fast")
    try:
        await _copy_a_sample_behind_the_writers_back(replicated, key)
        answer = await client.get(SERIES, headers=key.headers)
        assert answer.status_code == 200
        assert sum(point["count"] for point in answer.json()["points"]) == POINTS + 1
    finally:
        replicated.replica.start()
    await _wait_replayed(replicated)


async def _user(app: Any) -> TestKey:
    return await create_user_with_key(SimpleNamespace(state=app.state))


async def _ingest(client: httpx.AsyncClient, key: TestKey, *, day: int) -> httpx.Response:
    start = payloads.START + timedelta(days=day)
    body = payloads.hae_metrics(["step_count"], count=POINTS, start=start)
    return await client.post("/api/v1/ingest", json=body, headers=key.headers)


async def _samples_seen(client: httpx.AsyncClient, key: TestKey) -> int:
    """How many step samples the hourly series counts (a read through ReadSessionDep)."""
    answer = await client.get(SERIES, headers=key.headers)
    assert answer.status_code == 200, answer.text
    return sum(point["count"] for point in answer.json()["points"])


async def _export_lines(client: httpx.AsyncClient, key: TestKey) -> int:
    """How many lines the streamed export sends (it reads on an engine of its own)."""
    answer = await client.get("/api/v1/export?types=metrics", headers=key.headers)
    assert answer.status_code == 200, answer.text
    return len(answer.text.splitlines())


async def _copy_a_sample_behind_the_writers_back(replicated: Replicated, key: TestKey) -> None:
    """One more sample for ``key``, written on the primary without advancing its fence."""
    conn = await asyncpg.connect(replicated.primary.url(DATABASE))
    try:
        # A copy of one stored row (every column), 30 s later.
        async with conn.transaction():
            await conn.execute("CREATE TEMP TABLE one (LIKE metric_samples) ON COMMIT DROP")
            await conn.execute(
                "INSERT INTO one SELECT * FROM metric_samples WHERE user_id = $1 "
                "ORDER BY start_at LIMIT 1",
                key.user_id,
            )
            await conn.execute("UPDATE one SET start_at = start_at + interval '30 seconds'")
            await conn.execute("INSERT INTO metric_samples SELECT * FROM one")
    finally:
        await conn.close()


async def _sql(cluster: PostgresCluster, query: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(cluster.url(DATABASE))
    try:
        return list(await conn.fetch(query, *args))
    finally:
        await conn.close()


async def _is_streaming(pair: Replicated) -> bool:
    rows = await _sql(
        pair.primary, "SELECT count(*) FROM pg_stat_replication WHERE state = $1", "streaming"
    )
    return bool(rows[0][0])


async def _wait_replayed(pair: Replicated) -> None:
    """Until the replica has replayed everything the primary has written so far."""
    target = (await _sql(pair.primary, "SELECT pg_current_wal_lsn()"))[0][0]
    for _ in range(300):
        try:
            done = await _sql(pair.replica, "SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn", target)
        except (OSError, asyncpg.PostgresError):
            done = [[False]]  # still starting up
        if done[0][0]:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the replica did not catch up")
