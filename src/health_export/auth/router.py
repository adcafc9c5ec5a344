"""/api/v1/auth: own keys, rate-limit status, dashboard login."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request, Response

from health_export.auth import service
from health_export.auth.audit import origin_of
from health_export.auth.authenticate import SESSION_COOKIE, authenticate, refuse
from health_export.auth.dependencies import AnyPrincipal, rate_limit_headers_of
from health_export.auth.keys import KeyFormat
from health_export.auth.principal import Principal, Scope
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
from health_export.core.errors import Forbidden

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])
NO_STORE = "no-store"


def key_created(new: service.NewKey) -> dict[str, Any]:
    """The one answer that carries a key's value."""
    return {**KeyOut.model_validate(new.row).model_dump(), "key": new.value}


def key_request(body: KeyCreate) -> service.KeyRequest:
    """The service's view of a key-creation body."""
    key_format = KeyFormat(body.format) if body.value is None else KeyFormat.CUSTOM
    return service.KeyRequest(
        name=body.name,
        scopes=frozenset(body.scopes),
        key_format=key_format,
        expires_in_days=body.expires_in_days,
        value=body.value,
    )


async def create_key_for(
    request: Request, session: SessionDep, principal: Principal, body: KeyCreate
) -> dict[str, Any]:
    """Create a key for the caller or (admins) for ``body.user``."""
    if body.user is not None and body.user != principal.user_name:
        if not principal.has_scope(Scope.ADMIN):
            raise Forbidden("only admins create keys for other users")
        owner = await service.user_named(session, body.user)
    else:
        owner = await service.user_named(session, principal.user_name)
    new = await service.create_key(
        session, owner, key_request(body), actor=principal, origin=origin_of(request)
    )
    return key_created(new)


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
    principal: AnyPrincipal,
    body: KeyCreate,
) -> dict[str, Any]:
    """Create a key for yourself (admins: for anyone); its value is in this answer only."""
    response.headers["Cache-Control"] = NO_STORE
    return await create_key_for(request, session, principal, body)


@router.get("/keys", response_model=list[KeyOut], summary="List your keys")
async def list_keys(session: SessionDep, principal: AnyPrincipal) -> list[Any]:
    """Your keys, newest first, without their values."""
    return list(await service.list_keys(session, principal.user_id))


@router.delete("/keys/{key_id}", status_code=204, summary="Revoke a key")
async def revoke_key(
    key_id: uuid.UUID, request: Request, session: SessionDep, principal: AnyPrincipal
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
    """Limit, remaining requests and seconds to the reset, counting this request."""
    _, decision = await authenticate(request)
    return {
        "limit": decision.limit,
        "remaining": decision.remaining,
        "reset_seconds": decision.reset_s,
        "window_seconds": decision.window_s,
        "backend": auth_state(request).limiter.backend,
    }


@router.post("/login", response_model=LoginOut, summary="Dashboard login (session cookie)")
async def login(
    request: Request, response: Response, session: SessionDep, body: LoginIn
) -> dict[str, Any]:
    """Check name and password; set a short-lived HttpOnly, SameSite=Strict session cookie."""
    ttl_s: int = request.app.state.settings.session_ttl_seconds
    state, origin = auth_state(request), origin_of(request)
    # Passwords are guessable: a throttled address gets no verdict at all, right or wrong.
    if await state.limiter.failures_exceeded(origin.ip or "unknown"):
        await refuse(state, "login_throttled", origin)
    new = await service.login(session, body.name, body.password, timedelta(seconds=ttl_s), origin)
    if new is None:
        await refuse(state, "bad_password", origin)
    response.set_cookie(
        SESSION_COOKIE,
        new.value,
        max_age=ttl_s,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    response.headers["Cache-Control"] = NO_STORE
    assert new.row.expires_at is not None  # noqa: S101 - sessions always expire
    return {"user_id": new.row.user_id, "name": body.name, "expires_at": new.row.expires_at}


@router.post("/logout", status_code=204, summary="End the dashboard session")
async def logout(request: Request, session: SessionDep, principal: AnyPrincipal) -> Response:
    """Revoke the session the cookie names and clear the cookie."""
    if request.cookies.get(SESSION_COOKIE) and principal.key_id is not None:
        await service.end_session(session, principal.key_id)
        auth_state(request).cache.clear()
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
