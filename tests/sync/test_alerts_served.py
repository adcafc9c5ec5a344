"""Alerts from the real server: two uvicorn workers, each with its alert loop, announce an
incident once between them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fixtures.auth import create_user_with_key
from tests.fixtures.receiver import Receiver
from tests.fixtures.sync import (
    alerts_settled,
    automation_headers,
    daily_points,
    days_back,
    metric_body,
)
from tests.reliability.server import ServerProcess, server_env


@pytest.fixture
async def served(
    database_url: str, receiver: Receiver, tmp_path: Path
) -> AsyncIterator[ServerProcess]:
    """`health-export serve` with two workers, checking for incidents every 0.2 s."""
    env = server_env(
        database_url,
        None,
        workers=2,
        alert_check_seconds=0.2,
        alert_silence_seconds=1.5,
        alert_webhook_url=receiver.url,
        ingest_parser_process="false",
    )
    server = ServerProcess(env, tmp_path / "server.log", tmp_path)
    try:
        # In a thread: the receiver, on this event loop, answers the workers meanwhile.
        await asyncio.to_thread(server.start, 90)
        yield server
    finally:
        await asyncio.to_thread(server.stop)


async def test_two_workers_announce_a_silence_once_and_its_recovery_once(
    app: Any, served: ServerProcess, receiver: Receiver
) -> None:
    await alerts_settled(app, 0.2)  # what the database held before is announced first
    key = await create_user_with_key(app)
    headers = {**key.headers, **automation_headers("Served"), "Content-Type": "application/json"}
    async with httpx.AsyncClient(base_url=served.url, timeout=30) as client:
        body = metric_body("step_count", "count", daily_points(days_back(2)))
        assert (
            await client.post("/api/v1/ingest", content=body, headers=headers)
        ).status_code == 200
        await receiver.wait_for(key.user_name, 1, timeout_s=20)
        await asyncio.sleep(2.0)  # both workers kept checking meanwhile
        assert len(receiver.about(key.user_name)) == 1
        again = metric_body("step_count", "count", daily_points(days_back(1)))
        assert (
            await client.post("/api/v1/ingest", content=again, headers=headers)
        ).status_code == 200
        received = await receiver.wait_for(key.user_name, 2, timeout_s=20)
    assert [r.json()["event"] for r in received[:2]] == ["incident.opened", "incident.resolved"]
    assert len({r.headers["x-delivery-id"] for r in received[:2]}) == 2
