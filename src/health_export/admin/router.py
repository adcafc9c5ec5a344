"""/api/v1/admin: users, keys, audit trail, log levels (scope `admin`, all audited)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from health_export.admin import service
from health_export.admin.schemas import (
    AdminKeyCreate,
    AuditEventOut,
    LoggingOut,
    LoggingUpdate,
    UserCreate,
    UserOut,
)
from health_export.auth import service as auth_service
from health_export.auth.audit import origin_of
from health_export.auth.dependencies import AdminPrincipal, rate_limit_headers_of
from health_export.auth.key_creation import NO_STORE, create_key_for
from health_export.auth.schemas import KeyCreated, KeyOut
from health_export.auth.state import auth_state
from health_export.core.db import SessionDep

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])


@router.get("/users", response_model=list[UserOut], summary="List users")
async def list_users(request: Request, session: SessionDep, admin: AdminPrincipal) -> list[Any]:
    """Every user."""
    return list(await service.list_users(session, admin, origin_of(request)))


@router.post(
    "/users",
    status_code=201,
    response_model=UserOut,
    summary="Create a user",
    responses={409: {"description": "A user of that name exists"}},
)
async def create_user(
    request: Request, session: SessionDep, admin: AdminPrincipal, body: UserCreate
) -> Any:
    """Create a user (optionally an admin, optionally with a dashboard password)."""
    return await auth_service.create_user(
        session,
        name=body.name,
        is_admin=body.is_admin,
        password=body.password,
        actor=admin,
        origin=origin_of(request),
    )


@router.post(
    "/users/{user_id}/disable",
    response_model=UserOut,
    summary="Disable a user",
    responses={409: {"description": "An admin cannot disable themselves"}},
)
async def disable_user(
    user_id: int, request: Request, session: SessionDep, admin: AdminPrincipal
) -> Any:
    """Disable a user: all their keys stop working within a second."""
    user = await auth_service.disable_user(session, user_id, actor=admin, origin=origin_of(request))
    auth_state(request).cache.clear()
    return user


@router.get("/keys", response_model=list[KeyOut], summary="List keys of any user")
async def list_keys(
    request: Request,
    session: SessionDep,
    admin: AdminPrincipal,
    user: Annotated[str | None, Query(max_length=64)] = None,
) -> list[Any]:
    """Keys of one user (``?user=NAME``) or of everyone, never their values."""
    return list(await service.list_keys(session, admin, origin_of(request), user))


@router.post(
    "/keys",
    status_code=201,
    response_model=KeyCreated,
    summary="Create a key",
    responses={
        409: {"description": "The key value is already registered, or the user is disabled"}
    },
)
async def create_key(
    request: Request,
    response: Response,
    session: SessionDep,
    admin: AdminPrincipal,
    body: AdminKeyCreate,
) -> dict[str, Any]:
    """Create (or register) a key for any user; its value is in this answer only."""
    response.headers["Cache-Control"] = NO_STORE
    return await create_key_for(request, session, admin, body)


@router.delete("/keys/{key_id}", status_code=204, summary="Revoke any key")
async def revoke_key(
    key_id: uuid.UUID, request: Request, session: SessionDep, admin: AdminPrincipal
) -> Response:
    """Revoke any user's key."""
    await service.revoke_key(session, admin, origin_of(request), key_id)
    auth_state(request).cache.clear()
    return Response(status_code=204, headers=rate_limit_headers_of(request))


@router.get("/audit", response_model=list[AuditEventOut], summary="Recent audit events")
async def audit_events(
    request: Request,
    session: SessionDep,
    admin: AdminPrincipal,
    action: Annotated[str | None, Query(max_length=64, description="Action prefix")] = None,
    user_id: Annotated[int | None, Query(description="Actor or target user")] = None,
    since: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=service.MAX_AUDIT_EVENTS)] = 100,
) -> list[Any]:
    """Newest first, filtered by action prefix, user and time."""
    return list(
        await service.list_audit_events(
            session,
            admin,
            origin_of(request),
            action=action,
            user_id=user_id,
            since=since,
            limit=limit,
        )
    )


@router.get("/logging", response_model=LoggingOut, summary="Log levels")
async def read_logging(request: Request, session: SessionDep, admin: AdminPrincipal) -> Any:
    """Log levels in force in this process."""
    return await service.read_log_levels(session, admin, origin_of(request))


@router.put("/logging", response_model=LoggingOut, summary="Change log levels")
async def change_logging(
    request: Request, session: SessionDep, admin: AdminPrincipal, body: LoggingUpdate
) -> Any:
    """Set levels per logger now, without a restart (this process); audited."""
    return await service.change_log_levels(session, admin, origin_of(request), dict(body.levels))
