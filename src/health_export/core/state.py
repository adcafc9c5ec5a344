"""What a running app holds, typed: the settings, the database, Redis, the replica.

The lifespan builds one :class:`CoreState` and puts it on the app; every reader goes
through :func:`core_state` (or the ``CoreStateDep`` dependency), never through the
untyped ``app.state`` bag. Packages keep their own running pieces the same way, each
behind one typed accessor of their own (``auth.state.auth_state``,
``ingest.lifecycle.ingest_runtime``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.types import ASGIApp

from health_export.core.config import Settings


@dataclass(slots=True)
class CoreState:
    """The app's shared resources, made by the lifespan and closed by it."""

    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    redis: Redis | None
    # A streaming replica for reads (DATABASE_READ_URL), or None.
    read_engine: AsyncEngine | None = None
    read_sessionmaker: async_sessionmaker[AsyncSession] | None = None
    shutting_down: bool = False
    # When `serve` was told to stop (SIGTERM): the end of its grace period (monotonic).
    shutdown_deadline: float | None = None


def state_of(app: ASGIApp) -> CoreState:
    """The running app's state; an app whose lifespan has not run has none."""
    state = getattr(getattr(app, "state", None), "core", None)
    if not isinstance(state, CoreState):
        raise RuntimeError("the app has not started: its lifespan did not run")
    return state


def settings_of(request: Request) -> Settings:
    """The settings the serving app was made with (known before its lifespan runs)."""
    settings = getattr(request.app.state, "settings", None)
    if not isinstance(settings, Settings):
        raise RuntimeError("the app was not made by create_app")
    return settings


def is_started(app: ASGIApp) -> bool:
    """Whether the app's lifespan has made its state."""
    return isinstance(getattr(getattr(app, "state", None), "core", None), CoreState)


def core_state(request: Request) -> CoreState:
    """The state of the app serving ``request``."""
    return state_of(request.app)


CoreStateDep = Annotated[CoreState, Depends(core_state)]
