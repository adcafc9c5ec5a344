"""The audit trail: who did what, recorded with the caller's unit of work."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from health_export.auth import repository
from health_export.auth.models import AuditEvent
from health_export.auth.principal import Principal
from health_export.core.errors import request_id_of
from health_export.core.logging import get_logger

log = get_logger("health_export.audit")
USER_AGENT_MAX = 256


@dataclass(frozen=True, slots=True)
class RequestOrigin:
    """Where a request came from, as far as the audit trail cares."""

    ip: str | None = None
    user_agent: str | None = None
    request_id: str | None = None


def origin_of(request: Request | None) -> RequestOrigin:
    """The client address, user agent and request id of ``request`` (empty for the CLI)."""
    if request is None:
        return RequestOrigin()
    agent = request.headers.get("user-agent")
    return RequestOrigin(
        ip=request.client.host if request.client else None,
        user_agent=agent[:USER_AGENT_MAX] if agent else None,
        request_id=request_id_of(request),
    )


async def record_audit(
    session: AsyncSession,
    *,
    action: str,
    actor: Principal | None,
    target_user_id: int | None = None,
    details: dict[str, Any] | None = None,
    origin: RequestOrigin | None = None,
) -> None:
    """Add one audit event to ``session``; it commits (or not) with the caller's work."""
    where = origin or RequestOrigin()
    event = AuditEvent(
        action=action,
        actor_user_id=actor.user_id if actor else None,
        actor_key_id=actor.key_id if actor else None,
        target_user_id=target_user_id,
        ip=where.ip,
        user_agent=where.user_agent,
        request_id=where.request_id,
        details=details or {},
    )
    await repository.add_audit_event(session, event)


async def record_auth_failure(
    sessionmaker: async_sessionmaker[AsyncSession], reason: str, origin: RequestOrigin
) -> None:
    """Record a failed authentication in its own transaction (the request's is rolled back)."""
    try:
        async with sessionmaker() as session, session.begin():
            await record_audit(
                session,
                action="auth.failed",
                actor=None,
                details={"reason": reason},
                origin=origin,
            )
    except Exception as exc:  # the 401 matters more than its audit row
        log.warning("audit_write_failed", action="auth.failed", error=type(exc).__name__)
