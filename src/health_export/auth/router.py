"""/api/v1/auth: own keys, rate-limit status, dashboard login."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request, Response

from health_export.auth import keys, service
from health_export.auth.audit import origin_of
from health_export.auth.authenticate import session_cookie_value
from health_export.auth.dependencies import (
    AnyPrincipal,
    KeysPrincipal,
    rate_limit_headers_of,
    rate_limit_of,
)
from health_export.auth.key_creation import NO_STORE, create_key_for
from health_export.auth.login import (
    clear_session_cookies,
    password_login,
    set_session_cookie,
)
from health_export.auth.principal import Scope
from health_export.auth.schemas import (
    KeyCreate,
    KeyCreated,
    KeyOut,
    LoginIn,
    LoginOut,
    RateLimitOut,
)
from health_export.auth.state import auth_state
from health_export.core.db import SessionDep

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


@router.post(
    "/keys",
    status_code=201,
    response_model=KeyCreated,
    summary="Create a key (shown once)",
    responses={
        409: {"description": "The key value is already registered, or the user is disabled"}
    },
)
async def create_key(
    request: Request,
    response: Response,
    session: SessionDep,
    principal: KeysPrincipal,
    body: KeyCreate,
) -> dict[str, Any]:
    """Create a key for yourself (admins: for anyone); its value is in this answer only.

    Needs the `keys` scope. The key has at most the caller's scopes and lives at most as
    long as the caller's key; one made by a login session dies with the session unless
    the body re-enters the password and gives an explicit expiry.
    """
    response.headers["Cache-Control"] = NO_STORE
    return await create_key_for(request, session, principal, body)


@router.get("/keys", response_model=list[KeyOut], summary="List your keys")
async def list_keys(session: SessionDep, principal: KeysPrincipal) -> list[Any]:
    """Your keys, newest first, without their values (scope `keys`)."""
    return list(await service.list_keys(session, principal.user_id))


@router.delete("/keys/{key_id}", status_code=204, summary="Revoke a key")
async def revoke_key(
    key_id: uuid.UUID, request: Request, session: SessionDep, principal: KeysPrincipal
) -> Response:
    """Revoke one of your keys (admins: anyone's); it stops working within a second."""
    is_admin = principal.has_scope(Scope.ADMIN)
    await service.revoke_key(
        session, key_id, actor=principal, origin=origin_of(request), own_only=not is_admin
    )
    auth_state(request).cache.clear()
    return Response(status_code=204, headers=rate_limit_headers_of(request))


@router.get("/rate-limit", response_model=RateLimitOut, summary="Your rate limit")
async def rate_limit(request: Request, principal: AnyPrincipal) -> dict[str, Any]:
    """Your user's budget this key counts against (`ingest` for a key that has that
    scope, else `read`): limit, remaining and seconds to the reset, counting this
    request. Each scope has its own budget (docs/auth.md)."""
    decision = rate_limit_of(request)
    assert decision is not None  # noqa: S101 - counted by the dependency
    return {
        "policy": decision.policy,
        "limit": decision.limit,
        "remaining": decision.remaining,
        "reset_seconds": decision.reset_s,
        "window_seconds": decision.window_s,
        "backend": auth_state(request).limiter.backend,
    }


@router.post("/login", response_model=LoginOut, summary="Dashboard login (session cookie)")
async def login(request: Request, response: Response, body: LoginIn) -> dict[str, Any]:
    """Check name and password; set a short-lived HttpOnly, SameSite=Strict session cookie."""
    new = await password_login(request, body.name, body.password)
    set_session_cookie(request, response, new.value)
    response.headers["Cache-Control"] = NO_STORE
    assert new.row.expires_at is not None  # noqa: S101 - sessions always expire
    return {"user_id": new.row.user_id, "name": body.name, "expires_at": new.row.expires_at}


@router.post("/logout", status_code=204, summary="End the dashboard session")
async def logout(request: Request, session: SessionDep, principal: AnyPrincipal) -> Response:
    """Revoke the session the cookie names (whatever key authenticated the request),
    the keys that die with it, and clear the cookie."""
    cookie = session_cookie_value(request)
    login_session = None
    if cookie and keys.format_of(cookie) is not None:
        login_session = await service.session_with_value(session, cookie)
    if login_session is not None:
        await service.end_session(session, login_session)
        auth_state(request).cache.clear()
    response = Response(status_code=204)
    clear_session_cookies(response)
    return response
