"""Database engine, sessions and the request's unit of work."""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from functools import partial
from typing import Annotated, Any, TypeVar

import asyncpg
from fastapi import Depends, FastAPI, Request
from sqlalchemy import MetaData, event
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.util import await_
from starlette.responses import Response

from health_export.core.config import Settings
from health_export.core.driver import Connections, register_codecs
from health_export.core.errors import AppError, ServiceUnavailable, Unprocessable, problem_response
from health_export.core.logging import get_logger
from health_export.core.state import core_state

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

T = TypeVar("T")
log = get_logger("health_export.db")


class Base(DeclarativeBase):
    """Declarative base of every ORM table (the schema itself is owned by Alembic)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# A pooled connection must answer this fast when lent out, else it is replaced.
CHECKOUT_PING_TIMEOUT_S = 1.0


def create_engine(settings: Settings) -> AsyncEngine:
    """An asyncpg engine with the configured pool."""
    engine = create_async_engine(
        settings.async_database_url,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
        pool_timeout=settings.database_pool_timeout_seconds,
        # Not pool_pre_ping: its ping has no timeout, so a hung server hangs every request.
        pool_pre_ping=False,
        pool_recycle=1800,
        # Bound parameters (password hashes, key digests, health values) never appear in
        # the sqlalchemy.engine log or in an error's message.
        hide_parameters=True,
        connect_args={
            "timeout": settings.database_connect_timeout_seconds,
            "server_settings": {"application_name": settings.app_name},
        },
    )
    event.listen(engine.sync_engine, "checkout", _ping_on_checkout)
    return engine


def _ping_on_checkout(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    """Ping a connection as it is lent out, within a bound (runs in SQLAlchemy's greenlet)."""
    try:
        await_(_bounded_ping(dbapi_connection.driver_connection))
    except Exception as exc:
        # The pool drops this connection and opens another (bounded by the connect timeout).
        raise DisconnectionError(f"ping failed: {type(exc).__name__}") from exc


async def _bounded_ping(driver: Any) -> None:
    ping = asyncio.ensure_future(driver.fetchrow(";"))
    done, _ = await asyncio.wait({ping}, timeout=CHECKOUT_PING_TIMEOUT_S)
    if ping in done:
        ping.result()
        return
    # Waiting for a cancelled query to unwind would wait for the hung server; drop the
    # connection under it instead (the pending query then fails at once).
    driver.terminate()
    ping.cancel()
    raise TimeoutError("the database did not answer a ping")


async def driver_connection(conn: AsyncConnection | AsyncSession) -> asyncpg.Connection:
    """The asyncpg connection under ``conn`` (a session's: inside its transaction), the one
    way to the driver: its jsonb codec takes Python objects or serialised text and gives
    objects back, on every connection alike.

    Raw asyncpg calls use ``$1`` parameters; SQLAlchemy ``text()`` uses ``:name``.
    """
    if isinstance(conn, AsyncSession):
        conn = await conn.connection()
    raw = await conn.get_raw_connection()
    apg: Any = raw.driver_connection
    if apg is None:
        raise RuntimeError("the pooled connection has no driver connection")
    if not raw.info.get("health_export_codecs"):
        await register_codecs(apg)
        raw.info["health_export_codecs"] = True
    return apg


# One Connections per engine, so what it knows lasts as long as the engine (it holds the
# engine weakly: an engine nobody uses is collected, and its entry with it).
_connections: weakref.WeakKeyDictionary[AsyncEngine, Connections] = weakref.WeakKeyDictionary()


def connections_of(engine: AsyncEngine) -> Connections:
    """Driver connections lent from ``engine``'s pool (one object per engine)."""
    found = _connections.get(engine)
    if found is None:
        found = _connections[engine] = Connections(partial(_lend, weakref.ref(engine)))
    return found


@asynccontextmanager
async def _lend(engine_ref: weakref.ref[AsyncEngine]) -> AsyncIterator[asyncpg.Connection]:
    engine = engine_ref()
    if engine is None:
        raise RuntimeError("the engine is gone")
    async with engine.connect() as conn:
        yield await driver_connection(conn)


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
    if isinstance(exc, asyncpg.exceptions.PostgresError):
        # Driver-level work (interning, partitions, COPY) raises asyncpg's own errors.
        return getattr(exc, "sqlstate", None) in TRANSIENT_SQLSTATES
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
    budget_s: float = 3.0,
) -> T:
    """Run ``operation``, retrying database-unavailable failures with exponential backoff.

    No retry starts after ``budget_s`` (a client waiting for its answer must get its 503
    within seconds), and a pool timeout is not retried: it has already waited its turn.
    """
    delay = first_delay_s
    started = time.monotonic()
    for attempt in range(1, attempts + 1):
        try:
            return await operation()
        except Exception as exc:
            if not is_database_unavailable(exc) or attempt == attempts:
                raise
            if isinstance(exc, PoolTimeoutError):
                raise
            if time.monotonic() - started + delay > budget_s:
                raise
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_delay_s)
    raise AssertionError("unreachable")  # pragma: no cover


def _sqlstate(exc: BaseException) -> str | None:
    orig = getattr(exc, "orig", exc)
    state = getattr(orig, "sqlstate", None) or getattr(
        getattr(orig, "__cause__", None), "sqlstate", None
    )
    return state if isinstance(state, str) else None


async def _database_error(request: Request, exc: Exception) -> Response:
    """A database error no code handled: 503 when it is down, 422 for unstorable data."""
    if is_database_unavailable(exc):
        error: AppError = ServiceUnavailable("the database is unavailable; retry later")
    elif (_sqlstate(exc) or "")[:2] in ("22", "54"):  # data exception, program limit
        # Never the database's message: it may quote the offending value.
        error = Unprocessable("a value in the request cannot be stored")
    else:
        raise exc
    log.warning("database_error_answered", status=error.status, exc_type=type(exc).__name__)
    return problem_response(request, error.status, error.detail, headers=error.headers)


def install_database_error_handlers(app: FastAPI) -> None:
    """Turn database failures that escape the services into 503/422, never a 500."""
    app.add_exception_handler(DBAPIError, _database_error)
    app.add_exception_handler(asyncpg.PostgresError, _database_error)
    app.add_exception_handler(asyncpg.exceptions.InterfaceError, _database_error)


def _sessionmaker(request: Request) -> async_sessionmaker[AsyncSession]:
    maker = core_state(request).sessionmaker
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
