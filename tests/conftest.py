"""Test set-up: one real PostgreSQL/PostGIS database per xdist worker, real Redis."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest
from alembic import command

from health_export.core.config import Settings, load_settings
from health_export.main import create_app
from health_export.migrations_head import alembic_config
from tests.fixtures.databases import drop_database, fresh_database

pytest_plugins = ["tests.fixtures.auth", "tests.fixtures.captures", "tests.fixtures.live_server"]

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture(scope="session")
def database_url(worker_id_suffix: str) -> Iterator[str]:
    """A fresh database for this test process, built by `alembic upgrade head`.

    Named per process, so parallel workers and concurrent runs never share one.
    """
    name = f"health_export_test_{worker_id_suffix}_{os.getpid()}"
    url = asyncio.run(fresh_database(name))
    command.upgrade(alembic_config(url), "head")
    yield url
    asyncio.run(drop_database(name))


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    """Settings of the app under test."""
    return make_settings(database_url)


def make_settings(database_url: str, **overrides: Any) -> Settings:
    """Test settings with ``overrides`` applied."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "redis_url": REDIS_URL,
        "environment": "test",
        "log_level": "INFO",
        "database_pool_timeout_seconds": 3.0,
        # One helper process per app would be spawned for every app a test builds; the
        # tests of the parser process turn it on.
        "ingest_parser_process": False,
        # Rate-limit counters of this test process alone (the Redis DB is shared).
        "rate_limit_key_prefix": f"health-export-test:{os.getpid()}:",
        # The suite provokes thousands of failures; the audit budget has tests of its own.
        "auth_failure_audit_per_minute": 1_000_000,
        # The alert check runs once at start-up only; the alert tests build apps that
        # check often (incidents are shared by every app on a database).
        "alert_check_seconds": 86400.0,
        # Uploaded archives wait here, not in the checkout.
        "import_dir": os.path.join(
            tempfile.gettempdir(), f"health-export-test-imports-{os.getpid()}"
        ),
    }
    values.update(overrides)
    return load_settings(**values)


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[Any]:
    """The app with its lifespan running, shared by the session."""
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the app in-process."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
def app_factory(database_url: str) -> Callable[..., Any]:
    """Build an extra app with setting overrides (enter its lifespan yourself)."""

    def build(**overrides: Any) -> Any:
        return create_app(make_settings(database_url, **overrides))

    return build


@pytest.fixture
def captured_logs() -> Iterator[io.StringIO]:
    """Every log line written while the test runs (the root handler's stream)."""
    buffer = io.StringIO()
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    previous = handler.setStream(buffer)
    try:
        yield buffer
    finally:
        handler.setStream(previous)


@pytest.fixture(scope="session")
def worker_id_suffix(request: pytest.FixtureRequest) -> str:
    """This test process's xdist worker id ("main" without xdist)."""
    workerinput: dict[str, str] = getattr(request.config, "workerinput", {})
    return workerinput.get("workerid", "main")
