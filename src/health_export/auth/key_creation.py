"""Creating a key through the API: the request body as the service sees it, the answer."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from health_export.auth import service
from health_export.auth.audit import origin_of
from health_export.auth.keys import KeyFormat
from health_export.auth.login import confirm_password
from health_export.auth.principal import Principal, Scope
from health_export.auth.schemas import KeyCreate, KeyOut
from health_export.core.db import SessionDep
from health_export.core.errors import Forbidden

NO_STORE = "no-store"


def key_created(new: service.NewKey) -> dict[str, Any]:
    """The one answer that carries a key's value."""
    return {**KeyOut.model_validate(new.row).model_dump(), "key": new.value}


def key_request(body: KeyCreate, *, password_confirmed: bool = False) -> service.KeyRequest:
    """The service's view of a key-creation body."""
    key_format = KeyFormat(body.format) if body.value is None else KeyFormat.CUSTOM
    return service.KeyRequest(
        name=body.name,
        scopes=frozenset(body.scopes),
        key_format=key_format,
        expires_in_days=body.expires_in_days,
        expires_at=body.expires_at,
        value=body.value,
        password_confirmed=password_confirmed,
    )


async def create_key_for(
    request: Request, session: SessionDep, principal: Principal, body: KeyCreate
) -> dict[str, Any]:
    """Create a key for the caller or (admins) for ``body.user``."""
    if body.password is not None:
        # Before the request's first query: no connection is held during Argon2.
        await confirm_password(request, principal, body.password)
    if body.user is not None and body.user != principal.user_name:
        if not principal.has_scope(Scope.ADMIN):
            raise Forbidden("only admins create keys for other users")
        owner = await service.user_named(session, body.user)
    else:
        owner = await service.user_named(session, principal.user_name)
    wanted = key_request(body, password_confirmed=body.password is not None)
    new = await service.create_key(
        session, owner, wanted, actor=principal, origin=origin_of(request)
    )
    return key_created(new)
