"""Request and response shapes of /api/v1/admin."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from health_export.auth.schemas import KeyCreate, UserName

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


class UserCreate(BaseModel):
    """A user to create."""

    model_config = ConfigDict(extra="forbid")

    name: UserName
    is_admin: bool = False
    password: str | None = Field(
        default=None,
        min_length=1,
        max_length=1024,
        description="Dashboard password: 12+ characters (or 4+ words), not a common one",
    )


class UserOut(BaseModel):
    """A user as listed (never the password hash)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    is_admin: bool
    created_at: datetime
    disabled_at: datetime | None


class AdminKeyCreate(KeyCreate):
    """A key for a named user."""

    user: UserName


class AuditEventOut(BaseModel):
    """One audit event."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    occurred_at: datetime
    action: str
    actor_user_id: int | None
    actor_key_id: uuid.UUID | None
    target_user_id: int | None
    ip: str | None
    user_agent: str | None
    request_id: str | None
    details: dict[str, Any]


class LoggingOut(BaseModel):
    """Log levels now in force in this process."""

    root: str
    loggers: dict[str, str]


class LoggingUpdate(BaseModel):
    """Levels to set, by logger name (``root`` for the root logger)."""

    model_config = ConfigDict(extra="forbid")

    levels: dict[str, LogLevel] = Field(min_length=1, max_length=50)
