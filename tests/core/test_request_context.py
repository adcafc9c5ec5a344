"""Request ids in and out, access log lines, and problem+json for every error."""

from __future__ import annotations

import io

import httpx
import orjson
from fastapi import FastAPI


def _access_lines(buffer: io.StringIO) -> list[dict[str, object]]:
    lines = [orjson.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]
    return [line for line in lines if line.get("logger") == "health_export.access"]


async def test_sane_request_id_is_echoed_and_logged(
    client: httpx.AsyncClient, captured_logs: io.StringIO
) -> None:
    response = await client.get("/health", headers={"X-Request-ID": "abc-123.x"})
    assert response.headers["x-request-id"] == "abc-123.x"
    (line,) = _access_lines(captured_logs)
    assert line["request_id"] == "abc-123.x"
    assert line["route"] == "/health"
    assert line["status"] == 200
    assert line["method"] == "GET"
    assert isinstance(line["duration_ms"], float)
    assert line["bytes_out"] == len(response.content)


async def test_insane_request_id_is_replaced(client: httpx.AsyncClient) -> None:
    response = await client.get("/health", headers={"X-Request-ID": "bad id\twith junk" * 20})
    generated = response.headers["x-request-id"]
    assert len(generated) == 32
    assert generated.isalnum()


async def test_missing_request_id_is_generated(client: httpx.AsyncClient) -> None:
    first = await client.get("/health")
    second = await client.get("/health")
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


async def test_unknown_route_is_problem_json_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/nope", headers={"X-Request-ID": "rid-404"})
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 404
    assert body["title"] == "Not Found"
    assert body["request_id"] == "rid-404"


async def test_wrong_method_is_problem_json_405(client: httpx.AsyncClient) -> None:
    response = await client.post("/health")
    assert response.status_code == 405
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 405


async def test_validation_error_is_problem_json_422_without_values(app_factory: object) -> None:
    app: FastAPI = app_factory()  # type: ignore[operator]

    @app.get("/echo-int")
    async def echo_int(value: int) -> dict[str, int]:
        return {"value": value}

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        response = await http.get("/echo-int", params={"value": "secret-canary"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["errors"] == [{"path": "query.value", "reason": body["errors"][0]["reason"]}]
    assert "secret-canary" not in response.text


async def test_unexpected_exception_is_problem_json_500_without_internals(
    app_factory: object, captured_logs: io.StringIO
) -> None:
    app: FastAPI = app_factory()  # type: ignore[operator]

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("internal detail canary")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        response = await http.get("/boom", headers={"X-Request-ID": "rid-500"})
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["x-request-id"] == "rid-500"
    body = response.json()
    assert body["request_id"] == "rid-500"
    assert "canary" not in response.text
    assert "Traceback" not in response.text
    assert "unhandled_exception" in captured_logs.getvalue()
