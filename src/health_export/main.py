"""Application factory: `create_app(settings)` builds the FastAPI app and its lifespan."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline
from sqlalchemy.ext.asyncio import AsyncEngine

from health_export import __version__
from health_export.admin.router import router as admin_router
from health_export.assistants.server import mount_assistants, start_assistants, stop_assistants
from health_export.auth.body_guard import RequestBodyGuard
from health_export.auth.router import router as auth_router
from health_export.auth.state import build_auth_state
from health_export.background.runner import BackgroundRunner
from health_export.core.config import Settings, get_settings
from health_export.core.db import (
    create_engine,
    create_sessionmaker,
    install_database_error_handlers,
)
from health_export.core.errors import install_error_handlers
from health_export.core.jsonresponse import ORJSONResponse
from health_export.core.logging import configure_logging_for, get_logger
from health_export.core.middleware import BodyPace, RequestContextMiddleware
from health_export.core.redis import create_redis
from health_export.core.state import CoreState, state_of
from health_export.dashboard.router import install_dashboard
from health_export.health_data.export.router import router as export_router
from health_export.health_data.metrics.router import router as metrics_router
from health_export.health_data.records.router import router as records_router
from health_export.health_data.rings.router import router as rings_router
from health_export.imports.router import router as imports_router
from health_export.ingest.lifecycle import start_ingest, stop_ingest
from health_export.ingest.openapi import install_ingest_openapi
from health_export.ingest.router import router as ingest_router
from health_export.ops.metrics import RequestMetrics
from health_export.ops.router import router as ops_router
from health_export.replica.routing import attach_read_engine
from health_export.sync.router import router as sync_router

log = get_logger("health_export.app")


def _lifespan(
    settings: Settings, metrics: RequestMetrics
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings)
        redis = create_redis(settings.redis_url)
        core = CoreState(settings, engine, create_sessionmaker(engine), redis)
        attach_read_engine(core)
        app.state.core = core
        auth = app.state.auth = build_auth_state(settings, core.sessionmaker, redis, metrics)
        runtime = app.state.ingest_runtime = start_ingest(core)
        background = _embedded_worker(engine, settings)
        await start_assistants(app)
        log.info("startup", version=__version__)
        try:
            yield
        finally:
            core.shutting_down = True
            await stop_assistants(app)
            if background is not None:
                await background.stop(_grace_left_s(app, settings))
            await stop_ingest(runtime, _grace_left_s(app, settings))
            await auth.aclose()
            if redis is not None:
                await redis.aclose()
            if core.read_engine is not None:
                await core.read_engine.dispose()
            await engine.dispose()
            log.info("shutdown")

    return lifespan


def _embedded_worker(engine: AsyncEngine, settings: Settings) -> BackgroundRunner | None:
    """The background jobs run inside the server unless EMBEDDED_WORKER is off."""
    if not settings.embedded_worker:
        return None
    runner = BackgroundRunner(engine, settings)
    runner.start()
    return runner


def _grace_left_s(app: FastAPI, settings: Settings) -> float:
    """What is left of the grace period `serve` started at SIGTERM (all of it otherwise)."""
    deadline = state_of(app).shutdown_deadline
    if deadline is None:
        return settings.shutdown_grace_seconds
    return max(0.0, deadline - time.monotonic())


DOCS_ASSETS_URL = "/docs/assets"
_PROBLEM = {"content": {"application/problem+json": {"schema": {"type": "object"}}}}
# Answers any authenticated route can give, whatever it does (documented in OpenAPI).
_PROTECTED_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "No valid API key", **_PROBLEM},
    403: {"description": "The key lacks the route's scope", **_PROBLEM},
    408: {"description": "The request body stopped arriving", **_PROBLEM},
    422: {"description": "The request did not validate", **_PROBLEM},
    429: {"description": "Rate limited; retry after Retry-After", **_PROBLEM},
    503: {"description": "Database unavailable; retry after Retry-After", **_PROBLEM},
}


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the application for ``settings`` (read from the environment when omitted)."""
    settings = settings or get_settings()
    configure_logging_for(settings)
    metrics = RequestMetrics()
    # FastAPIOffline: /docs and /redoc load Swagger UI and ReDoc from the assets its
    # package ships, served here under DOCS_ASSETS_URL; nothing comes from another host.
    app = FastAPIOffline(
        title="health-export",
        version=__version__,
        summary="Self-hosted home for Apple Health data from Health Auto Export.",
        default_response_class=ORJSONResponse,
        lifespan=_lifespan(settings, metrics),
        # A trailing slash is dropped before routing (core/middleware.py), never redirected.
        redirect_slashes=False,
        static_url=DOCS_ASSETS_URL,
        # Swagger UI would send the document to its public validator for a badge.
        swagger_ui_parameters={"validatorUrl": None},
    )
    app.state.settings = settings
    app.state.metrics = metrics
    install_error_handlers(app)
    install_database_error_handlers(app)
    # Inside the request context (ids, access log): its 401/413 answers are logged too.
    app.add_middleware(RequestBodyGuard, max_body_bytes=settings.max_request_body_bytes)
    app.add_middleware(RequestContextMiddleware, metrics=metrics.http, body_pace=BodyPace())
    app.include_router(ops_router)
    app.include_router(auth_router, responses=_PROTECTED_RESPONSES)
    app.include_router(admin_router, responses=_PROTECTED_RESPONSES)
    app.include_router(ingest_router, responses=_PROTECTED_RESPONSES)
    for read_router in (metrics_router, records_router, export_router, rings_router):
        app.include_router(read_router, responses=_PROTECTED_RESPONSES)
    app.include_router(sync_router, responses=_PROTECTED_RESPONSES)
    app.include_router(imports_router, responses=_PROTECTED_RESPONSES)
    mount_assistants(app)
    install_dashboard(app, _PROTECTED_RESPONSES)
    install_ingest_openapi(app)
    return app
