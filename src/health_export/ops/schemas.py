"""Response shapes of the operator endpoints."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


class HealthOut(BaseModel):
    """Liveness answer."""

    status: Literal["ok"]


class ReadyOut(BaseModel):
    """Readiness answer: each dependency's state and, when not ready, why."""

    status: Literal["ready", "degraded", "unready"]
    database: Literal["ok", "unavailable", "not_migrated"]
    redis: Literal["ok", "unavailable", "not_configured"]
    reason: str | None = None
