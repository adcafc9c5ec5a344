"""Reads on a streaming replica (DATABASE_READ_URL), each user's own writes first.

The read routes (GET of the read API and the export) take their session from
:func:`read_session` (``ReadSessionDep`` of ``health_data/access.py``). Without a replica
that is a session of the primary. With one, the user's read fence
(``replica/fences.py``) is read on the primary (one primary-key lookup) and on the
replica, on the connection that then serves the read: the replica serves it when it
holds the user's last write, else the primary does. A replica that cannot be reached
sends the read to the primary too: a lagging or lost replica makes reads slower, never
wrong and never failed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from health_export.core.config import Settings
from health_export.core.db import create_engine, create_sessionmaker
from health_export.core.logging import get_logger
from health_export.core.state import CoreState
from health_export.replica.fences import fence_of

# Told apart from the primary's connections in pg_stat_activity.
READ_APPLICATION_SUFFIX = "-read"
log = get_logger("health_export.replica")


def create_read_engine(settings: Settings) -> AsyncEngine | None:
    """An engine of the replica, or None when DATABASE_READ_URL is not set."""
    read_url = settings.database_read_url
    if read_url is None:
        return None
    replica = settings.model_copy(
        update={"database_url": read_url, "app_name": settings.app_name + READ_APPLICATION_SUFFIX}
    )
    return create_engine(replica)


def attach_read_engine(state: CoreState) -> None:
    """Put the replica's engine and sessions (or None) on the app's state."""
    state.read_engine = create_read_engine(state.settings)
    state.read_sessionmaker = (
        None if state.read_engine is None else create_sessionmaker(state.read_engine)
    )


async def read_engine_for(state: CoreState, user_id: int) -> AsyncEngine:
    """The engine a read of ``user_id``'s data uses (for streamed reads)."""
    primary = state.engine
    replica = state.read_engine
    if replica is None:
        return primary
    wanted = await _primary_fence(primary, user_id)
    try:
        async with replica.connect() as conn:
            caught_up = await fence_of(conn, user_id) >= wanted
    except Exception as exc:  # noqa: BLE001 - a lost replica sends reads to the primary
        _replica_unusable(exc)
        caught_up = False
    return replica if caught_up else primary


@asynccontextmanager
async def read_session(state: CoreState, user_id: int) -> AsyncIterator[AsyncSession]:
    """A session for reading ``user_id``'s data: the replica's when it is caught up."""
    if state.read_sessionmaker is not None:
        wanted = await _primary_fence(state.engine, user_id)
        replica = state.read_sessionmaker()
        if await _holds_fence(replica, user_id, wanted):
            async with replica:
                yield replica
            return
        await replica.close()
    async with state.sessionmaker() as session:
        yield session


async def _primary_fence(engine: AsyncEngine, user_id: int) -> int:
    async with engine.connect() as conn:
        return await fence_of(conn, user_id)


async def _holds_fence(replica: AsyncSession, user_id: int, wanted: int) -> bool:
    try:
        conn = await replica.connection()
        return await fence_of(conn, user_id) >= wanted
    except Exception as exc:  # noqa: BLE001 - a lost replica sends reads to the primary
        _replica_unusable(exc)
        return False


def _replica_unusable(exc: Exception) -> None:
    log.warning("read_replica_unavailable", exc_type=type(exc).__name__)
