"""Rules of users and keys. Services never commit: the caller's unit of work does."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from health_export.auth import keys, repository
from health_export.auth.audit import RequestOrigin, record_audit
from health_export.auth.models import ApiKey, User
from health_export.auth.password_policy import WeakPassword, check_password
from health_export.auth.passwords import hash_password
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
    expires_at: datetime | None = None
    # The maker re-entered the user's password in this request: the key may outlive
    # the maker's session (until an explicit expiry) and hold any scope the user may.
    password_confirmed: bool = False

    def requested_expiry(self) -> datetime | None:
        """The explicit end of the key's life, if the request gives one."""
        if self.expires_at is not None:
            return self.expires_at
        if self.expires_in_days is not None:
            return utcnow() + timedelta(days=self.expires_in_days)
        return None


@dataclass(frozen=True, slots=True)
class KeyLife:
    """When a new key ends, and the login session it dies with (if any)."""

    expires_at: datetime | None
    session_key_id: uuid.UUID | None


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
    """Create a user (name unique); audited. The password must pass the policy."""
    # Judge and hash before the first query: no pooled connection is held during Argon2.
    password_hash = await acceptable_password_hash(password, name) if password else None
    if await repository.get_user_by_name(session, name) is not None:
        raise Conflict(f"a user named {name!r} exists")
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


async def acceptable_password_hash(password: str, user_name: str) -> str:
    """The Argon2id hash of ``password`` once the policy accepts it (422 otherwise)."""
    try:
        await asyncio.to_thread(check_password, password, user_name=user_name)
    except WeakPassword as exc:
        raise Unprocessable(str(exc)) from None
    return await hash_password(password)


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


def _check_grantable(owner: User, request: KeyRequest, actor: Principal | None) -> None:
    scopes = request.scopes
    if not scopes:
        raise Unprocessable("a key needs at least one scope")
    if Scope.ADMIN in scopes and not owner.is_admin:
        raise Unprocessable("only an admin user can hold an admin key")
    if actor is None or (request.password_confirmed and actor.user_id == owner.id):
        return  # the operator (CLI), or the user themself by password: any scope they may hold
    if not all(actor.has_scope(scope) for scope in scopes):
        hint = " (or re-enter your password as 'password')" if actor.session_key_id else ""
        raise Forbidden(f"a key can only grant scopes the calling key has{hint}")


def key_life(request: KeyRequest, actor: Principal | None) -> KeyLife:
    """A new key never outlives its maker; one a session makes dies with the session.

    Only a request that re-entered the password and names an explicit expiry makes a
    key that outlives the session; the CLI (no actor) makes what it is asked for.
    """
    wanted = request.requested_expiry()
    if wanted is not None and wanted <= utcnow():
        raise Unprocessable("expires_at must be in the future")
    if actor is None:
        return KeyLife(wanted, None)
    if actor.session_key_id is not None and request.password_confirmed and wanted is not None:
        return KeyLife(wanted, None)
    ends = actor.expires_at
    if wanted is not None and ends is not None and wanted > ends:
        hint = " (re-enter your password as 'password' to make a longer-lived key)"
        raise Forbidden(
            f"a key cannot outlive the credential that makes it ({ends.isoformat()})"
            + (hint if actor.session_key_id else "")
        )
    return KeyLife(wanted or ends, actor.session_key_id)


async def _key_value(request: KeyRequest) -> tuple[str, keys.KeyFormat]:
    if request.value is None:
        return keys.generate(request.key_format), request.key_format
    try:
        # The pattern check is CPU work of up to ~0.1 s: off the event loop.
        return request.value, await asyncio.to_thread(keys.check_registrable, request.value)
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
    _check_grantable(owner, request, actor)
    life = key_life(request, actor) if kind == "api" else KeyLife(request.expires_at, None)
    value, key_format = await _key_value(request)
    digest = keys.digest(value)
    if await repository.digest_exists(session, digest):
        raise Conflict("this key is already registered")
    row = await _insert_key(session, owner, request, value, key_format, kind, life)
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
                "expires_at": row.expires_at.isoformat() if row.expires_at else None,
                "session_key_id": str(life.session_key_id) if life.session_key_id else None,
                "password_confirmed": request.password_confirmed,
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
    life: KeyLife,
) -> ApiKey:
    row = ApiKey(
        id=uuid.uuid4(),
        user_id=owner.id,
        digest=keys.digest(value),
        display_prefix=keys.display_prefix(value),
        name=request.name,
        key_format=key_format.value,
        kind=kind,
        scopes=sorted(request.scopes),
        expires_at=life.expires_at,
        session_key_id=life.session_key_id,
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


@dataclass(frozen=True, slots=True)
class Credentials:
    """What a password check needs of a user (read in a short session of its own)."""

    user_id: int
    password_hash: str | None
    is_admin: bool
    is_disabled: bool


async def credentials_of(
    sessionmaker: async_sessionmaker[AsyncSession], name: str
) -> Credentials | None:
    """The user's hash and state, on a connection given back before Argon2 runs."""
    async with sessionmaker() as session:
        user = await repository.get_user_by_name(session, name)
        if user is None:
            return None
        return Credentials(user.id, user.password_hash, user.is_admin, user.disabled_at is not None)


SESSION_SCOPES = frozenset({Scope.READ, Scope.KEYS})


async def start_session(
    session: AsyncSession,
    credentials: Credentials,
    ttl: timedelta,
    origin: RequestOrigin | None = None,
) -> NewKey:
    """A short-lived session key for a user whose password was just checked; audited."""
    user = await repository.get_user(session, credentials.user_id)
    if user is None or user.disabled_at is not None:
        raise Conflict("the user is disabled")
    scopes = SESSION_SCOPES | ({Scope.ADMIN} if user.is_admin else set())
    request = KeyRequest(name="login session", scopes=scopes, expires_at=utcnow() + ttl)
    new = await create_key(session, user, request, actor=None, kind=SESSION_KIND)
    await record_audit(
        session, action="auth.login", actor=None, target_user_id=user.id, origin=origin
    )
    return new


async def end_session(session: AsyncSession, session_key: ApiKey) -> None:
    """Revoke a login session and every key that dies with it."""
    now = utcnow()
    await repository.revoke_key(session, session_key, now)
    await repository.revoke_keys_of_session(session, session_key.id, now)


async def session_with_value(session: AsyncSession, value: str) -> ApiKey | None:
    """The login session whose cookie value is ``value``, or None."""
    return await repository.find_session(session, keys.digest(value))
