"""Rollup tests: the same database read by the app (rollups) and by an app reading rows."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from tests.health_data.conftest import get, ingest, owner  # noqa: F401 - shared fixtures


@pytest.fixture(scope="module")
async def rows_app(database_url: str) -> AsyncIterator[FastAPI]:
    """An app with ``ROLLUPS_READ=off``: every answer computed from the rows."""
    from health_export.main import create_app
    from tests.conftest import make_settings

    application = create_app(make_settings(database_url, rollups_read=False))
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def rows_client(rows_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of the row-reading app."""
    transport = httpx.ASGITransport(app=rows_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http
