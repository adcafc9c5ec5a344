"""Request and response shapes of /api/v1/auth (keys are returned once, at creation)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from health_export.auth.keys import KeyFormat
from health_export.auth.principal import Scope

Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
UserName = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._@+-]+$"
    ),
]


class KeyCreate(BaseModel):
    """A key to make (or, with ``value``, an existing key to register)."""

    model_config = ConfigDict(extra="forbid")

    name: Label
    scopes: list[Scope] = Field(default=[Scope.INGEST, Scope.READ], min_length=1)
    format: KeyFormat = KeyFormat.TOKEN
    expires_in_days: int | None = Field(default=None, ge=1, le=3650)
    value: str | None = Field(default=None, min_length=1, max_length=256)
    user: UserName | None = Field(default=None, description="Owner (admins only)")


class KeyOut(BaseModel):
    """A key as listed: never its value."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    user_id: int
    name: str
    display_prefix: str
    key_format: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
    last_used_ip: str | None


class KeyCreated(KeyOut):
    """A key just made; ``key`` is shown this once."""

    key: str


class RateLimitOut(BaseModel):
    """The caller's rate limit after this request."""

    limit: int
    remaining: int
    reset_seconds: int
    window_seconds: int
    backend: str


class LoginIn(BaseModel):
    """Name and password of a dashboard login."""

    model_config = ConfigDict(extra="forbid")

    name: UserName
    password: str = Field(min_length=1, max_length=1024)


class LoginOut(BaseModel):
    """Who logged in and until when."""

    user_id: int
    name: str
    expires_at: datetime
