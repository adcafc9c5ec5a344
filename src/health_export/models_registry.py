"""Every ORM model imported in one place, so Alembic sees the whole schema."""

from __future__ import annotations

from health_export.core.db import Base

metadata = Base.metadata
