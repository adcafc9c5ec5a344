"""Request and response shapes of /api/v1/auth (keys are returned once, at creation)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from health_export.auth.keys import KeyFormat
from health_export.auth.principal import Scope

MAX_KEY_LIFE = timedelta(days=3650)
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
    expires_at: AwareDatetime | None = Field(
        default=None, description="Explicit end of life (instead of expires_in_days)"
    )
    value: str | None = Field(default=None, min_length=1, max_length=256)
    user: UserName | None = Field(default=None, description="Owner (admins only)")
    password: str | None = Field(
        default=None,
        min_length=1,
        max_length=1024,
        description="Your password, re-entered: lets a login session make a key that "
        "outlives it (with an explicit expiry) and holds any scope you may hold",
    )

    @model_validator(mode="after")
    def _one_expiry(self) -> KeyCreate:
        if self.expires_in_days is not None and self.expires_at is not None:
            raise ValueError("give expires_in_days or expires_at, not both")
        if self.expires_at is not None and self.expires_at > datetime.now(UTC) + MAX_KEY_LIFE:
            raise ValueError("expires_at is at most 3650 days ahead")
        return self


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
    session_key_id: uuid.UUID | None = Field(
        default=None, description="The login session this key dies with"
    )


class KeyCreated(KeyOut):
    """A key just made; ``key`` is shown this once."""

    key: str


class RateLimitOut(BaseModel):
    """The caller's rate limit after this request."""

    policy: str = Field(description="The budget counted: ingest, read, keys or admin")
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
