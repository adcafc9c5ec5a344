"""/mcp as an HTTP endpoint: keys, scopes, limits, sizes, audit trail and access log."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from health_export.auth.models import AuditEvent
from health_export.auth.principal import Scope
from health_export.core.state import state_of
from tests.assistants.conftest import (
    ZONE,
    Dataset,
    mcp_client,
    rest,
    start_server,
    structured,
    text_of,
)
from tests.fixtures.auth import TestKey, create_user_with_key
from tests.reliability.server import ServerProcess

LIST_TOOLS = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
MCP_HEADERS = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}


async def post_mcp(
    server: ServerProcess, headers: dict[str, str], body: dict[str, Any] | bytes = LIST_TOOLS
) -> httpx.Response:
    """One raw JSON-RPC POST to /mcp."""
    content = body if isinstance(body, bytes) else orjson.dumps(body)
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        return await http.post("/mcp", content=content, headers={**MCP_HEADERS, **headers})


async def get_rest(server: ServerProcess, headers: dict[str, str]) -> httpx.Response:
    """GET /api/v1/metrics with ``headers``."""
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        return await http.get("/api/v1/metrics", headers=headers)


def _problem(response: httpx.Response) -> dict[str, Any]:
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    body.pop("request_id")
    return body


async def test_no_key_is_refused_as_the_rest_api_refuses(server: ServerProcess) -> None:
    answer = await post_mcp(server, {})
    reference = await get_rest(server, {})
    assert answer.status_code == reference.status_code == 401
    assert answer.headers["www-authenticate"] == reference.headers["www-authenticate"]
    assert _problem(answer) == _problem(reference)


async def test_a_key_without_read_is_refused_as_the_rest_api_refuses(
    app: FastAPI, server: ServerProcess
) -> None:
    key = await create_user_with_key(app, scopes=[Scope.INGEST])
    answer = await post_mcp(server, key.x_api_key)
    reference = await get_rest(server, key.x_api_key)
    assert answer.status_code == reference.status_code == 403
    assert _problem(answer) == _problem(reference)
    assert "'read' scope" in answer.json()["detail"]


async def test_get_opens_no_event_stream(app: FastAPI, server: ServerProcess) -> None:
    key = await create_user_with_key(app, scopes=[Scope.READ])
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        answer = await http.get("/mcp", headers={**key.headers, "Accept": "text/event-stream"})
    assert answer.status_code == 405
    assert answer.headers["allow"] == "POST"
    assert "opens no event stream" in _problem(answer)["detail"]


async def test_mcp_and_rest_share_the_key_rate_limit(
    app: FastAPI, database_url: str, tmp_path: Path
) -> None:
    limited = start_server(database_url, tmp_path, rate_limit_requests=3)
    try:
        key = await create_user_with_key(app, scopes=[Scope.READ])
        first = await post_mcp(limited, key.headers)
        assert first.status_code == 200
        assert first.headers["x-ratelimit-remaining"] == "2"
        assert (await get_rest(limited, key.headers)).status_code == 200
        assert (await post_mcp(limited, key.headers)).status_code == 200
        refused = await post_mcp(limited, key.headers)
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) > 0
        assert _problem(refused)["title"] == "Too Many Requests"
        assert (await get_rest(limited, key.headers)).status_code == 429
    finally:
        limited.stop()


async def test_a_body_larger_than_a_tool_call_is_refused(
    server: ServerProcess, dataset: Dataset
) -> None:
    padding = {**LIST_TOOLS, "params": {"_meta": {"pad": "x" * 70_000}}}
    answer = await post_mcp(server, dataset.key.headers, orjson.dumps(padding))
    assert answer.status_code == 413


async def test_minute_buckets_over_a_month_are_coarsened_and_say_so(
    server: ServerProcess, dataset: Dataset
) -> None:
    async with mcp_client(server, dataset.key) as client:
        result = await client.call_tool(
            "get_series",
            {
                "metric": "step_count",
                "start": "2024-03-01",
                "end": "2024-04-01",
                "bucket": "minute",
            },
        )
    answer = structured(result)
    assert answer["bucket"] == "hour"
    assert answer["requested_bucket"] == "minute"
    assert "answered with hour buckets" in answer["note"]
    assert "bucket=hour" in answer["source_url"]
    assert answer["points"] == (await rest(server, dataset.key, answer["source_url"]))["points"]


async def test_a_year_of_days_of_activity_is_refused_with_the_way_forward(
    server: ServerProcess, dataset: Dataset
) -> None:
    async with mcp_client(server, dataset.key) as client:
        result = await client.call_tool(
            "get_daily_activity", {"start": "2024-01-01", "end": "2025-01-01", "tz": ZONE}
        )
    assert result.is_error
    assert "at most 93 days" in text_of(result)
    assert "bucket=week" in text_of(result)


async def test_an_unknown_metric_names_the_nearest_ones(
    server: ServerProcess, dataset: Dataset
) -> None:
    async with mcp_client(server, dataset.key) as client:
        result = await client.call_tool(
            "get_series", {"metric": "step_cont", "start": "2024-03-01", "end": "2024-04-01"}
        )
    assert result.is_error
    assert "unknown metric 'step_cont'" in text_of(result)
    assert "nearest: step_count" in text_of(result)


async def test_a_bad_date_names_the_argument(server: ServerProcess, dataset: Dataset) -> None:
    async with mcp_client(server, dataset.key) as client:
        result = await client.call_tool(
            "compare_periods",
            {
                "metric": "step_count",
                "start": "2024-03-01",
                "end": "2024-04-01",
                "baseline_start": "March",
                "baseline_end": "2024-03-01",
            },
        )
    assert result.is_error
    assert "argument 'baseline_start': not an ISO 8601 date" in text_of(result)


async def test_an_unknown_workout_is_a_tool_error(server: ServerProcess, dataset: Dataset) -> None:
    async with mcp_client(server, dataset.key) as client:
        result = await client.call_tool("get_workout", {"workout_id": "not-a-workout"})
    assert result.is_error
    assert "no such workout" in text_of(result)


async def test_the_handshake_era_protocol_works_too(
    server: ServerProcess, dataset: Dataset
) -> None:
    async with mcp_client(server, dataset.key, mode="legacy") as client:
        assert client.protocol_version == "2025-11-25"
        result = await client.call_tool(
            "get_daily_activity", {"start": "2024-11-01", "end": "2024-11-06", "tz": ZONE}
        )
    answer = structured(result)
    assert answer["days"] == (await rest(server, dataset.key, answer["source_url"]))["days"]


async def test_the_weekly_review_prompt_names_the_tools(
    server: ServerProcess, dataset: Dataset
) -> None:
    async with mcp_client(server, dataset.key) as client:
        prompts = await client.list_prompts()
        assert [p.name for p in prompts.prompts] == ["weekly_review"]
        prompt = await client.get_prompt("weekly_review", {"end": "2024-03-18", "tz": ZONE})
    text = prompt.messages[0].content
    assert "2024-03-18" in getattr(text, "text", "")
    assert "compare_periods" in getattr(text, "text", "")


async def test_tool_calls_are_audited_and_logged_without_argument_values(
    app: FastAPI, server: ServerProcess, dataset: Dataset
) -> None:
    key: TestKey = dataset.key
    secret_source = "Watch-of-a-rare-condition"
    async with mcp_client(server, key) as client:
        ok = await client.call_tool(
            "get_series",
            {"metric": "heart_rate", "start": "2024-03-09", "end": "2024-03-12",
             "source": secret_source},
        )  # fmt: skip
        failed = await client.call_tool("get_sleep", {"start": "2023-01-01", "end": "2024-01-01"})
    assert not ok.is_error
    assert failed.is_error
    async with state_of(app).sessionmaker() as session:
        rows = await session.scalars(
            select(AuditEvent)
            .where(AuditEvent.actor_key_id == key.key_id, AuditEvent.action == "mcp.tool_call")
            .order_by(AuditEvent.id)
        )
        events = list(rows)
    assert [(e.details["tool"], e.details["outcome"]) for e in events[-2:]] == [
        ("get_series", "ok"),
        ("get_sleep", "error"),
    ]
    assert events[-2].details["arguments"] == ["bucket", "end", "metric", "source", "start"]
    assert all(e.request_id and e.target_user_id == key.user_id for e in events[-2:])
    logs = server.logs()
    calls = [orjson.loads(line) for line in logs.splitlines() if '"mcp_tool_call"' in line]
    mine = [c for c in calls if c.get("principal_id", "").endswith(str(key.key_id))]
    assert [(c["tool"], c["outcome"]) for c in mine[-2:]] == [
        ("get_series", "ok"),
        ("get_sleep", "error"),
    ]
    assert {c["request_id"] for c in mine[-2:]} == {e.request_id for e in events[-2:]}
    for value in (secret_source, "2024-03-09", "2023-01-01", "heart_rate"):
        assert value not in logs


@pytest.mark.parametrize("header", ["headers", "x_api_key"])
async def test_both_key_headers_are_accepted(
    server: ServerProcess, dataset: Dataset, header: str
) -> None:
    answer = await post_mcp(server, getattr(dataset.key, header))
    assert answer.status_code == 200
    names = {tool["name"] for tool in answer.json()["result"]["tools"]}
    assert "get_series" in names
