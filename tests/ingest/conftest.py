"""Ingest test helpers: a user with an ingest+read key, and reading stored rows back."""

from __future__ import annotations

import gzip
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from health_export.core.state import state_of
from tests.fixtures.auth import TestKey, create_user_with_key

# A user's configured app: its user id and the headers it sends.
Phone = TestKey


async def make_phone(app: FastAPI) -> Phone:
    """A new user and an ingest+read key for it."""
    return await create_user_with_key(app)


@pytest.fixture
async def phone(app: FastAPI) -> Phone:
    """A fresh user with an ingest+read key."""
    return await make_phone(app)


@pytest.fixture
def post(client: httpx.AsyncClient) -> Callable[..., Awaitable[httpx.Response]]:
    """POST a payload (dict → JSON, bytes as is) to /api/v1/ingest as ``phone``."""

    async def send(
        phone: Phone, payload: Any, *, gzipped: bool = False, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        body = payload if isinstance(payload, bytes) else orjson.dumps(payload)
        sent = {"Content-Type": "application/json", **phone.headers, **(headers or {})}
        if gzipped:
            body = gzip.compress(body)
            sent["Content-Encoding"] = "gzip"
        return await client.post("/api/v1/ingest", content=body, headers=sent)

    return send


async def fetch(app: FastAPI, sql: str, **params: Any) -> list[dict[str, Any]]:
    """Rows of an SQL query against the test database."""
    async with state_of(app).engine.connect() as conn:
        result = await conn.execute(text(sql), params)
        return [dict(row) for row in result.mappings()]


async def count_rows(app: FastAPI, table: str, user_id: int) -> int:
    """How many rows of ``table`` belong to ``user_id``."""
    rows = await fetch(app, f"SELECT count(*) AS n FROM {table} WHERE user_id = :u", u=user_id)
    return int(rows[0]["n"])
