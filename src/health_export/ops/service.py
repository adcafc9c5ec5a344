"""Readiness checks."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from health_export.auth.ratelimit import RateLimiter
from health_export.core.redis import redis_is_up
from health_export.core.state import CoreState
from health_export.migrations_head import expected_head

READY_DB_TIMEOUT_S = 2.0


async def _database_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as conn:
        result = await conn.execute(text("SELECT version_num FROM alembic_version"))
        return result.scalar_one_or_none()


async def database_state(engine: AsyncEngine) -> str:
    """``ok``, ``not_migrated`` or ``unavailable``."""
    try:
        revision = await asyncio.wait_for(_database_revision(engine), READY_DB_TIMEOUT_S)
    except Exception as exc:
        if "alembic_version" in str(exc):
            return "not_migrated"
        return "unavailable"
    return "ok" if revision == expected_head() else "not_migrated"


async def readiness(state: CoreState, limiter: RateLimiter) -> dict[str, Any]:
    """Whether this process should receive traffic, and why not."""
    if state.shutting_down:
        return {"status": "unready", "database": "ok", "redis": "ok", "reason": "shutting down"}
    database = await database_state(state.engine)
    if state.redis is None:
        redis = "not_configured"
    else:
        redis = "ok" if await redis_is_up(state.redis) else "unavailable"
        if limiter.is_degraded:  # until it is back on Redis
            # Without authenticated traffic nothing else would notice Redis is back.
            limiter.probe_soon()
            redis = "unavailable"
    if database != "ok":
        reason = "database unreachable" if database == "unavailable" else "migrations not at head"
        return {"status": "unready", "database": database, "redis": redis, "reason": reason}
    if redis == "unavailable":
        return {
            "status": "degraded",
            "database": database,
            "redis": redis,
            "reason": "redis unavailable: rate limits kept in-process",
        }
    return {"status": "ready", "database": database, "redis": redis, "reason": None}
