"""Every ORM model imported in one place, so Alembic sees the whole schema."""

from __future__ import annotations

from health_export.auth import models as auth_models  # noqa: F401
from health_export.background import claims as job_models  # noqa: F401
from health_export.core.db import Base
from health_export.imports import models as imports_models  # noqa: F401
from health_export.replica import fences as fence_models  # noqa: F401
from health_export.rollups import models as rollups_models  # noqa: F401
from health_export.schema import ingestions as ingestion_tables  # noqa: F401
from health_export.schema import tables as schema_tables  # noqa: F401
from health_export.sync import models as sync_models  # noqa: F401

metadata = Base.metadata
