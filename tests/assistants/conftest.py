"""A real `health-export serve` on a free port, the SDK's client of it, generated data."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import httpx2
import orjson
import pytest
from fastapi import FastAPI
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp_types import CallToolResult, TextContent

from health_export.auth.principal import Scope
from tests.conftest import REDIS_URL
from tests.fixtures import payloads
from tests.fixtures.auth import TestKey, create_user_with_key
from tests.fixtures.dst_payloads import (
    FALL_BACK,
    SPRING_FORWARD,
    hourly_heart_rate,
    two_source_steps,
)
from tests.reliability.server import ServerProcess, server_env

ZONE = "America/New_York"


def start_server(database_url: str, directory: Path, **overrides: Any) -> ServerProcess:
    """`health-export serve` against the test database, with setting ``overrides``."""
    settings: dict[str, Any] = {
        "ingest_parser_process": "false",
        "auth_failure_limit_per_minute": 1000,
        **overrides,
    }
    env = server_env(database_url, REDIS_URL, **settings)
    name = f"mcp-{uuid.uuid4().hex[:8]}"
    server = ServerProcess(env, directory / f"{name}.log", directory / name)
    server.start(timeout_s=90)  # the machine may be busy
    return server


@pytest.fixture(scope="module")
def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One server for the module's tests (each test uses keys of its own)."""
    running = start_server(database_url, tmp_path_factory.mktemp("mcp"))
    yield running
    running.stop()


@asynccontextmanager
async def mcp_client(
    server: ServerProcess, key: TestKey, mode: str = "auto"
) -> AsyncIterator[Client]:
    """The SDK's client of ``server``'s `/mcp`, sending ``key``."""
    async with httpx2.AsyncClient(headers=key.headers, timeout=60) as http:
        transport = streamable_http_client(f"{server.url}/mcp", http_client=http)
        async with Client(transport, mode=mode) as client:
            yield client


def structured(result: CallToolResult) -> dict[str, Any]:
    """A successful tool result's structured content (checked equal to its text)."""
    assert not result.is_error, text_of(result)
    assert result.structured_content is not None
    content: dict[str, Any] = result.structured_content
    assert orjson.loads(text_of(result)) == content
    return content


def text_of(result: CallToolResult) -> str:
    """The text a model reads."""
    block = result.content[0]
    assert isinstance(block, TextContent)
    return block.text


async def rest(server: ServerProcess, key: TestKey, url: str) -> Any:
    """GET a path-and-query (a ``source_url``) from the REST API; its JSON."""
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        response = await http.get(url, headers=key.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def ingest(server: ServerProcess, key: TestKey, payload: dict[str, Any]) -> None:
    """POST ``payload`` to /api/v1/ingest; every point stored."""
    headers = {"Content-Type": "application/json", **key.headers}
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
        response = await http.post("/api/v1/ingest", content=orjson.dumps(payload), headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["rejected"] == 0, response.text


@dataclass(frozen=True)
class Dataset:
    """A user with generated data of every kind, and their read key."""

    key: TestKey
    workout_ids: list[str]


def _every_payload() -> list[dict[str, Any]]:
    spring = payloads.START.replace(month=3, day=10)
    return [
        two_source_steps(SPRING_FORWARD - timedelta(days=2), 5),
        two_source_steps(FALL_BACK - timedelta(days=2), 5),
        hourly_heart_rate(SPRING_FORWARD - timedelta(days=1), 3),
        payloads.hae_sleep_aggregated(nights=4, start=spring - timedelta(days=2)),
        payloads.hae_sleep_stages(nights=2, start=spring + timedelta(days=3)),
        payloads.hae_workouts(count=2, start=spring, route_points=40),
        payloads.hae_symptoms(count=3, start=spring),
        payloads.hae_state_of_mind(count=2, start=spring),
        payloads.hae_medications(count=2, start=spring),
        payloads.hae_cycle_tracking(count=2, start=spring),
        payloads.hae_ecg(count=1, start=spring, samples=512),
        payloads.hae_heart_rate_notifications(start=spring),
    ]


@pytest.fixture(scope="module")
async def dataset(app: FastAPI, server: ServerProcess) -> Dataset:
    """Everything ingested once for the module, through the real server."""
    key = await create_user_with_key(app, scopes=[Scope.INGEST, Scope.READ])
    for payload in _every_payload():
        await ingest(server, key, payload)
    listed = await rest(server, key, "/api/v1/workouts?start=2024-01-01&end=2025-01-01")
    return Dataset(key=key, workout_ids=[w["id"] for w in listed["workouts"]])
