"""Who is calling: the authenticated principal every protected route receives."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum


class Scope(StrEnum):
    """What a key may do."""

    INGEST = "ingest"
    READ = "read"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller: a user acting through one API key (or a session)."""

    user_id: int
    user_name: str
    is_admin: bool
    scopes: frozenset[Scope]
    key_id: uuid.UUID | None = None

    def has_scope(self, scope: Scope) -> bool:
        """Whether the caller may do ``scope`` (admin keys may do everything)."""
        return scope in self.scopes or Scope.ADMIN in self.scopes
