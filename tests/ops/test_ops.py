"""Operator endpoints: /health, /ready, /metrics."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from health_export.core.config import Settings
from health_export.main import create_app


async def test_health_is_ok(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_ready_when_database_is_migrated_and_redis_is_up(client: httpx.AsyncClient) -> None:
    response = await client.get("/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "database": "ok", "redis": "ok", "reason": None}


async def test_ready_is_degraded_without_redis_configured(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"redis_url": None}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            response = await http.get("/ready")
    assert response.status_code == 200
    assert response.json()["redis"] == "not_configured"
    assert response.json()["status"] == "ready"


async def test_ready_is_503_when_the_database_is_unreachable(settings: Settings) -> None:
    unreachable = "postgresql+asyncpg://root@127.0.0.1:1/health_export"
    app = create_app(settings.model_copy(update={"database_url": unreachable}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            response = await http.get("/ready")
    assert response.status_code == 503
    assert response.json()["database"] == "unavailable"
    assert response.json()["reason"] == "database unreachable"


async def test_metrics_count_requests_by_route_and_status(app: FastAPI) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        for _ in range(3):
            await http.get("/health")
        await http.get("/does-not-exist")
        response = await http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    health_line = next(
        line
        for line in text.splitlines()
        if line.startswith("http_requests_total{") and 'route="/health"' in line
    )
    assert float(health_line.rsplit(" ", 1)[1]) >= 3
    assert 'route="<unmatched>",status="404"' in text
    assert "http_request_duration_seconds_bucket" in text


async def test_metrics_token_is_required_when_configured(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"metrics_token": "scrape-secret"}))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        denied = await http.get("/metrics")
        allowed = await http.get("/metrics", headers={"Authorization": "Bearer scrape-secret"})
    assert denied.status_code == 401
    assert allowed.status_code == 200
