"""Fault tests use the suite's own PostgreSQL and Redis, never the machine's shared ones."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest
from alembic import command

from health_export.core.config import Settings
from health_export.main import create_app
from health_export.migrations_head import alembic_config
from tests.conftest import make_settings
from tests.fixtures.databases import fresh_database
from tests.reliability import services


@pytest.fixture(scope="session")
def dedicated() -> Iterator[services.DedicatedServices]:
    """This session's own PostgreSQL cluster and Redis server."""
    owned = services.acquire()
    yield owned
    services.release()


@pytest.fixture(scope="session")
def database_url(dedicated: services.DedicatedServices) -> str:
    """A migrated database on the dedicated cluster."""
    url = asyncio.run(fresh_database(f"faults_{os.getpid()}", dedicated.postgres.server_url))
    command.upgrade(alembic_config(url), "head")
    return url


def _settings(
    database_url: str, dedicated: services.DedicatedServices, **overrides: Any
) -> Settings:
    return make_settings(database_url, redis_url=dedicated.redis.url(15), **overrides)


@pytest.fixture(scope="session")
def settings(database_url: str, dedicated: services.DedicatedServices) -> Settings:
    """Settings pointing at the dedicated services."""
    return _settings(database_url, dedicated)


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[Any]:
    """The app on the dedicated services, lifespan running."""
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process client of the fault tests' app."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
def app_factory(database_url: str, dedicated: services.DedicatedServices) -> Callable[..., Any]:
    """Build an extra app on the dedicated services (enter its lifespan yourself)."""

    def build(**overrides: Any) -> Any:
        return create_app(_settings(database_url, dedicated, **overrides))

    return build
