"""Whose data a read is about: always the caller's own, or (admin keys) a named user, audited."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession

from health_export.auth.audit import origin_of, record_audit
from health_export.auth.dependencies import AnyPrincipal, ReadPrincipal
from health_export.auth.models import User
from health_export.auth.principal import Principal, Scope
from health_export.core.db import SessionDep
from health_export.core.errors import Forbidden, NotFound
from health_export.core.state import core_state
from health_export.replica.routing import read_session

_USER_ID_DOC = "Admin keys only: act on this user's data instead of your own (audited)."
UserIdQuery = Annotated[int | None, Query(ge=1, description=_USER_ID_DOC)]


async def resolve_target_user(
    request: Request,
    principal: Principal,
    session: SessionDep,
    user_id: int | None,
    action: str,
) -> int:
    """The user whose data the request touches; another user's needs an admin key."""
    if user_id is None or user_id == principal.user_id:
        return principal.user_id
    if not principal.has_scope(Scope.ADMIN):
        raise Forbidden("only an admin key may name another user (user_id)")
    if await session.get(User, user_id) is None:
        raise NotFound(f"no user with id {user_id}")
    await record_audit(
        session,
        action=action,
        actor=principal,
        target_user_id=user_id,
        details={"method": request.method, "path": request.url.path},
        origin=origin_of(request),
    )
    return user_id


async def read_target(
    request: Request, principal: ReadPrincipal, session: SessionDep, user_id: UserIdQuery = None
) -> int:
    """The user a read is about (scope ``read``)."""
    return await resolve_target_user(request, principal, session, user_id, "admin.data.read")


TargetUser = Annotated[int, Depends(read_target)]


async def get_read_session(request: Request, user_id: TargetUser) -> AsyncIterator[AsyncSession]:
    """A read route's session: the replica's once it holds the user's last write, else
    the primary's (replica/routing.py). Nothing is written through it or committed."""
    async with read_session(core_state(request), user_id) as session:
        yield session


ReadSessionDep = Annotated[AsyncSession, Depends(get_read_session, scope="function")]


async def erase_principal(principal: AnyPrincipal) -> Principal:
    """Any valid key; the erase route checks scope ``admin``, or ``read`` with confirm."""
    return principal


ErasePrincipal = Annotated[Principal, Depends(erase_principal)]
