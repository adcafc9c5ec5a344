"""Operator endpoints: liveness, readiness, Prometheus metrics."""

from __future__ import annotations

import hmac
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from health_export.auth.state import auth_state
from health_export.core.errors import Unauthorized
from health_export.core.jsonresponse import ORJSONResponse
from health_export.core.state import core_state, is_started, settings_of
from health_export.ops import service
from health_export.ops.metrics import metrics_of
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
    report = await service.readiness(core_state(request), auth_state(request).limiter)
    status = 200 if report["status"] != "unready" else 503
    return ORJSONResponse(report, status_code=status, headers={"Cache-Control": "no-store"})


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(request: Request) -> Response:
    """Request counts and latencies by route and status, plus service gauges."""
    token = settings_of(request).metrics_token
    if token is not None:
        presented = request.headers.get("authorization", "").removeprefix("Bearer ")
        if not hmac.compare_digest(presented.encode(), token.encode()):
            raise Unauthorized(
                "a metrics token is required", headers={"WWW-Authenticate": "Bearer"}
            )
    recorder = metrics_of(request)
    if is_started(request.app):
        recorder.observe_pool(core_state(request).engine.pool)
    body, content_type = recorder.exposition()
    return Response(body, media_type=content_type)
