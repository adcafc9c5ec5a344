"""Operator endpoints: liveness, readiness, Prometheus metrics."""

from __future__ import annotations

import hmac
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from health_export.core.errors import Unauthorized
from health_export.core.jsonresponse import ORJSONResponse
from health_export.ops import service
from health_export.ops.schemas import HealthOut, ReadyOut

router = APIRouter(tags=["operations"])


@router.get("/health", response_model=HealthOut, summary="Liveness (no I/O)")
async def health() -> dict[str, Any]:
    """The process is up and its event loop answers."""
    return {"status": "ok"}


@router.get(
    "/ready",
    response_model=ReadyOut,
    summary="Readiness: database reachable and migrated; Redis reported",
    responses={503: {"model": ReadyOut, "description": "Not ready"}},
)
async def ready(request: Request) -> Response:
    """200 when requests can be served; 503 with a short reason otherwise."""
    report = await service.readiness(request.app.state)
    status = 200 if report["status"] != "unready" else 503
    return ORJSONResponse(report, status_code=status, headers={"Cache-Control": "no-store"})


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(request: Request) -> Response:
    """Request counts and latencies by route and status, plus service gauges."""
    token: str | None = request.app.state.settings.metrics_token
    if token is not None:
        presented = request.headers.get("authorization", "").removeprefix("Bearer ")
        if not hmac.compare_digest(presented.encode(), token.encode()):
            raise Unauthorized(
                "a metrics token is required", headers={"WWW-Authenticate": "Bearer"}
            )
    engine = getattr(request.app.state, "engine", None)
    if engine is not None:
        request.app.state.metrics.observe_pool(engine.pool)
    body, content_type = request.app.state.metrics.exposition()
    return Response(body, media_type=content_type)
