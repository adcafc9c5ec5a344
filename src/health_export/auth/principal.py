"""Who is calling: the authenticated principal every protected route receives."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Scope(StrEnum):
    """What a key may do."""

    INGEST = "ingest"
    READ = "read"
    # Create, list and revoke keys: never needed by the phone, so a leaked phone key
    # cannot mint others or revoke its owner's.
    KEYS = "keys"
    ADMIN = "admin"


# Rate-limit budgets of each user, one per scope a route requires.
BUDGETS = tuple(scope.value for scope in Scope)


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller: a user acting through one API key (or a session)."""

    user_id: int
    user_name: str
    is_admin: bool
    scopes: frozenset[Scope]
    key_id: uuid.UUID | None = None
    # When the credential stops working: its own expiry or its session's, if earlier.
    expires_at: datetime | None = None
    # The login session this key dies with (a session's own id for a session).
    session_key_id: uuid.UUID | None = None

    def has_scope(self, scope: Scope) -> bool:
        """Whether the caller may do ``scope`` (admin keys may do everything)."""
        return scope in self.scopes or Scope.ADMIN in self.scopes


def budget_of(scope: Scope | None, principal: Principal) -> str:
    """The budget a request counts against: its route's scope.

    Routes any key may call (ingestion status, rate-limit, logout, erase) count where
    the key's traffic does: `ingest` for a key that has it (the phone), else `read`.
    """
    if scope is not None:
        return scope.value
    return Scope.INGEST.value if Scope.INGEST in principal.scopes else Scope.READ.value
