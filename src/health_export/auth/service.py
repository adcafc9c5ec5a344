"""Rules of users and keys. Services never commit: the caller's unit of work does."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from health_export.auth import keys, repository
from health_export.auth.audit import RequestOrigin, record_audit
from health_export.auth.models import ApiKey, User
from health_export.auth.passwords import hash_password, verify_password
from health_export.auth.principal import Principal, Scope
from health_export.core.errors import Conflict, Forbidden, NotFound, Unprocessable

DEFAULT_SCOPES = frozenset({Scope.INGEST, Scope.READ})
SESSION_KIND = "session"


@dataclass(frozen=True, slots=True)
class NewKey:
    """A key just made: its row and its value (shown this once, never stored)."""

    row: ApiKey
    value: str


@dataclass(frozen=True, slots=True)
class KeyRequest:
    """What a new key should be."""

    name: str
    scopes: frozenset[Scope] = DEFAULT_SCOPES
    key_format: keys.KeyFormat = keys.KeyFormat.TOKEN
    expires_in_days: int | None = None
    value: str | None = None


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


async def create_user(
    session: AsyncSession,
    *,
    name: str,
    is_admin: bool = False,
    password: str | None = None,
    actor: Principal | None = None,
    origin: RequestOrigin | None = None,
) -> User:
    """Create a user (name unique); audited."""
    if await repository.get_user_by_name(session, name) is not None:
        raise Conflict(f"a user named {name!r} exists")
    password_hash = await hash_password(password) if password else None
    user = await repository.add_user(
        session, User(name=name, is_admin=is_admin, password_hash=password_hash)
    )
    await record_audit(
        session,
        action="user.created",
        actor=actor,
        target_user_id=user.id,
        details={"name": name, "is_admin": is_admin},
        origin=origin,
    )
    return user


async def user_named(session: AsyncSession, name: str) -> User:
    """The user called ``name``, or 404."""
    user = await repository.get_user_by_name(session, name)
    if user is None:
        raise NotFound(f"no user named {name!r}")
    return user


async def disable_user(
    session: AsyncSession,
    user_id: int,
    *,
    actor: Principal | None,
    origin: RequestOrigin | None = None,
) -> User:
    """Disable a user: every key of theirs stops working; audited."""
    user = await repository.get_user(session, user_id)
    if user is None:
        raise NotFound("no such user")
    if actor is not None and actor.user_id == user_id:
        raise Conflict("you cannot disable yourself")
    await repository.disable_user(session, user, utcnow())
    await record_audit(
        session, action="user.disabled", actor=actor, target_user_id=user.id, origin=origin
    )
    return user


async def list_users(session: AsyncSession) -> Sequence[User]:
    """Every user."""
    return await repository.list_users(session)


def _check_grantable(owner: User, scopes: frozenset[Scope], actor: Principal | None) -> None:
    if not scopes:
        raise Unprocessable("a key needs at least one scope")
    if Scope.ADMIN in scopes and not owner.is_admin:
        raise Unprocessable("only an admin user can hold an admin key")
    if actor is not None and not all(actor.has_scope(scope) for scope in scopes):
        raise Forbidden("a key can only grant scopes the calling key has")


def _key_value(request: KeyRequest) -> tuple[str, keys.KeyFormat]:
    if request.value is None:
        return keys.generate(request.key_format), request.key_format
    try:
        return request.value, keys.check_registrable(request.value)
    except keys.KeyValueError as exc:
        raise Unprocessable(str(exc)) from None


async def create_key(
    session: AsyncSession,
    owner: User,
    request: KeyRequest,
    *,
    actor: Principal | None,
    origin: RequestOrigin | None = None,
    kind: str = "api",
) -> NewKey:
    """Make (or register) a key for ``owner``; audited. The value is returned once."""
    if owner.disabled_at is not None:
        raise Conflict("the user is disabled")
    _check_grantable(owner, request.scopes, actor)
    value, key_format = _key_value(request)
    digest = keys.digest(value)
    if await repository.digest_exists(session, digest):
        raise Conflict("this key is already registered")
    row = await _insert_key(session, owner, request, value, key_format, kind)
    if kind == "api":
        await record_audit(
            session,
            action="key.created",
            actor=actor,
            target_user_id=owner.id,
            details={
                "key_id": str(row.id),
                "name": row.name,
                "scopes": row.scopes,
                "format": key_format.value,
                "registered": request.value is not None,
            },
            origin=origin,
        )
    return NewKey(row=row, value=value)


async def _insert_key(
    session: AsyncSession,
    owner: User,
    request: KeyRequest,
    value: str,
    key_format: keys.KeyFormat,
    kind: str,
) -> ApiKey:
    expires_at = None
    if request.expires_in_days is not None:
        expires_at = utcnow() + timedelta(days=request.expires_in_days)
    row = ApiKey(
        id=uuid.uuid4(),
        user_id=owner.id,
        digest=keys.digest(value),
        display_prefix=keys.display_prefix(value),
        name=request.name,
        key_format=key_format.value,
        kind=kind,
        scopes=sorted(request.scopes),
        expires_at=expires_at,
    )
    try:
        async with session.begin_nested():
            return await repository.add_key(session, row)
    except IntegrityError:  # a concurrent registration of the same value
        raise Conflict("this key is already registered") from None


async def list_keys(session: AsyncSession, user_id: int | None) -> Sequence[ApiKey]:
    """Keys of one user (or of everyone), never their values."""
    return await repository.list_keys(session, user_id=user_id)


async def revoke_key(
    session: AsyncSession,
    key_id: uuid.UUID,
    *,
    actor: Principal | None,
    origin: RequestOrigin | None = None,
    own_only: bool = True,
) -> ApiKey:
    """Revoke a key (the owner's own, or any for an admin); audited; idempotent."""
    key = await repository.get_key(session, key_id)
    if key is None or key.kind != "api" or (own_only and actor and key.user_id != actor.user_id):
        raise NotFound("no such key")
    await repository.revoke_key(session, key, utcnow())
    await record_audit(
        session,
        action="key.revoked",
        actor=actor,
        target_user_id=key.user_id,
        details={"key_id": str(key.id), "name": key.name},
        origin=origin,
    )
    return key


async def bootstrap(session: AsyncSession, *, admin_name: str = "admin") -> NewKey | None:
    """On first run make an admin user and an ingest+read key; None when users exist."""
    await repository.lock_bootstrap(session)
    if await repository.any_user_exists(session):
        return None
    user = await create_user(session, name=admin_name, is_admin=True)
    return await create_key(session, user, KeyRequest(name="Health Auto Export"), actor=None)


async def login(
    session: AsyncSession,
    name: str,
    password: str,
    ttl: timedelta,
    origin: RequestOrigin | None = None,
) -> NewKey | None:
    """A short-lived session key for ``name`` when the password matches, else None."""
    user = await repository.get_user_by_name(session, name)
    password_hash = user.password_hash if user is not None else None
    if not await verify_password(password_hash, password) or user is None:
        return None
    if user.disabled_at is not None:
        return None
    scopes = frozenset({Scope.READ, Scope.ADMIN} if user.is_admin else {Scope.READ})
    request = KeyRequest(name="login session", scopes=scopes)
    new = await create_key(session, user, request, actor=None, kind=SESSION_KIND)
    new.row.expires_at = utcnow() + ttl
    await session.flush()
    await record_audit(
        session, action="auth.login", actor=None, target_user_id=user.id, origin=origin
    )
    return new


async def end_session(session: AsyncSession, key_id: uuid.UUID) -> None:
    """Revoke a login session's key."""
    key = await repository.get_key(session, key_id)
    if key is not None and key.kind == SESSION_KIND:
        await repository.revoke_key(session, key, utcnow())
