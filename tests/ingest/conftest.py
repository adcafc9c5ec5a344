"""Ingest test helpers: a user with an ingest+read key, and reading stored rows back."""

from __future__ import annotations

import gzip
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from health_export.auth.principal import Scope
from health_export.auth.service import KeyRequest, create_key, create_user


@dataclass(frozen=True)
class Phone:
    """A user's configured app: who it is and the headers it sends."""

    user_id: int
    headers: dict[str, str]


async def make_phone(app: FastAPI, scopes: frozenset[Scope] | None = None) -> Phone:
    """A new user and an API key for it (ingest + read unless told otherwise)."""
    async with app.state.sessionmaker() as session, session.begin():
        user = await create_user(session, name=f"user-{uuid.uuid4().hex[:12]}")
        new_key = await create_key(
            session,
            user,
            KeyRequest(name="phone", scopes=scopes or frozenset({Scope.INGEST, Scope.READ})),
            actor=None,
        )
    return Phone(user.id, {"Authorization": f"Bearer {new_key.value}"})


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
    async with app.state.engine.connect() as conn:
        result = await conn.execute(text(sql), params)
        return [dict(row) for row in result.mappings()]


async def count_rows(app: FastAPI, table: str, user_id: int) -> int:
    """How many rows of ``table`` belong to ``user_id``."""
    rows = await fetch(app, f"SELECT count(*) AS n FROM {table} WHERE user_id = :u", u=user_id)
    return int(rows[0]["n"])
