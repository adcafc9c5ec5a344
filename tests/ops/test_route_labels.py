"""Prometheus and access-log route labels are the routes' full templates."""

from __future__ import annotations

import io
import re
from typing import Any

import httpx
import orjson
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts

from tests.fixtures.auth import TestKey

_PARAMETER = re.compile(r"\{[a-z_]+\}")


def _access_routes(buffer: io.StringIO) -> list[str]:
    lines = [orjson.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]
    return [str(line["route"]) for line in lines if line.get("logger") == "health_export.access"]


def _labels(text: str) -> set[str]:
    return set(re.findall(r'^http_requests_total\{[^}]*route="([^"]*)"', text, re.MULTILINE))


async def test_every_operation_is_labelled_by_its_full_template(
    app: FastAPI, client: httpx.AsyncClient, ingest_key: TestKey, captured_logs: io.StringIO
) -> None:
    paths: dict[str, dict[str, Any]] = app.openapi()["paths"]
    templates = [t for t, operations in paths.items() if "get" in operations]
    for template in templates:
        await client.get(_PARAMETER.sub("1", template), headers=ingest_key.headers)
    assert _access_routes(captured_logs) == templates
    metrics = await client.get("/metrics")
    assert set(templates) <= _labels(metrics.text)
    # No label is a route's own part (`/sleep` of the read router): each is a full path.
    # A path converter (`{name:path}`) is not part of the label.
    known = {
        re.sub(r"\{(\w+):[^}]*\}", r"{\1}", context.path or "")
        for context in iter_route_contexts(app.routes)
    } | {"<unmatched>", "/docs/assets/{path}"}  # the assets mount (an earlier test may hit it)
    assert _labels(metrics.text) <= known, _labels(metrics.text) - known
    assert "/api/v1/sleep" in templates
    assert "/api/v1/metrics/{name}/series" in templates


async def test_docs_pages_and_assets_have_their_own_labels(
    client: httpx.AsyncClient, captured_logs: io.StringIO
) -> None:
    for path in ("/docs", "/redoc", "/openapi.json", "/docs/assets/swagger-ui.css"):
        assert (await client.get(path)).status_code == 200, path
    assert _access_routes(captured_logs) == [
        "/docs",
        "/redoc",
        "/openapi.json",
        "/docs/assets/{path}",
    ]


async def test_unmatched_paths_share_one_label(
    client: httpx.AsyncClient, captured_logs: io.StringIO
) -> None:
    for path in ("/nope", "/api/v1/nope", "/x" * 50, "/api/v1/metrics/a/b/c"):
        assert (await client.get(path)).status_code == 404
    assert set(_access_routes(captured_logs)) == {"<unmatched>"}
    assert 'route="<unmatched>",status="404"' in (await client.get("/metrics")).text


async def test_a_trailing_slash_is_labelled_as_the_route_itself(
    client: httpx.AsyncClient, captured_logs: io.StringIO
) -> None:
    await client.get("/health/")
    assert _access_routes(captured_logs) == ["/health"]


async def test_routes_added_after_the_first_request_get_their_template(app_factory: Any) -> None:
    app: FastAPI = app_factory()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        await http.get("/health")

        @app.get("/late/{thing}")
        async def late(thing: str) -> dict[str, str]:
            return {"thing": thing}

        assert (await http.get("/late/x")).status_code == 200
        text = (await http.get("/metrics")).text
    assert "/late/{thing}" in _labels(text)
