"""All SQL of identity and access."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from health_export.auth.models import ApiKey, AuditEvent, User

# Serialises first-run bootstrap across processes ("HEboot" in ASCII).
BOOTSTRAP_LOCK_KEY = 0x4845_626F_6F74


@dataclass(frozen=True, slots=True)
class KeyOwner:
    """What authentication needs of a key and its user, read in one query."""

    key_id: uuid.UUID
    user_id: int
    user_name: str
    is_admin: bool
    scopes: tuple[str, ...]
    expires_at: datetime | None
    revoked_at: datetime | None
    user_disabled_at: datetime | None
    kind: str = "api"
    # The session the key dies with, and that session's own end (None: not tied).
    session_key_id: uuid.UUID | None = None
    session_revoked_at: datetime | None = None
    session_expires_at: datetime | None = None


async def find_key_owner(session: AsyncSession, digest: bytes) -> KeyOwner | None:
    """The key with ``digest``, its user and the session it is tied to, or None."""
    tied = aliased(ApiKey)
    statement = (
        select(
            ApiKey.id,
            ApiKey.user_id,
            User.name,
            User.is_admin,
            ApiKey.scopes,
            ApiKey.expires_at,
            ApiKey.revoked_at,
            User.disabled_at,
            ApiKey.kind,
            ApiKey.session_key_id,
            tied.revoked_at,
            tied.expires_at,
        )
        .join(User, User.id == ApiKey.user_id)
        .outerjoin(tied, tied.id == ApiKey.session_key_id)
        .where(ApiKey.digest == digest)
    )
    row = (await session.execute(statement)).one_or_none()
    if row is None:
        return None
    return KeyOwner(
        key_id=row[0],
        user_id=row[1],
        user_name=row[2],
        is_admin=row[3],
        scopes=tuple(row[4]),
        expires_at=row[5],
        revoked_at=row[6],
        user_disabled_at=row[7],
        kind=row[8],
        session_key_id=row[9],
        session_revoked_at=row[10],
        session_expires_at=row[11],
    )


async def find_session(session: AsyncSession, digest: bytes) -> ApiKey | None:
    """The login session with ``digest`` (not an API key), or None."""
    statement = select(ApiKey).where(ApiKey.digest == digest, ApiKey.kind == "session")
    return (await session.execute(statement)).scalar_one_or_none()


async def revoke_keys_of_session(
    session: AsyncSession, session_id: uuid.UUID, when: datetime
) -> None:
    """Revoke every key tied to a login session (they die with it)."""
    await session.execute(
        update(ApiKey)
        .where(ApiKey.session_key_id == session_id, ApiKey.revoked_at.is_(None))
        .values(revoked_at=when)
    )


async def add_user(session: AsyncSession, user: User) -> User:
    """Insert ``user`` and load its generated columns."""
    session.add(user)
    await session.flush()
    await session.refresh(user)
    return user


async def get_user(session: AsyncSession, user_id: int) -> User | None:
    """The user with ``user_id``."""
    return await session.get(User, user_id)


async def get_user_by_name(session: AsyncSession, name: str) -> User | None:
    """The user called ``name``."""
    return (await session.execute(select(User).where(User.name == name))).scalar_one_or_none()


async def list_users(session: AsyncSession) -> Sequence[User]:
    """Every user, oldest first."""
    return (await session.execute(select(User).order_by(User.id))).scalars().all()


async def any_user_exists(session: AsyncSession) -> bool:
    """Whether at least one user exists."""
    return bool((await session.execute(select(func.count()).select_from(User))).scalar_one())


async def lock_bootstrap(session: AsyncSession) -> None:
    """Hold the bootstrap lock until the transaction ends."""
    await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": BOOTSTRAP_LOCK_KEY})


async def add_key(session: AsyncSession, key: ApiKey) -> ApiKey:
    """Insert ``key`` and load its generated columns."""
    session.add(key)
    await session.flush()
    await session.refresh(key)
    return key


async def digest_exists(session: AsyncSession, digest: bytes) -> bool:
    """Whether a key with ``digest`` is registered."""
    found = await session.execute(select(ApiKey.id).where(ApiKey.digest == digest))
    return found.first() is not None


async def get_key(session: AsyncSession, key_id: uuid.UUID) -> ApiKey | None:
    """The key with ``key_id``."""
    return await session.get(ApiKey, key_id)


async def list_keys(
    session: AsyncSession, *, user_id: int | None, kind: str = "api"
) -> Sequence[ApiKey]:
    """Keys of ``user_id`` (of everyone when None), newest first."""
    statement = select(ApiKey).where(ApiKey.kind == kind)
    if user_id is not None:
        statement = statement.where(ApiKey.user_id == user_id)
    return (await session.execute(statement.order_by(ApiKey.created_at.desc()))).scalars().all()


async def revoke_key(session: AsyncSession, key: ApiKey, when: datetime) -> None:
    """Mark ``key`` revoked (the first revocation time is kept)."""
    if key.revoked_at is None:
        key.revoked_at = when
        await session.flush()


async def disable_user(session: AsyncSession, user: User, when: datetime) -> None:
    """Mark ``user`` disabled (the first time is kept)."""
    if user.disabled_at is None:
        user.disabled_at = when
        await session.flush()


async def record_key_use(
    session: AsyncSession, uses: Sequence[tuple[uuid.UUID, datetime, str | None]]
) -> None:
    """Write last-used times and addresses for several keys."""
    for key_id, used_at, ip in uses:
        await session.execute(
            update(ApiKey)
            .where(ApiKey.id == key_id)
            .where((ApiKey.last_used_at.is_(None)) | (ApiKey.last_used_at < used_at))
            .values(last_used_at=used_at, last_used_ip=ip)
        )


async def add_audit_event(session: AsyncSession, event: AuditEvent) -> None:
    """Insert one audit event (written with the caller's transaction)."""
    session.add(event)
    await session.flush()


async def list_audit_events(
    session: AsyncSession, *, filters: dict[str, Any], limit: int
) -> Sequence[AuditEvent]:
    """Recent audit events, newest first, filtered by action, user and time."""
    statement = select(AuditEvent)
    if filters.get("action"):
        statement = statement.where(AuditEvent.action.startswith(filters["action"]))
    if filters.get("user_id") is not None:
        uid = filters["user_id"]
        statement = statement.where(
            (AuditEvent.actor_user_id == uid) | (AuditEvent.target_user_id == uid)
        )
    if filters.get("since") is not None:
        statement = statement.where(AuditEvent.occurred_at >= filters["since"])
    statement = statement.order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
    return (await session.execute(statement.limit(limit))).scalars().all()
