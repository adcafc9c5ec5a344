"""Operator actions: every one recorded in the audit trail."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from health_export.admin import logging_levels
from health_export.auth import repository as auth_repository
from health_export.auth import service as auth_service
from health_export.auth.audit import RequestOrigin, record_audit
from health_export.auth.models import ApiKey, AuditEvent, User
from health_export.auth.principal import Principal
from health_export.core.errors import Unprocessable

MAX_AUDIT_EVENTS = 500


async def list_users(
    session: AsyncSession, actor: Principal, origin: RequestOrigin
) -> Sequence[User]:
    """Every user; the read is audited."""
    await record_audit(session, action="admin.users.read", actor=actor, origin=origin)
    return await auth_service.list_users(session)


async def list_keys(
    session: AsyncSession, actor: Principal, origin: RequestOrigin, user_name: str | None
) -> Sequence[ApiKey]:
    """Keys of one user or of everyone; the read is audited."""
    user_id = (await auth_service.user_named(session, user_name)).id if user_name else None
    await record_audit(
        session, action="admin.keys.read", actor=actor, target_user_id=user_id, origin=origin
    )
    return await auth_service.list_keys(session, user_id)


async def revoke_key(
    session: AsyncSession, actor: Principal, origin: RequestOrigin, key_id: uuid.UUID
) -> ApiKey:
    """Revoke anyone's key (audited by the auth service)."""
    return await auth_service.revoke_key(
        session, key_id, actor=actor, origin=origin, own_only=False
    )


async def list_audit_events(
    session: AsyncSession,
    actor: Principal,
    origin: RequestOrigin,
    *,
    action: str | None,
    user_id: int | None,
    since: datetime | None,
    limit: int,
) -> Sequence[AuditEvent]:
    """Recent audit events matching the filters; the read itself is audited."""
    filters: dict[str, Any] = {"action": action, "user_id": user_id, "since": since}
    events = await auth_repository.list_audit_events(
        session, filters=filters, limit=min(limit, MAX_AUDIT_EVENTS)
    )
    # The filter may name a user that does not exist: it stays in the details only.
    target = None
    if user_id is not None and await session.get(User, user_id) is not None:
        target = user_id
    await record_audit(
        session,
        action="admin.audit.read",
        actor=actor,
        target_user_id=target,
        details={k: str(v) for k, v in filters.items() if v is not None},
        origin=origin,
    )
    return events


async def read_log_levels(
    session: AsyncSession, actor: Principal, origin: RequestOrigin
) -> dict[str, Any]:
    """Log levels in force; audited."""
    await record_audit(session, action="admin.logging.read", actor=actor, origin=origin)
    return {"root": logging_levels.root_level(), "loggers": logging_levels.current_levels()}


async def change_log_levels(
    session: AsyncSession, actor: Principal, origin: RequestOrigin, levels: dict[str, str]
) -> dict[str, Any]:
    """Set log levels in this process now; each change audited with old and new level."""
    bad = [name for name in levels if not logging_levels.is_valid_logger_name(name)]
    if bad:
        raise Unprocessable(
            "invalid logger names",
            errors=[{"path": f"levels.{name[:64]}", "reason": "not a logger name"} for name in bad],
        )
    leaky = [name for name, level in levels.items() if logging_levels.would_log_rows(name, level)]
    if leaky:
        raise Unprocessable(
            "sqlalchemy.engine logs result rows at DEBUG (password hashes, key digests, "
            "health values); INFO is its most detailed level (statements without parameters)",
            errors=[{"path": f"levels.{name}", "reason": "DEBUG is refused"} for name in leaky],
        )
    changes = logging_levels.set_levels(levels)
    await record_audit(
        session,
        action="logging.level_changed",
        actor=actor,
        origin=origin,
        details={name: {"old": old, "new": new} for name, (old, new) in changes.items()},
    )
    return {"root": logging_levels.root_level(), "loggers": logging_levels.current_levels()}
