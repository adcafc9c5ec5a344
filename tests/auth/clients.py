"""Clients of an app from a chosen address, with the app's lifespan running or not."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

PASSWORD = "velvet anchor tulip crow"  # noqa: S105 - the test users' password


def own_prefix() -> str:
    """Rate-limit counters of one test alone."""
    return f"test:{uuid.uuid4().hex}:"


def client_of(app: Any, ip: str, base_url: str = "http://testserver") -> httpx.AsyncClient:
    """A client of ``app`` (lifespan already running) from ``ip``."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=(ip, 1))
    return httpx.AsyncClient(transport=transport, base_url=base_url)


@asynccontextmanager
async def running(app: Any, ip: str = "10.201.0.1") -> AsyncIterator[httpx.AsyncClient]:
    """``app`` with its lifespan running and a client of it."""
    async with app.router.lifespan_context(app), client_of(app, ip) as http:
        yield http
