"""Database engine, sessions and the request's unit of work."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, TypeVar

import asyncpg
from fastapi import Depends, Request
from sqlalchemy import MetaData
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase

from health_export.core.config import Settings
from health_export.core.errors import ServiceUnavailable

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

T = TypeVar("T")


class Base(DeclarativeBase):
    """Declarative base of every ORM table (the schema itself is owned by Alembic)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def create_engine(settings: Settings) -> AsyncEngine:
    """An asyncpg engine with the configured pool."""
    return create_async_engine(
        settings.async_database_url,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
        pool_timeout=settings.database_pool_timeout_seconds,
        pool_pre_ping=True,
        pool_recycle=1800,
        connect_args={
            "timeout": settings.database_connect_timeout_seconds,
            "server_settings": {"application_name": settings.app_name},
        },
    )


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded objects usable after commit (no lazy loads under async)."""
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


TRANSIENT_SQLSTATES = frozenset(
    {
        "40001",
        "40P01",
        "57P01",
        "57P02",
        "57P03",
        "08000",
        "08003",
        "08006",
        "08001",
        "08004",
        "53300",
    }
)


def is_database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` means the database is down, unreachable or overloaded."""
    if isinstance(exc, PoolTimeoutError | InterfaceError | OperationalError):
        return True
    if isinstance(exc, OSError | asyncio.TimeoutError | asyncpg.exceptions.InterfaceError):
        return True
    if isinstance(exc, asyncpg.exceptions.PostgresConnectionError):
        return True
    if isinstance(exc, DBAPIError):
        orig = getattr(exc, "orig", None)
        sqlstate = getattr(orig, "sqlstate", None) or getattr(
            getattr(orig, "__cause__", None), "sqlstate", None
        )
        return sqlstate in TRANSIENT_SQLSTATES or exc.connection_invalidated
    return False


async def with_transient_retry(
    operation: Callable[[], Awaitable[T]],
    *,
    attempts: int = 4,
    first_delay_s: float = 0.1,
    max_delay_s: float = 5.0,
) -> T:
    """Run ``operation``, retrying database-unavailable failures with exponential backoff."""
    delay = first_delay_s
    for attempt in range(1, attempts + 1):
        try:
            return await operation()
        except Exception as exc:
            if not is_database_unavailable(exc) or attempt == attempts:
                raise
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_delay_s)
    raise AssertionError("unreachable")  # pragma: no cover


def _sessionmaker(request: Request) -> async_sessionmaker[AsyncSession]:
    maker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    return maker


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's unit of work: commit before the response is sent, else roll back."""
    async with _sessionmaker(request)() as session:
        try:
            yield session
            await session.commit()
        except Exception as exc:
            await _rollback_quietly(session)
            if is_database_unavailable(exc):
                raise ServiceUnavailable("the database is unavailable; retry later") from exc
            raise


async def _rollback_quietly(session: AsyncSession) -> None:
    try:
        await session.rollback()
    except Exception:  # noqa: S110 - the connection may be gone; the pool discards it
        pass


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
