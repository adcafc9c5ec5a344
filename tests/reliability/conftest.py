"""Fixtures of the reliability suite: dedicated services, a migrated database, servers.

Every test here runs against real `health-export serve` processes whose PostgreSQL and
Redis belong to the suite alone (see services.py), so faults can be injected freely.
All of it is marked ``faults`` (run serially after the parallel suite); the long
variants are also marked ``reliability_long`` (only `make test-reliability`).
"""

from __future__ import annotations

import asyncio
import os
import re
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from alembic import command

from health_export.auth.principal import Scope
from health_export.core.config import load_settings
from health_export.core.db import create_engine
from health_export.migrations_head import alembic_config
from tests.fixtures.auth import TestKey, app_like, create_user_with_key
from tests.fixtures.databases import fresh_database
from tests.reliability import services
from tests.reliability.server import ServerProcess, server_env


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the final leak scan after everything else of the suite."""
    last = [item for item in items if "test_nothing_leaks" in item.nodeid]
    if last:
        items[:] = [item for item in items if item not in last] + last


@dataclass
class LeakWatch:
    """Every secret the suite made, and everything it saw, for the final leak scans."""

    keys: list[str] = field(default_factory=list)
    created_in: set[str] = field(default_factory=set)  # request ids of creation answers
    answers: list[tuple[int, str, str]] = field(default_factory=list)  # status, route, body
    log_files: list[Path] = field(default_factory=list)

    def record(self, response: httpx.Response) -> None:
        """Keep one answer's status and body (bodies are small in this suite)."""
        body = response.content[:200_000].decode("utf-8", "replace")
        self.answers.append((response.status_code, response.request.url.path, body))


LEAKS = LeakWatch()


@pytest.fixture(scope="session")
def leak_watch() -> LeakWatch:
    """The session's secret and answer registry."""
    return LEAKS


@pytest.fixture(scope="session")
def dedicated() -> Iterator[services.DedicatedServices]:
    """This session's own PostgreSQL cluster and Redis server."""
    owned = services.acquire()
    yield owned
    services.release()


@pytest.fixture(autouse=True)
def services_running(dedicated: services.DedicatedServices) -> Iterator[None]:
    """Whatever a test stopped or paused is running again before the next one."""
    dedicated.ensure_running()
    yield
    dedicated.ensure_running()


@pytest.fixture(scope="session")
def work_dir() -> Path:
    """Where server logs and scratch files of this session go."""
    return Path(tempfile.mkdtemp(prefix="health-export-reliability-"))


@pytest.fixture(scope="session")
def reliability_db(dedicated: services.DedicatedServices) -> str:
    """A database on the dedicated cluster at the latest schema (asyncpg URL)."""
    name = f"reliability_{os.getpid()}"
    url = asyncio.run(fresh_database(name, dedicated.postgres.server_url))

    async def add_statement_statistics() -> None:
        conn = await asyncpg.connect(dedicated.postgres.url(name))
        try:
            await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        finally:
            await conn.close()

    asyncio.run(add_statement_statistics())
    command.upgrade(alembic_config(url), "head")
    return url


async def sql(database_url: str, query: str, *args: Any) -> list[asyncpg.Record]:
    """Run one query on its own connection (the database may have restarted since)."""
    conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        return list(await conn.fetch(query, *args))
    finally:
        await conn.close()


@pytest.fixture(scope="session")
async def key_factory(
    reliability_db: str, leak_watch: LeakWatch
) -> AsyncIterator[Callable[..., Awaitable[TestKey]]]:
    """``await key_factory(scopes=...)``: a new user and key in the reliability database."""
    settings = load_settings(database_url=reliability_db, redis_url=None, _env_file=None)
    engine = create_engine(settings)
    holder = app_like(engine)

    async def make(**kwargs: Any) -> TestKey:
        kwargs.setdefault("scopes", (Scope.INGEST, Scope.READ))
        key = await create_user_with_key(holder, **kwargs)
        leak_watch.keys.append(key.key)
        return key

    yield make
    await engine.dispose()


class ServerFleet:
    """Starts servers against the dedicated services; stops them all at the end."""

    def __init__(
        self, dedicated: services.DedicatedServices, database_url: str, work_dir: Path
    ) -> None:
        self.dedicated = dedicated
        self.database_url = database_url
        self.work_dir = work_dir
        self.running: list[ServerProcess] = []

    def start(self, *, redis: bool = True, **overrides: Any) -> ServerProcess:
        """A new server (settings overridden by name, e.g. ``database_pool_size=2``)."""
        redis_url = self.dedicated.redis.url(0) if redis else None
        env = server_env(self.database_url, redis_url, **overrides)
        name = f"server-{len(self.running)}-{uuid.uuid4().hex[:6]}"
        server = ServerProcess(env, self.work_dir / f"{name}.log", self.work_dir / name)
        LEAKS.log_files.append(server.log_path)
        server.start()
        self.running.append(server)
        return server

    def stop_all(self) -> None:
        """Stop every server still running."""
        for server in self.running:
            server.stop()


@pytest.fixture(scope="session")
def fleet(
    dedicated: services.DedicatedServices, reliability_db: str, work_dir: Path
) -> Iterator[ServerFleet]:
    """The session's servers."""
    servers = ServerFleet(dedicated, reliability_db, work_dir)
    yield servers
    servers.stop_all()


@pytest.fixture(scope="session")
def server(fleet: ServerFleet) -> ServerProcess:
    """A server with default settings, shared by the tests that do not restart it."""
    return fleet.start(auth_failure_limit_per_minute=1_000_000)


def recording_client(base_url: str, **kwargs: Any) -> httpx.AsyncClient:
    """An async client whose every answer is kept for the leak scans."""

    async def keep(response: httpx.Response) -> None:
        await response.aread()
        LEAKS.record(response)

    kwargs.setdefault("timeout", httpx.Timeout(30.0))
    return httpx.AsyncClient(base_url=base_url, event_hooks={"response": [keep]}, **kwargs)


@pytest.fixture
async def client(server: ServerProcess) -> AsyncIterator[httpx.AsyncClient]:
    """A recording client of the shared server."""
    async with recording_client(server.url) as http:
        yield http


TRACEBACK = re.compile(r"Traceback \(most recent call last\)|File \"[^\"]+\.py\", line \d+")
