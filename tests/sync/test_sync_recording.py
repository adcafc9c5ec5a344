"""What the ingest side records for the sync view, whichever way a body is parsed."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import orjson

from health_export.ingest.lifecycle import ingest_runtime_of
from tests.fixtures.auth import create_user_with_key
from tests.fixtures.payloads import hae_metrics, hae_workouts
from tests.fixtures.sync import automation_headers, automation_named, post, sync_view


async def _parser_ready(app: Any) -> None:
    parser = ingest_runtime_of(app).parser
    for _ in range(300):  # the process imports and connects first
        if parser is not None and parser.available:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the parser process never became ready")


async def test_a_large_body_parsed_in_the_parser_process_is_recorded_alike(
    app_factory: Callable[..., Any],
) -> None:
    app = app_factory(ingest_parser_process=True)
    metrics = orjson.dumps(hae_metrics(["heart_rate", "step_count"], count=8_000))
    assert len(metrics) > 1024 * 1024  # parsed in the process, not in a thread
    workouts = orjson.dumps(hae_workouts(3, version=1, route_points=4_000))
    assert len(workouts) > 1024 * 1024
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            key = await create_user_with_key(app)
            for name, body in (("Big metrics", metrics), ("Big workouts", workouts)):
                await _parser_ready(app)
                answer = await post(client, key, body, automation_headers(name))
                assert answer.status_code == 200, answer.text
            view = await sync_view(client, key)
    big = automation_named(view, "Big metrics")
    assert big["metrics"] == ["heart_rate", "step_count"]
    assert big["points"] == 16_000
    advice = {a["rule"]: a["evidence"] for a in automation_named(view, "Big workouts")["advice"]}
    assert advice["workouts_export_version_1"].startswith("3 workout(s) without an id")
    assert advice["routes_arriving"].startswith("3 workout(s) with a route")
